"""URL kwargs for the webhooks views, built from objects of one merchant (see tests/scoping.py)."""

import uuid

from tests.factories import SalesUnitFactory
from webhooks_app.models import WebhookDelivery, WebhookEvent


def url_kwargs(merchant) -> dict[str, dict]:
    unit = merchant.sales_units.first() or SalesUnitFactory(merchant=merchant)
    event = WebhookEvent.objects.create(
        sales_unit=unit,
        event_type="epayments.payment.authorized.v1",
        dedupe_key=str(uuid.uuid4()),
        payload={},
        body="{}",
        status=WebhookEvent.Status.FAILED,
    )
    quarantined = WebhookDelivery.objects.create(
        source=WebhookDelivery.Source.VIPPS,
        sales_unit=unit,
        body="{",
        outcome=WebhookDelivery.Outcome.QUARANTINED,
        reason="body is not valid JSON",
    )
    return {
        "webhook_list": {},
        "webhook_detail": {"pk": unit.pk},
        "webhook_sync": {"pk": unit.pk},
        "webhook_event_list": {},
        "webhook_event_detail": {"pk": event.pk},
        "webhook_event_replay": {"pk": event.pk},
        "webhook_event_replay_failed": {},
        "webhook_delivery_replay": {"pk": quarantined.pk},
    }
