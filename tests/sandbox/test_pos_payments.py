"""A MobilePay PoS check-in's customerToken asks that customer to pay, as a QR check-in's does (CONTRACTS §7)."""

from __future__ import annotations

import requests

from vipps_sandbox.server import SandboxServer

from .conftest import MSN, OTHER_MSN, PHONE, Api, error_code

POS_ID = "0b5e2c1a-8d3f-4e6b-9a7c-1d2e3f4a5b6c"


def pos_customer_token(sandbox: SandboxServer) -> str:
    for path, body in (
        ("/pos", {"msn": MSN, "merchantPosId": "Kasse 1", "posId": POS_ID}),
        (f"/pos/{POS_ID}/checkin", {"phone": PHONE}),
    ):
        response = requests.post(f"{sandbox.url}/_sandbox/api{path}", json=body, timeout=5)
        assert response.status_code == 201, response.text
    return response.json()["customerToken"]


def test_a_pos_check_in_token_pushes_the_request_to_that_customer(sandbox: SandboxServer, api: Api):
    token = pos_customer_token(sandbox)
    api.create_payment("pos-payment-0001", 4500, customer={"customerToken": token})
    assert [p.reference for p in sandbox.state.pending_for_phone(PHONE)] == ["pos-payment-0001"]
    sandbox.state.approve(MSN, "pos-payment-0001", PHONE)
    assert sandbox.state.payment(MSN, "pos-payment-0001").approved_by == PHONE


def test_another_merchants_pos_token_is_refused(sandbox: SandboxServer, other_api: Api):
    token = pos_customer_token(sandbox)
    response = other_api.create_payment(
        "pos-payment-0002", 4500, expected=400, currency="DKK", customer={"customerToken": token}
    )
    assert error_code(response) == "4050"
    assert OTHER_MSN not in {p.msn for p in sandbox.state.payments.values()}
