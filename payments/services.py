import hashlib
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from merchant_portal.audit.services import log_action
from merchant_portal.core import jsonbody
from merchant_portal.core.i18n import format_money
from merchant_portal.tenancy.models import SalesUnit
from qrcodes.models import Location, QrCode
from vipps import (
    Aggregate,
    Amount,
    CreatePaymentRequest,
    Customer,
    CustomerInteraction,
    ModificationResult,
    OrderLine,
    UnitInfo,
    UserFlow,
    VippsAPIError,
    VippsError,
    VippsResponseError,
)
from vipps import Payment as VippsPayment
from vipps import Receipt as VippsReceipt
from vipps.masking import mask_phone
from vipps.models import AMOUNT_MAX, PHONE_RE
from webhooks_app.dispatch import Discard, Park

from . import selectors
from .models import CheckIn, Payment, PaymentOperation, PaymentRule

logger = logging.getLogger(__name__)

CHECKIN_TTL = timedelta(minutes=15)  # the customerToken's validity (CONTRACTS.md §5.2)
POS_POLLS = 5  # notifications after which an empty PoS is taken as "nobody checked in"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _notify_vendors(event_type: str, instance: CheckIn | Payment) -> None:
    """POS vendors' outbound webhooks (merchant_portal.api). Called inside the transaction that made the change:
    the deliveries are written with it (an outbox) and sent once it commits."""
    from merchant_portal.api.services import vendor_events_emit

    vendor_events_emit(event_type=event_type, instance=instance)


def _vendor_view(payment: Payment) -> tuple:
    """What a `payment.state_changed` webhook reports a change of (besides `sending` becoming failed)."""
    return (
        payment.state,
        payment.authorized_amount,
        payment.captured_amount,
        payment.refunded_amount,
        payment.cancelled_amount,
    )


def checkin_create(
    *,
    location: Location,
    customer_token: str,
    initiated_at: datetime,
    source: str,
    qr_code: QrCode | None = None,
    merchant_qr_id: str = "",
    pos_id: str = "",
    event=None,
) -> CheckIn:
    """Create the check-in, or return the one that already holds this customerToken."""
    digest = _digest(customer_token)
    existing = CheckIn.objects.filter(sales_unit_id=location.sales_unit_id, token_digest=digest).first()
    if existing is not None:
        return existing
    try:
        # Loaded with the location by the webhook handlers (select_related), so filing costs no extra query.
        rule = location.payment_rule
    except PaymentRule.DoesNotExist:
        rule = None
    try:
        with transaction.atomic():
            checkin = CheckIn.objects.create(
                sales_unit_id=location.sales_unit_id,
                location=location,
                qr_code=qr_code,
                source=source,
                merchant_qr_id=merchant_qr_id,
                pos_id=pos_id,
                customer_token=customer_token,
                token_digest=digest,
                initiated_at=initiated_at,
                expires_at=initiated_at + CHECKIN_TTL,
                event=event,
            )
            _notify_vendors("checkin.created", checkin)
    except IntegrityError:
        return CheckIn.objects.get(sales_unit_id=location.sales_unit_id, token_digest=digest)
    if rule is not None and rule.request_on_checkin:
        payment_rule_on_checkin(checkin=checkin, rule=rule)
    return checkin


def _parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def checkin_apply_qr_event(event, prepared=None) -> None:
    """Handler of `user.checked-in.v1`: a customer scanned one of our merchant callback QR codes."""
    payload = jsonbody.loads(event.body)
    merchant_qr_id = str(payload["merchantQrId"])
    try:
        initiated_at = _parse_time(payload["initiatedAt"])
    except (TypeError, ValueError):
        raise Discard(f"initiatedAt {str(payload['initiatedAt'])[:40]!r} is not an ISO 8601 time.") from None
    now = timezone.now()
    # A sender's clock ahead of ours must not keep a customer waiting longer than the token lives.
    initiated_at = min(initiated_at, now)
    qr = (
        QrCode.objects.select_related("location__payment_rule")
        .filter(sales_unit_id=event.sales_unit_id, merchant_qr_id=merchant_qr_id)
        .first()
    )
    if qr is None:
        if initiated_at + CHECKIN_TTL <= timezone.now():
            raise Discard(f"QR code {merchant_qr_id} is not known for this sales unit, and the check-in has expired.")
        # Maybe saved at Vipps before here, or being re-created: try again until the token expires.
        raise Park(f"QR code {merchant_qr_id} is not known (yet) for this sales unit.", retry_in=20)
    if initiated_at + CHECKIN_TTL <= now:
        # Its token has expired (a delayed or replayed delivery): kept for the record, never as a waiting
        # customer, so no console entry, no vendor webhook and no payment rule.
        CheckIn.objects.get_or_create(
            sales_unit_id=qr.sales_unit_id,
            token_digest=_digest(payload["customerToken"]),
            defaults={
                "location": qr.location,
                "qr_code": qr,
                "source": CheckIn.Source.QR,
                "merchant_qr_id": merchant_qr_id,
                "customer_token": payload["customerToken"],
                "initiated_at": initiated_at,
                "expires_at": initiated_at + CHECKIN_TTL,
                "status": CheckIn.Status.EXPIRED,
                "event": event,
            },
        )
        return
    checkin_create(
        location=qr.location,
        qr_code=qr,
        merchant_qr_id=merchant_qr_id,
        customer_token=payload["customerToken"],
        initiated_at=initiated_at,
        source=CheckIn.Source.QR,
        event=event,
    )


def _pos_location(event) -> Location:
    pos_id = event.payload["PosId"].lower()
    locations = list(
        Location.objects.select_related("payment_rule").filter(
            sales_unit_id=event.sales_unit_id, mobilepay_pos_id__iexact=pos_id
        )[:2]
    )
    if not locations:
        raise Discard(f"No location is mapped to PoS {pos_id} any more.")
    if len(locations) > 1:
        raise Discard(f"PoS {pos_id} is mapped to more than one location; give it to one only.")
    return locations[0]


