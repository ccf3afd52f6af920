"""Request bodies are decoded by the portal's strict JSON decoder: anything else is a 4xx problem+json with the
reason, never a 500, for a key and for a caller without one."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from merchant_portal.api.models import IdempotencyRecord
from payments.models import Payment

PAYMENTS = "api:payment-list"


def post_raw(client, body: bytes, content_type="application/json", **headers):
    return client.generic("POST", reverse(PAYMENTS), body, content_type=content_type, **headers)


def assert_problem(response, status: int, *words: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    detail = response.json()["detail"]
    for word in words:
        assert word in detail


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 50_000, "nested deeper than 32 levels"),
        (json.dumps({"amount": 5}).encode("utf-16"), "not UTF-8"),
        (b'{"amount": NaN}', "NaN is not a JSON number"),
        (b'{"amount": 1e400}', "out of range"),
        (b'{"description": "Coffee\\u0000"}', "NUL character"),
        (b'{"description": "\\ud800"}', "unpaired surrogate"),
        (b'{"amount": ', "not valid JSON"),
        (b"   ", "empty"),
    ],
)
def test_a_body_that_cannot_be_decoded_is_a_400_with_the_reason(api, shop, body, reason):
    response = post_raw(api, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert_problem(response, 400, reason)
    assert response.json()["code"] == "parse_error"
    assert not Payment.objects.exists()
    assert IdempotencyRecord.objects.get().status_code == 400  # stored as the 4xx it was, replayable


def test_a_nested_body_without_a_key_is_a_401_and_is_never_parsed(acme_unit):
    response = post_raw(APIClient(), b"[" * 50_000)
    assert_problem(response, 401)


def test_a_leading_byte_order_mark_is_tolerated(api, shop):
    body = (
        b"\xef\xbb\xbf"
        + json.dumps(
            {"phone_number": "4791234567", "location": shop.pk, "amount": 4900, "description": "Coffee"}
        ).encode()
    )
    assert post_raw(api, body).status_code == 201


def test_a_body_over_the_upload_limit_is_a_413(api, shop, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"description": "x" * 2000}).encode()
    assert_problem(post_raw(api, body), 413, "larger than 1000 bytes")
    # With an Idempotency-Key the body is read whole for its digest first: the same answer.
    assert_problem(post_raw(api, body, HTTP_IDEMPOTENCY_KEY="k-2"), 413)
    assert not Payment.objects.exists() and not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_only_json_is_accepted(api, shop, content_type):
    response = post_raw(api, b"amount=5", content_type=content_type)
    assert_problem(response, 415)


@pytest.mark.parametrize("key", ["order\x001", "order\n1", "ordre-ø"])
def test_an_idempotency_key_is_printable_ascii(api, shop, key):
    response = post_raw(api, b"{}", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("token", ["vmp_abc\x00_def", "vmp_ab\x01c_def", "vmp_øl_def"])
def test_an_api_key_with_odd_characters_is_a_401(acme_unit, token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_problem(client.get(reverse(PAYMENTS)), 401, "Unknown or revoked")
