import json
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDay, TruncHour
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from merchant_portal.audit.models import AuditEntry
from merchant_portal.tenancy.models import Merchant, VippsCall
from qrcodes.models import Location
from webhooks_app.models import WebhookEvent

from .models import CheckIn, Payment, PaymentOperation
from .vipps_errors import explain


def locations_with_checkin_counts(*, merchant: Merchant) -> QuerySet[Location]:
    waiting = Q(checkins__status=CheckIn.Status.ACTIVE, checkins__expires_at__gt=timezone.now())
    return (
        Location.objects.for_merchant(merchant)
        .select_related("sales_unit")
        .annotate(waiting=Count("checkins", filter=waiting))
        .order_by("name")
    )


def checkins_waiting_at(*, location: Location) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(
        location=location, status=CheckIn.Status.ACTIVE, expires_at__gt=timezone.now()
    ).select_related("qr_code")


def checkins_recent_at(*, location: Location, limit: int = 10) -> list[CheckIn]:
    waiting = checkins_waiting_at(location=location).values("pk")
    return list(CheckIn.objects.filter(location=location).exclude(pk__in=waiting).select_related("qr_code")[:limit])


# Payments ----------------------------------------------------------------------------------------------------

PAGE_SIZE = 50


def payments_filtered(*, merchant: Merchant, filters: dict) -> QuerySet[Payment]:
    """The merchant's payments, newest first, narrowed by the list's filters (all optional)."""
    payments = Payment.objects.filter(merchant=merchant)
    if filters.get("state"):
        payments = payments.filter(state=filters["state"])
    if filters.get("location"):
        payments = payments.filter(location=filters["location"])
    if filters.get("date_from"):
        payments = payments.filter(created_at__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        payments = payments.filter(created_at__lt=_day_start(filters["date_to"] + timedelta(days=1)))
    if filters.get("amount_min") is not None:
        payments = payments.filter(amount__gte=int(filters["amount_min"] * 100))
    if filters.get("amount_max") is not None:
        payments = payments.filter(amount__lte=int(filters["amount_max"] * 100))
    if filters.get("reference"):
        payments = payments.filter(reference=filters["reference"].strip())
    return payments.order_by("-id")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def payments_page(*, payments: QuerySet[Payment], after: int | None, size: int | None = None):
    """Keyset pagination on the id: one indexed range scan per page, however deep; no COUNT(*). Returns the
    rows and the cursor of the next page (None on the last one)."""
    size = size or PAGE_SIZE
    if after:
        payments = payments.filter(id__lt=after)
    rows = list(payments.select_related("location", "sales_unit")[: size + 1])
    return rows[:size], (rows[size - 1].pk if len(rows) > size else None)


CSV_COLUMNS = [
    ("created_at", "Created"),
    ("reference", "Reference"),
    ("sales_unit__msn", "MSN"),
    ("location__name", "Location"),
    ("state", "State"),
    ("currency", "Currency"),
    ("amount", "Amount"),
    ("captured_amount", "Captured"),
    ("refunded_amount", "Refunded"),
    ("cancelled_amount", "Cancelled"),
    ("description", "Description"),
]


# OWASP's CSV injection guidance: a cell starting with one of these is a formula to Excel, LibreOffice or Google
# Sheets. Fullwidth forms count too (some spreadsheets fold them), and so does any of them after leading
# whitespace or control characters, which spreadsheets skip.
_FORMULA_START = re.compile(r"[\s\x00-\x1f]*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r\n]")


def spreadsheet_safe(text: str) -> str:
    """`text` as a cell a spreadsheet shows and never runs: a leading apostrophe turns a formula into text."""
    return f"'{text}" if _FORMULA_START.match(text) else text


def payments_csv_rows(*, payments: QuerySet[Payment]) -> Iterator[list]:
    """Header, then one row per payment, read in chunks by a server-side cursor (constant memory).

    Text that came from outside (descriptions, references, names) goes through spreadsheet_safe(); the amounts
    and times the portal writes itself stay as they are, so "-10.00" is still a number.
    """
    yield [label for _, label in CSV_COLUMNS]
    money = {"amount", "captured_amount", "refunded_amount", "cancelled_amount"}
    names = [name for name, _ in CSV_COLUMNS]
    for values in payments.values_list(*names).iterator(chunk_size=2000):
        row = []
        for name, value in zip(names, values, strict=True):
            if value is None:
                value = ""
            elif name in money:
                value = f"{value / 100:.2f}"
            elif name == "created_at":
                value = timezone.localtime(value).isoformat(timespec="seconds")
            else:
                value = spreadsheet_safe(str(value))
            row.append(value)
        yield row


def _error_code(body: str) -> str:
    try:
        problem = json.loads(body)
    except ValueError:
        return ""
    details = problem.get("extraDetails") if isinstance(problem, dict) else None
    for detail in details or []:
        if isinstance(detail, dict) and str(detail.get("name", "")).lower() == "errorcode":
            return str(detail.get("reason", ""))
    return ""


TIMELINE_KINDS = {
    "call": gettext_lazy("call"),
    "poll": gettext_lazy("poll"),
    "webhook": gettext_lazy("webhook"),
    "staff": gettext_lazy("staff"),
    "system": gettext_lazy("system"),
}


ANOMALY_ACTIONS = {
    "payment.anomaly": gettext_lazy("Vipps' answer was not applied"),
    "payment.quarantined": gettext_lazy("The portal stopped checking this payment with Vipps"),
    "payment.anomaly_cleared": gettext_lazy("Vipps' answer fits again and was applied"),
    "payment.capture_quarantined": gettext_lazy("The capture was set aside after repeated failures"),
    "payment.refund_quarantined": gettext_lazy("The refund was set aside after repeated failures"),
    "payment.cancel_quarantined": gettext_lazy("The cancel was set aside after repeated failures"),
    "payment.retried": gettext_lazy("Tried again after being set aside"),
}


def _anomaly_entry(entry: AuditEntry) -> dict:
    reason = entry.data.get("reason", "")
    label = Payment.Anomaly(reason).label if reason in Payment.Anomaly.values else ""
    detail = entry.data.get("detail", "")
    if entry.action == "payment.retried":
        detail = gettext("by %(actor)s") % {"actor": entry.actor_label}
    elif entry.action == "payment.anomaly_cleared":
        detail = ""
    return {
        "at": entry.created_at,
        "kind": "staff" if entry.actor_type != AuditEntry.ActorType.SYSTEM else "system",
        "title": str(ANOMALY_ACTIONS[entry.action]),
        "detail": " ".join(str(part) for part in (label, detail) if part),
        "ok": entry.action in ("payment.anomaly_cleared", "payment.retried"),
        "extra": "",
    }


def payment_timeline(*, payment: Payment) -> list[dict]:
    """One story of the payment: our calls to Vipps and polls (the outbound call log), the webhooks Vipps sent
    about it, and what staff and the system did (the audit log), oldest first."""
    entries = []
    # The create call's path has no reference; it is found by the payment's Idempotency-Key.
    calls = VippsCall.objects.filter(
        Q(reference=payment.reference) | Q(idempotency_key=payment.idempotency_key), sales_unit_id=payment.sales_unit_id
    )
    for call in calls.order_by("started_at", "id"):
        code = _error_code(call.response_body) if not call.ok else ""
        status = str(call.status_code) if call.status_code else call.error[:120]
        entries.append(
            {
                "at": call.started_at,
                "kind": "poll" if call.method == "GET" else "call",
                "title": f"{call.operation.replace('_', ' ')}: {status}",
                "detail": explain(code, call.status_code) if not call.ok else "",
                "code": code,
                "ok": call.ok,
                "extra": gettext("attempt %(attempt)s, key %(key)s")
                % {"attempt": call.attempt, "key": call.idempotency_key}
                if call.idempotency_key
                else "",
            }
        )
    hooks = WebhookEvent.objects.filter(
        sales_unit_id=payment.sales_unit_id, dedupe_key__startswith=payment.reference + "|"
    )
    for event in hooks:
        name = event.payload.get("name", event.event_type) if isinstance(event.payload, dict) else event.event_type
        entries.append(
            {
                "at": event.received_at,
                "kind": "webhook",
                "title": f"webhook {name}",
                "detail": event.get_status_display() + (f": {event.detail}" if event.detail else ""),
                "ok": event.status != WebhookEvent.Status.FAILED,
                "extra": "",
            }
        )
    audit = AuditEntry.objects.filter(
        merchant_id=payment.merchant_id, target_type="payments.payment", target_id=str(payment.pk)
    )
    for entry in audit:
        if entry.action in ANOMALY_ACTIONS:
            entries.append(_anomaly_entry(entry))
            continue
        data = ", ".join(f"{k} {v / 100:.2f}" if k == "amount" else f"{k} {v}" for k, v in entry.data.items())
        entries.append(
            {
                "at": entry.created_at,
                "kind": "staff" if entry.actor_type != AuditEntry.ActorType.SYSTEM else "system",
                "title": entry.action.replace("payment.", "").replace("_", " "),
                "detail": gettext("by %(actor)s") % {"actor": entry.actor_label} + (f" ({data})" if data else ""),
                "ok": True,
                "extra": "",
            }
        )
    for entry in entries:
        entry["kind_label"] = TIMELINE_KINDS[entry["kind"]]
    return sorted(entries, key=lambda e: e["at"])


def payment_operations_quarantined_count() -> int:
    """Captures, refunds and cancels set aside after repeated failures, waiting for staff to replay them."""
    return PaymentOperation.objects.filter(quarantined_at__isnull=False, status=PaymentOperation.Status.PENDING).count()


def payments_quarantined_count() -> int:
    """Payments the portal stopped checking with Vipps on its own."""
    return Payment.objects.filter(check_failures__gte=Payment.QUARANTINE_AFTER).count()


# Dashboard -----------------------------------------------------------------------------------------------------
# Aggregate reads for the merchant dashboard: each is one query, whatever the number of rows. Periods are
# half-open [start, end) in aware datetimes; the caller decides what a day is (the dashboard: settings.TIME_ZONE).

# A payment that ever reached AUTHORIZED: it is AUTHORIZED now, or Vipps once authorized an amount (a payment
# cancelled after authorization is TERMINATED but keeps its authorized amount).
AUTHORIZED_EVER = Q(authorized_amount__gt=0) | Q(state=Payment.State.AUTHORIZED)
CAPTURED_ANY = Q(captured_amount__gt=0)
_NO_CHECKIN = Q(checkin__isnull=True)


def payment_totals_by_currency(*, merchant: Merchant, start: datetime, end: datetime) -> list[dict]:
    """Per currency (never summed across currencies), for the payments created in [start, end): how many were
    created, authorized (ever) and captured, their authorized, captured, refunded and net totals (`*_total`, minor
    units),
    and the same counts for payments asked of a phone number without a check-in (`no_checkin_*`)."""
    rows = (
        Payment.objects.for_merchant(merchant)
        .filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("currency")
        .annotate(
            created=Count("pk"),
            authorized=Count("pk", filter=AUTHORIZED_EVER),
            captured=Count("pk", filter=CAPTURED_ANY),
            authorized_total=Coalesce(Sum("authorized_amount"), 0),
            captured_total=Coalesce(Sum("captured_amount"), 0),
            refunded_total=Coalesce(Sum("refunded_amount"), 0),
            no_checkin_created=Count("pk", filter=_NO_CHECKIN),
            no_checkin_authorized=Count("pk", filter=_NO_CHECKIN & AUTHORIZED_EVER),
            no_checkin_captured=Count("pk", filter=_NO_CHECKIN & CAPTURED_ANY),
            no_checkin_captured_total=Coalesce(Sum("captured_amount", filter=_NO_CHECKIN), 0),
        )
        .order_by("currency")
    )
    result = []
    for row in rows:
        row["net_total"] = row["captured_total"] - row["refunded_total"]
        result.append(row)
    return result


def _checkin_funnel(*, merchant: Merchant, start: datetime, end: datetime, group: tuple[str, ...]) -> list[dict]:
    # One row per group; the LEFT JOIN to payments is why the counts are DISTINCT check-ins. Each payment has at
    # most one check-in, so the captured sum counts every payment once.
    payment_authorized = Q(payments__authorized_amount__gt=0) | Q(payments__state=Payment.State.AUTHORIZED)
    return list(
        CheckIn.objects.for_merchant(merchant)
        .filter(initiated_at__gte=start, initiated_at__lt=end)
        .order_by()
        .values(*group, currency=F("sales_unit__currency"))
        .annotate(
            checkins=Count("pk", distinct=True),
            authorized=Count("pk", filter=payment_authorized, distinct=True),
            captured=Count("pk", filter=Q(payments__captured_amount__gt=0), distinct=True),
            captured_amount=Coalesce(Sum("payments__captured_amount"), 0),
        )
    )


def checkin_funnel_by_location(*, merchant: Merchant, start: datetime, end: datetime) -> list[dict]:
    """Per location, the check-ins made in [start, end) and how many of them led to a payment that was
    authorized (ever) and captured, with the captured amount in the location's currency. Unordered."""
    return _checkin_funnel(merchant=merchant, start=start, end=end, group=("location_id", "location__name"))


def checkin_funnel_by_qr_code(*, merchant: Merchant, start: datetime, end: datetime) -> list[dict]:
    """As `checkin_funnel_by_location`, per QR code (`qr_code_id` None: MobilePay PoS check-ins and check-ins
    at a QR code since deleted)."""
    group = ("qr_code_id", "qr_code__merchant_qr_id", "qr_code__location_description", "location__name")
    return _checkin_funnel(merchant=merchant, start=start, end=end, group=group)


def _trunc(field: str, step: str, tz: tzinfo):
    return TruncHour(field, tzinfo=tz) if step == "hour" else TruncDay(field, tzinfo=tz)


def checkin_counts_by_bucket(
    *, merchant: Merchant, start: datetime, end: datetime, step: str, tz: tzinfo
) -> list[tuple[datetime, int]]:
    """(bucket start in `tz`, check-ins) per hour or day ("hour" | "day") that has any, in [start, end)."""
    rows = (
        CheckIn.objects.for_merchant(merchant)
        .filter(initiated_at__gte=start, initiated_at__lt=end)
        .annotate(bucket=_trunc("initiated_at", step, tz))
        .order_by()
        .values("bucket")
        .annotate(count=Count("pk"))
        .values_list("bucket", "count")
    )
    return list(rows)


def payment_captured_by_bucket(
    *, merchant: Merchant, start: datetime, end: datetime, step: str, tz: tzinfo
) -> list[tuple[datetime, str, int]]:
    """(bucket start in `tz`, currency, captured amount) per hour or day of the payments' creation, in [start, end),
    for the buckets that have any capture."""
    rows = (
        Payment.objects.for_merchant(merchant)
        .filter(created_at__gte=start, created_at__lt=end, captured_amount__gt=0)
        .annotate(bucket=_trunc("created_at", step, tz))
        .order_by()
        .values("bucket", "currency")
        .annotate(captured=Sum("captured_amount"))
        .values_list("bucket", "currency", "captured")
    )
    return list(rows)