def pos_checkin_fetch(event):
    """Prepare step of a MobilePay PoS notification: ask MobilePay who is checked in, never faster than the
    pollDelayInMs it last asked for on that PoS."""
    from .pos import pos_client_for

    location = _pos_location(event)
    pos_id = location.mobilepay_pos_id.lower()
    key = f"mobilepay-pos-next-poll:{pos_id}"
    wait = (cache.get(key) or 0) - time.time()
    if wait > 0:
        raise Park("Waiting for the poll delay MobilePay asked for.", retry_in=wait)
    result = pos_client_for(location.sales_unit).get_checkin(pos_id)
    cache.set(key, time.time() + result.poll_delay_ms / 1000, timeout=300)
    if not (result.is_user_checked_in and result.customer_token):
        if event.attempts + 1 >= POS_POLLS:
            raise Discard("Nobody is checked in at this PoS.")
        raise Park("Nobody checked in yet; polling again.", retry_in=max(result.poll_delay_ms / 1000, 0.5))
    return location, result.customer_token


def pos_checkin_apply(event, prepared) -> None:
    from webhooks_app.services import pos_merchant_id_learn

    location, customer_token = prepared
    # MobilePay found a customer at this PosId with our credentials: the notification was real, so its
    # MerchantId is the sales unit's (the first one confirmed is kept; a mismatch was refused at the door).
    merchant_id = jsonbody.loads(event.body).get("MerchantId") if event is not None else None
    if isinstance(merchant_id, str) and not pos_merchant_id_learn(
        sales_unit_id=location.sales_unit_id, merchant_id=merchant_id
    ):
        raise Discard("The notification's MerchantId is not the one this sales unit's PoS notifications carry.")
    checkin_create(
        location=location,
        pos_id=location.mobilepay_pos_id.lower(),
        customer_token=customer_token,
        initiated_at=timezone.now(),
        source=CheckIn.Source.MOBILEPAY_POS,
        event=event,
    )


def checkins_expire() -> int:
    return CheckIn.objects.filter(status=CheckIn.Status.ACTIVE, expires_at__lte=timezone.now()).update(
        status=CheckIn.Status.EXPIRED
    )


def checkin_exchange_phone(*, checkin: CheckIn, actor) -> str:
    """Ask Vipps for the customer's phone number (POST /qr/v1/exchange/customer); only the masked form is kept."""
    from merchant_portal.tenancy.vipps import vipps_client_for

    if checkin.expires_at <= timezone.now():
        raise ValidationError(_("The check-in has expired: its token can no longer be exchanged."))
    result = vipps_client_for(checkin.sales_unit).exchange_customer_token(checkin.customer_token)
    checkin.phone_masked = mask_phone(result.msisdn)
    checkin.save(update_fields=["phone_masked"])
    log_action(merchant=checkin.sales_unit.merchant, actor=actor, action="checkin.phone_exchanged", target=checkin)
    return checkin.phone_masked


# Payments ----------------------------------------------------------------------------------------------------
#
# Exactly once: every call Vipps could apply twice (create, capture, refund, cancel) is made from a row that
# was committed first and holds its Idempotency-Key, so every retry, redelivery or duplicate task sends the
# same key and Vipps applies the call once. Our side of the result is written with a compare-and-set on the
# row's status, so it is also recorded once. Money state is only taken from Vipps' answers.

LOST_TASK_AFTER = timedelta(minutes=2)  # a queued row nobody touched for this long is handed to a task again
OPERATION_LEASE = 90  # seconds one worker owns an operation; a killed worker's lease runs out
POLL_FOR = timedelta(days=1)  # a payment request still CREATED after this is not polled any more


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None  # seconds; set when the work is not finished and should be tried again


def _retry_delay(exc: VippsError, attempt: int) -> float:
    if exc.retry_after is not None:
        return max(1.0, float(exc.retry_after))
    return float(min(300, 2 * 2 ** max(0, attempt - 1)))


def _explain(exc: VippsError) -> tuple[str, str]:
    from .vipps_errors import stored_explanation

    if isinstance(exc, VippsAPIError):
        code = exc.error_code or ""
        plain = stored_explanation(code, exc.status)
        return code, f"{plain} ({exc})" if plain else str(exc)
    return "", str(exc)


def _next_check(payment: Payment, now: datetime) -> datetime | None:
    """When reconciliation asks Vipps next about a payment request the customer has not answered: often at
    first (Vipps: from 5 s after create, every few seconds), then rarely, then not at all."""
    if payment.sending != Payment.Sending.SENT or payment.state != Payment.State.CREATED:
        return None
    age = now - payment.created_at
    if age > POLL_FOR:
        return None
    if age < timedelta(minutes=2):
        return now + timedelta(seconds=5)
    if age < timedelta(minutes=15):
        return now + timedelta(seconds=30)
    return now + timedelta(minutes=10)


def payment_reference_new(*, sales_unit: SalesUnit) -> str:
    """Unique per MSN, prefixed by it, never purely numeric: `<msn>-<yymmdd>-<8 hex>`."""
    return f"{sales_unit.msn}-{timezone.now():%y%m%d}-{secrets.token_hex(4)}"


