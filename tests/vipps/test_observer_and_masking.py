"""The on_call observer and the masking functions."""

from __future__ import annotations

import json

import pytest
import requests

from tests.vipps.conftest import CLIENT_SECRET, MSN, SUBSCRIPTION_KEY
from tests.vipps.fakes import ACCESS_TOKEN
from tests.vipps.samples import CUSTOMER_TOKEN, PHONE, REFERENCE, WEBHOOK_SECRET, push_payment
from vipps import CallRecord, Customer, VippsAPIError, VippsReadTimeout
from vipps.masking import MASK, mask_body, mask_headers, mask_json, mask_phone, mask_text

# --- observer -------------------------------------------------------------------------------


def test_a_record_per_exchange_including_the_token_fetch(client, fake, records):
    fake.add("POST", "/epayment/v1/payments", status=201, body={"reference": REFERENCE})
    client.create_payment(push_payment(Customer(phone_number=PHONE)), idempotency_key="payment-42-create")

    token_record, create_record = records
    assert isinstance(create_record, CallRecord)
    assert token_record.operation == "fetch_access_token"
    assert token_record.request_headers["client_secret"] == MASK
    assert token_record.request_headers["Ocp-Apim-Subscription-Key"] == MASK
    assert ACCESS_TOKEN not in token_record.response_body
    assert json.loads(token_record.response_body)["access_token"] == MASK
    assert json.loads(token_record.response_body)["expires_in"] == "3599"

    assert create_record.operation == "create_payment"
    assert (create_record.method, create_record.path) == ("POST", "/epayment/v1/payments")
    assert create_record.status_code == 201
    assert create_record.idempotency_key == "payment-42-create"
    assert create_record.msn == MSN
    assert create_record.error is None
    assert create_record.duration_ms >= 0
    assert token_record.started_at <= create_record.started_at
    assert create_record.started_at.tzinfo is not None
    assert create_record.request_headers["Authorization"] == f"Bearer {MASK}"
    assert create_record.request_headers["Merchant-Serial-Number"] == MSN
    body = json.loads(create_record.request_body)
    assert body["customer"] == {"phoneNumber": "47******67"}
    assert body["reference"] == REFERENCE
    assert body["amount"] == {"currency": "NOK", "value": 49900}
    assert json.loads(create_record.response_body) == {"reference": REFERENCE}


def test_records_for_http_errors_and_transport_errors(client, fake, records):
    fake.add(
        "GET",
        f"/epayment/v1/payments/{REFERENCE}",
        status=429,
        headers={"Retry-After": "3"},
        body={"title": "Too Many Requests", "status": 429, "type": "about:blank", "traceId": "t-1"},
    )
    fake.add("GET", f"/epayment/v1/payments/{REFERENCE}", exc=requests.ReadTimeout("read timed out"))
    with pytest.raises(VippsAPIError):
        client.get_payment(REFERENCE)
    with pytest.raises(VippsReadTimeout):
        client.get_payment(REFERENCE)

    http_error, timeout = records[1:]
    assert http_error.status_code == 429
    assert "Too Many Requests" in http_error.error
    assert json.loads(http_error.response_body)["traceId"] == "t-1"
    assert timeout.status_code is None
    assert timeout.response_body is None
    assert "read timeout" in timeout.error


def test_query_string_is_part_of_the_recorded_path(client, fake, records):
    fake.add("GET", "/qr/v1/merchant-callback", body=[])
    client.list_merchant_callback_qrs(image_format="SVG")
    assert records[-1].path == "/qr/v1/merchant-callback?qrImageFormat=SVG"


