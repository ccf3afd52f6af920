import json
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import NamedTuple

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDay, TruncHour
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from merchant_portal.audit.describe import Facts, describe
from merchant_portal.audit.models import AuditEntry
from merchant_portal.core.i18n import format_money, machine_amount
from merchant_portal.tenancy.models import Merchant, VippsCall
from qrcodes.models import Location
from webhooks_app.models import WebhookEvent

from .models import CheckIn, Payment, PaymentOperation
from .status import (
    ACTIVE_OR_PAID,
    MerchantStatus,
    merchant_status,
    merchant_status_expression,
    merchant_status_in_q,
    merchant_status_q,
)
from .vipps_errors import explain


def _served() -> Exists:
    """A check-in is served once a payment for it is in flight (queued, or waiting for the customer) or paid
    (authorized, captured, refunded in part or in full); a declined, expired, cancelled or refused request
    leaves the customer waiting, to be asked again."""
    return Exists(Payment.objects.filter(merchant_status_in_q(ACTIVE_OR_PAID), checkin=OuterRef("pk")))


def _waiting() -> Q:
    return Q(status=CheckIn.Status.ACTIVE, expires_at__gt=timezone.now()) & ~Q(_served())


def locations_with_checkin_counts(*, merchant: Merchant) -> QuerySet[Location]:
    waiting = (
        CheckIn.objects.filter(_waiting(), location=OuterRef("pk"))
        .order_by()
        .values("location")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        Location.objects.for_merchant(merchant)
        .select_related("sales_unit")
        .annotate(waiting=Coalesce(Subquery(waiting), 0))
        .order_by("name")
    )


# The console shows a check-in's latest payment; these columns are all it reads (no decrypted customer).
_OUTCOME_FIELDS = (
    "id",
    "checkin_id",
    "reference",
    "currency",
    "amount",
    "sending",
    "state",
    "authorized_amount",
    "captured_amount",
    "refunded_amount",
    "cancelled_amount",
)


def _with_payments(checkins: QuerySet[CheckIn]) -> QuerySet[CheckIn]:
    latest_first = Payment.objects.only(*_OUTCOME_FIELDS).order_by("-id")
    return checkins.select_related("qr_code").prefetch_related(Prefetch("payments", queryset=latest_first))


def checkins_waiting_at(*, location: Location) -> QuerySet[CheckIn]:
    """Customers the cashier can still ask to pay: checked in, not expired, and not served (see _served)."""
    return _with_payments(CheckIn.objects.filter(_waiting(), location=location))


def checkins_recent_at(*, location: Location, limit: int = 10) -> list[CheckIn]:
    """The latest check-ins that are not waiting any more: served, or expired."""
    recent = CheckIn.objects.filter(location=location).exclude(_waiting())
    return list(_with_payments(recent)[:limit])


class CheckinOutcome(NamedTuple):
    code: str  # "none", "sent", "paid", "refunded", "declined", "expired", "cancelled", "failed"
    label: str
    payment: Payment | None


_OUTCOMES = {
    MerchantStatus.QUEUED: ("sent", gettext_lazy("Request sent")),
    MerchantStatus.WAITING: ("sent", gettext_lazy("Request sent")),
    MerchantStatus.AUTHORIZED: ("paid", gettext_lazy("Paid")),
    MerchantStatus.PARTLY_CAPTURED: ("paid", gettext_lazy("Paid")),
    MerchantStatus.CAPTURED: ("paid", gettext_lazy("Paid")),
    MerchantStatus.PARTLY_REFUNDED: ("refunded", MerchantStatus.PARTLY_REFUNDED.label),
    MerchantStatus.REFUNDED: ("refunded", MerchantStatus.REFUNDED.label),
    MerchantStatus.DECLINED: ("declined", MerchantStatus.DECLINED.label),
    MerchantStatus.EXPIRED: ("expired", MerchantStatus.EXPIRED.label),
    MerchantStatus.CANCELLED: ("cancelled", MerchantStatus.CANCELLED.label),
    MerchantStatus.SENDING_FAILED: ("failed", MerchantStatus.SENDING_FAILED.label),
}


def checkin_outcome(*, checkin: CheckIn) -> CheckinOutcome:
    """What came of a check-in, from its latest payment (prefetched by the console's selectors)."""
    payments = list(checkin.payments.all())
    if not payments:
        return CheckinOutcome("none", "", None)
    latest = max(payments, key=lambda p: p.pk)
    code, label = _OUTCOMES[merchant_status(latest)]
    return CheckinOutcome(code, str(label), latest)