def receipt_from_lines(*, lines: list[dict], currency: str) -> dict:
    """Order lines (name, quantity, unit_price in minor units, tax_percentage) as the stored receipt, with the
    totals Order Management wants (tax included in the price)."""
    order_lines = []
    for number, line in enumerate(lines, start=1):
        quantity = Decimal(str(line["quantity"]))
        total = int((quantity * line["unit_price"]).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        tax_percentage = int(line["tax_percentage"])
        excluding = int((Decimal(total) * 100 / (100 + tax_percentage)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        order_lines.append(
            {
                "name": line["name"],
                "id": str(line.get("id") or number),
                "quantity": format(quantity.normalize(), "f"),
                "unit_price": line["unit_price"],
                "tax_percentage": tax_percentage,
                "total": total,
                "total_excluding_tax": excluding,
                "total_tax": total - excluding,
            }
        )
    return {"currency": currency, "lines": order_lines}


def _vipps_receipt(receipt: dict | None) -> VippsReceipt | None:
    if not receipt:
        return None
    lines = [
        OrderLine(
            name=line["name"],
            id=line["id"],
            total_amount=line["total"],
            total_amount_excluding_tax=line["total_excluding_tax"],
            total_tax_amount=line["total_tax"],
            tax_percentage=line["tax_percentage"],
            unit_info=UnitInfo(quantity=line["quantity"], unit_price=line["unit_price"]),
        )
        for line in receipt["lines"]
    ]
    return VippsReceipt(order_lines=lines, currency=receipt["currency"])


class SecondPaymentRefused(ValidationError):
    """The check-in already has a payment in flight or paid (`earlier`); asking again needs confirming."""

    def __init__(self, earlier: Payment):
        self.earlier = earlier
        super().__init__(second_payment_warning(payment=earlier), code="second_payment")


def payment_request_key(*, sales_unit_id: int, request_token: str) -> str:
    """The Idempotency-Key of a payment request: the same form (or rule, or API key) gives the same key."""
    return f"pay-{hashlib.sha256(f'{sales_unit_id}:{request_token}'.encode()).hexdigest()[:40]}"


def second_payment_warning(*, payment: Payment) -> str:
    return _(
        "This customer already has payment %(reference)s of %(amount)s (%(status)s). "
        "Confirm that you want to ask for a second payment."
    ) % {
        "reference": payment.reference,
        "amount": format_money(payment.amount, payment.currency),
        "status": payment.merchant_status.label,
    }


def payment_request_create(
    *,
    sales_unit: SalesUnit,
    amount: int,
    description: str,
    actor,
    request_token: str,
    phone_number: str = "",
    checkin: CheckIn | None = None,
    location: Location | None = None,
    lines: list[dict] | None = None,
    auto_capture: bool | None = None,
    allow_second_payment: bool = False,
) -> Payment:
    """Save a payment request and queue it for Vipps. The same `request_token` (a form's, or a check-in's for
    a rule) gives back the same payment: a double submit sends one push message.

    A check-in that already has a payment in flight or paid (payments.status.ACTIVE_OR_PAID) is asked again
    only with `allow_second_payment`; otherwise SecondPaymentRefused names the earlier payment."""
    if (checkin is None) == (not phone_number):
        raise ValidationError(_("Ask a checked-in customer or a phone number, not both."))
    if checkin is not None:
        if checkin.expires_at <= timezone.now():
            raise ValidationError(_("The check-in has expired: ask for the customer's phone number instead."))
        sales_unit, location = checkin.sales_unit, checkin.location
    elif not PHONE_RE.match(phone_number):
        raise ValidationError(_("The phone number needs the country code first and 10 to 15 digits, e.g. 4791234567."))
    if not 3 <= len(description) <= 100:
        raise ValidationError(_("The description needs 3 to 100 characters."))
    if not 0 < amount <= AMOUNT_MAX:
        raise ValidationError(_("The amount must be more than zero."))
    receipt = receipt_from_lines(lines=lines, currency=sales_unit.currency) if lines else None
    if receipt and sum(line["total"] for line in receipt["lines"]) != amount:
        raise ValidationError(_("The order lines do not add up to the amount."))
    if auto_capture is None:
        rule = _payment_rule_of(location) if location else None
        auto_capture = bool(rule and rule.auto_capture)
    # A second request with the same token (a double submit) fails this key's unique constraint and gets the
    # first payment back; no read ahead of the insert, so the common case costs no extra query.
    key = payment_request_key(sales_unit_id=sales_unit.pk, request_token=request_token)
    now = timezone.now()
    try:
        with transaction.atomic():
            if checkin is not None:
                # Two tills asking one customer at once: the second waits on the check-in's row lock and then
                # sees the first. One query: the lock and the latest active payment's id and key.
                active = selectors.checkin_active_payments(checkin=checkin).order_by("-id")
                [(earlier_id, earlier_key)] = (
                    CheckIn.objects.select_for_update(of=("self",))
                    .filter(pk=checkin.pk)
                    .annotate(
                        earlier_id=Subquery(active.values("pk")[:1]),
                        earlier_key=Subquery(active.values("idempotency_key")[:1]),
                    )
                    .values_list("earlier_id", "earlier_key")
                )
                if earlier_id is not None and earlier_key == key:
                    return Payment.objects.get(pk=earlier_id)  # the same request again (a double submit)
                if earlier_id is not None and not allow_second_payment:
                    raise SecondPaymentRefused(Payment.objects.defer("customer").get(pk=earlier_id))
            payment = Payment.objects.create(
                merchant_id=sales_unit.merchant_id,
                sales_unit=sales_unit,
                location=location,
                checkin=checkin,
                reference=payment_reference_new(sales_unit=sales_unit),
                idempotency_key=key,
                currency=sales_unit.currency,
                amount=amount,
                description=description,
                receipt=receipt,
                customer=checkin.customer_token if checkin else phone_number,
                customer_label="check-in" if checkin else mask_phone(phone_number),
                auto_capture=auto_capture,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                created_at=now,
                next_check_at=now + LOST_TASK_AFTER,
            )
            log_action(
                merchant=sales_unit.merchant,
                actor=actor,
                action="payment.requested",
                target=payment,
                data={"amount": amount, "currency": payment.currency, "customer": payment.customer_label},
            )
    except IntegrityError:
        return Payment.objects.get(idempotency_key=key)
    from .tasks import send_payment_request

    send_payment_request.delay_on_commit(payment.pk)
    return payment


def _payment_rule_of(location: Location) -> PaymentRule | None:
    """The location's rule: no query when the caller loaded it with the location (select_related)."""
    try:
        return location.payment_rule
    except PaymentRule.DoesNotExist:
        return None


def payment_request_send(*, payment_id: int) -> Outcome:
    """Send a saved payment request to Vipps (the create call). Safe to run any number of times."""
    from merchant_portal.tenancy.vipps import vipps_client_for

    payment = Payment.objects.select_related("sales_unit").filter(pk=payment_id).first()
    if payment is None or payment.sending != Payment.Sending.QUEUED:
        return Outcome("settled")
    customer = (
        Customer(customer_token=payment.customer) if payment.checkin_id else Customer(phone_number=payment.customer)
    )
    wait = _modification_slot(payment)  # the create counts against the reference's limit too
    if wait:
        Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now() + timedelta(seconds=wait))
        return Outcome("retry", wait)
    try:
        request = CreatePaymentRequest(
            amount=Amount(payment.currency, payment.amount),
            reference=payment.reference,
            user_flow=UserFlow.PUSH_MESSAGE,
            customer=customer,
            customer_interaction=CustomerInteraction.CUSTOMER_PRESENT,
            payment_description=payment.description,
            receipt=_vipps_receipt(payment.receipt),
        )
        answer = vipps_client_for(payment.sales_unit).create_payment(request, idempotency_key=payment.idempotency_key)
        if answer.reference != payment.reference:
            # Not a proof that Vipps has our request: stay queued; the resend (same key) or a GET will tell.
            _check_failed(
                payment.pk,
                Payment.Anomaly.REFERENCE,
                f"The create answer named reference {_shown(answer.reference)}, not {payment.reference}.",
            )
            return Outcome("anomaly")
    except VippsError as exc:
        code, message = _explain(exc)
        if isinstance(exc, VippsResponseError):  # an answer we cannot read: Vipps may have the request
            _check_failed(payment.pk, Payment.Anomaly.UNREADABLE, str(exc))
            return Outcome("anomaly")
        if exc.retryable:
            retry_in = _retry_delay(exc, 1)
            Payment.objects.filter(pk=payment.pk, sending=Payment.Sending.QUEUED).update(
                error_code=code, error_message=message, next_check_at=timezone.now() + timedelta(seconds=retry_in)
            )
            return Outcome("retry", retry_in)
        if not (isinstance(exc, VippsAPIError) and exc.status == 409 and code == "4150"):
            _sending_failed(payment, error_code=code, error_message=message)
            return Outcome("failed")
        # 4150: our reference exists at Vipps, so an earlier attempt got through; GET tells the rest.
    except Exception as exc:  # WrongEnvironment, invalid stored data: nothing was sent, and retrying will not help
        _sending_failed(payment, error_message=str(exc))
        return Outcome("failed")
    now = timezone.now()
    Payment.objects.filter(pk=payment.pk, sending=Payment.Sending.QUEUED).update(
        sending=Payment.Sending.SENT,
        customer="",  # the token or phone number is not needed any more
        error_code="",
        error_message="",
        check_failures=0,
        next_check_at=now + timedelta(seconds=5),
    )
    return Outcome("sent")


def _sending_failed(payment: Payment, **errors) -> None:
    with transaction.atomic():
        if Payment.objects.filter(pk=payment.pk, sending=Payment.Sending.QUEUED).update(
            sending=Payment.Sending.FAILED, customer="", next_check_at=None, **errors
        ):
            _notify_vendors("payment.state_changed", Payment.objects.get(pk=payment.pk))


def _merge(payment: Payment, *, state: str, aggregate: Aggregate, psp_reference: str = "") -> bool:
    """Apply what Vipps said. Amounts only grow and a final state never changes, so answers that arrive late
    or out of order cannot move the payment backwards. Returns whether it became AUTHORIZED now."""
    became_authorized = payment.state == Payment.State.CREATED and state == Payment.State.AUTHORIZED
    if payment.state == Payment.State.CREATED and state in Payment.State.values:
        payment.state = state
    payment.authorized_amount = max(payment.authorized_amount, aggregate.authorized.value)
    payment.captured_amount = max(payment.captured_amount, aggregate.captured.value)
    payment.refunded_amount = max(payment.refunded_amount, aggregate.refunded.value)
    payment.cancelled_amount = max(payment.cancelled_amount, aggregate.cancelled.value)
    if psp_reference and not payment.psp_reference:
        payment.psp_reference = psp_reference
    if payment.sending == Payment.Sending.QUEUED:
        payment.sending = Payment.Sending.SENT  # Vipps has it, whatever became of our create call's answer
    return became_authorized


MERGED_FIELDS = [
    "state",
    "authorized_amount",
    "captured_amount",
    "refunded_amount",
    "cancelled_amount",
    "psp_reference",
    "sending",
    "checked_at",
    "next_check_at",
    "updated_at",
]


def _shown(value) -> str:
    """A value from Vipps' answer, short and on one line, for a stored message or a log line."""
    return repr(str(value)[:64])


def _answer_problem(payment: Payment, *, reference, amount: Amount | None, aggregate: Aggregate) -> tuple | None:
    """Why an answer from Vipps (create, GET payment, capture, refund, cancel) must not be merged into this
    payment: (anomaly code, detail in English), or None when it fits. Amounts are ours to check: an answer about
    another reference, in another currency, or with refunded ≤ captured ≤ authorized ≤ amount broken is wrong
    (ePayment getPayment/capturePayment: `aggregate`), whatever moved it."""
    if reference != payment.reference:
        return Payment.Anomaly.REFERENCE, f"The answer named reference {_shown(reference)}, not {payment.reference}."
    amounts = {
        "amount": amount,
        "authorized": aggregate.authorized,
        "captured": aggregate.captured,
        "refunded": aggregate.refunded,
        "cancelled": aggregate.cancelled,
    }
    foreign = sorted({a.currency for a in amounts.values() if a is not None} - {payment.currency})
    if foreign:
        return Payment.Anomaly.CURRENCY, f"The answer is in {', '.join(foreign)}; the payment is in {payment.currency}."
    values = {name: a.value for name, a in amounts.items() if a is not None}
    shown = ", ".join(f"{name} {value / 100:.2f}" for name, value in values.items())
    if amount is not None and amount.value != payment.amount:
        return (
            Payment.Anomaly.AMOUNTS,
            f"The answer's amount is not the {payment.amount / 100:.2f} asked for ({shown}).",
        )
    if not (
        values["refunded"] <= values["captured"] <= values["authorized"] <= payment.amount
        and values["cancelled"] <= payment.amount
    ):
        return (
            Payment.Anomaly.AMOUNTS,
            f"refunded ≤ captured ≤ authorized ≤ {payment.amount / 100:.2f} does not hold ({shown}).",
        )
    return None


def _check_backoff(failures: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, failures - 1)))


