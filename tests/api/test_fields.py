"""Strict types on every API write serializer: the wrong JSON type is a 400 naming the field, never coerced."""

import inspect

import pytest
from django.urls import reverse
from rest_framework import serializers

from merchant_portal.api.fields import Strict, StrictCharField
from merchant_portal.api.resources import checkins, locations, payments, qr_codes
from payments.models import Payment, PaymentOperation
from qrcodes.models import Location, QrCode, QrSheet
from tests.api.factories import checkin_at, payment_at

# Serializers only ever used to answer.
RESPONSE_ONLY = {payments.EventSerializer}


def api_serializers():
    for module in (checkins, locations, payments, qr_codes):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            ours = cls.__module__ == module.__name__ and cls not in RESPONSE_ONLY
            if ours and issubclass(cls, serializers.BaseSerializer):
                yield cls


@pytest.mark.parametrize("serializer_class", list(api_serializers()), ids=lambda cls: cls.__name__)
def test_every_writable_field_of_every_api_serializer_is_strict(serializer_class):
    writable = {name: field for name, field in serializer_class().fields.items() if not field.read_only}
    lenient = [name for name, field in writable.items() if not isinstance(field, Strict)]
    assert not lenient, f"{serializer_class.__name__}: use the fields of merchant_portal/api/fields.py"


def error_of(response, field):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return " ".join(response.json()["errors"][field])


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": 5}, "name", "Must be a string, not a number."),
        ({"name": ["Shop"]}, "name", "not an array"),
        ({"name": "Shop\nTill"}, "name", "control characters"),
        ({"name": "Sh\x85op"}, "name", "control characters"),
        ({"name": "x" * 121}, "name", "no more than 120"),
        ({"address": "x" * 201}, "address", "no more than 200"),
        ({"sales_unit": 1.5}, "sales_unit", "not a decimal number"),
        ({"sales_unit": "1"}, "sales_unit", "not a string"),
        ({"sales_unit": True}, "sales_unit", "not true or false"),
        ({"sales_unit": 2**64}, "sales_unit", "does not exist"),
    ],
)
def test_location_fields_are_strict(api, acme_unit, body, field, message):
    response = api.post(
        reverse("api:location-list"), {"sales_unit": acme_unit.pk, "name": "Shop", **body}, format="json"
    )
    assert message in error_of(response, field)
    assert not Location.objects.exists()


def test_location_1_5_is_not_location_1(api, shop):
    body = {"location": shop.pk + 0.5, "location_description": "Till"}
    assert "decimal" in error_of(api.post(reverse("api:qr-code-list"), body, format="json"), "location")
    assert not QrCode.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"location_description": 12345}, "location_description", "not a number"),
        ({"location_description": "Till\t1"}, "location_description", "control characters"),
        ({"merchant_qr_id": 7}, "merchant_qr_id", "not a number"),
        ({"merchant_qr_id": "shop\x7f-1"}, "merchant_qr_id", "control characters"),
        ({"merchant_qr_id": "x" * 65}, "merchant_qr_id", "no more than 64"),
        ({"category": 1}, "category", "one of: IN_STORE, VENDING"),
        ({"category": None}, "category", "may not be null"),
    ],
)
def test_qr_code_fields_are_strict(api, shop, body, field, message):
    response = api.post(
        reverse("api:qr-code-list"), {"location": shop.pk, "location_description": "Till", **body}, format="json"
    )
    assert message in error_of(response, field)
    assert not QrCode.objects.exists()


def test_qr_sheet_layout_is_a_string(api, shop):
    response = api.post(reverse("api:qr-sheet-list"), {"location": shop.pk, "layout": 4}, format="json")
    assert "Must be a string" in error_of(response, "layout")
    assert not QrSheet.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"amount": "49"}, "amount", "Must be a whole number, not a string."),
        ({"amount": 49.0}, "amount", "not a decimal number"),
        ({"amount": True}, "amount", "not true or false"),
        ({"amount": 10**30}, "amount", "less than or equal to 65000000"),
        ({"amount": 0}, "amount", "greater than or equal to 1"),
        ({"description": 12345}, "description", "Must be a string, not a number."),
        ({"description": "Coffee\r\n"}, "description", ""),  # trimmed, see below
        ({"description": "Cof\x1bfee"}, "description", "control characters"),
        ({"phone_number": 4791234567}, "phone_number", "not a number"),
        ({"auto_capture": 1}, "auto_capture", "Must be true or false, not a number."),
        ({"auto_capture": "yes"}, "auto_capture", "not a string"),
        ({"location": "3"}, "location", "not a string"),
    ],
)
def test_payment_request_fields_are_strict(api, shop, body, field, message):
    base = {"phone_number": "4791234567", "location": shop.pk, "amount": 4900, "description": "Coffee"}
    response = api.post(reverse("api:payment-list"), {**base, **body}, format="json")
    if body == {"description": "Coffee\r\n"}:  # surrounding whitespace is trimmed, as DRF does
        assert response.status_code == 201 and Payment.objects.get().description == "Coffee"
        return
    assert message in error_of(response, field)
    assert not Payment.objects.exists()


def test_a_checkin_id_must_be_a_number(api, shop):
    checkin = checkin_at(shop)
    response = api.post(
        reverse("api:payment-list"),
        {"checkin": str(checkin.pk), "amount": 4900, "description": "Coffee"},
        format="json",
    )
    assert "not a string" in error_of(response, "checkin")


@pytest.mark.parametrize("action", ["capture", "refund"])
@pytest.mark.parametrize("amount", ["100", 100.0, False, None, 2**63, [100]])
def test_operation_amounts_are_whole_numbers(api, shop, action, amount):
    payment = payment_at(shop, state=Payment.State.AUTHORIZED, authorized_amount=10_000)
    response = api.post(reverse(f"api:payment-{action}", kwargs={"pk": payment.pk}), {"amount": amount}, format="json")
    assert error_of(response, "amount")
    assert not PaymentOperation.objects.exists()


def test_nul_is_refused_at_the_door_and_by_the_field_too(api, acme_unit):
    response = api.post(reverse("api:location-list"), {"sales_unit": acme_unit.pk, "name": "Shop\x00"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    assert not Location.objects.exists()
    # A string that did not come through the JSON decoder (a form, a test) is refused by the field itself.
    field = StrictCharField()
    with pytest.raises(serializers.ValidationError, match="control characters"):
        field.run_validation("Shop\x00 1")
