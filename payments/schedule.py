"""Celery beat entries of this app, merged into CELERY_BEAT_SCHEDULE by the settings. Plain data only: no imports
of models or tasks here (the settings module imports this file)."""

BEAT_SCHEDULE: dict[str, dict] = {
    "checkins-expire": {"task": "payments.tasks.expire_checkins", "schedule": 30.0},
    # Polls unanswered payment requests (a missed webhook is repaired) and resends lost create tasks.
    "payments-reconcile": {"task": "payments.tasks.reconcile_payments", "schedule": 5.0},
    # Captures, refunds and cancels that wait for a retry or whose task was lost.
    "payment-operations-drain": {"task": "payments.tasks.drain_payment_operations", "schedule": 10.0},
}