def _flag(payment: Payment, code: str, detail: str, now: datetime) -> None:
    """Mark the payment (locked by the caller) with an answer not applied; count it as a failed check and back
    the next check off, or stop checking on our own after QUARANTINE_AFTER failures in a row."""
    detail = detail[:2000]
    payment.check_failures += 1
    changed = (payment.anomaly_code, payment.anomaly) != (code, detail)
    payment.anomaly_code, payment.anomaly, payment.anomaly_at = code, detail, now
    payment.next_check_at = None if payment.quarantined else now + _check_backoff(payment.check_failures)
    payment.save(update_fields=[*ANOMALY_FIELDS, "check_failures", "next_check_at", "checked_at", "updated_at"])
    logger.warning(
        "payment %s (%s): Vipps' answer not applied (%s, failure %s): %s",
        payment.pk,
        payment.reference,
        code,
        payment.check_failures,
        detail,
    )
    # Logged once per change, and once more when the portal gives up, so a repeated answer is one timeline entry.
    gives_up = payment.check_failures == Payment.QUARANTINE_AFTER
    if changed or gives_up:
        log_action(
            merchant=payment.merchant,
            action="payment.quarantined" if gives_up else "payment.anomaly",
            target=payment,
            data={"reason": code, "detail": detail[:500], "failures": payment.check_failures},
        )


