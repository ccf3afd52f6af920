"""Input validation happens before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.vipps.samples import PHONE, REFERENCE, push_payment
from vipps import (
    PRODUCTION_BASE_URL,
    Amount,
    CreatePaymentRequest,
    Credentials,
    Customer,
    OrderLine,
    QrFormat,
    Receipt,
    UnitInfo,
    VippsClient,
    VippsConfig,
    VippsValidationError,
)


def test_idempotency_key_of_50_characters_is_accepted(client, fake):
    fake.add("POST", "/epayment/v1/payments", status=201, body={"reference": REFERENCE})
    client.create_payment(push_payment(), idempotency_key="k" * 50)
    assert fake.api_calls()[0].headers["Idempotency-Key"] == "k" * 50


@pytest.mark.parametrize("key", ["k" * 51, "", "has space", "line\nbreak", "æøå"])
def test_invalid_idempotency_keys_are_rejected_before_sending(client, fake, key):
    with pytest.raises(VippsValidationError):
        client.create_payment(push_payment(), idempotency_key=key)
    with pytest.raises(VippsValidationError):
        client.capture_payment(REFERENCE, Amount("NOK", 100), idempotency_key=key)
    assert fake.sent == []


@pytest.mark.parametrize("reference", ["short", "a" * 51, "has space-123", "ref/../../x", ""])
def test_invalid_references_are_rejected(client, fake, reference):
    with pytest.raises(VippsValidationError):
        client.get_payment(reference)
    assert fake.sent == []


def test_validation_error_is_a_permanent_value_error():
    with pytest.raises(ValueError) as info:
        Amount("NOK", -1)
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("currency", "value"), [("SEK", 100), ("NOK", 65_000_001), ("NOK", 1.5), ("NOK", True), ("NOK", "100")]
)
def test_amount_limits(currency, value):
    with pytest.raises(VippsValidationError):
        Amount(currency, value)


def test_amount_accepts_the_documented_range():
    assert Amount("EUR", 65_000_000).to_json() == {"currency": "EUR", "value": 65_000_000}
    assert Amount("DKK", 0).value == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"phone_number": PHONE, "customer_token": "t"},
        {"phone_number": "+4791234567"},
        {"phone_number": "912345"},
        {"customer_token": ""},
        {"personal_qr": "abc"},
    ],
)
def test_customer_needs_exactly_one_valid_identifier(kwargs):
    with pytest.raises(VippsValidationError):
        Customer(**kwargs)


def test_customer_repr_masks_identifiers():
    assert repr(Customer(phone_number=PHONE)) == "Customer(phone_number='47******67')"
    assert "secret-token" not in repr(Customer(customer_token="secret-token"))


def base(**overrides):
    values = {
        "amount": Amount("NOK", 1000),
        "reference": REFERENCE,
        "user_flow": "WEB_REDIRECT",
        "return_url": "https://shop.example.no/r",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"user_flow": "PUSH_MESSAGE", "return_url": None}, "PUSH_MESSAGE needs a customer"),
        ({"return_url": None}, "WEB_REDIRECT needs a return_url"),
        ({"user_flow": "SMS"}, "user_flow"),
        ({"user_flow": "QR", "payment_method": "CARD"}, "CARD"),
        ({"qr_format": QrFormat()}, "qr_format"),
        ({"payment_description": "ab"}, "payment_description"),
        ({"metadata": {str(i): "v" for i in range(6)}}, "metadata"),
        ({"metadata": {"k": "v" * 501}}, "metadata value"),
        ({"customer_interaction": "IN_PERSON"}, "customer_interaction"),
        ({"expires_at": datetime(2030, 1, 1, tzinfo=UTC)}, "expires_at is only allowed"),
        (
            {"user_flow": "QR", "expires_at": datetime(2030, 1, 1, tzinfo=UTC)},
            "expires_at needs a receipt",
        ),
        ({"reference": "x" * 51}, "reference"),
    ],
)
def test_create_payment_request_rules(overrides, message):
    with pytest.raises(VippsValidationError, match=message):
        CreatePaymentRequest(**base(**overrides))


def test_receipt_rules():
    with pytest.raises(VippsValidationError):
        Receipt(order_lines=[], currency="NOK")
    with pytest.raises(VippsValidationError):
        OrderLine("x", "1", 100, 80, 20, tax_percentage=101)
    with pytest.raises(VippsValidationError):
        UnitInfo(quantity="1,5")
    with pytest.raises(VippsValidationError):
        QrFormat("IMAGE/PNG", size=50)


def test_location_description_limit(client, fake):
    with pytest.raises(VippsValidationError):
        client.put_merchant_callback_qr("kiosk", "x" * 37)
    with pytest.raises(VippsValidationError):
        client.put_mobilepay_qr("123456789012345", "")
    with pytest.raises(VippsValidationError):
        client.get_merchant_callback_qr("kiosk", image_size=99)
    with pytest.raises(VippsValidationError):
        client.list_merchant_callback_qrs(image_format="JPG")
    assert fake.sent == []


def test_webhook_inputs(client, fake):
    with pytest.raises(VippsValidationError):
        client.register_webhook("https://x.example/h", [])
    with pytest.raises(VippsValidationError):
        client.register_webhook("https://x.example/h", "epayments.payment.captured.v1")
    with pytest.raises(VippsValidationError):
        client.delete_webhook("not-a-uuid")
    assert fake.sent == []


def test_force_approve_needs_exactly_one_identity_and_refuses_production(credentials, session, client, fake):
    with pytest.raises(VippsValidationError):
        client.force_approve(REFERENCE)
    with pytest.raises(VippsValidationError):
        client.force_approve(REFERENCE, customer=Customer(phone_number=PHONE), token="t")
    prod = VippsClient(
        VippsConfig(base_url=PRODUCTION_BASE_URL, system_name="p", system_version="1"),
        credentials,
        session=session,
    )
    with pytest.raises(VippsValidationError, match="test environment"):
        prod.force_approve(REFERENCE, token="t")
    assert fake.sent == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"system_name": "x" * 31},
        {"system_version": ""},
        {"plugin_name": "p" * 31},
        {"plugin_version": "v" * 31},
        {"base_url": "apitest.vipps.no"},
        {"connect_timeout": 0},
        {"read_timeout": -1},
    ],
)
def test_config_validation(overrides):
    values = {"base_url": "https://apitest.vipps.no", "system_name": "portal", "system_version": "1.0"}
    values.update(overrides)
    with pytest.raises(VippsValidationError):
        VippsConfig(**values)


def test_system_values_of_exactly_30_characters_are_accepted():
    config = VippsConfig(base_url="https://apitest.vipps.no/", system_name="n" * 30, system_version="v" * 30)
    assert config.base_url == "https://apitest.vipps.no"
    assert config.system_headers()["Vipps-System-Plugin-Name"] == "n" * 30


@pytest.mark.parametrize("msn", ["123", "12345678901", "12a456", ""])
def test_credentials_validation(msn):
    with pytest.raises(VippsValidationError):
        Credentials(msn=msn, client_id="id", client_secret="s", subscription_key="k")


def test_credentials_repr_is_masked(credentials):
    from tests.vipps.conftest import CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION_KEY

    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert CLIENT_SECRET not in text
        assert SUBSCRIPTION_KEY not in text
        assert CLIENT_ID not in text
        assert "123456" in text
