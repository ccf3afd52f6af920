"""A second payment request to a check-in that already has a payment in flight or paid needs an explicit
confirmation naming the earlier payment: on the page (forged posts included) and in the REST API."""

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merchant_portal.api.models import ApiKey
from merchant_portal.api.services import api_key_create
from merchant_portal.tenancy.roles import Role
from payments import services
from payments.models import Payment
from payments.status import ACTIVE_OR_PAID, MerchantStatus
from tests.conftest import client_for
from tests.factories import CheckInFactory, LocationFactory
from tests.payments.test_console_served import pay

URL = reverse("payment_create", args=["acme"])


def form(checkin, **extra):
    return {"checkin": checkin.pk, "amount": "49.00", "description": "Coffee", "request_token": "t-1", **extra}


@pytest.fixture
def checkin(acme_unit):
    return CheckInFactory(location=LocationFactory(sales_unit=acme_unit))


@pytest.fixture
def cashier(make_member):
    return make_member(Role.CASHIER)


@pytest.mark.django_db
@pytest.mark.parametrize("status", sorted(ACTIVE_OR_PAID), ids=str)
def test_the_form_names_the_earlier_payment_and_refuses_without_the_confirmation(checkin, cashier, status):
    earlier = pay(checkin, status)
    client = client_for(cashier)
    page = client.get(URL, {"checkin": checkin.pk}).content.decode()
    assert 'data-testid="earlier-payment"' in page and earlier.reference in page
    response = client.post(URL, form(checkin))
    assert response.status_code == 200
    error = response.context["form"].errors["allow_second_payment"][0]
    assert earlier.reference in error and "100.00" in error and str(earlier.merchant_status.label) in error
    assert Payment.objects.count() == 1

    response = client.post(URL, form(checkin, allow_second_payment="on"))
    assert response.status_code == 302
    assert Payment.objects.filter(checkin=checkin).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("status", sorted(set(MerchantStatus) - ACTIVE_OR_PAID), ids=str)
def test_after_a_declined_expired_cancelled_or_refused_request_no_confirmation_is_needed(checkin, cashier, status):
    pay(checkin, status)
    client = client_for(cashier)
    assert 'data-testid="earlier-payment"' not in client.get(URL, {"checkin": checkin.pk}).content.decode()
    assert client.post(URL, form(checkin)).status_code == 302
    assert Payment.objects.filter(checkin=checkin).count() == 2


@pytest.mark.django_db
def test_a_double_submit_is_the_same_payment_not_a_second_one(checkin, cashier):
    client = client_for(cashier)
    assert client.post(URL, form(checkin)).status_code == 302
    assert client.post(URL, form(checkin)).status_code == 302  # the same form again: no confirmation asked
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_the_service_refuses_too_when_another_till_asked_first(checkin, alice):
    first = services.payment_request_create(
        sales_unit=checkin.sales_unit, checkin=checkin, amount=100, description="One", actor=alice, request_token="a"
    )
    with pytest.raises(services.SecondPaymentRefused) as refused:
        services.payment_request_create(
            sales_unit=checkin.sales_unit,
            checkin=checkin,
            amount=100,
            description="Two",
            actor=alice,
            request_token="b",
        )
    assert refused.value.earlier == first and first.reference in refused.value.messages[0]
    assert Payment.objects.count() == 1


FORGED = st.fixed_dictionaries(
    {},
    optional={
        "allow_second_payment": st.text(max_size=8).filter(lambda v: v != "on"),
        "amount": st.text(max_size=12),
        "description": st.text(max_size=120),
        "request_token": st.text(min_size=1, max_size=70),
        "confirm": st.text(max_size=5),
    },
)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(extra=FORGED)
def test_forged_posts_never_charge_twice_nor_fail(checkin, cashier, extra):
    Payment.objects.all().delete()
    pay(checkin, MerchantStatus.CAPTURED)
    data = {**form(checkin), **extra}
    response = client_for(cashier).post(URL, data)
    assert response.status_code == 200  # a form error, never a 5xx, never a redirect to a new payment
    assert Payment.objects.count() == 1


# REST API ----------------------------------------------------------------------------------------------------


@pytest.fixture
def api(alice, acme):
    _, secret = api_key_create(merchant=acme, name="Till", access=ApiKey.Access.READ_WRITE, actor=alice)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def api_post(client, api, body, key):
    return client.post(
        "/api/v1/payments/", json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **api
    )


@pytest.mark.django_db
def test_the_api_answers_409_naming_the_earlier_payment_unless_allowed(client, api, checkin):
    earlier = pay(checkin, MerchantStatus.WAITING)
    body = {"checkin": checkin.pk, "amount": 4900, "description": "Coffee"}
    refused = api_post(client, api, body, "k1")
    assert refused.status_code == 409 and refused["Content-Type"].startswith("application/problem+json")
    assert earlier.reference in refused.json()["detail"]
    assert Payment.objects.count() == 1
    assert api_post(client, api, {**body, "allow_second_payment": "yes"}, "k2").status_code == 400  # strict flag
    allowed = api_post(client, api, {**body, "allow_second_payment": True}, "k3")
    assert allowed.status_code == 201 and allowed.json()["status"] == "queued"
    assert Payment.objects.count() == 2
