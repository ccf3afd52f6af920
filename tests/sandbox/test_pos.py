"""MobilePay PoS v10 (legacy): notification service and GET …/checkin (CONTRACTS §6)."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests

from vipps_sandbox.server import SandboxServer

from .conftest import MSN, OTHER_MSN, PHONE, Api, Receiver

POS_ID = "7e6acbde-345e-4641-b2f4-d8df0f3a5147"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def control(sandbox: SandboxServer, path: str, body: dict | None = None, expected: int = 201) -> dict:
    response = requests.post(f"{sandbox.url}/_sandbox/api{path}", json=body, timeout=5)
    assert response.status_code == expected, response.text
    return response.json()


@pytest.fixture
def pos(sandbox: SandboxServer, receiver: Receiver) -> dict:
    control(sandbox, "/callback-aliases", {"alias": "kiosk-notify", "url": receiver.url + "/mobilepay/notify"})
    return control(
        sandbox,
        "/pos",
        {
            "msn": MSN,
            "merchantPosId": "Kasse 1",
            "posId": POS_ID,
            "callbackAlias": "kiosk-notify",
            "merchantBrandId": "POSDK12345",
            "merchantLocationId": "12345",
        },
    )


def integrator_token(sandbox: SandboxServer, msn: str) -> str:
    """A PoS integrator token (``/integrator-authentication/connect/token``) for ``msn``."""
    merchant = sandbox.state.merchant(msn)
    response = requests.post(
        f"{sandbox.url}/integrator-authentication/connect/token",
        auth=(merchant.client_id, merchant.client_secret),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def checkin(api: Api, pos_id: str = POS_ID, expected: int = 200, **kwargs) -> requests.Response:
    """GET …/checkin with an integrator token (the PoS API refuses Vipps access tokens)."""
    token = api.__dict__.setdefault("_pos_token", integrator_token(api.server, api.msn))
    headers = {"Authorization": f"Bearer {token}", "X-MobilePay-Client-System-Version": "1.0.0"}
    headers |= kwargs.pop("headers", {})
    return api.get(f"/pos/v10/pointofsales/{pos_id}/checkin", expected, headers=headers, **kwargs)


def test_not_checked_in(api: Api, pos: dict) -> None:
    body = checkin(api).json()
    assert body["isUserCheckedIn"] is False
    assert body["pollDelayInMs"] == 1000


def test_checkin_notifies_and_answers(api: Api, pos: dict, receiver: Receiver, sandbox: SandboxServer) -> None:
    result = control(sandbox, f"/pos/{POS_ID}/checkin", {"phoneNumber": PHONE})
    (item,) = receiver.wait_for(1)
    assert item.path == "/mobilepay/notify"
    assert "Authorization" not in item.headers  # no signature: allow-listing only
    body = item.json()
    assert list(body) == ["MerchantId", "MerchantBrandId", "MerchantLocationId", "MerchantPosId", "PosId"]
    assert GUID.match(body["MerchantId"])
    assert re.match(r"^(MPPOS|POSDK|POSFI)[A-Za-z0-9]{5}$", body["MerchantBrandId"])
    assert body["MerchantBrandId"] == "POSDK12345"
    assert body["MerchantLocationId"] == "12345"
    assert body["MerchantPosId"] == "Kasse 1"
    assert body["PosId"] == POS_ID
    answer = checkin(api).json()
    assert answer["isUserCheckedIn"] is True
    assert answer["customerToken"] == result["customerToken"]
    assert answer["customerReceiptToken"] == result["customerReceiptToken"]
    assert answer["loyaltyIds"] == []


def test_checkin_is_forgotten_after_a_while(api: Api, pos: dict, sandbox: SandboxServer) -> None:
    control(sandbox, f"/pos/{POS_ID}/checkin", {"phoneNumber": PHONE})
    assert checkin(api).json()["isUserCheckedIn"] is True
    sandbox.state.advance(61)
    assert checkin(api).json()["isUserCheckedIn"] is False


def test_poll_delay_is_tracked(api: Api, pos: dict, sandbox: SandboxServer) -> None:
    sandbox.state.points_of_sale[POS_ID].poll_delay_ms = 150
    checkin(api)
    checkin(api)  # too soon
    time.sleep(0.2)
    checkin(api)  # respected the delay
    listed = requests.get(f"{sandbox.url}/_sandbox/api/pos", timeout=5).json()
    assert listed[0]["polls"] == 3 and listed[0]["pollViolations"] == 1


def test_notification_is_retried_three_times_on_anything_but_200(
    pos: dict, receiver: Receiver, sandbox: SandboxServer
) -> None:
    receiver.statuses = [500, 201, 503, 500]
    control(sandbox, f"/pos/{POS_ID}/checkin", {"phoneNumber": PHONE})
    receiver.wait_for(4)
    assert sandbox.state.wait_for_deliveries(2)
    (delivery,) = sandbox.state.deliveries("pos")
    assert delivery.status == "failed"
    assert [a.status for a in delivery.attempts] == [500, 201, 503, 500]
    time.sleep(0.2)
    assert len(receiver.received) == 4


def test_checkin_errors(api: Api, other_api: Api, pos: dict) -> None:
    checkin(api, str(uuid.uuid4()), 404)
    response = checkin(api, "not-a-guid", 400, check_request=False)
    assert set(response.json()) == {"code", "message", "correlationId"}
    checkin(other_api, POS_ID, 403)  # created for another merchant
    checkin(api, POS_ID, 400, check_request=False, headers={"X-MobilePay-Client-System-Version": ""})
    checkin(api, POS_ID, 401, headers={"Authorization": "Bearer nope"})


def test_pos_validation(sandbox: SandboxServer) -> None:
    control(sandbox, "/pos", {"msn": MSN, "merchantPosId": "x", "merchantBrandId": "BRAND"}, expected=400)
    control(sandbox, "/pos", {"msn": MSN, "merchantPosId": "x", "callbackAlias": "unknown"}, expected=400)
    control(sandbox, "/pos", {"msn": MSN, "merchantPosId": "x" * 37}, expected=400)
    control(sandbox, "/callback-aliases", {"alias": "a" * 37, "url": "https://example.no"}, expected=400)
    created = control(sandbox, "/pos", {"msn": OTHER_MSN, "merchantPosId": "Kasse 9"})
    assert GUID.match(created["posId"]) and created["beaconId"]


def test_integrator_token_works_for_checkin(sandbox: SandboxServer, pos: dict) -> None:
    basic = ("11111111-2222-3333-4444-555555555555", "secret-123456")
    url = f"{sandbox.url}/integrator-authentication/connect/token"
    response = requests.post(
        url, auth=basic, data={"grant_type": "client_credentials", "merchant_vat": "DK12345678"}, timeout=5
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    answer = requests.get(
        f"{sandbox.url}/pos/v10/pointofsales/{POS_ID}/checkin",
        timeout=5,
        headers={
            "Authorization": f"Bearer {body['access_token']}",
            "X-MobilePay-Client-System-Version": "2.1.0",
        },
    )
    assert answer.status_code == 200 and answer.json()["isUserCheckedIn"] is False
    assert (
        requests.post(url, auth=(basic[0], "wrong"), data={"grant_type": "client_credentials"}, timeout=5).status_code
        == 401
    )
    assert requests.post(url, auth=basic, data={"grant_type": "password"}, timeout=5).status_code == 400
    assert requests.post(url, data={"grant_type": "client_credentials"}, timeout=5).status_code == 401
