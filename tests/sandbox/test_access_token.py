"""Access token API and the authentication every other endpoint requires."""

from __future__ import annotations

import base64
import time

import pytest
import requests

from vipps_sandbox.server import SandboxServer

from .conftest import MSN, OTHER_MSN, Api

TOKEN_HEADERS = {
    "client_id": "11111111-2222-3333-4444-555555555555",
    "client_secret": "secret-123456",
    "Ocp-Apim-Subscription-Key": "sub-123456",
}


def test_token_success_all_fields_are_strings(api: Api) -> None:
    before = int(time.time())
    response = api.post("/accesstoken/get", 200, auth=False, headers=TOKEN_HEADERS | {"Merchant-Serial-Number": MSN})
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert all(isinstance(v, str) for v in body.values())
    assert body["expires_in"] == "3600"  # 1 h, as in the Vipps test environment
    assert int(body["expires_on"]) - int(body["not_before"]) == 3600
    assert int(body["not_before"]) >= before
    base64.b64decode(body["access_token"], validate=True)  # opaque, but a base64 string (format: byte)
    assert len(body["access_token"]) > 100


def test_token_mixed_case_path_from_quick_start(sandbox: SandboxServer) -> None:
    # Not in the spec, but the quick-start guide (seed document 002) calls it like this.
    response = requests.post(f"{sandbox.url}/accessToken/get", headers=TOKEN_HEADERS, timeout=5)
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"client_secret": "wrong"}, 401),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 401),
        ({"Ocp-Apim-Subscription-Key": "sub-654321"}, 401),  # another merchant's key
        ({"Merchant-Serial-Number": OTHER_MSN}, 401),
    ],
)
def test_token_rejects_wrong_credentials(api: Api, change: dict[str, str], status: int) -> None:
    api.post("/accesstoken/get", status, auth=False, headers=TOKEN_HEADERS | change)


@pytest.mark.parametrize("missing", ["client_id", "client_secret"])
def test_token_requires_client_headers(api: Api, missing: str) -> None:
    headers = {k: v for k, v in TOKEN_HEADERS.items() if k != missing}
    api.post("/accesstoken/get", 400, auth=False, headers=headers, check_request=False)


def test_token_requires_subscription_key(api: Api) -> None:
    headers = {k: v for k, v in TOKEN_HEADERS.items() if k != "Ocp-Apim-Subscription-Key"}
    api.post("/accesstoken/get", 401, auth=False, headers=headers, check_request=False)


def test_several_tokens_are_valid_at_once(api: Api, sandbox: SandboxServer) -> None:
    first, second = sandbox.access_token(MSN), sandbox.access_token(MSN)
    assert first != second
    for token in (first, second):
        api.get("/webhooks/v1/webhooks", 200, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": ""},
        {"Authorization": "Bearer not-a-token"},
        {"Ocp-Apim-Subscription-Key": "sub-654321"},
    ],
)
def test_endpoints_need_a_valid_token_and_matching_subscription_key(api: Api, headers: dict[str, str]) -> None:
    api.get("/epayment/v1/payments/order-12345", 401, headers=headers, check_request=False)
    api.get("/qr/v1/merchant-callback", 401, headers=headers, check_request=False)
    api.get("/webhooks/v1/webhooks", 401, headers=headers, check_request=False)


def test_token_without_bearer_word_is_401(api: Api) -> None:
    token = api.headers["Authorization"].removeprefix("Bearer ")
    api.get("/webhooks/v1/webhooks", 401, headers={"Authorization": token})


def test_missing_subscription_key_is_401(api: Api, sandbox: SandboxServer) -> None:
    token = sandbox.access_token(MSN)
    api.call(
        "GET",
        "/webhooks/v1/webhooks",
        401,
        auth=False,
        headers={"Authorization": f"Bearer {token}"},
        check_request=False,
    )


def test_token_expires(api: Api, sandbox: SandboxServer) -> None:
    api.get("/webhooks/v1/webhooks", 200)
    sandbox.state.advance(3601)
    response = api.get("/webhooks/v1/webhooks", 401)
    assert "expired" in response.json()["detail"]


def test_msn_header_of_another_merchant_is_forbidden(api: Api) -> None:
    api.get("/qr/v1/merchant-callback", 403, headers={"Merchant-Serial-Number": OTHER_MSN})
    api.post(
        "/epayment/v1/payments",
        403,
        headers={"Merchant-Serial-Number": OTHER_MSN, "Idempotency-Key": "k"},
        json={
            "amount": {"currency": "NOK", "value": 1000},
            "paymentMethod": {"type": "WALLET"},
            "reference": "order-12345",
            "userFlow": "WEB_REDIRECT",
            "returnUrl": "https://example.no",
        },
    )


def test_too_long_system_header_is_400(api: Api) -> None:
    api.get("/webhooks/v1/webhooks", 400, headers={"Vipps-System-Name": "x" * 31}, check_request=False)
