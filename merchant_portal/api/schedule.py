"""Celery beat entries of this app, merged into CELERY_BEAT_SCHEDULE by the settings. Plain data only: no imports
of models or tasks here (the settings module imports this file)."""

BEAT_SCHEDULE = {
    "purge-api-idempotency-records": {
        "task": "merchant_portal.api.tasks.purge_idempotency_records",
        "schedule": 3600.0,
    },
    # Outbound webhooks: retries due (the first is 5 s after a failure) and first attempts whose task was lost.
    # `expires` drops runs a busy worker could not start in time; the next run does the same work.
    "api-webhooks-drain": {
        "task": "merchant_portal.api.tasks.drain_webhook_deliveries",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    "api-webhooks-prune": {"task": "merchant_portal.api.tasks.prune_webhook_deliveries", "schedule": 24 * 3600.0},
}
