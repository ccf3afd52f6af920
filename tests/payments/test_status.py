"""The merchant-facing status: a table of what a merchant reads for each combination, and the database
filter and column held to the Python derivation on every combination of sending, state and amounts."""

import itertools

import pytest

from payments.models import Payment
from payments.status import MerchantStatus, merchant_status, merchant_status_expression, merchant_status_q
from tests.factories import PaymentFactory

S = MerchantStatus
AMOUNT = 10_000


def payment(sending="sent", state="AUTHORIZED", authorized=0, captured=0, refunded=0, cancelled=0) -> Payment:
    return Payment(
        sending=sending,
        state=state,
        amount=AMOUNT,
        authorized_amount=authorized,
        captured_amount=captured,
        refunded_amount=refunded,
        cancelled_amount=cancelled,
    )


TABLE = [
    # (sending, state, authorized, captured, refunded, cancelled) -> status
    (("queued", "CREATED", 0, 0, 0, 0), S.QUEUED),
    (("failed", "CREATED", 0, 0, 0, 0), S.SENDING_FAILED),
    (("sent", "CREATED", 0, 0, 0, 0), S.WAITING),
    (("sent", "AUTHORIZED", AMOUNT, 0, 0, 0), S.AUTHORIZED),
    (("sent", "AUTHORIZED", AMOUNT, 4_000, 0, 0), S.PARTLY_CAPTURED),
    (("sent", "AUTHORIZED", AMOUNT, AMOUNT, 0, 0), S.CAPTURED),
    # Part captured, the rest cancelled: nothing more to capture.
    (("sent", "AUTHORIZED", AMOUNT, 4_000, 0, 6_000), S.CAPTURED),
    (("sent", "AUTHORIZED", AMOUNT, AMOUNT, 2_500, 0), S.PARTLY_REFUNDED),
    (("sent", "AUTHORIZED", AMOUNT, 4_000, 1_000, 0), S.PARTLY_REFUNDED),
    (("sent", "AUTHORIZED", AMOUNT, AMOUNT, AMOUNT, 0), S.REFUNDED),
    (("sent", "AUTHORIZED", AMOUNT, 4_000, 4_000, 6_000), S.REFUNDED),
    # Vipps keeps an authorized payment AUTHORIZED when it is cancelled, with cancelledAmount.
    (("sent", "AUTHORIZED", AMOUNT, 0, 0, AMOUNT), S.CANCELLED),
    (("sent", "TERMINATED", 0, 0, 0, AMOUNT), S.CANCELLED),
    (("sent", "TERMINATED", 0, 0, 0, 0), S.CANCELLED),
    (("sent", "ABORTED", 0, 0, 0, 0), S.DECLINED),
    (("sent", "EXPIRED", 0, 0, 0, 0), S.EXPIRED),
    # Vipps answered before our send was marked sent (a timed-out create found by the poll): Vipps' word wins.
    (("queued", "AUTHORIZED", AMOUNT, 0, 0, 0), S.AUTHORIZED),
    (("queued", "ABORTED", 0, 0, 0, 0), S.DECLINED),
    # A refused request never waits for the customer, whatever the state says.
    (("failed", "EXPIRED", 0, 0, 0, 0), S.SENDING_FAILED),
]


@pytest.mark.parametrize(("fields", "expected"), TABLE, ids=[f"{'-'.join(map(str, f))}" for f, _ in TABLE])
def test_table(fields, expected):
    names = ("sending", "state", "authorized", "captured", "refunded", "cancelled")
    assert merchant_status(payment(**dict(zip(names, fields, strict=True)))) == expected


def test_every_status_has_a_row_and_a_label_in_the_table():
    assert {expected for _, expected in TABLE} == set(S)
    assert all(str(status.label) for status in S)


def _combinations():
    """Every combination that keeps Vipps' invariant refunded <= captured <= authorized <= amount, cancelled
    within the amount: 3 sendings x 5 states x the amount shapes."""
    levels = (0, 4_000, AMOUNT)
    for sending, state in itertools.product(Payment.Sending.values, Payment.State.values):
        for authorized, captured, refunded, cancelled in itertools.product(levels, levels, levels, (0, 6_000)):
            if refunded <= captured <= authorized and captured + cancelled <= AMOUNT:
                yield sending, state, authorized, captured, refunded, cancelled


@pytest.mark.django_db
def test_database_filter_and_column_agree_with_python_on_every_combination(acme_unit):
    rows = {}
    for sending, state, authorized, captured, refunded, cancelled in _combinations():
        p = PaymentFactory(
            sales_unit=acme_unit,
            sending=sending,
            state=state,
            authorized_amount=authorized,
            captured_amount=captured,
            refunded_amount=refunded,
            cancelled_amount=cancelled,
        )
        rows[p.pk] = merchant_status(p)
    assert len(rows) == 255  # 15 sending x state pairs x 17 amount shapes
    payments = Payment.objects.filter(pk__in=rows)
    for status in S:
        found = set(payments.filter(merchant_status_q(status)).values_list("pk", flat=True))
        assert found == {pk for pk, s in rows.items() if s == status}, status
    column = dict(payments.annotate(s=merchant_status_expression()).values_list("pk", "s"))
    assert column == {pk: s.value for pk, s in rows.items()}