def checkin_active_payments(*, checkin: CheckIn | int) -> QuerySet[Payment]:
    """The payments of this check-in that are in flight or paid: a second request needs confirming."""
    return Payment.objects.filter(merchant_status_in_q(ACTIVE_OR_PAID), checkin=checkin)


def checkin_active_payment(*, checkin: CheckIn) -> Payment | None:
    """The latest of checkin_active_payments, to name it."""
    return checkin_active_payments(checkin=checkin).defer("customer", "receipt").order_by("-id").first()


# Payments ----------------------------------------------------------------------------------------------------

PAGE_SIZE = 50


def payments_filtered(*, merchant: Merchant, filters: dict) -> QuerySet[Payment]:
    """The merchant's payments, newest first, narrowed by the list's filters (all optional)."""
    payments = Payment.objects.filter(merchant=merchant)
    if filters.get("status"):
        payments = payments.filter(merchant_status_q(filters["status"]))
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
    # What a merchant calls the state (payments.status), as its stable code; Vipps' own stays under "State".
    ("merchant_status", "Status"),
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
    payments = payments.annotate(merchant_status=merchant_status_expression())
    for values in payments.values_list(*names).iterator(chunk_size=2000):
        row = []
        for name, value in zip(names, values, strict=True):
            if value is None:
                value = ""
            elif name in money:
                value = machine_amount(value)  # "249.00" in every language: a spreadsheet reads it
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
    "call": gettext_lazy("Call to Vipps"),
    "poll": gettext_lazy("Check with Vipps"),
    "webhook": gettext_lazy("Message from Vipps"),
    "staff": gettext_lazy("Staff"),
    "system": gettext_lazy("Portal"),
}

# The outbound call log's operation names (vipps.client) as staff read them; another operation reads generically.
CALL_SENTENCES = {
    "create_payment": gettext_lazy("Sent the payment request to Vipps"),
    "get_payment": gettext_lazy("Asked Vipps for the payment's state"),
    "get_payment_events": gettext_lazy("Asked Vipps for the payment's history"),
    "capture_payment": gettext_lazy("Asked Vipps to capture"),
    "refund_payment": gettext_lazy("Asked Vipps to refund"),
    "cancel_payment": gettext_lazy("Asked Vipps to cancel the payment"),
    "force_approve": gettext_lazy("Approved the payment in Vipps' test environment"),
}

# ePayment webhooks by `name` (PaymentEventName in vipps_sandbox/specs/epayment-api.yaml).
WEBHOOK_SENTENCES = {
    "CREATED": gettext_lazy("The payment request was created"),
    "AUTHORIZED": gettext_lazy("The customer approved %(amount)s"),
    "ABORTED": gettext_lazy("The customer declined the payment"),
    "EXPIRED": gettext_lazy("The customer did not answer in time"),
    "CANCELLED": gettext_lazy("The payment was cancelled"),
    "CAPTURED": gettext_lazy("%(amount)s was captured"),
    "REFUNDED": gettext_lazy("%(amount)s was refunded"),
    "TERMINATED": gettext_lazy("The payment was closed"),
}

# The anomaly entries keep their reason apart (the detail), so the sentence itself says what happened.
ANOMALY_ACTIONS = {"payment.anomaly", "payment.quarantined", "payment.anomaly_cleared", "payment.retried"}


def _call_entry(call: VippsCall) -> dict:
    code = _error_code(call.response_body) if not call.ok else ""
    what = CALL_SENTENCES.get(call.operation)
    what = str(what) if what else gettext("Called Vipps (%(operation)s)") % {"operation": call.operation}
    if call.status_code:
        title = gettext("%(what)s: answer %(status)s") % {"what": what, "status": call.status_code}
    else:
        title = gettext("%(what)s: no answer") % {"what": what}
    detail = ""
    if not call.ok:
        # A transport error is the client's technical text; a refusal is explained in the reader's language.
        detail = explain(code, call.status_code) if call.status_code else call.error[:120]
    return {
        "at": call.started_at,
        "kind": "poll" if call.method == "GET" else "call",
        "title": title,
        "detail": detail,
        "code": code,
        "ok": call.ok,
        "extra": gettext("attempt %(attempt)s, key %(key)s") % {"attempt": call.attempt, "key": call.idempotency_key}
        if call.idempotency_key
        else "",
    }


