"""The check-in console: a served customer (a payment in flight or paid) leaves "Customers waiting" and shows
its outcome; a declined, expired, cancelled or refused request leaves them waiting, to be asked again."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from payments import selectors
from payments.status import ACTIVE_OR_PAID, MerchantStatus
from tests.conftest import client_for
from tests.factories import CheckInFactory, LocationFactory, PaymentFactory

S = MerchantStatus
# One payment of each merchant status: (sending, state, authorized, captured, refunded, cancelled)
SHAPES = {
    S.QUEUED: ("queued", "CREATED", 0, 0, 0, 0),
    S.SENDING_FAILED: ("failed", "CREATED", 0, 0, 0, 0),
    S.WAITING: ("sent", "CREATED", 0, 0, 0, 0),
    S.AUTHORIZED: ("sent", "AUTHORIZED", 10_000, 0, 0, 0),
    S.PARTLY_CAPTURED: ("sent", "AUTHORIZED", 10_000, 4_000, 0, 0),
    S.CAPTURED: ("sent", "AUTHORIZED", 10_000, 10_000, 0, 0),
    S.PARTLY_REFUNDED: ("sent", "AUTHORIZED", 10_000, 10_000, 1_000, 0),
    S.REFUNDED: ("sent", "AUTHORIZED", 10_000, 10_000, 10_000, 0),
    S.CANCELLED: ("sent", "TERMINATED", 0, 0, 0, 10_000),
    S.EXPIRED: ("sent", "EXPIRED", 0, 0, 0, 0),
    S.DECLINED: ("sent", "ABORTED", 0, 0, 0, 0),
}
OUTCOME = {
    S.QUEUED: "sent",
    S.WAITING: "sent",
    S.AUTHORIZED: "paid",
    S.PARTLY_CAPTURED: "paid",
    S.CAPTURED: "paid",
    S.PARTLY_REFUNDED: "refunded",
    S.REFUNDED: "refunded",
    S.SENDING_FAILED: "failed",
    S.CANCELLED: "cancelled",
    S.EXPIRED: "expired",
    S.DECLINED: "declined",
}


def pay(checkin, status: MerchantStatus):
    sending, state, authorized, captured, refunded, cancelled = SHAPES[status]
    return PaymentFactory(
        checkin=checkin,
        sending=sending,
        state=state,
        authorized_amount=authorized,
        captured_amount=captured,
        refunded_amount=refunded,
        cancelled_amount=cancelled,
    )


def test_shapes_cover_every_status():
    from payments.models import Payment
    from payments.status import merchant_status

    assert set(SHAPES) == set(S)
    for status, (sending, state, a, c, r, x) in SHAPES.items():
        shape = Payment(sending=sending, state=state, amount=10_000, authorized_amount=a, captured_amount=c)
        shape.refunded_amount, shape.cancelled_amount = r, x
        assert merchant_status(shape) == status


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(S), ids=[s.value for s in S])
def test_served_means_a_payment_in_flight_or_paid(acme_unit, status):
    loc = LocationFactory(sales_unit=acme_unit)
    checkin = CheckInFactory(location=loc)
    pay(checkin, status)
    waiting = list(selectors.checkins_waiting_at(location=loc))
    recent = selectors.checkins_recent_at(location=loc)
    served = status in ACTIVE_OR_PAID
    assert (waiting == []) is served and ([c.pk for c in recent] == [checkin.pk]) is served
    [shown] = recent or waiting
    assert selectors.checkin_outcome(checkin=shown).code == OUTCOME[status]
    [counted] = selectors.locations_with_checkin_counts(merchant=acme_unit.merchant)
    assert counted.waiting == (0 if served else 1)


@pytest.mark.django_db
def test_the_latest_payment_decides_a_declined_then_paid_customer_is_served(acme_unit):
    loc = LocationFactory(sales_unit=acme_unit)
    checkin = CheckInFactory(location=loc)
    pay(checkin, S.DECLINED)
    assert list(selectors.checkins_waiting_at(location=loc)) == [checkin]
    pay(checkin, S.CAPTURED)
    assert list(selectors.checkins_waiting_at(location=loc)) == []
    assert selectors.checkin_outcome(checkin=selectors.checkins_recent_at(location=loc)[0]).code == "paid"


@pytest.mark.django_db
def test_the_console_moves_a_paid_customer_out_of_waiting_and_says_paid(acme_unit, alice):
    loc = LocationFactory(sales_unit=acme_unit)
    paid, declined, fresh = (CheckInFactory(location=loc) for _ in range(3))
    expired = CheckInFactory(location=loc, initiated_at=timezone.now() - timedelta(minutes=20))
    payment = pay(paid, S.CAPTURED)
    pay(declined, S.DECLINED)
    rows = reverse("checkin_console_rows", args=["acme", loc.pk])
    html = client_for(alice).get(rows).content.decode()
    waiting, earlier = html.split('data-testid="recent"')
    assert f'data-checkin="{paid.pk}"' not in waiting and f'data-checkin="{paid.pk}"' in earlier
    assert f'data-checkin="{declined.pk}"' in waiting and f'data-checkin="{fresh.pk}"' in waiting
    assert 'data-outcome="declined"' in waiting and "Ask again" in waiting
    assert waiting.count("Request payment") == 1  # only the fresh check-in: none was asked yet
    assert 'data-outcome="paid"' in earlier and reverse("payment_detail", args=["acme", payment.pk]) in earlier
    assert f'data-checkin="{expired.pk}"' in earlier and 'data-outcome="expired"' in earlier