def _check_failed(payment_id: int, code: str, detail: str) -> None:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is not None:
            _flag(payment, code, detail, timezone.now())


def _clear_anomaly(payment: Payment) -> None:
    """An answer was applied: the flag goes, the timeline keeps the entry that raised it."""
    payment.check_failures = 0
    if payment.anomaly_code:
        log_action(
            merchant=payment.merchant,
            action="payment.anomaly_cleared",
            target=payment,
            data={"reason": payment.anomaly_code},
        )
        payment.anomaly_code, payment.anomaly, payment.anomaly_at = "", "", None


ANOMALY_FIELDS = ["anomaly_code", "anomaly", "anomaly_at"]


def payment_apply_remote(*, payment_id: int, remote: VippsPayment) -> Payment:
    """Write a GET payment answer (from a webhook's prepare step or a poll), once it is checked to be about
    this payment and possible; otherwise flag the payment and leave its money fields alone."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("sales_unit__merchant").get(pk=payment_id)
        problem = _answer_problem(payment, reference=remote.reference, amount=remote.amount, aggregate=remote.aggregate)
        if problem:
            payment.checked_at = timezone.now()
            _flag(payment, *problem, payment.checked_at)
            return payment
        _clear_anomaly(payment)
        before = _vendor_view(payment)
        became_authorized = _merge(
            payment, state=remote.state, aggregate=remote.aggregate, psp_reference=remote.psp_reference
        )
        now = timezone.now()
        payment.checked_at = now
        payment.next_check_at = _next_check(payment, now)
        payment.save(update_fields=[*MERGED_FIELDS, *ANOMALY_FIELDS, "check_failures"])
        if _vendor_view(payment) != before:
            _notify_vendors("payment.state_changed", payment)
        if became_authorized and payment.auto_capture:
            payment_operation_request(
                payment=payment,
                kind=PaymentOperation.Kind.CAPTURE,
                amount=payment.authorized_amount,
                request_token="auto-capture",
                actor=None,
            )
    return payment


def payment_refresh(*, payment: Payment) -> Payment:
    """Ask Vipps for the payment (GET) and apply the answer."""
    from merchant_portal.tenancy.vipps import vipps_client_for

    try:
        remote = vipps_client_for(payment.sales_unit).get_payment(payment.reference)
    except VippsResponseError as exc:
        _check_failed(payment.pk, Payment.Anomaly.UNREADABLE, str(exc))
        raise
    return payment_apply_remote(payment_id=payment.pk, remote=remote)


def payments_reconcile(*, limit: int = 100) -> int:
    """Poll the payments whose check is due (customer has not answered yet, or a create whose task was lost).
    Claimed by moving `next_check_at` forward first (compare-and-set), so overlapping runs poll each once."""
    from .tasks import send_payment_request

    now = timezone.now()
    due = list(
        Payment.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", "next_check_at", "sending")[:limit]
    )
    polled = 0
    for pk, due_at, sending in due:
        if not Payment.objects.filter(pk=pk, next_check_at=due_at).update(next_check_at=now + LOST_TASK_AFTER):
            continue
        if sending == Payment.Sending.QUEUED:
            try:
                send_payment_request.delay(pk)
            except Exception:  # the broker, not this payment: nothing to count; due again after LOST_TASK_AFTER
                logger.exception("re-sending payment %s: could not enqueue", pk)
            continue
        # One payment's trouble is recorded on it and backed off; the loop goes on to the next at once.
        try:
            payment_refresh(payment=Payment.objects.select_related("sales_unit").get(pk=pk))
            polled += 1
        except VippsResponseError:
            pass  # flagged by payment_refresh
        except VippsError as exc:
            if exc.retryable:  # Vipps is down or busy: not this payment's fault, nothing to count
                Payment.objects.filter(pk=pk).update(next_check_at=now + timedelta(seconds=_retry_delay(exc, 3)))
            else:
                _check_failed(pk, Payment.Anomaly.ERROR, _explain(exc)[1])
        except Exception as exc:
            logger.exception("polling payment %s failed", pk)
            _check_failed(pk, Payment.Anomaly.ERROR, _internal(exc))
    return polled


def _internal(exc: Exception) -> str:
    """An unexpected exception as a stored reason (the traceback goes to the log)."""
    return f"{type(exc).__name__}: {str(exc)[:300]}"


# Capture, refund, cancel --------------------------------------------------------------------------------------


def payment_operation_request(
    *, payment: Payment, kind: str, amount: int, request_token: str, actor
) -> PaymentOperation:
    """Save a capture, refund or cancel and queue it. Checked against the amounts under a row lock on the
    payment, counting operations still on their way; the same `request_token` gives back the same row."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("sales_unit__merchant").get(pk=payment.pk)
        existing = locked.operations.filter(request_token=request_token).first()
        if existing is not None:
            return existing
        amount = _operation_checked(locked, kind=kind, amount=amount)
        try:
            with transaction.atomic():
                operation = PaymentOperation.objects.create(
                    payment=locked,
                    kind=kind,
                    amount=amount,
                    request_token=request_token[:64],
                    idempotency_key=f"op-{uuid.uuid4().hex}",
                    requested_by=actor if getattr(actor, "is_authenticated", False) else None,
                    next_attempt_at=timezone.now() + LOST_TASK_AFTER,
                )
        except IntegrityError:  # the same request, saved by a concurrent click (SQLite has no row lock)
            return locked.operations.get(request_token=request_token[:64])
        log_action(
            merchant=locked.sales_unit.merchant,
            actor=actor,
            action=f"payment.{kind}_requested",
            target=locked,
            data={"amount": amount, "operation": operation.pk},
        )
    from .tasks import execute_payment_operation

    execute_payment_operation.delay_on_commit(operation.pk)
    return operation


