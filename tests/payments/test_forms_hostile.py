"""Hostile input to the payment forms (request, capture/refund amount, rules, filters) through the real views."""

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from merchant_portal.tenancy.roles import Role
from payments.models import Payment, PaymentOperation, PaymentRule
from qrcodes.models import Location
from tests.conftest import client_for
from tests.factories import PaymentFactory
from tests.hostile_forms import (
    FORM_SETTINGS,
    assert_door_held,
    assert_storable,
    counts,
    data_with_hostile_fields,
    hostile_text,
)

DECIMALS = ["NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e3", "1e30", "1E-2", "650000.01", "0", "-5", "1.234"]
hostile_number = st.one_of(st.sampled_from(DECIMALS), hostile_text)
line_part = st.one_of(st.sampled_from(DECIMALS + ["Coffee", "2", "35.00", "25", "", "101"]), hostile_text)
order_lines = st.lists(st.lists(line_part, min_size=1, max_size=5).map("; ".join), max_size=4).map("\n".join)


@pytest.fixture
def manager(make_member):
    return make_member(Role.MANAGER)


def url(name: str, merchant, **kwargs) -> str:
    return reverse(name, kwargs={"merchant_slug": merchant.slug, **kwargs})


@FORM_SETTINGS
@given(
    data=data_with_hostile_fields(
        {
            "phone_number": "4791234567",
            "amount": "70.00",
            "description": "Coffee",
            "order_lines": "",
            "request_token": "t",
        },
        ["phone_number", "amount", "description", "request_token"],
    ),
    lines=st.one_of(st.just(""), order_lines),
    amount=st.one_of(st.just("70.00"), hostile_number),
)
def test_payment_request_never_fails(acme, acme_unit, manager, data, lines, amount):
    data = {**data, "sales_unit": acme_unit.pk, "order_lines": lines, "amount": amount}
    before = counts(Payment)
    response = client_for(manager).post(url("payment_create", acme), data)
    assert_door_held(response, before, counts(Payment))
    for payment in Payment.objects.all():
        assert_storable(payment, identifiers=("description", "reference"))
        for line in (payment.receipt or {}).get("lines", []):
            assert "\x00" not in line["name"] and len(line["name"]) <= 100


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "1e3", "1e30", "650000.01", "٣"])
def test_odd_numbers_are_form_errors(acme, acme_unit, manager, value):
    data = {"sales_unit": acme_unit.pk, "phone_number": "4791234567", "amount": "70.00", "description": "Coffee"}
    data["request_token"] = "t"
    client = client_for(manager)
    response = client.post(url("payment_create", acme), {**data, "amount": value})
    assert response.status_code == 200 and response.context["form"].errors["amount"]
    response = client.post(url("payment_create", acme), {**data, "order_lines": f"Coffee; 2; {value}; 25"})
    assert response.status_code == 200 and response.context["form"].errors["order_lines"]
    response = client.post(url("payment_create", acme), {**data, "order_lines": f"Coffee; {value}; 35.00; 25"})
    assert response.status_code == 200 and response.context["form"].errors  # 650000.01 is a quantity, not 70.00
    assert not Payment.objects.exists()


def test_plain_order_lines_with_a_decimal_comma_are_read(acme, acme_unit, manager):
    data = {
        "sales_unit": acme_unit.pk,
        "phone_number": "4791234567",
        "amount": "70,00",
        "description": "Coffee",
        "request_token": "t",
    }
    response = client_for(manager).post(url("payment_create", acme), {**data, "order_lines": "Coffee; 2; 35,00; 25"})
    assert response.status_code == 302, response.context["form"].errors
    [line] = Payment.objects.get().receipt["lines"]
    assert (line["quantity"], line["unit_price"], line["total"]) == ("2", 3500, 7000)


@FORM_SETTINGS
@given(amount=hostile_number, kind=st.sampled_from(["payment_capture", "payment_refund", "payment_cancel"]))
def test_capture_refund_and_cancel_amounts_never_fail(acme, acme_unit, manager, amount, kind):
    payment = PaymentFactory(sales_unit=acme_unit, state=Payment.State.AUTHORIZED, authorized_amount=10_000)
    before = counts(PaymentOperation)
    data = {"amount": amount, "request_token": "t", "scope": "part", "confirm": "yes"}  # past the confirmation
    response = client_for(manager).post(url(kind, acme, pk=payment.pk), data)
    assert response.status_code == 302
    if before != counts(PaymentOperation):
        assert PaymentOperation.objects.filter(amount__lte=10_000).exists()


@FORM_SETTINGS
@given(
    data=data_with_hostile_fields(
        {"request_on_checkin": "on", "amount_major": "25.00", "description": "Parking", "auto_capture": ""},
        ["amount_major", "description", "request_on_checkin"],
    )
)
def test_payment_rules_never_fail(acme, acme_unit, manager, data):
    location = Location.objects.create(sales_unit=acme_unit, name="Automat")
    before = counts(PaymentRule)
    response = client_for(manager).post(url("payment_rule_update", acme, pk=location.pk), data)
    assert_door_held(response, before, counts(PaymentRule))
    for rule in PaymentRule.objects.all():
        assert_storable(rule, identifiers=("description",))


@FORM_SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(["state", "location", "date_from", "date_to", "amount_min", "amount_max", "reference"]),
        st.one_of(hostile_text, st.sampled_from(["9999-12-31", "0001-01-01", "1e999999", "2026-02-30"])),
    )
)
def test_payment_list_and_export_filters_never_fail(acme, alice, params):
    PaymentFactory(sales_unit__merchant=acme)
    client = client_for(alice)
    assert client.get(url("payment_list", acme), params).status_code == 200
    response = client.get(url("payment_export", acme), params)
    assert response.status_code == 200
    b"".join(response.streaming_content)
