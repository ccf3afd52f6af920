"""Capture, refund and cancel move money only after a confirmation page that names the amount, the customer
(masked) and the payment; a post without the confirmation (forged or not) only shows that page again."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.models import PaymentOperation
from tests.conftest import client_for
from tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def url(name, payment) -> str:
    return reverse(name, args=["acme", payment.pk])


@pytest.fixture
def authorized(acme_unit):
    return PaymentFactory(sales_unit=acme_unit, state="AUTHORIZED", amount=10_000, authorized_amount=10_000)


@pytest.fixture
def captured(acme_unit):
    return PaymentFactory(
        sales_unit=acme_unit, state="AUTHORIZED", amount=10_000, authorized_amount=10_000, captured_amount=10_000
    )


def test_a_capture_shows_the_confirmation_first_and_moves_money_only_on_yes(authorized, alice):
    client = client_for(alice)
    page = client.post(url("payment_capture", authorized), {"amount": "60,00", "request_token": "c"})
    assert page.status_code == 200 and not PaymentOperation.objects.exists()
    html = page.content.decode()
    assert 'data-kind="capture"' in html and authorized.reference in html and "+47 9•• •• 567" in html
    assert 'data-testid="confirm-amount"><strong>NOK\xa060.00</strong>' in html
    assert 'name="amount" value="60.00"' in html and 'name="confirm" value="yes"' in html  # never localised

    done = client.post(url("payment_capture", authorized), {"amount": "60.00", "request_token": "c", "confirm": "yes"})
    assert done.status_code == 302
    [op] = PaymentOperation.objects.all()
    assert (op.kind, op.amount) == ("capture", 6_000)


def test_a_confirmation_is_refused_up_front_when_the_amount_cannot_be_captured(authorized, alice):
    response = client_for(alice).post(url("payment_capture", authorized), {"amount": "100.01", "request_token": "c"})
    assert response.status_code == 302 and not PaymentOperation.objects.exists()
    assert "at most" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_the_refund_box_starts_empty_with_an_explicit_everything_choice(captured, alice):
    html = client_for(alice).get(url("payment_detail", captured)).content.decode()
    form = html.split('data-testid="refund-form"')[1].split("</form>")[0]
    assert 'name="amount"' in form and 'name="amount" value=' not in form
    assert 'value="all"' in form and "Refund everything: NOK\xa0100.00" in form and "checked" not in form


@pytest.mark.parametrize(
    ("data", "amount"),
    [({"scope": "all"}, 10_000), ({"scope": "part", "amount": "35"}, 3_500), ({"amount": "35"}, 3_500)],
)
def test_a_refund_names_its_amount_before_it_is_sent(captured, alice, data, amount):
    client = client_for(alice)
    page = client.post(url("payment_refund", captured), {**data, "request_token": "r"})
    assert page.status_code == 200 and not PaymentOperation.objects.exists()
    assert page.context["amount"] == amount and page.context["kind"] == "refund"
    confirmed = {"amount": page.context["amount_field"], "scope": "part", "request_token": "r", "confirm": "yes"}
    assert client.post(url("payment_refund", captured), confirmed).status_code == 302
    assert PaymentOperation.objects.get().amount == amount


@pytest.mark.parametrize("data", [{}, {"scope": "all", "amount": "10"}, {"scope": "part"}, {"scope": "both"}])
def test_a_refund_without_a_clear_choice_is_refused_with_the_reason(captured, alice, data):
    response = client_for(alice).post(url("payment_refund", captured), {**data, "request_token": "r", "confirm": "yes"})
    assert response.status_code == 302 and not PaymentOperation.objects.exists()
    assert list(get_messages(response.wsgi_request))


def test_a_cancel_says_what_it_releases(acme_unit, alice):
    payment = PaymentFactory(
        sales_unit=acme_unit, state="AUTHORIZED", amount=10_000, authorized_amount=10_000, captured_amount=4_000
    )
    client = client_for(alice)
    page = client.post(url("payment_cancel", payment), {"request_token": "x"})
    assert page.status_code == 200 and page.context["amount"] == 6_000 and not PaymentOperation.objects.exists()
    assert client.post(url("payment_cancel", payment), {"request_token": "x", "confirm": "yes"}).status_code == 302
    assert PaymentOperation.objects.get().kind == "cancel"


OPERATIONS = st.sampled_from(["payment_capture", "payment_refund", "payment_cancel"])
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "amount": st.one_of(st.text(max_size=12), st.sampled_from(["1", "100", "100.00", "0,01", "-5"])),
        "scope": st.one_of(st.text(max_size=6), st.sampled_from(["all", "part"])),
        "request_token": st.text(min_size=1, max_size=80),
        "confirm": st.text(max_size=6).filter(lambda v: v != "yes"),
    },
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(operation=OPERATIONS, data=FIELDS)
def test_without_the_confirmation_nothing_moves_and_nothing_fails(captured, alice, operation, data):
    response = client_for(alice).post(url(operation, captured), data)
    assert response.status_code in (200, 302)
    assert not PaymentOperation.objects.exists()
