from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

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
    advice = gettext(
        "If customers did scan or pay, check that %(url)s is reachable from the internet and answers; "
        "Vipps deletes registrations that stay unresponsive for two weeks."
    ) % {"url": settings.PUBLIC_BASE_URL}
    if newest:
        when = date_format(timezone.localtime(since), "SHORT_DATETIME_FORMAT")
        return gettext("No event from Vipps since %(when)s.") % {"when": when} + " " + advice
    return gettext("No event from Vipps since the portal registered.") + " " + advice


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


def quarantined_deliveries_for_merchant(*, merchant: Merchant) -> QuerySet[WebhookDelivery]:
    """Verified deliveries that could not be filed as events (newest first); each waits for a replay."""
    return (
        WebhookDelivery.objects.for_merchant(merchant)
        .filter(outcome=WebhookDelivery.Outcome.QUARANTINED)
        .select_related("sales_unit")
        .defer("body")
    )


# Dashboard: webhook health per sales unit ------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookHealth:
    """What the dashboard says about one sales unit's webhooks.

    `registration`: "registered" (a registration of ours serves every group at today's URL), "missing", or
    "error" (the last registration check failed; `sync_message` says why). `status`: "ok" | "warning" | "error".
    `reasons`: codes the template turns into sentences, most serious first (see WEBHOOK_HEALTH_REASONS).
    """

    sales_unit: SalesUnit
    registration: str
    registered_groups: int
    needed_groups: int
    sync_message: str
    last_event_at: datetime | None
    events_24h: int
    failed: int
    parked: int
    status: str
    reasons: tuple[str, ...]


WEBHOOK_HEALTH_REASONS = (
    "sync_failed",  # the last registration check failed
    "not_registered",  # some registration the portal needs is not there
    "failed_events",  # events that failed and wait for a replay
    "parked_events",  # events that cannot be placed yet (retried)
    "quiet",  # registered, but nothing arrived for WEBHOOK_QUIET_HOURS
    "receiving",  # all well, events arrive
    "waiting_first_event",  # all well, registered recently, nothing yet
)


def _count_of(events: QuerySet[WebhookEvent]):
    counted = events.filter(sales_unit=OuterRef("pk")).order_by().values("sales_unit").annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n")), 0)


def webhook_health_classify(
    *,
    registration: str,
    last_event_at: datetime | None,
    registered_since: datetime | None,
    failed: int,
    parked: int,
    now: datetime,
    quiet_after: timedelta,
) -> tuple[str, tuple[str, ...]]:
    """The traffic light and its reasons (pure)."""
    reasons = []
    if registration == "error":
        reasons.append("sync_failed")
    elif registration == "missing":
        reasons.append("not_registered")
    if failed:
        reasons.append("failed_events")
    if parked:
        reasons.append("parked_events")
    since = last_event_at or registered_since
    if registration == "registered" and since is not None and now - since >= quiet_after:
        reasons.append("quiet")
    if reasons:
        status = "error" if reasons[0] in ("sync_failed", "not_registered") else "warning"
        return status, tuple(reasons)
    return "ok", ("receiving" if last_event_at else "waiting_first_event",)


def webhook_health_by_sales_unit(*, merchant: Merchant, now: datetime | None = None) -> list[WebhookHealth]:
    """Every sales unit of the merchant (by name) with the state of its Vipps webhooks. Two queries in all: the
    sales units with their last check and event counts (correlated subqueries on indexed columns), and their
    registrations."""
    now = now or timezone.now()
    events = WebhookEvent.objects.all()
    last = events.filter(sales_unit=OuterRef("pk")).order_by("-received_at").values("received_at")[:1]
    units = (
        SalesUnit.objects.for_merchant(merchant)
        .select_related("webhook_sync")
        .annotate(
            last_event_at=Subquery(last),
            events_24h=_count_of(events.filter(received_at__gte=now - timedelta(hours=24))),
            failed_events=_count_of(events.filter(status=WebhookEvent.Status.FAILED)),
            parked_events=_count_of(events.filter(status=WebhookEvent.Status.PARKED)),
        )
        .prefetch_related(
            Prefetch(
                "webhook_subscriptions",
                queryset=WebhookSubscription.objects.only("sales_unit_id", "url", "events", "created_at"),
            )
        )
        .order_by("name")
    )
    url = settings.PUBLIC_BASE_URL + reverse("vipps_webhook")  # as services.webhook_url(), without its imports
    quiet_after = timedelta(hours=settings.WEBHOOK_QUIET_HOURS)
    result = []
    for unit in units:
        ours = [s for s in unit.webhook_subscriptions.all() if s.url == url]
        served = {g for g in ev.REGISTRATION_GROUPS if any(set(s.events) == set(g) for s in ours)}
        try:
            sync = unit.webhook_sync
        except WebhookSync.DoesNotExist:
            sync = None
        if sync is not None and not sync.ok:
            registration = "error"
        elif len(served) < len(ev.REGISTRATION_GROUPS):
            registration = "missing"
        else:
            registration = "registered"
        status, reasons = webhook_health_classify(
            registration=registration,
            last_event_at=unit.last_event_at,
            registered_since=min((s.created_at for s in ours), default=None),
            failed=unit.failed_events,
            parked=unit.parked_events,
            now=now,
            quiet_after=quiet_after,
        )
        result.append(
            WebhookHealth(
                sales_unit=unit,
                registration=registration,
                registered_groups=len(served),
                needed_groups=len(ev.REGISTRATION_GROUPS),
                sync_message=sync.message if sync is not None and not sync.ok else "",
                last_event_at=unit.last_event_at,
                events_24h=unit.events_24h,
                failed=unit.failed_events,
                parked=unit.parked_events,
                status=status,
                reasons=reasons,
            )
        )
    return result
