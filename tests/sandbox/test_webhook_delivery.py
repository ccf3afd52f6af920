"""Webhook delivery: signing, payloads, retries, ordering and delivery faults."""

from __future__ import annotations

import time
from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest

from vipps_sandbox import contract, signing
from vipps_sandbox.delivery import DeliveryConfig
from vipps_sandbox.server import SandboxServer, fast_config

from .conftest import MSN, OTHER_MSN, PHONE, Api, Receiver, run_receiver

EPAYMENT_EVENTS = sorted(contract.EPAYMENT_EVENT_TYPES)


def register(api: Api, receiver: Receiver, events: list[str], path: str = "/vipps/webhooks/?src=sandbox") -> dict:
    return api.post("/webhooks/v1/webhooks", 201, json={"url": receiver.url + path, "events": events}).json()


def names(receiver: Receiver, reference: str | None = None) -> list[str]:
    return [p["name"] for p in receiver.payloads() if reference is None or p.get("reference") == reference]


def test_payment_events_are_delivered_signed_and_in_order(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    hook = register(api, receiver, EPAYMENT_EVENTS)
    api.create_payment("order-70001", 10000)
    sandbox.state.approve(MSN, "order-70001", PHONE)
    api.adjust("order-70001", "capture", 6000, key="cap-70001")
    api.adjust("order-70001", "refund", 1000)
    api.adjust("order-70001", "cancel")
    received = receiver.wait_for(5)
    assert names(receiver) == ["CREATED", "AUTHORIZED", "CAPTURED", "REFUNDED", "CANCELLED"]
    url = receiver.url + "/vipps/webhooks/?src=sandbox"
    for item in received:
        assert item.path == "/vipps/webhooks/?src=sandbox"
        assert item.headers["Content-Type"] == "application/json"
        assert signing.verify(hook["secret"], url, item.body, item.headers)
        host, path_and_query = signing.url_parts(url)
        assert item.headers["Host"] == host
        expected = signing.sign(hook["secret"], url, item.body, item.headers["X-Ms-Date"])
        assert item.headers["Authorization"] == expected.authorization
        assert item.headers["X-Ms-Content-Sha256"] == signing.content_hash(item.body)
        parsedate_to_datetime(item.headers["X-Ms-Date"])  # RFC 1123
        assert item.headers["X-Ms-Date"].endswith(" GMT")
        assert item.headers["Webhook-Id"]
        payload = item.json()
        contract.validate_webhook_payload(f"epayments.payment.{payload['name'].lower()}.v1", payload)
        assert payload["msn"] == MSN and payload["reference"] == "order-70001"
    captured = received[2].json()
    assert captured["amount"] == {"currency": "NOK", "value": 6000}
    assert captured["idempotencyKey"] == "cap-70001"
    assert captured["success"] is True
    events = api.get("/epayment/v1/payments/order-70001/events").json()
    assert [p["pspReference"] for p in receiver.payloads()] == [e["pspReference"] for e in events]


def test_only_subscribed_events_of_own_merchant(
    api: Api, other_api: Api, receiver: Receiver, sandbox: SandboxServer
) -> None:
    register(api, receiver, ["epayments.payment.captured.v1"], path="/mine")
    register(other_api, receiver, EPAYMENT_EVENTS, path="/other")
    api.authorized_payment("order-70002", 10000)
    api.adjust("order-70002", "capture", 10000)
    received = receiver.wait_for(1)
    time.sleep(0.2)
    assert [(r.path, r.json()["name"]) for r in receiver.received] == [("/mine", "CAPTURED")]
    assert len(received) == 1


def test_every_registration_gets_its_copy(api: Api, receiver: Receiver) -> None:
    first = register(api, receiver, ["epayments.payment.created.v1"], path="/a")
    second = register(api, receiver, ["epayments.payment.created.v1"], path="/b")
    api.create_payment("order-70003")
    received = receiver.wait_for(2)
    by_path = {r.path: r for r in received}
    assert signing.verify(first["secret"], receiver.url + "/a", by_path["/a"].body, by_path["/a"].headers)
    assert signing.verify(second["secret"], receiver.url + "/b", by_path["/b"].body, by_path["/b"].headers)
    assert not signing.verify(first["secret"], receiver.url + "/b", by_path["/b"].body, by_path["/b"].headers)


def test_non_2xx_is_retried_until_success(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    register(api, receiver, ["epayments.payment.created.v1"])
    receiver.statuses = [500, 404]
    api.create_payment("order-70004")
    received = receiver.wait_for(3)
    assert sandbox.state.wait_for_deliveries(2)
    assert len({r.body for r in received}) == 1
    assert len({r.headers["Webhook-Id"] for r in received}) == 1  # one message, three attempts
    (delivery,) = sandbox.state.deliveries()
    assert delivery.status == "delivered"
    assert [a.status for a in delivery.attempts] == [500, 404, 200]


def test_no_answer_in_time_is_a_failure() -> None:
    config = fast_config(delivery=DeliveryConfig(webhook_retry_delays=[0.05], webhook_timeout=0.2, tick_interval=0.05))
    with SandboxServer(config=config) as server, run_receiver() as receiver:
        server.register_merchant(msn=MSN, client_id="c", client_secret="s", subscription_key="k")
        api = Api(server)
        register(api, receiver, ["epayments.payment.created.v1"])
        receiver.delays = [0.5]
        api.create_payment("order-70005")
        receiver.wait_for(2)
        assert server.state.wait_for_deliveries(2)
        (delivery,) = server.state.deliveries()
        assert [a.error or a.status for a in delivery.attempts] == ["timeout", 200]


def test_failed_event_holds_back_later_events_of_the_same_payment(
    api: Api, receiver: Receiver, sandbox: SandboxServer
) -> None:
    register(api, receiver, EPAYMENT_EVENTS)
    failures = {"left": 2}

    def responder(item) -> int:  # AUTHORIZED of order-70006 fails twice
        payload = item.json()
        if payload["reference"] == "order-70006" and payload["name"] == "AUTHORIZED" and failures["left"]:
            failures["left"] -= 1
            return 500
        return 200

    receiver.responder = responder
    sandbox.state.dispatcher.config.webhook_retry_delays = [0.3, 0.3, 0.3]
    api.authorized_payment("order-70006", 10000)
    api.adjust("order-70006", "capture", 10000)
    api.create_payment("order-70007")  # another payment is not held back
    receiver.wait_for(6)
    assert sandbox.state.wait_for_deliveries(3)
    sequence = [(p["reference"], p["name"]) for p in receiver.payloads()]
    assert [name for ref, name in sequence if ref == "order-70006"] == [
        "CREATED",
        "AUTHORIZED",
        "AUTHORIZED",
        "AUTHORIZED",
        "CAPTURED",
    ]
    # order-70007 went through while AUTHORIZED of order-70006 was being retried.
    assert sequence.index(("order-70007", "CREATED")) < len(sequence) - 2


def test_gives_up_after_the_schedule_and_unblocks(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    register(api, receiver, ["epayments.payment.created.v1", "epayments.payment.authorized.v1"])
    receiver.statuses = [500, 500, 500, 500]  # 1 attempt + 3 retries in fast_config
    api.create_payment("order-70008")
    sandbox.state.approve(MSN, "order-70008", PHONE)
    receiver.wait_for(5)
    assert sandbox.state.wait_for_deliveries(2)
    created, authorized = sandbox.state.deliveries()
    assert created.status == "failed" and len(created.attempts) == 4
    assert authorized.status == "delivered"
    assert names(receiver)[-1] == "AUTHORIZED"


def test_unreachable_receiver_is_retried_then_failed(api: Api, sandbox: SandboxServer) -> None:
    api.post(
        "/webhooks/v1/webhooks",
        201,
        json={"url": "http://127.0.0.1:9/hook", "events": ["epayments.payment.created.v1"]},
    )
    api.create_payment("order-70009")
    assert sandbox.state.wait_for_deliveries(3)
    (delivery,) = sandbox.state.deliveries()
    assert delivery.status == "failed"
    assert len(delivery.attempts) == 4 and all(a.error for a in delivery.attempts)


def test_deleting_the_webhook_stops_retries(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    hook = register(api, receiver, ["epayments.payment.created.v1"])
    receiver.default_status = 500
    sandbox.state.dispatcher.config.webhook_retry_delays = [0.2, 0.2, 0.2]
    api.create_payment("order-70010")
    receiver.wait_for(1)
    api.delete(f"/webhooks/v1/webhooks/{hook['id']}", 204)
    assert sandbox.state.wait_for_deliveries(2)
    (delivery,) = sandbox.state.deliveries()
    assert delivery.status == "cancelled"
    assert len(receiver.received) == 1


def test_checked_in_webhook_on_scan(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    hook = register(api, receiver, ["user.checked-in.v1"], path="/checkin")
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    before = time.time()
    token = sandbox.state.scan(PHONE, MSN, "kasse-1")
    (item,) = receiver.wait_for(1)
    payload = item.json()
    contract.validate_webhook_payload("user.checked-in.v1", payload)
    assert payload["customerToken"] == token.token
    assert payload["merchantQrId"] == "kasse-1"
    assert payload["msn"] == MSN and "merchantSerialNumber" not in payload
    assert len(payload["initiatedAt"].split(".")[1]) == 8  # 7 digits + Z, like Vipps
    assert datetime.fromisoformat(payload["initiatedAt"]).timestamp() >= before - 1
    assert signing.verify(hook["secret"], receiver.url + "/checkin", item.body, item.headers)
    exchanged = api.post(
        "/qr/v1/exchange/customer",
        200,
        json={"customer": {"customerToken": token.token}, "requestedData": ["MSISDN"]},
    ).json()
    assert exchanged["msisdn"] == PHONE


def test_scan_of_migrated_beacon_uses_beacon_as_merchant_qr_id(
    api: Api, receiver: Receiver, sandbox: SandboxServer
) -> None:
    register(api, receiver, ["user.checked-in.v1"])
    beacon = "a7b69d37-6753-4e94-afc3-ef5dab04b7f4"
    api.put(f"/qr/v1/merchant-callback/mobilepay/{beacon}", json={"locationDescription": "Kasse 1"})
    qr = api.get(f"/qr/v1/merchant-callback/{beacon}").json()
    sandbox.state.scan(PHONE, qr_content=qr["qrContent"])
    assert receiver.wait_for(1)[0].json()["merchantQrId"] == beacon


# -- delivery faults -------------------------------------------------------------------------
def test_dropped_delivery_is_never_sent_and_does_not_block(
    api: Api, receiver: Receiver, sandbox: SandboxServer
) -> None:
    register(api, receiver, EPAYMENT_EVENTS)
    sandbox.faults.drop_webhooks(event_type="epayments.payment.authorized.v1", times=1)
    api.authorized_payment("order-71001", 10000)
    api.adjust("order-71001", "capture", 5000)
    receiver.wait_for(2)
    assert sandbox.state.wait_for_deliveries(2)
    assert names(receiver) == ["CREATED", "CAPTURED"]
    assert [d.status for d in sandbox.state.deliveries()] == ["delivered", "dropped", "delivered"]


def test_duplicated_delivery_arrives_twice(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    register(api, receiver, ["epayments.payment.created.v1"])
    sandbox.faults.duplicate_webhooks(times=1)
    api.create_payment("order-71002")
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    assert first.headers["Webhook-Id"] == second.headers["Webhook-Id"]
    time.sleep(0.2)
    assert len(receiver.received) == 2


def test_reordered_delivery_is_overtaken(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    register(api, receiver, EPAYMENT_EVENTS)
    sandbox.faults.reorder_delay = 0.4
    sandbox.faults.reorder_webhooks(event_type="epayments.payment.authorized.v1", times=1)
    api.authorized_payment("order-71003", 10000)
    api.adjust("order-71003", "capture", 10000)
    receiver.wait_for(3)
    assert names(receiver) == ["CREATED", "CAPTURED", "AUTHORIZED"]


@pytest.mark.parametrize("msn", [MSN, OTHER_MSN])
def test_no_webhook_no_delivery(sandbox: SandboxServer, msn: str) -> None:
    api = Api(sandbox, msn)
    api.create_payment("order-71004", currency=sandbox.state.merchants[msn].currency, value=1000)
    assert sandbox.state.deliveries() == []
