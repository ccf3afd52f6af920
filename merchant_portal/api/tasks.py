from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(ignore_result=True)
def purge_idempotency_records() -> None:
    services.idempotency_records_purge(older_than=timedelta(hours=settings.API_IDEMPOTENCY_KEEP_HOURS))
