BEAT_SCHEDULE = {
    "purge-api-idempotency-records": {
        "task": "merchant_portal.api.tasks.purge_idempotency_records",
        "schedule": 3600.0,
    },
}
