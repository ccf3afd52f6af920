"""URL kwargs for the webhooks views, built from objects of one merchant (see tests/scoping.py)."""

import uuid

from tests.factories import SalesUnitFactory
from webhooks_app.models import WebhookEvent


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
    return {
        "webhook_list": {},
        "webhook_detail": {"pk": unit.pk},
        "webhook_sync": {"pk": unit.pk},
        "webhook_event_list": {},
        "webhook_event_detail": {"pk": event.pk},
        "webhook_event_replay": {"pk": event.pk},
        "webhook_event_replay_failed": {},
    }