def test_secrets_are_masked_in_records(client, fake, records):
    fake.add(
        "POST",
        "/webhooks/v1/webhooks",
        status=201,
        body={"id": "7d4c3a2b-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "secret": WEBHOOK_SECRET},
    )
    fake.add("POST", "/qr/v1/exchange/customer", body={"msisdn": PHONE, "timestamp": 1634025600})
    client.register_webhook("https://portal.example.no/hooks", ["user.checked-in.v1"])
    client.exchange_customer_token(CUSTOMER_TOKEN)

    everything = repr(records)
    for secret in (WEBHOOK_SECRET, CUSTOMER_TOKEN, PHONE, ACCESS_TOKEN, CLIENT_SECRET, SUBSCRIPTION_KEY):
        assert secret not in everything
    assert json.loads(records[-1].response_body) == {"msisdn": "47******67", "timestamp": 1634025600}
    assert json.loads(records[-1].request_body)["customer"] == {"customerToken": MASK}


def test_a_failing_observer_does_not_fail_the_call(config, credentials, session, fake, caplog):
    from vipps import VippsClient

    def broken(record):
        raise RuntimeError("call log database is down")

    fake.add_token()
    fake.add("GET", "/webhooks/v1/webhooks", body={"webhooks": []})
    client = VippsClient(config, credentials, session=session, on_call=broken)
    assert client.list_webhooks() == []
    assert "on_call observer failed" in caplog.text


# --- masking functions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("4791234567", "47******67"),
        (4791234567, "47******67"),
        ("4512345678", "45******78"),
        ("+4791234567", "+47******67"),
        ("12345678", "******78"),
        ("123456789012345", "12***********45"),
        ("12", MASK),
    ],
)
def test_mask_phone(number, masked):
    assert mask_phone(number) == masked


def test_mask_text_masks_msisdns_but_not_other_numbers():
    assert mask_text("Invalid phone number 4791234567.") == "Invalid phone number 47******67."
    assert mask_text("call +4791234567 now") == "call +47******67 now"
    assert mask_text("amount 49900 NOK, code 6090") == "amount 49900 NOK, code 6090"
    assert mask_text("https://qr.vipps.no/28/2/01/031/4791234567?v=1") == (
        "https://qr.vipps.no/28/2/01/031/47******67?v=1"
    )
    assert mask_text("ref-abc4791234567x") == "ref-abc4791234567x"  # glued to letters: not a phone


def test_mask_json_by_key_and_nested():
    data = {
        "customer": {"phoneNumber": 4791234567},
        "access_token": "tok",
        "secret": "s",
        "webhooks": [{"secret": "s2", "id": "12345678-0000-0000-0000-123456789012"}],
        "pspReference": "1234567891",
        "msn": "123456",
        "note": "reach me on 4791234567",
        "customerToken": None,
        "amount": {"currency": "NOK", "value": 4791234567},
    }
    assert mask_json(data) == {
        "customer": {"phoneNumber": "47******67"},
        "access_token": MASK,
        "secret": MASK,
        "webhooks": [{"secret": MASK, "id": "12345678-0000-0000-0000-123456789012"}],
        "pspReference": "1234567891",
        "msn": "123456",
        "note": "reach me on 47******67",
        "customerToken": None,
        "amount": {"currency": "NOK", "value": 4791234567},
    }
    assert data["access_token"] == "tok"  # input untouched


def test_mask_headers():
    masked = mask_headers(
        {
            "Authorization": "Bearer abc.def",
            "client_secret": "s",
            "Ocp-Apim-Subscription-Key": "k",
            "client_id": "fb492b5e",
            "Idempotency-Key": "payment-12345678901",
        }
    )
    assert masked == {
        "Authorization": f"Bearer {MASK}",
        "client_secret": MASK,
        "Ocp-Apim-Subscription-Key": MASK,
        "client_id": "fb492b5e",
        "Idempotency-Key": "payment-12345678901",
    }
    assert mask_headers({"authorization": "Basic Zm9vOmJhcg=="}) == {"authorization": f"Basic {MASK}"}


def test_mask_body_handles_json_form_and_text():
    assert mask_body(None) is None
    assert mask_body("") == ""
    assert json.loads(mask_body(b'{"client_secret": "x"}')) == {"client_secret": MASK}
    assert mask_body("grant_type=client_credentials&client_secret=abc") == (
        f"grant_type=client_credentials&client_secret={MASK}"
    )
    assert mask_body("oops 4791234567") == "oops 47******67"
