"""Seeding, the state file and the command line."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from vipps_sandbox.seed import load_seed_file
from vipps_sandbox.server import SandboxServer, fast_config
from vipps_sandbox.state import SandboxState

from .conftest import PHONE, Api

ROOT = Path(__file__).resolve().parents[2]
SEED = {
    "merchants": [
        {
            "msn": "112233",
            "client_id": "demo-client",
            "client_secret": "demo-secret",
            "subscription_key": "demo-key",
            "subscription_keys": ["demo-key-2"],
            "currency": "NOK",
            "name": "Demo",
        },
        {
            "merchantSerialNumber": "445566",
            "clientId": "dk-client",
            "clientSecret": "dk-secret",
            "subscriptionKey": "dk-key",
            "currency": "DKK",
        },
    ],
    "phones": ["+47 98 76 54 32"],
    "callback_aliases": [{"alias": "demo", "url": "http://127.0.0.1:9/notify"}],
    "points_of_sale": [{"msn": "445566", "merchant_pos_id": "Kasse 1", "callback_alias": "demo"}],
}


def token(url: str, client_id: str, secret: str, key: str) -> requests.Response:
    return requests.post(
        f"{url}/accesstoken/get",
        timeout=5,
        headers={"client_id": client_id, "client_secret": secret, "Ocp-Apim-Subscription-Key": key},
    )


def test_seed_file(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEED), encoding="utf-8")
    with SandboxServer(config=fast_config(), seed=path) as server:
        assert token(server.url, "demo-client", "demo-secret", "demo-key").status_code == 200
        assert token(server.url, "demo-client", "demo-secret", "demo-key-2").status_code == 200  # secondary key
        assert token(server.url, "dk-client", "dk-secret", "dk-key").status_code == 200
        assert server.state.merchants["445566"].currency == "DKK"
        assert server.state.phones == ["4798765432"]
        assert len(server.state.points_of_sale) == 1


def test_seed_as_bare_list_and_bad_seed() -> None:
    state = SandboxState()
    state.load_seed([{"msn": "1234", "client_id": "a", "client_secret": "b", "subscription_key": "c"}])
    assert state.merchants["1234"].currency == "NOK"
    with pytest.raises(ValueError, match="unknown merchant field"):
        state.load_seed(
            [
                {
                    "msn": "1234",
                    "client_id": "a",
                    "client_secret": "b",
                    "subscription_key": "c",
                    "colour": "blue",
                }
            ]
        )


def test_state_file_keeps_qr_codes_webhooks_and_payments(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with SandboxServer(config=fast_config(), seed=SEED, state_file=state_file) as server:
        api = Api(server, "112233")
        api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
        qr = api.get("/qr/v1/merchant-callback/kasse-1").json()
        api.post(
            "/webhooks/v1/webhooks",
            201,
            json={"url": "https://example.no/h", "events": ["epayments.payment.created.v1"]},
        )
        api.authorized_payment("order-93001", 10000)
        api.adjust("order-93001", "capture", 2500)
    assert state_file.exists()
    with SandboxServer(config=fast_config(), state_file=state_file) as server:
        api = Api(server, "112233")  # merchants came back too: the token call works
        again = api.get("/qr/v1/merchant-callback/kasse-1").json()
        assert again["qrContent"] == qr["qrContent"]
        assert requests.get(again["qrImageUrl"], timeout=5).status_code == 200
        payment = api.get("/epayment/v1/payments/order-93001").json()
        assert payment["state"] == "AUTHORIZED"
        assert payment["aggregate"]["capturedAmount"]["value"] == 2500
        assert len(api.get("/webhooks/v1/webhooks").json()["webhooks"]) == 1
        assert server.state.pending_for_phone(PHONE) == []


def test_load_seed_file_helper(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"merchants": SEED["merchants"][:1]}), encoding="utf-8")
    state = SandboxState()
    load_seed_file(state, path)
    assert list(state.merchants) == ["112233"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(port: int, *args: str, stderr: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """`python -m vipps_sandbox` as its own process, once it answers; `stderr=PIPE` to read its log."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vipps_sandbox", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/_sandbox/api/health", timeout=1).status_code == 200:
                return process
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the sandbox did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_command_line_with_seed_and_state_file(tmp_path: Path) -> None:
    seed, state_file = tmp_path / "seed.json", tmp_path / "state.json"
    seed.write_text(json.dumps(SEED), encoding="utf-8")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start(port, "--seed", str(seed), "--state-file", str(state_file))
    try:
        response = token(url, "demo-client", "demo-secret", "demo-key")
        assert response.status_code == 200
        headers = {
            "Authorization": f"Bearer {response.json()['access_token']}",
            "Ocp-Apim-Subscription-Key": "demo-key",
            "Merchant-Serial-Number": "112233",
        }
        put = requests.put(
            f"{url}/qr/v1/merchant-callback/kasse-9",
            json={"locationDescription": "Kasse 9"},
            headers=headers,
            timeout=5,
        )
        assert put.status_code == 200
    finally:
        _stop(process)
    assert "kasse-9" in state_file.read_text(encoding="utf-8")
    process = _start(port, "--state-file", str(state_file))
    try:
        response = token(url, "demo-client", "demo-secret", "demo-key")
        headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        again = requests.get(f"{url}/qr/v1/merchant-callback/kasse-9", headers=headers, timeout=5)
        assert again.status_code == 200 and again.json()["locationDescription"] == "Kasse 9"
    finally:
        _stop(process)
