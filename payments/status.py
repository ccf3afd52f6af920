"""What a merchant calls a payment's state, derived from how the sending went, Vipps' `state` and the aggregate.

Vipps' state alone misleads: a captured, even a refunded, payment stays AUTHORIZED, and an authorized payment
that is cancelled stays AUTHORIZED with a `cancelledAmount` (ePayment `cancelPayment`). The derivation is an
ordered list of rules, the first that holds wins; `merchant_status()` reads it off a payment in Python and
`merchant_status_q()` / `merchant_status_expression()` in the database, so a filter and a CSV column agree
with the page (tests/payments/test_status.py holds them to each other on every combination).
"""

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from .models import Payment


class MerchantStatus(models.TextChoices):
    QUEUED = "queued", _("Being sent")
    SENDING_FAILED = "sending_failed", _("Refused by Vipps")
    WAITING = "waiting", _("Waiting for the customer")
    AUTHORIZED = "authorized", _("Authorized")
    PARTLY_CAPTURED = "partly_captured", _("Partly captured")
    CAPTURED = "captured", _("Captured")
    PARTLY_REFUNDED = "partly_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    DECLINED = "declined", _("Declined")


S, State, Sending = MerchantStatus, Payment.State, Payment.Sending

# (status, condition), first match wins. Amounts come before Vipps' state: money that moved is what matters.
# A partial capture whose rest was cancelled is "Captured": nothing more can be captured.
RULES: list[tuple[MerchantStatus, Q]] = [
    (S.SENDING_FAILED, Q(sending=Sending.FAILED)),
    (S.REFUNDED, Q(refunded_amount__gt=0, refunded_amount__gte=F("captured_amount"))),
    (S.PARTLY_REFUNDED, Q(refunded_amount__gt=0)),
    (
        S.PARTLY_CAPTURED,
        Q(captured_amount__gt=0, captured_amount__lt=F("authorized_amount"))
        & Q(cancelled_amount=0, state=State.AUTHORIZED),
    ),
    (S.CAPTURED, Q(captured_amount__gt=0)),
    (S.CANCELLED, Q(cancelled_amount__gt=0) | Q(state=State.TERMINATED)),
    (S.AUTHORIZED, Q(state=State.AUTHORIZED)),
    (S.DECLINED, Q(state=State.ABORTED)),
    (S.EXPIRED, Q(state=State.EXPIRED)),
    # What is left is CREATED: at Vipps and waiting for the customer, or still on its way there.
    (S.QUEUED, Q(sending=Sending.QUEUED)),
    (S.WAITING, Q()),
]

# The customer still has it in the app, or has paid: a check-in with such a payment is served, and a second
# request to it needs an explicit confirmation.
ACTIVE_OR_PAID = frozenset(
    {S.QUEUED, S.WAITING, S.AUTHORIZED, S.PARTLY_CAPTURED, S.CAPTURED, S.PARTLY_REFUNDED, S.REFUNDED}
)
IN_FLIGHT = frozenset({S.QUEUED, S.WAITING})


def merchant_status(payment: Payment) -> MerchantStatus:
    p = payment
    if p.sending == Sending.FAILED:
        return S.SENDING_FAILED
    if p.refunded_amount > 0:
        return S.REFUNDED if p.refunded_amount >= p.captured_amount else S.PARTLY_REFUNDED
    if p.captured_amount > 0:
        partly = p.captured_amount < p.authorized_amount and not p.cancelled_amount and p.state == State.AUTHORIZED
        return S.PARTLY_CAPTURED if partly else S.CAPTURED
    if p.cancelled_amount > 0 or p.state == State.TERMINATED:
        return S.CANCELLED
    by_state = {State.AUTHORIZED: S.AUTHORIZED, State.ABORTED: S.DECLINED, State.EXPIRED: S.EXPIRED}
    if p.state in by_state:
        return by_state[p.state]
    return S.QUEUED if p.sending == Sending.QUEUED else S.WAITING


def merchant_status_q(status: str) -> Q:
    """The payments whose merchant status is `status` (a MerchantStatus value): its rule and none before it."""
    wanted = MerchantStatus(status)
    earlier = None
    for candidate, condition in RULES:
        if candidate == wanted:
            return condition & ~earlier if earlier is not None else condition
        earlier = condition if earlier is None else earlier | condition
    raise AssertionError(status)  # every status has a rule


def merchant_status_in_q(statuses) -> Q:
    result = None
    for status in statuses:
        result = merchant_status_q(status) if result is None else result | merchant_status_q(status)
    return result if result is not None else Q(pk__in=[])


def merchant_status_expression() -> Case:
    """The status as a column (for an annotation, a CSV export)."""
    return Case(
        *(When(condition, then=Value(status.value)) for status, condition in RULES[:-1]),
        default=Value(RULES[-1][0].value),
        output_field=models.CharField(),
    )