def _webhook_entry(event: WebhookEvent, payment: Payment) -> dict:
    payload = event.payload if isinstance(event.payload, dict) else {}
    name = str(payload.get("name") or event.event_type)
    sentence = WEBHOOK_SENTENCES.get(name)
    if sentence is None:
        title = gettext("Vipps sent the event %(name)s") % {"name": name}
    else:
        amount = payload.get("amount") if isinstance(payload.get("amount"), dict) else {}
        value = amount.get("value")
        minor = value if isinstance(value, int) and not isinstance(value, bool) else payment.amount
        currency = amount.get("currency") if isinstance(amount.get("currency"), str) else payment.currency
        title = str(sentence) % {"amount": format_money(minor, currency if currency == payment.currency else "")}
    return {
        "at": event.received_at,
        "kind": "webhook",
        "title": title,
        "detail": event.get_status_display() + (f": {event.detail}" if event.detail else ""),
        "ok": event.status != WebhookEvent.Status.FAILED,
        "extra": "",
    }


def _audit_entry(entry: AuditEntry, payment: Payment) -> dict:
    by_staff = entry.actor_type != AuditEntry.ActorType.SYSTEM
    facts = Facts(subject=payment.reference, currency=payment.currency)
    detail = gettext("by %(actor)s") % {"actor": entry.actor_label} if by_staff else ""
    technical = ""  # kept as the portal wrote it (references and amounts), shown marked as English
    ok = True
    if entry.action in ANOMALY_ACTIONS:
        ok = entry.action in ("payment.anomaly_cleared", "payment.retried")
        if entry.action in ("payment.anomaly", "payment.quarantined"):
            data = entry.data if isinstance(entry.data, dict) else {}
            reason = data.get("reason")
            label = Payment.Anomaly(reason).label if reason in Payment.Anomaly.values else ""
            detail = str(label)
            technical = str(data.get("detail", ""))
        # The reason is the detail here, not part of the sentence.
        title = describe(action=entry.action, data={}, facts=facts)
    else:
        title = describe(action=entry.action, data=entry.data, facts=facts)
    return {
        "at": entry.created_at,
        "kind": "staff" if by_staff else "system",
        "title": title,
        "detail": detail,
        "technical": technical,
        "ok": ok,
        "extra": "",
    }


def payment_timeline(*, payment: Payment) -> list[dict]:
    """One story of the payment, oldest first, each entry a sentence in the reader's language: our calls to
    Vipps and polls (the outbound call log), the webhooks Vipps sent about it, and what staff and the system did
    (the audit log)."""
    # The create call's path has no reference; it is found by the payment's Idempotency-Key.
    calls = VippsCall.objects.filter(
        Q(reference=payment.reference) | Q(idempotency_key=payment.idempotency_key), sales_unit_id=payment.sales_unit_id
    )
    entries = [_call_entry(call) for call in calls.order_by("started_at", "id")]
    hooks = WebhookEvent.objects.filter(
        sales_unit_id=payment.sales_unit_id, dedupe_key__startswith=payment.reference + "|"
    )
    entries += [_webhook_entry(event, payment) for event in hooks]
    audit = AuditEntry.objects.filter(
        merchant_id=payment.merchant_id, target_type="payments.payment", target_id=str(payment.pk)
    )
    entries += [_audit_entry(entry, payment) for entry in audit]
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


# Two sales units may each have a location of one name: a row carries its unit too.
LOCATION_GROUP = ("location_id", "location__name", "location__sales_unit__name", "location__sales_unit__msn")


def checkin_funnel_by_location(*, merchant: Merchant, start: datetime, end: datetime) -> list[dict]:
    """Per location, the check-ins made in [start, end) and how many of them led to a payment that was
    authorized (ever) and captured, with the captured amount in the location's currency. Unordered."""
    return _checkin_funnel(merchant=merchant, start=start, end=end, group=LOCATION_GROUP)


def checkin_funnel_by_qr_code(*, merchant: Merchant, start: datetime, end: datetime) -> list[dict]:
    """As `checkin_funnel_by_location`, per QR code (`qr_code_id` None: MobilePay PoS check-ins and check-ins
    at a QR code since deleted)."""
    group = ("qr_code_id", "qr_code__merchant_qr_id", "qr_code__location_description", *LOCATION_GROUP[1:])
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
