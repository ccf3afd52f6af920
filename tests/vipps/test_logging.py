"""No secret, token or full phone number may appear in any log line."""

from __future__ import annotations

import logging

import pytest
import requests

from tests.vipps.conftest import CLIENT_SECRET, SUBSCRIPTION_KEY
from tests.vipps.fakes import ACCESS_TOKEN
from tests.vipps.samples import CUSTOMER_TOKEN, PHONE, REFERENCE, WEBHOOK_ID, WEBHOOK_SECRET, push_payment
from vipps import Customer, MobilePayPosClient, PosConfig, PosCredentials, VippsAPIError

SECRETS = (CLIENT_SECRET, SUBSCRIPTION_KEY, ACCESS_TOKEN, CUSTOMER_TOKEN, WEBHOOK_SECRET, PHONE)


def test_no_secrets_in_logs(client, fake, caplog, session):
    caplog.set_level(logging.DEBUG)  # every logger, every level, including requests/urllib3
    fake.add("POST", "/epayment/v1/payments", status=201, body={"reference": REFERENCE}, times=2)
    fake.add("POST", "/webhooks/v1/webhooks", status=201, body={"id": WEBHOOK_ID, "secret": WEBHOOK_SECRET})
    fake.add("POST", "/qr/v1/exchange/customer", body={"msisdn": PHONE, "timestamp": 1634025600})
    fake.add(
        "POST",
        f"/epayment/v1/test/payments/{REFERENCE}/approve",
        status=400,
        body={
            "title": "Bad Request",
            "detail": f"Unknown test user {PHONE}",
            "status": 400,
            "type": "about:blank",
            "traceId": "t",
        },
    )

    client.access_token()
    client.create_payment(push_payment(Customer(phone_number=PHONE)), idempotency_key="payment-1")
    client.create_payment(push_payment(Customer(customer_token=CUSTOMER_TOKEN)), idempotency_key="payment-2")
    registration = client.register_webhook("https://portal.example.no/hooks", ["user.checked-in.v1"])
    exchanged = client.exchange_customer_token(CUSTOMER_TOKEN)
    with pytest.raises(VippsAPIError) as info:
        client.force_approve(REFERENCE, customer=Customer(phone_number=PHONE))
    logging.getLogger("test").info("objects: %r %r %r %s", registration, exchanged, client, info.value)

    pos_fake_session = requests.Session()
    pos_fake_session.mount("https://", fake)
    fake.add(
        "POST",
        "/integrator-authentication/connect/token",
        body={"access_token": ACCESS_TOKEN, "expires_in": 3700, "token_type": "Bearer"},
    )
    fake.add(
        "GET",
        "/pos/v10/pointofsales/7e6acbde-345e-4641-b2f4-d8df0f3a5147/checkin",
        body={"isUserCheckedIn": True, "pollDelayInMs": 1000, "customerToken": CUSTOMER_TOKEN},
    )
    pos = MobilePayPosClient(
        PosConfig(client_system_version="1.0.0"),
        PosCredentials("pos-client", CLIENT_SECRET),
        session=pos_fake_session,
    )
    checkin = pos.get_checkin("7e6acbde-345e-4641-b2f4-d8df0f3a5147")
    logging.getLogger("test").info("pos: %r %r", checkin, pos.credentials)

    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "vipps create_payment POST /epayment/v1/payments -> 201" in text  # logging did happen
    assert any(r.levelno == logging.DEBUG and r.name == "vipps" for r in caplog.records)
    for secret in SECRETS:
        assert secret not in text, f"leaked {secret[:6]}..."
    assert "47******67" in text