def _operation_checked(payment: Payment, *, kind: str, amount: int) -> int:
    """The amount a capture, refund or cancel of `payment` would move (0 for a cancel), counting operations
    still on their way; ValidationError with the reason when the payment does not allow it."""
    pending = list(payment.operations.filter(status=PaymentOperation.Status.PENDING))
    pending_sum = {k: sum(o.amount for o in pending if o.kind == k) for k in PaymentOperation.Kind.values}
    Kind = PaymentOperation.Kind
    if kind == Kind.CAPTURE:
        if payment.state != Payment.State.AUTHORIZED:
            raise ValidationError(_("Only an authorized payment can be captured."))
        if any(o.kind == Kind.CANCEL for o in pending) or payment.cancelled_amount:
            raise ValidationError(_("The payment is cancelled."))
        left = payment.capturable - pending_sum[Kind.CAPTURE]
        if not 0 < amount <= left:
            raise ValidationError(_("You can capture at most %(amount)s.") % {"amount": _major(left, payment.currency)})
    elif kind == Kind.REFUND:
        left = payment.refundable - pending_sum[Kind.REFUND]
        if not 0 < amount <= left:
            raise ValidationError(
                _("You can refund at most %(amount)s (what is captured).") % {"amount": _major(left, payment.currency)}
            )
    elif kind == Kind.CANCEL:
        amount = 0
        if payment.state not in (Payment.State.CREATED, Payment.State.AUTHORIZED) or payment.cancelled_amount:
            raise ValidationError(_("This payment cannot be cancelled."))
        if payment.sending != Payment.Sending.SENT:
            raise ValidationError(_("The payment request has not reached Vipps yet."))
        if any(o.kind in (Kind.CAPTURE, Kind.CANCEL) for o in pending):
            raise ValidationError(_("Wait until the capture on its way is done."))
        if payment.state == Payment.State.AUTHORIZED and payment.capturable == 0:
            raise ValidationError(_("Nothing is left to cancel: refund the captured amount instead."))
    else:
        raise ValidationError(_("Unknown operation %(kind)s.") % {"kind": kind})
    return amount


def payment_operation_check(*, payment: Payment, kind: str, amount: int) -> int:
    """payment_operation_request's checks without saving anything (the confirmation page asks first)."""
    return _operation_checked(payment, kind=kind, amount=amount)


def payment_operation_left(*, payment: Payment, kind: str) -> int:
    """What is left to capture or refund, less what operations on their way already ask for."""
    pending = payment.operations.filter(status=PaymentOperation.Status.PENDING, kind=kind)
    asked = sum(o.amount for o in pending)
    total = payment.capturable if kind == PaymentOperation.Kind.CAPTURE else payment.refundable
    return max(0, total - asked)


def _major(value: int, currency: str) -> str:
    return format_money(value, currency)


