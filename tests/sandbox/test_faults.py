"""Fault injection: errors ("fail N times then succeed"), latency, timeouts, "apply then time
out", seeded randomness, and the runtime JSON API."""

from __future__ import annotations

import time

import pytest
import requests

from vipps_sandbox.faults import FaultRule, Faults

from .conftest import Api, Receiver, error_code


def captured(api: Api, reference: str) -> int:
    return api.get(f"/epayment/v1/payments/{reference}").json()["aggregate"]["capturedAmount"]["value"]


def test_fail_n_times_then_succeed(api: Api) -> None:
    api.authorized_payment("order-80001", 10000)
    rule = api.server.faults.fail(503, operation="capture", times=2)
    statuses = [api.adjust("order-80001", "capture", 4000, key="retry-me", expected=None).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert rule.hits == 2
    assert captured(api, "order-80001") == 4000  # the failed attempts did nothing
    api.adjust("order-80001", "capture", 1000)  # and the rule is used up


def test_error_only_hits_the_named_operation(api: Api) -> None:
    api.create_payment("order-80002")
    api.server.faults.fail(500, operation="refundPayment")
    api.get("/epayment/v1/payments/order-80002")
    response = api.adjust("order-80002", "refund", 100, expected=500)
    assert response.headers["Content-Type"] == "application/problem+json"


def test_errors_use_each_apis_error_shape(api: Api) -> None:
    assert api.headers  # fetch the token before every operation fails
    api.server.faults.fail(502)
    api.get("/webhooks/v1/webhooks", 502)
    api.get("/qr/v1/merchant-callback", 502)
    api.get("/epayment/v1/payments/order-80003", 502)
    api.post(
        "/accesstoken/get",
        502,
        auth=False,
        headers={"client_id": "x", "client_secret": "y", "Ocp-Apim-Subscription-Key": "z"},
    )


def test_latency(api: Api) -> None:
    api.create_payment("order-80004")
    api.server.faults.add_latency(0.3, operation="get")
    started = time.monotonic()
    api.get("/epayment/v1/payments/order-80004")
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.get("/epayment/v1/payments/order-80004/events")
    assert time.monotonic() - started < 0.3


def test_timeout_does_nothing(api: Api) -> None:
    api.authorized_payment("order-80005", 10000)
    api.server.faults.timeout(operation="capture", times=1, seconds=0.6)
    with pytest.raises(requests.ReadTimeout):
        api.adjust("order-80005", "capture", 10000, key="t-1", timeout=0.2)
    assert captured(api, "order-80005") == 0
    api.adjust("order-80005", "capture", 10000, key="t-1")  # the retry does it
    assert captured(api, "order-80005") == 10000


def test_timeout_eventually_answers_504(api: Api) -> None:
    api.server.faults.timeout(operation="getWebhooks", times=1, seconds=0.2)
    api.get("/webhooks/v1/webhooks", 504)


def test_apply_then_timeout_takes_effect_and_the_retry_is_replayed(api: Api) -> None:
    api.authorized_payment("order-80006", 10000)
    api.server.faults.apply_then_timeout(operation="capture", times=1, seconds=0.6)
    with pytest.raises(requests.ReadTimeout):
        api.adjust("order-80006", "capture", 7000, key="a-1", timeout=0.2)
    assert captured(api, "order-80006") == 7000  # it happened although the client saw a timeout
    retry = api.adjust("order-80006", "capture", 7000, key="a-1")
    assert retry.json()["aggregate"]["capturedAmount"]["value"] == 7000  # not captured twice
    events = api.get("/epayment/v1/payments/order-80006/events").json()
    assert [e["name"] for e in events].count("CAPTURED") == 1


def test_apply_then_timeout_on_create(api: Api) -> None:
    api.server.faults.apply_then_timeout(operation="create", times=1, seconds=0.6)
    with pytest.raises(requests.ReadTimeout):
        api.create_payment("order-80007", key="c-1", timeout=0.2)
    api.get("/epayment/v1/payments/order-80007")
    assert api.create_payment("order-80007", key="c-1").json() == {"reference": "order-80007"}


def test_seeded_randomness_is_repeatable() -> None:
    def run(seed: int) -> list[int | None]:
        faults = Faults()
        faults.seed(seed)
        faults.fail(503, rate=0.5)
        faults.drop_webhooks(rate=0.5)
        requests_fates = [faults.for_request("createPayment").error_status for _ in range(40)]
        drops = [faults.for_delivery("epayments.payment.created.v1").drop for _ in range(40)]
        return requests_fates + [int(d) for d in drops]

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert 503 in first[:40] and None in first[:40]  # a real share, not all or nothing


def test_rate_share_over_http(api: Api) -> None:
    api.server.faults.seed(3)
    api.server.faults.fail(500, operation="getWebhooks", rate=0.5)
    statuses = [api.get("/webhooks/v1/webhooks", None).status_code for _ in range(30)]
    assert set(statuses) == {200, 500}
    assert 5 < statuses.count(500) < 25


def test_rule_validation() -> None:
    with pytest.raises(ValueError):
        FaultRule("explode")
    with pytest.raises(ValueError):
        FaultRule("error", rate=1.5)
    with pytest.raises(ValueError):
        FaultRule("error", status=200)


# -- runtime JSON API ------------------------------------------------------------------------
def test_faults_json_api(api: Api, receiver: Receiver) -> None:
    base = api.server.url + "/_sandbox/api/faults"
    response = requests.post(
        base,
        json={
            "seed": 11,
            "timeoutDelay": 0.5,
            "rules": [{"kind": "error", "operation": "createPayment", "status": 502, "times": 1}],
            "webhooks": [{"kind": "drop", "times": 1}],
        },
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["rules"][0]["operation"] == "createPayment"
    api.post(
        "/webhooks/v1/webhooks",
        201,
        json={"url": receiver.url + "/h", "events": ["epayments.payment.created.v1"]},
    )
    assert api.create_payment("order-80008", key="j-1", expected=502).json()["status"] == 502
    api.create_payment("order-80008", key="j-1")  # dropped webhook
    api.create_payment("order-80009", key="j-2")  # delivered
    assert [r.json()["reference"] for r in receiver.wait_for(1)] == ["order-80009"]
    state = requests.get(base, timeout=5).json()
    assert state["rules"][0]["hits"] == 1 and state["webhooks"][0]["hits"] == 1
    assert requests.delete(base, timeout=5).json()["rules"] == []
    bad = requests.post(base, json={"rules": [{"kind": "explode"}]}, timeout=5)
    assert bad.status_code == 400


def test_error_fault_is_not_remembered_by_idempotency(api: Api) -> None:
    api.server.faults.fail(500, operation="create", times=1)
    assert error_code(api.create_payment("order-80010", key="same", expected=500)) is None
    api.create_payment("order-80010", key="same")
