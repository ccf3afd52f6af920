from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils import timezone

from merchant_portal.tenancy.models import Merchant, SalesUnit

from . import events as ev
from .models import WebhookDelivery, WebhookEvent, WebhookSubscription, WebhookSync


def subscriptions_for_sales_unit(*, sales_unit: SalesUnit) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(sales_unit=sales_unit)


def webhook_sync_for_sales_unit(*, sales_unit: SalesUnit) -> WebhookSync | None:
    return WebhookSync.objects.filter(sales_unit=sales_unit).first()


def last_event_per_type(*, sales_unit: SalesUnit) -> dict[str, datetime]:
    rows = WebhookEvent.objects.filter(sales_unit=sales_unit).values("event_type").annotate(last=Max("received_at"))
    return {row["event_type"]: row["last"] for row in rows}


def quiet_warning(*, sales_unit: SalesUnit, last: dict[str, datetime]) -> str | None:
    """A warning when the sales unit is registered but nothing arrived for WEBHOOK_QUIET_HOURS."""
    first = subscriptions_for_sales_unit(sales_unit=sales_unit).order_by("created_at").first()
    if first is None:
        return None
    limit = timedelta(hours=settings.WEBHOOK_QUIET_HOURS)
    newest = max(last.values(), default=None)
    since = newest or first.created_at
    if timezone.now() - since < limit:
        return None
    what = f"since {since:%Y-%m-%d %H:%M}" if newest else "since the portal registered"
    return (
        f"No event from Vipps {what}. If customers did scan or pay, check that {settings.PUBLIC_BASE_URL} is "
        "reachable from the internet and answers; Vipps deletes registrations that stay unresponsive for two weeks."
    )


def event_types() -> list[str]:
    return [ev.CHECKED_IN, *ev.EPAYMENT_EVENTS.values(), ev.MOBILEPAY_POS_NOTIFICATION, ev.UNKNOWN]


def events_for_merchant(
    *, merchant: Merchant, event_type: str = "", status: str = "", sales_unit_id: str = ""
) -> QuerySet[WebhookEvent]:
    qs = WebhookEvent.objects.for_merchant(merchant).select_related("sales_unit").defer("body")
    if event_type:
        qs = qs.filter(event_type=event_type)
    if status:
        qs = qs.filter(status=status)
    if sales_unit_id:
        qs = qs.filter(sales_unit_id=sales_unit_id)
    return qs


def rejected_deliveries_for_merchant(*, merchant: Merchant) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.for_merchant(merchant)
        .filter(outcome=WebhookDelivery.Outcome.REJECTED)
        .select_related("sales_unit")
        .defer("body")
    )
