"""Celery beat entries of this app, merged into CELERY_BEAT_SCHEDULE by the settings. Plain data only: no imports
of models or tasks here (the settings module imports this file)."""

BEAT_SCHEDULE: dict[str, dict] = {
    # The outbox relay: stored events are published from here, never from the webhook view. Every second,
    # because a check-in should reach the staff screen within a second or two; `expires` drops relay runs
    # that a busy worker could not start in time (the next one does the same work).
    "webhooks-relay": {
        "task": "webhooks_app.tasks.relay_webhook_events",
        "schedule": 1.0,
        "options": {"expires": 5},
    },
    "webhooks-sweep": {"task": "webhooks_app.tasks.sweep_webhook_events", "schedule": 60.0},
    # Vipps deletes registrations that stayed unresponsive for two weeks: check and repair every hour.
    "webhooks-heal": {"task": "webhooks_app.tasks.heal_webhook_registrations", "schedule": 3600.0},
    "webhooks-prune": {"task": "webhooks_app.tasks.prune_webhook_data", "schedule": 24 * 3600.0},
}