def _modification_slot(payment: Payment) -> float:
    """Vipps allows 5 create, capture, cancel and refund calls per minute and reference (CONTRACTS §4.11).
    Counted here per clock minute in the shared cache: 0 when a call may go now (and counts it), otherwise the
    seconds until the next minute. A 429 from Vipps is still possible across a minute boundary, and its
    Retry-After is honoured."""
    now = time.time()
    key = f"epayment-modifications:{payment.sales_unit.msn}:{payment.reference}:{int(now // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, 1, timeout=120)
        count = 1
    if count > settings.PAYMENTS_MODIFICATIONS_PER_MINUTE:
        return 60 - now % 60 + 0.5
    return 0.0


def _postpone(operation: PaymentOperation, retry_in: float, code: str = "", message: str = "") -> Outcome:
    PaymentOperation.objects.filter(pk=operation.pk, status=PaymentOperation.Status.PENDING).update(
        next_attempt_at=timezone.now() + timedelta(seconds=retry_in), error_code=code, error_message=message
    )
    return Outcome("retry", retry_in)


def _complete(operation: PaymentOperation, *, answer: VippsPayment | ModificationResult) -> Outcome:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=operation.payment_id)
        problem = _answer_problem(payment, reference=answer.reference, amount=answer.amount, aggregate=answer.aggregate)
        if problem:
            # Vipps answered, but not in a way we can record: the retry asks Vipps' event log and GET first.
            _flag(payment, *problem, timezone.now())
            return _operation_failed(operation.pk, f"Vipps' answer was not applied: {problem[1]}")
        done = PaymentOperation.objects.filter(pk=operation.pk, status=PaymentOperation.Status.PENDING).update(
            status=PaymentOperation.Status.DONE,
            done_at=timezone.now(),
            error_code="",
            error_message="",
            next_attempt_at=None,
        )
        if not done:
            return Outcome("settled")
        before = _vendor_view(payment)
        _clear_anomaly(payment)
        _merge(payment, state=answer.state, aggregate=answer.aggregate)
        payment.next_check_at = _next_check(payment, timezone.now())
        payment.save(update_fields=[*MERGED_FIELDS, *ANOMALY_FIELDS, "check_failures"])
        if _vendor_view(payment) != before:
            _notify_vendors("payment.state_changed", payment)
    return Outcome("done")


def _applied_at_vipps(client, operation: PaymentOperation) -> bool:
    """Whether an earlier attempt of this operation already took effect: Vipps' event log (the authoritative
    history) lists every change with the Idempotency-Key it was made with."""
    events = client.get_payment_events(operation.payment.reference)
    return any(e.idempotency_key == operation.idempotency_key and e.success for e in events)


def payment_operation_execute(*, operation_id: int) -> Outcome:
    """Run one capture, refund or cancel until Vipps has answered it. Safe to call any number of times,
    concurrently, after a crash or a timeout: one worker at a time holds the operation (a lease taken by
    compare-and-set on the row), every attempt sends the row's Idempotency-Key, and the result is written by
    compare-and-set on the status."""
    now = timezone.now()
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    pending = PaymentOperation.objects.filter(pk=operation_id, status=PaymentOperation.Status.PENDING)
    if not pending.filter(free).update(leased_until=now + timedelta(seconds=OPERATION_LEASE)):
        return Outcome("busy" if pending.exists() else "settled")
    try:
        operation = PaymentOperation.objects.select_related("payment__sales_unit").get(pk=operation_id)
        return _execute(operation)
    except Exception as exc:  # a bug or an answer we cannot handle: this operation waits, nothing else does
        logger.exception("payment operation %s failed", operation_id)
        return _operation_failed(operation_id, _internal(exc))
    finally:
        PaymentOperation.objects.filter(pk=operation_id).update(leased_until=None)


def _operation_failed(operation_id: int, message: str) -> Outcome:
    """Count an unexpected failure on the operation and back it off; after QUARANTINE_AFTER in a row it is
    quarantined: still pending (what it asked for stays reserved), never picked up again until replayed.
    No Celery retry: the drain is the one way back, so each failure is counted once per back-off."""
    Status = PaymentOperation.Status
    row = (
        PaymentOperation.objects.filter(pk=operation_id, status=Status.PENDING)
        .select_related("payment__merchant")
        .first()
    )
    if row is None:
        return Outcome("settled")
    now = timezone.now()
    failures = row.failures + 1
    quarantine = failures >= PaymentOperation.QUARANTINE_AFTER
    PaymentOperation.objects.filter(pk=operation_id, status=Status.PENDING).update(
        failures=failures,
        error_code="",
        error_message=message[:2000],
        next_attempt_at=None if quarantine else now + _check_backoff(failures),
        quarantined_at=now if quarantine else None,
    )
    if quarantine:
        logger.error("payment operation %s quarantined after %s failures: %s", operation_id, failures, message)
        log_action(
            merchant=row.payment.merchant,
            action=f"payment.{row.kind}_quarantined",
            target=row.payment,
            data={"operation": row.pk, "failures": failures, "detail": message[:500]},
        )
        return Outcome("quarantined")
    return Outcome("postponed")


