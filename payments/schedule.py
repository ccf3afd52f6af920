"""Celery beat entries of this app, merged into CELERY_BEAT_SCHEDULE by the settings. Plain data only: no imports
of models or tasks here (the settings module imports this file)."""

BEAT_SCHEDULE: dict[str, dict] = {
    "checkins-expire": {"task": "payments.tasks.expire_checkins", "schedule": 30.0},
}
