import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from merchant_portal.audit.models import AuditEntry
from merchant_portal.tenancy.models import Merchant, VippsCall
from qrcodes.models import Location
from webhooks_app.models import WebhookEvent

from .models import CheckIn, Payment
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


def payments_csv_rows(*, payments: QuerySet[Payment]) -> Iterator[list]:
    """Header, then one row per payment, read in chunks by a server-side cursor (constant memory)."""
    yield [label for _, label in CSV_COLUMNS]
    money = {"amount", "captured_amount", "refunded_amount", "cancelled_amount"}
    names = [name for name, _ in CSV_COLUMNS]
    for values in payments.values_list(*names).iterator(chunk_size=2000):
        row = []
        for name, value in zip(names, values, strict=True):
            if name in money:
                value = f"{value / 100:.2f}"
            elif name == "created_at":
                value = timezone.localtime(value).isoformat(timespec="seconds")
            row.append(value if value is not None else "")
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
                "extra": f"attempt {call.attempt}, key {call.idempotency_key}" if call.idempotency_key else "",
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
        data = ", ".join(f"{k} {v / 100:.2f}" if k == "amount" else f"{k} {v}" for k, v in entry.data.items())
        entries.append(
            {
                "at": entry.created_at,
                "kind": "staff" if entry.actor_type != AuditEntry.ActorType.SYSTEM else "system",
                "title": entry.action.replace("payment.", "").replace("_", " "),
                "detail": f"by {entry.actor_label}" + (f" ({data})" if data else ""),
                "ok": True,
                "extra": "",
            }
        )
    return sorted(entries, key=lambda e: e["at"])