def _execute(operation: PaymentOperation) -> Outcome:
    from merchant_portal.tenancy.vipps import vipps_client_for

    payment = operation.payment
    Kind = PaymentOperation.Kind
    try:
        client = vipps_client_for(payment.sales_unit)
        if operation.attempts and _applied_at_vipps(client, operation):
            return _complete(operation, answer=client.get_payment(payment.reference))
        wait = _modification_slot(payment)
        if wait:
            from .vipps_errors import RATE_LIMITED, english

            return _postpone(operation, wait, "", english(RATE_LIMITED))
        # Counted before the call: from here on, the call may reach Vipps whatever happens to this worker.
        PaymentOperation.objects.filter(pk=operation.pk).update(attempts=F("attempts") + 1)
        operation.attempts += 1
        amount = Amount(payment.currency, operation.amount)
        key = operation.idempotency_key
        if operation.kind == Kind.CAPTURE:
            result = client.capture_payment(payment.reference, amount, idempotency_key=key)
        elif operation.kind == Kind.REFUND:
            result = client.refund_payment(payment.reference, amount, idempotency_key=key)
        else:
            result = client.cancel_payment(payment.reference, idempotency_key=key)
    except VippsResponseError as exc:
        # Vipps answered 2xx with something we cannot read: the change may have been made, so no "refused".
        return _operation_failed(operation.pk, f"Vipps' answer could not be read: {exc}")
    except VippsError as exc:
        code, message = _explain(exc)
        if exc.retryable:
            return _postpone(operation, _retry_delay(exc, operation.attempts), code, message)
        PaymentOperation.objects.filter(pk=operation.pk, status=PaymentOperation.Status.PENDING).update(
            status=PaymentOperation.Status.FAILED,
            error_code=code,
            error_message=message,
            done_at=timezone.now(),
            next_attempt_at=None,
        )
        try:
            payment_refresh(payment=payment)  # a refusal often means our copy is behind (e.g. a capture elsewhere)
        except Exception:
            logger.warning("could not refresh payment %s after a refused %s", payment.pk, operation.kind)
        return Outcome("failed")
    return _complete(operation, answer=result)


def payment_operations_drain(*, limit: int = 100) -> int:
    """Hand due operations to a task again: postponed ones (rate limit, Vipps errors) and ones whose task was
    lost. Claimed by compare-and-set on `next_attempt_at`."""
    from .tasks import execute_payment_operation

    now = timezone.now()
    due = list(
        PaymentOperation.objects.filter(status=PaymentOperation.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[:limit]
    )
    queued = 0
    for pk, due_at in due:
        if not PaymentOperation.objects.filter(pk=pk, next_attempt_at=due_at).update(
            next_attempt_at=now + LOST_TASK_AFTER
        ):
            continue
        try:
            execute_payment_operation.delay(pk)
            queued += 1
        except Exception:  # e.g. the broker refused it: the claim above brings it back after LOST_TASK_AFTER
            logger.exception("could not queue payment operation %s", pk)
    return queued


def payment_retry(*, payment: Payment, actor) -> int:
    """Staff's replay of what the portal gave up on for this payment (after the cause is fixed): its quarantined
    operations run again with their own Idempotency-Key, and checking with Vipps starts again. Returns how many
    operations were released."""
    from .tasks import execute_payment_operation, send_payment_request

    now = timezone.now()
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        quarantined = list(
            locked.operations.filter(status=PaymentOperation.Status.PENDING, quarantined_at__isnull=False).values_list(
                "pk", flat=True
            )
        )
        PaymentOperation.objects.filter(pk__in=quarantined).update(
            quarantined_at=None, failures=0, next_attempt_at=now + LOST_TASK_AFTER
        )
        recheck = locked.quarantined
        if recheck:
            # The flag stays until an answer is applied; only the counting starts again.
            Payment.objects.filter(pk=locked.pk).update(check_failures=0, next_check_at=now)
        if not (quarantined or recheck):
            return 0
        log_action(
            merchant=locked.merchant,
            actor=actor,
            action="payment.retried",
            target=locked,
            data={"operations": len(quarantined)},
        )
    for pk in quarantined:
        execute_payment_operation.delay_on_commit(pk)
    if recheck and locked.sending == Payment.Sending.QUEUED:
        send_payment_request.delay_on_commit(locked.pk)
    return len(quarantined)


# ePayment webhooks: a hint to ask Vipps --------------------------------------------------------------------------


def payment_event_fetch(event):
    """Prepare step of an ePayment webhook: find our payment and GET it from Vipps (outside the transaction)."""
    from merchant_portal.tenancy.vipps import vipps_client_for

    reference = str(json.loads(event.body).get("reference", ""))
    payment = Payment.objects.filter(sales_unit_id=event.sales_unit_id, reference=reference).first()
    if payment is None:
        raise Discard(f"No payment with reference {reference[:50]} was made by this portal.")
    try:
        return payment.pk, vipps_client_for(event.sales_unit).get_payment(reference)
    except VippsResponseError as exc:
        _check_failed(payment.pk, Payment.Anomaly.UNREADABLE, str(exc))
        raise
    except VippsError as exc:
        if exc.retryable:
            raise Park(f"Vipps did not answer GET payment: {exc}", retry_in=_retry_delay(exc, event.attempts + 1))
        raise


def payment_event_apply(event, prepared) -> None:
    payment_id, remote = prepared
    payment_apply_remote(payment_id=payment_id, remote=remote)


# Rules ---------------------------------------------------------------------------------------------------------


def payment_rule_save(*, location: Location, actor, **fields) -> PaymentRule:
    rule, _created = PaymentRule.objects.update_or_create(location=location, defaults=fields)
    log_action(
        merchant=location.sales_unit.merchant,
        actor=actor,
        action="payment_rule.updated",
        target=location,
        data={k: v for k, v in fields.items()},
    )
    return rule


def payment_rule_on_checkin(*, checkin: CheckIn, rule: PaymentRule | None = None) -> Payment | None:
    """A vending location asks every new check-in for its fixed amount (one request per check-in)."""
    rule = rule or PaymentRule.objects.filter(location_id=checkin.location_id, request_on_checkin=True).first()
    if rule is None or not rule.request_on_checkin or not rule.amount:
        return None
    try:
        return payment_request_create(
            sales_unit=checkin.sales_unit,
            checkin=checkin,
            amount=rule.amount,
            description=(rule.description or checkin.location.name).ljust(3, ".")[:100],
            actor=None,
            request_token=f"checkin-{checkin.pk}",
            auto_capture=rule.auto_capture,
        )
    except ValidationError as exc:  # e.g. a check-in filed after its token expired: nobody to ask
        logger.warning("no automatic payment request for check-in %s: %s", checkin.pk, exc)
        return None
