"""Thin tasks: ids in, a service call, the retry policy. Processing state lives in the database."""

from celery import shared_task

from merchant_portal.tenancy.models import SalesUnit

from . import services


@shared_task(bind=True, acks_late=True, max_retries=6)
def webhooks_sync_sales_unit(self, sales_unit_id: int) -> None:
    unit = SalesUnit.objects.select_related("merchant").filter(pk=sales_unit_id).first()
    if unit is None:
        return
    report = services.webhooks_sync(sales_unit=unit)
    # Short retries here; anything longer is the hourly heal (heal_webhook_registrations).
    if report.retryable and not self.request.is_eager and self.request.retries < self.max_retries:
        raise self.retry(countdown=min(600, 10 * 2**self.request.retries))


@shared_task(ignore_result=True)
def heal_webhook_registrations() -> None:
    for pk in SalesUnit.objects.values_list("pk", flat=True):
        webhooks_sync_sales_unit.delay(pk)


@shared_task(acks_late=True, ignore_result=True)
def process_webhook_event(event_id: int) -> None:
    services.webhook_event_process(event_id=event_id)


@shared_task(ignore_result=True)
def relay_webhook_events() -> None:
    services.webhook_events_relay()


@shared_task(ignore_result=True)
def sweep_webhook_events() -> None:
    services.webhook_events_sweep()


@shared_task(ignore_result=True)
def prune_webhook_data() -> None:
    services.webhook_data_prune()
