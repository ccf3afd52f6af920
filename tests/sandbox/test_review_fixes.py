"""Fixes from the sandbox review: SIGTERM and periodic saves, a missing seed file, schema error
codes on create, Retry-After on faults and the ePayment rate limit, idempotency records and
customer tokens in the state file, cancel's Idempotency-Key, token kinds, and masked phone
numbers in the access log."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from vipps_sandbox import server as sandbox_server
from vipps_sandbox.faults import FaultRule, Faults
from vipps_sandbox.server import SandboxRequestHandler, SandboxServer, fast_config

from .conftest import MSN, PHONE, Api, error_code
from .test_pos import POS_ID, checkin, integrator_token
from .test_pos import pos as pos  # noqa: F401 - the fixture
from .test_server import SEED, _free_port, _start, token

PAYMENTS = "/epayment/v1/payments"


# -- 1. SIGTERM and periodic saves --------------------------------------------------------------
def _create_payment(url: str, reference: str) -> None:
    response = token(url, "demo-client", "demo-secret", "demo-key")
    assert response.status_code == 200
    created = requests.post(
        f"{url}{PAYMENTS}",
        timeout=5,
        headers={
            "Authorization": f"Bearer {response.json()['access_token']}",
            "Ocp-Apim-Subscription-Key": "demo-key",
            "Merchant-Serial-Number": "112233",
            "Idempotency-Key": f"create-{reference}",
        },
        json={
            "amount": {"currency": "NOK", "value": 10000},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "userFlow": "PUSH_MESSAGE",
            "customer": {"phoneNumber": PHONE},
        },
    )
    assert created.status_code == 201, created.text


def test_sigterm_saves_the_state_file(tmp_path: Path) -> None:
    seed, state_file = tmp_path / "seed.json", tmp_path / "state.json"
    seed.write_text(json.dumps(SEED), encoding="utf-8")
    port = _free_port()
    # A long save interval: only the shutdown can have written the file.
    process = _start(
        port, "--seed", str(seed), "--state-file", str(state_file), "--save-interval", "600", stderr=subprocess.PIPE
    )
    try:
        _create_payment(f"http://127.0.0.1:{port}", "order-sigterm-1")
        pending = requests.get(f"http://127.0.0.1:{port}/_sandbox/api/phones/{PHONE}/pending", timeout=5)
        assert [p["reference"] for p in pending.json()] == ["order-sigterm-1"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate(timeout=5)
    assert "order-sigterm-1" in state_file.read_text(encoding="utf-8")
    # The access log does not show the phone number in /_sandbox/... URLs either (item 8).
    assert PHONE not in stderr.decode()


def test_changes_are_saved_periodically_so_kill_9_loses_little(tmp_path: Path) -> None:
    seed, state_file = tmp_path / "seed.json", tmp_path / "state.json"
    seed.write_text(json.dumps(SEED), encoding="utf-8")
    port = _free_port()
    process = _start(port, "--seed", str(seed), "--state-file", str(state_file), "--save-interval", "0.1")
    try:
        _create_payment(f"http://127.0.0.1:{port}", "order-kill9-1")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if state_file.exists() and "order-kill9-1" in state_file.read_text(encoding="utf-8"):
                break
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=5)
    assert "order-kill9-1" in state_file.read_text(encoding="utf-8")


def test_autosave_writes_only_when_the_state_changed(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with SandboxServer(config=fast_config(), seed=SEED, state_file=state_file, save_interval=0.05) as server:
        deadline = time.monotonic() + 5
        while not state_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state_file.exists()
        assert server.save_state() is False  # nothing changed since
        Api(server, "112233").create_payment("order-autosave-1")
        deadline = time.monotonic() + 5
        while "order-autosave-1" not in state_file.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "order-autosave-1" in state_file.read_text(encoding="utf-8")


# -- 2. a missing seed file ---------------------------------------------------------------------
def test_a_missing_seed_file_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "no-such-seed.json"
    with (
        caplog.at_level(logging.WARNING, logger="vipps_sandbox"),
        SandboxServer(config=fast_config(), seed=missing) as server,
    ):
        assert requests.get(f"{server.url}/_sandbox/api/health", timeout=5).status_code == 200
        assert server.state.merchants == {}
    assert any("no-such-seed.json" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


# -- 3. schema failures on create carry a Vipps error code ----------------------------------------
def _create_body(**fields: object) -> dict[str, object]:
    return {
        "amount": {"currency": "NOK", "value": 10000},
        "paymentMethod": {"type": "WALLET"},
        "reference": "order-schema-1",
        "userFlow": "PUSH_MESSAGE",
        "customer": {"phoneNumber": PHONE},
    } | fields


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"customer": {"phoneNumber": "not-a-phone"}}, "4070"),
        ({"amount": {"currency": "NOK", "value": -5}}, "4040"),
        ({"amount": {"currency": "NOK"}}, "4040"),
        ({"amount": {"currency": "NOK", "value": 10000}, "paymentDescription": "ab"}, None),
    ],
)
def test_schema_failures_on_create_carry_error_codes(api: Api, fields: dict, code: str | None) -> None:
    response = api.post(
        PAYMENTS, 400, json=_create_body(**fields), headers={"Idempotency-Key": "schema"}, check_request=False
    )
    assert response.headers["Content-Type"] == "application/problem+json"
    assert error_code(response) == code


# -- 4. Retry-After on faults, and the ePayment rate limit ---------------------------------------
def test_injected_429_carries_retry_after(api: Api) -> None:
    api.authorized_payment("order-retry-1", 10000)
    api.server.faults.fail(429, operation="capture", times=1, retry_after=7)
    response = api.adjust("order-retry-1", "capture", 100, key="ra-1", expected=429)
    assert response.headers["Retry-After"] == "7"
    assert "Retry-After" not in api.adjust("order-retry-1", "capture", 100, key="ra-1").headers
    api.server.faults.fail(500, operation="get", times=1)
    assert "Retry-After" not in api.get(f"{PAYMENTS}/order-retry-1", 500).headers


def test_retry_after_through_the_json_control_api(api: Api) -> None:
    url = f"{api.server.url}/_sandbox/api/faults"
    configured = requests.post(
        url,
        timeout=5,
        json={"rules": [{"kind": "error", "operation": "getWebhooks", "status": 503, "retryAfter": 2.5}]},
    ).json()
    assert configured["rules"][0]["retry_after"] == 2.5
    assert api.get("/webhooks/v1/webhooks", 503).headers["Retry-After"] == "3"  # whole seconds, rounded up


def test_retry_after_on_the_integrator_token_endpoint(sandbox: SandboxServer) -> None:
    sandbox.faults.fail(503, operation="pos_token", times=1, retry_after=4)
    response = requests.post(
        f"{sandbox.url}/integrator-authentication/connect/token",
        auth=("11111111-2222-3333-4444-555555555555", "secret-123456"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert response.status_code == 503 and response.headers["Retry-After"] == "4"


def test_fault_rule_retry_after_validation() -> None:
    with pytest.raises(ValueError, match="retry_after"):
        FaultRule("error", status=429, retry_after=-1)
    faults = Faults()
    faults.configure({"rules": [{"kind": "error", "status": 429, "retry_after": 1}]})
    assert faults.for_request("createPayment").retry_after == 1


def test_epayment_rate_limit_per_msn_and_reference(api: Api, sandbox: SandboxServer) -> None:
    assert sandbox.state.config.epayment_rate_limit == 5  # on by default
    api.authorized_payment("order-limit-1", 10000)  # create: call 1
    for _ in range(4):  # calls 2-5
        api.adjust("order-limit-1", "capture", 100)
    refused = api.adjust("order-limit-1", "refund", 100, expected=429)
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # An idempotent replay goes through the gateway too, and cancel counts like the others.
    api.adjust("order-limit-1", "cancel", expected=429)
    # Reading is not limited by this bucket, and other references have their own.
    assert api.get(f"{PAYMENTS}/order-limit-1").json()["aggregate"]["capturedAmount"]["value"] == 400
    api.create_payment("order-limit-2")
    # A minute later the calls are allowed again.
    sandbox.state.advance(61)
    api.adjust("order-limit-1", "refund", 100)


def test_epayment_rate_limit_can_be_switched_off(api: Api, sandbox: SandboxServer) -> None:
    sandbox.state.config.epayment_rate_limit = None
    api.authorized_payment("order-limit-3", 10000)
    for _ in range(8):
        api.adjust("order-limit-3", "capture", 100)


def test_epayment_rate_limit_config() -> None:
    assert fast_config(epayment_rate_limit=2).epayment_rate_limit == 2
    with SandboxServer(config=fast_config(epayment_rate_limit=1, epayment_rate_window=5)) as server:
        server.register_merchant(msn=MSN, client_id="c", client_secret="s", subscription_key="k")
        api = Api(server)
        api.create_payment("order-limit-4")
        response = api.create_payment("order-limit-4", expected=429)
        assert int(response.headers["Retry-After"]) <= 5


# -- 5. idempotency records and customer tokens survive a restart --------------------------------
def test_a_retried_capture_after_a_restart_is_replayed_not_applied_again(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with SandboxServer(config=fast_config(), seed=SEED, state_file=state_file) as server:
        api = Api(server, "112233")
        api.authorized_payment("order-restart-1", 10000)
        first = api.adjust("order-restart-1", "capture", 2500, key="capture-once")
        api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
        customer_token = server.state.scan(PHONE, "112233", "kasse-1").token
    with SandboxServer(config=fast_config(), state_file=state_file) as server:
        api = Api(server, "112233")
        again = api.adjust("order-restart-1", "capture", 2500, key="capture-once")
        assert again.json() == first.json()
        payment = api.get(f"{PAYMENTS}/order-restart-1").json()
        assert payment["aggregate"]["capturedAmount"]["value"] == 2500
        # Another body with the same key is still a conflict.
        assert error_code(api.adjust("order-restart-1", "capture", 3000, key="capture-once", expected=409)) == "4010"
        # The customer token from before the restart still identifies the customer.
        api.create_payment("order-restart-2", customer={"customerToken": customer_token})
        assert server.state.payments[("112233", "order-restart-2")].target_phone == PHONE


# -- 6. cancel requires an Idempotency-Key ---------------------------------------------------------
def test_cancel_requires_an_idempotency_key(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-cancel-key")
    response = api.post(f"{PAYMENTS}/order-cancel-key/cancel", 400, check_request=False)
    assert response.headers["Content-Type"] == "application/problem+json"
    assert {"name": "Idempotency-Key", "reason": "required"} in response.json()["extraDetails"]
    assert sandbox.state.payments[(MSN, "order-cancel-key")].state == "CREATED"
    api.adjust("order-cancel-key", "cancel")  # with a key it works


# -- 7. PoS integrator tokens and Vipps access tokens are not interchangeable ----------------------
def test_a_vipps_access_token_is_refused_by_the_pos_api(api: Api, pos: dict) -> None:  # noqa: F811
    api.get(
        f"/pos/v10/pointofsales/{POS_ID}/checkin",
        401,
        headers={"X-MobilePay-Client-System-Version": "1.0.0"},  # with the Vipps token of api.headers
    )
    assert checkin(api).json()["isUserCheckedIn"] is False  # an integrator token works


def test_an_integrator_token_is_refused_by_the_vipps_apis(api: Api, sandbox: SandboxServer) -> None:
    pos_token = integrator_token(sandbox, MSN)
    headers = {"Authorization": f"Bearer {pos_token}"}
    api.get("/webhooks/v1/webhooks", 401, headers=headers)
    api.get(f"{PAYMENTS}/order-token-1", 401, headers=headers)
    api.get("/qr/v1/merchant-callback", 401, headers=headers)


# -- 8. phone numbers are masked in the access log -------------------------------------------------
def test_mask_digits() -> None:
    mask_digits = sandbox_server.mask_digits
    assert mask_digits("/_sandbox/phone?phone=4791234567") == "/_sandbox/phone?phone=********67"
    assert mask_digits("/p/12345678/x") == "/p/******78/x"  # 8 digits
    assert mask_digits("/p/1234567/x") == "/p/1234567/x"  # 7: left alone
    assert mask_digits("/p/1234567890123456") == "/p/1234567890123456"  # 16: not a phone
    assert mask_digits("a=4791234567&b=4798765432") == "a=********67&b=********32"


@pytest.fixture
def logged_sandbox(sandbox: SandboxServer) -> Iterator[str]:
    """The sandbox's app behind the logging request handler (the command line's)."""
    server = make_server("127.0.0.1", 0, sandbox.app, threaded=True, request_handler=SandboxRequestHandler)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.01), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def test_access_log_masks_phone_numbers(logged_sandbox: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        requests.get(f"{logged_sandbox}/_sandbox/phone", params={"phone": PHONE}, timeout=5)
        requests.get(f"{logged_sandbox}/_sandbox/api/phones/{PHONE}/pending", timeout=5)
        requests.get(f"{logged_sandbox}/_sandbox/api/phones/%2B{PHONE}/pending", timeout=5)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(lines) == 3, lines
    assert all(PHONE not in line for line in lines), lines
    assert "/_sandbox/api/phones/********67/pending" in lines[1]


@pytest.mark.parametrize(
    "url, status",
    [
        ("http://example.com/hooks/vipps/", 400),
        ("http://10.1.2.3:8000/hooks/vipps/", 400),
        ("http://127.0.0.1:8000/hooks/vipps/", 201),
        ("http://localhost:8000/hooks/vipps/", 201),
        ("https://portal.example.no/hooks/vipps/", 201),
    ],
)
def test_http_webhook_urls_are_accepted_only_on_loopback(api, url, status):
    api.post("/webhooks/v1/webhooks", status, json={"url": url, "events": ["epayments.payment.captured.v1"]})
