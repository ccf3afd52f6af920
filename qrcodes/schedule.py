"""Celery beat entries of this app, merged into CELERY_BEAT_SCHEDULE by the settings. Plain data only: no imports
of models or tasks here (the settings module imports this file)."""

BEAT_SCHEDULE: dict[str, dict] = {
    # QR codes whose sync failed (retry time reached) or never finished (lost message, dead worker).
    "qrcodes-sync-due": {"task": "qrcodes.tasks.sync_due_qr_codes", "schedule": 60.0},
    # Import codes made at Vipps elsewhere, flag codes Vipps lost, note differences.
    "qrcodes-reconcile": {"task": "qrcodes.tasks.reconcile_all_sales_units", "schedule": 60.0 * 60},
    "qrcodes-purge-sheets": {"task": "qrcodes.tasks.purge_old_qr_sheets", "schedule": 60.0 * 60},
}
