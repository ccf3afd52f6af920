"""Error classification: HTTP status families, Retry-After, problem fields, transport errors."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import requests
import urllib3.exceptions

from tests.vipps.samples import REFERENCE, push_payment
from vipps import (
    Amount,
    VippsAPIError,
    VippsConnectError,
    VippsError,
    VippsReadTimeout,
    VippsResponseError,
    VippsTransportError,
)
from vipps.transport import parse_retry_after

PAYMENT_PATH = f"/epayment/v1/payments/{REFERENCE}"
PROBLEM = {
    "type": "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/errors",
    "title": "Bad Request",
    "detail": "Capture amount too high",
    "status": 400,
    "traceId": "00-bb841c551513e233de8a01472013fa9f-542c71e40916a6ce-00",
    "instance": "/epayment/v1/payments/acme-shop-123-order123abc/capture",
    "extraDetails": [{"name": "ErrorCode", "reason": "6090"}],
}


def fail_get_payment(client, fake, status, body=None, headers=None, content_type="application/problem+json"):
    fake.add("GET", PAYMENT_PATH, status=status, body=body, headers=headers or {}, content_type=content_type)
    with pytest.raises(VippsAPIError) as info:
        client.get_payment(REFERENCE)
    return info.value


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (422, False),
        (423, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
    ],
)
def test_status_families(client, fake, status, retryable):
    if status == 401:
        fake.add("GET", PAYMENT_PATH, status=401)  # the first 401 triggers the one refresh
    error = fail_get_payment(client, fake, status, body={"title": "x", "status": status})
    assert isinstance(error, VippsError)
    assert error.status == status
    assert error.retryable is retryable
    assert error.operation == "get_payment"


def test_problem_json_fields_and_vipps_error_code(client, fake):
    fake.add("POST", f"{PAYMENT_PATH}/capture", status=400, body=PROBLEM, content_type="application/problem+json")
    with pytest.raises(VippsAPIError) as info:
        client.capture_payment(REFERENCE, Amount("NOK", 9_999_999), idempotency_key="cap-1")
    error = info.value
    assert error.type == PROBLEM["type"]
    assert error.title == "Bad Request"
    assert error.detail == "Capture amount too high"
    assert error.instance == PROBLEM["instance"]
    assert error.trace_id == PROBLEM["traceId"]
    assert [(d.name, d.reason) for d in error.extra_details] == [("ErrorCode", "6090")]
    assert error.error_code == "6090"
    assert error.retryable is False
    assert "6090" in str(error) and "Capture amount too high" in str(error)


def test_qr_invalid_params_are_extra_details(client, fake):
    fake.add(
        "PUT",
        "/qr/v1/merchant-callback/kiosk",
        status=400,
        body={
            "title": "One or more validation errors occurred.",
            "detail": "BadRequest",
            "instance": "00-616e415f5af7584eb4d9369d0fe8d7cc-48b90041faff204c-00",
            "invalidParams": [{"name": "LocationDescription", "reason": "too long"}],
        },
    )
    with pytest.raises(VippsAPIError) as info:
        client.put_merchant_callback_qr("kiosk", "Kiosk")
    assert [(d.name, d.reason) for d in info.value.extra_details] == [("LocationDescription", "too long")]
    assert info.value.error_code is None


def test_error_without_json_body(client, fake):
    error = fail_get_payment(client, fake, 502, body="<html>Bad gateway</html>", content_type="text/html")
    assert error.title is None and error.retryable is True
    assert error.body == "<html>Bad gateway</html>"


def test_429_retry_after_seconds(client, fake):
    error = fail_get_payment(client, fake, 429, body={"title": "Too many requests"}, headers={"Retry-After": "7"})
    assert error.retryable is True
    assert error.retry_after == 7.0


def test_423_is_retryable_and_keeps_retry_after(client, fake):
    error = fail_get_payment(client, fake, 423, body={"title": "Locked"}, headers={"Retry-After": "2"})
    assert (error.retryable, error.retry_after) == (True, 2.0)


def test_429_without_retry_after(client, fake):
    error = fail_get_payment(client, fake, 429)
    assert (error.retryable, error.retry_after) == (True, None)


def test_retry_after_http_date():
    now = datetime(2025, 1, 14, 10, 15, 0, tzinfo=UTC).timestamp()
    later = format_datetime(datetime(2025, 1, 14, 10, 15, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(later, now=lambda: now) == 30.0
    assert parse_retry_after("Tue, 14 Jan 2025 10:14:00 GMT", now=lambda: now) == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def test_read_timeout_may_have_been_applied(client, fake):
    fake.add("POST", "/epayment/v1/payments", exc=requests.ReadTimeout("read timed out"))
    with pytest.raises(VippsReadTimeout) as info:
        client.create_payment(push_payment(), idempotency_key="payment-42-create")
    assert info.value.retryable is True
    assert info.value.may_have_been_applied is True
    assert info.value.operation == "create_payment"


@pytest.mark.parametrize(
    "exc",
    [
        requests.ConnectTimeout("connect timed out"),
        requests.ConnectionError(
            urllib3.exceptions.MaxRetryError(
                None, "/", urllib3.exceptions.NewConnectionError(None, "Connection refused")
            )
        ),
        requests.exceptions.SSLError("handshake failed"),
    ],
    ids=["connect-timeout", "refused", "tls"],
)
def test_connect_errors_were_not_applied(client, fake, exc):
    fake.add("GET", PAYMENT_PATH, exc=exc)
    with pytest.raises(VippsConnectError) as info:
        client.get_payment(REFERENCE)
    assert info.value.retryable is True
    assert info.value.may_have_been_applied is False


def test_connection_dropped_after_sending_may_have_been_applied(client, fake):
    dropped = requests.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    )
    fake.add("GET", PAYMENT_PATH, exc=dropped)
    with pytest.raises(VippsTransportError) as info:
        client.get_payment(REFERENCE)
    assert not isinstance(info.value, (VippsConnectError, VippsReadTimeout))
    assert info.value.retryable is True
    assert info.value.may_have_been_applied is True


def test_success_with_wrong_body_is_a_permanent_response_error(client, fake):
    fake.add("GET", PAYMENT_PATH, body={"unexpected": True}, check_response=False)
    with pytest.raises(VippsResponseError) as info:
        client.get_payment(REFERENCE)
    assert info.value.retryable is False


def test_success_with_non_json_body_is_a_response_error(client, fake):
    fake.add("GET", "/webhooks/v1/webhooks", body="<html>ok</html>", check_response=False)
    with pytest.raises(VippsResponseError):
        client.list_webhooks()


def test_response_cut_off_mid_body_may_have_been_applied(client, fake):
    fake.add("GET", PAYMENT_PATH, exc=requests.exceptions.ChunkedEncodingError("connection broken"))
    with pytest.raises(VippsTransportError) as info:
        client.get_payment(REFERENCE)
    assert (info.value.retryable, info.value.may_have_been_applied) == (True, True)


def test_other_request_failures_are_permanent(client, fake):
    fake.add("GET", PAYMENT_PATH, exc=requests.exceptions.InvalidHeader("bad header value"))
    with pytest.raises(VippsError) as info:
        client.get_payment(REFERENCE)
    assert not isinstance(info.value, VippsTransportError)
    assert info.value.retryable is False
