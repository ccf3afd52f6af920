"""Thin tasks: ids in, a service call. Outbound webhooks own no Celery retries: every retry is scheduled in the
delivery's row and made by `drain_webhook_deliveries` (beat), so a retry days later never waits in the broker."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(ignore_result=True)
def purge_idempotency_records() -> None:
    services.idempotency_records_purge(older_than=timedelta(hours=settings.API_IDEMPOTENCY_KEEP_HOURS))


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """The first attempt, at once (and a manual resend). A duplicate or late copy finds nothing due."""
    services.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def drain_webhook_deliveries() -> None:
    services.webhook_deliveries_drain()


@shared_task(ignore_result=True)
def prune_webhook_deliveries() -> None:
    services.webhook_deliveries_prune()
