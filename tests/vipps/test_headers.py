"""Headers and timeouts on every call."""

from __future__ import annotations

import pytest

from tests.vipps.conftest import CLIENT_ID, CLIENT_SECRET, MSN, SUBSCRIPTION_KEY
from tests.vipps.fakes import ACCESS_TOKEN
from tests.vipps.samples import OPERATIONS, Operation, add_route
from vipps import VippsClient, VippsConfig

SYSTEM_HEADERS = {
    "Vipps-System-Name": "merchant-portal",
    "Vipps-System-Version": "1.4.0",
    "Vipps-System-Plugin-Name": "vipps-client",
    "Vipps-System-Plugin-Version": "0.1.0",
}


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_every_call_sends_auth_subscription_msn_and_system_headers(client, fake, op: Operation):
    add_route(fake, op)
    op.call(client)

    (sent,) = fake.api_calls()
    assert (sent.request.method, sent.path) == (op.method, op.path)
    assert sent.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert sent.headers["Ocp-Apim-Subscription-Key"] == SUBSCRIPTION_KEY
    assert sent.headers["Merchant-Serial-Number"] == MSN
    for name, value in SYSTEM_HEADERS.items():
        assert sent.headers[name] == value
    assert sent.headers.get("Idempotency-Key") == op.idempotent_key
    assert "client_secret" not in sent.headers
    assert sent.timeout == (3.05, 10.0)


def test_token_call_sends_client_credentials_and_empty_body(client, fake):
    client.access_token()

    (sent,) = fake.calls("POST", "/accesstoken/get")
    assert sent.headers["client_id"] == CLIENT_ID
    assert sent.headers["client_secret"] == CLIENT_SECRET
    assert sent.headers["Ocp-Apim-Subscription-Key"] == SUBSCRIPTION_KEY
    assert sent.headers["Merchant-Serial-Number"] == MSN
    assert "Authorization" not in sent.headers
    for name, value in SYSTEM_HEADERS.items():
        assert sent.headers[name] == value
    assert not sent.request.body
    assert sent.timeout == (3.05, 10.0)


def test_timeouts_come_from_config(credentials, session, fake):
    config = VippsConfig(
        base_url="https://apitest.vipps.no/",
        system_name="portal",
        system_version="2.0",
        connect_timeout=1.5,
        read_timeout=4,
    )
    fake.add_token()
    fake.add("GET", "/webhooks/v1/webhooks", body={"webhooks": []})
    VippsClient(config, credentials, session=session).list_webhooks()

    assert [s.timeout for s in fake.sent] == [(1.5, 4), (1.5, 4)]
    # plugin headers default to the system values, as Vipps recommends
    assert fake.sent[1].headers["Vipps-System-Plugin-Name"] == "portal"
    assert fake.sent[1].headers["Vipps-System-Plugin-Version"] == "2.0"
    assert fake.sent[1].request.url == "https://apitest.vipps.no/webhooks/v1/webhooks"
