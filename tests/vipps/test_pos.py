"""MobilePay PoS v10 check-in lookup with integrator authentication."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest

from vipps import (
    POS_SANDBOX_BASE_URL,
    InMemoryTokenCache,
    MobilePayPosClient,
    PosCheckIn,
    PosConfig,
    PosCredentials,
    VippsAPIError,
    VippsValidationError,
)

POS_ID = "7e6acbde-345e-4641-b2f4-d8df0f3a5147"
CHECKIN_PATH = f"/pos/v10/pointofsales/{POS_ID}/checkin"
TOKEN_PATH = "/integrator-authentication/connect/token"
CHECKIN = {
    "isUserCheckedIn": True,
    "loyaltyIds": ["123456"],
    "pollDelayInMs": 1000,
    "customerToken": "09bee223516e44000811ab0988b802b72a193c22",
    "customerReceiptToken": "d0d0f8dc0adc4cec9398d82c93dad0d1",
}
POS_SECRET = "pos-client-secret-Zq9"


@pytest.fixture
def pos(session, fake, records):
    fake.add(
        "POST",
        TOKEN_PATH,
        body={
            "access_token": "pos-token-1",
            "expires_in": 3700,
            "token_type": "Bearer",
            "scope": "integrator_scope",
        },
        times=None,
    )
    return MobilePayPosClient(
        PosConfig(client_system_version="2.1.1", merchant_vat_number="DK12345678"),
        PosCredentials("integrator-client", POS_SECRET),
        token_cache=InMemoryTokenCache(),
        session=session,
        on_call=records.append,
    )


def test_checkin_request_and_result(pos, fake):
    fake.add("GET", CHECKIN_PATH, body=CHECKIN)
    result = pos.get_checkin(POS_ID)

    assert result == PosCheckIn(
        is_user_checked_in=True,
        poll_delay_ms=1000,
        loyalty_ids=("123456",),
        customer_token=CHECKIN["customerToken"],
        customer_receipt_token=CHECKIN["customerReceiptToken"],
    )
    assert CHECKIN["customerToken"] not in repr(result)
    (sent,) = fake.calls("GET", CHECKIN_PATH)
    assert sent.request.url == f"{POS_SANDBOX_BASE_URL}{CHECKIN_PATH}"
    assert sent.headers["Authorization"] == "Bearer pos-token-1"
    assert sent.headers["X-MobilePay-Client-System-Version"] == "2.1.1"
    assert sent.headers["X-MobilePay-Merchant-VAT-Number"] == "DK12345678"
    for vipps_only in ("Ocp-Apim-Subscription-Key", "Merchant-Serial-Number", "Vipps-System-Name"):
        assert vipps_only not in sent.headers
    assert sent.timeout == (3.05, 10.0)


def test_integrator_token_uses_basic_auth_and_client_credentials(pos, fake, records):
    fake.add("GET", CHECKIN_PATH, body=CHECKIN, times=2)
    pos.get_checkin(POS_ID)
    pos.get_checkin(POS_ID)

    (token_call,) = fake.calls("POST", TOKEN_PATH)
    expected = base64.b64encode(f"integrator-client:{POS_SECRET}".encode()).decode()
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_call.request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "merchant_vat": ["DK12345678"],
    }
    assert POS_SECRET not in repr(records) and expected not in repr(records)
    assert records[0].request_headers["Authorization"] == "Basic ***"


def test_not_checked_in_has_no_loyalty_lookup_yet(pos, fake):
    fake.add("GET", CHECKIN_PATH, body={"isUserCheckedIn": False, "pollDelayInMs": 500, "loyaltyIds": None})
    result = pos.get_checkin(POS_ID)
    assert (result.is_user_checked_in, result.poll_delay_ms, result.loyalty_ids) == (False, 500, None)


def test_pos_error_response_and_401_refresh(pos, fake):
    fake.add("GET", CHECKIN_PATH, status=401)
    fake.add(
        "GET",
        CHECKIN_PATH,
        status=403,
        body={
            "code": "1234",
            "message": "PoS created by another integrator",
            "correlationId": "113568d5-68fc-4434-ad80-6e67402a3f93",
        },
    )
    with pytest.raises(VippsAPIError) as info:
        pos.get_checkin(POS_ID)
    error = info.value
    assert (error.status, error.error_code, error.retryable) == (403, "1234", False)
    assert error.detail == "PoS created by another integrator"
    assert error.trace_id == "113568d5-68fc-4434-ad80-6e67402a3f93"
    assert len(fake.calls("POST", TOKEN_PATH)) == 2  # refreshed once after the 401


def test_token_url_can_point_elsewhere(session, fake):
    fake.add("POST", "/connect/token", body={"access_token": "t", "expires_in": "60", "token_type": "Bearer"})
    fake.add("GET", CHECKIN_PATH, body=CHECKIN)
    client = MobilePayPosClient(
        PosConfig(
            client_system_version="1.0.0",
            base_url="https://api.sandbox.mobilepay.dk",
            token_url="https://auth.example.test/connect/token",
        ),
        PosCredentials("c", "s"),
        session=session,
    )
    fake.check_contract = False  # the token endpoint has no spec, and its host is not a PoS host
    client.get_checkin(POS_ID)
    assert fake.sent[0].request.url == "https://auth.example.test/connect/token"
    assert "merchant_vat" not in fake.sent[0].request.body.decode()
    assert "X-MobilePay-Merchant-VAT-Number" not in fake.sent[1].headers


@pytest.mark.parametrize(
    "kwargs",
    [{"client_system_version": "2.1"}, {"client_system_version": "1.0.0", "merchant_vat_number": "12345678"}],
)
def test_pos_config_validation(kwargs):
    with pytest.raises(VippsValidationError):
        PosConfig(**kwargs)


def test_pos_id_must_be_a_uuid(pos, fake):
    with pytest.raises(VippsValidationError):
        pos.get_checkin("not-a-guid")
    assert fake.sent == []


def test_pos_credentials_repr():
    assert POS_SECRET not in repr(PosCredentials("c", POS_SECRET))
