"""Fixtures for the sandbox tests: a running sandbox, a contract-checking client and a
local webhook receiver. Plain pytest, no Django."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from vipps_sandbox import contract
from vipps_sandbox.server import SandboxServer, fast_config

MSN = "123456"
OTHER_MSN = "654321"
PHONE = "4791234567"
OTHER_PHONE = "4798765432"


class Api:
    """``requests`` against the sandbox; every exchange is checked against the OpenAPI files."""

    def __init__(self, server: SandboxServer, msn: str = MSN) -> None:
        self.server = server
        self.msn = msn
        self._headers: dict[str, str] | None = None

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = self.server.auth_headers(self.msn)
        return dict(self._headers)

    def call(
        self,
        method: str,
        path: str,
        expected: int | None = None,
        *,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        check_request: bool = True,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> requests.Response:
        sent = (self.headers if auth else {}) | (headers or {})
        response = requests.request(method, self.server.url + path, headers=sent, timeout=timeout, **kwargs)
        contract.validate_requests_response(response, check_request=check_request)
        if expected is not None:
            assert response.status_code == expected, (response.status_code, response.text)
        return response

    def get(self, path: str, expected: int | None = 200, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, expected, **kwargs)

    def post(self, path: str, expected: int | None = 200, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, expected, **kwargs)

    def put(self, path: str, expected: int | None = 200, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, expected, **kwargs)

    def delete(self, path: str, expected: int | None = 200, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, expected, **kwargs)

    # -- ePayment shortcuts --------------------------------------------------------------
    def create_payment(
        self,
        reference: str,
        value: int = 49900,
        key: str | None = None,
        expected: int = 201,
        timeout: float = 10.0,
        **fields: Any,
    ) -> requests.Response:
        body = {
            "amount": {"currency": fields.pop("currency", "NOK"), "value": value},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "userFlow": fields.pop("userFlow", "PUSH_MESSAGE"),
            "customer": fields.pop("customer", {"phoneNumber": PHONE}),
            "paymentDescription": fields.pop("paymentDescription", "Sandbox test"),
        } | fields
        if body["customer"] is None:
            del body["customer"]
        return self.post(
            "/epayment/v1/payments",
            expected,
            json=body,
            timeout=timeout,
            headers={"Idempotency-Key": key or f"create-{reference}"},
        )

    def authorized_payment(self, reference: str, value: int = 49900) -> None:
        self.create_payment(reference, value)
        self.server.state.approve(self.msn, reference, PHONE)

    def adjust(
        self,
        reference: str,
        action: str,
        value: int | None = None,
        key: str | None = None,
        expected: int | None = 200,
        **kwargs: Any,
    ) -> requests.Response:
        body = {"modificationAmount": {"currency": "NOK", "value": value}} if value is not None else None
        return self.post(
            f"/epayment/v1/payments/{reference}/{action}",
            expected,
            json=body,
            headers={"Idempotency-Key": key or f"{action}-{reference}-{value}-{time.monotonic_ns()}"},
            **kwargs,
        )


def error_code(response: requests.Response) -> str | None:
    """The Vipps ErrorCode in an ePayment problem body."""
    for item in response.json().get("extraDetails") or []:
        if item["name"] == "ErrorCode":
            return str(item["reason"])
    return None


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(config=fast_config()) as server:
        server.faults.timeout_delay = 1.0
        server.register_merchant(
            msn=MSN,
            client_id="11111111-2222-3333-4444-555555555555",
            client_secret="secret-123456",
            subscription_key="sub-123456",
            currency="NOK",
            name="Kiosken AS",
        )
        server.register_merchant(
            msn=OTHER_MSN,
            client_id="66666666-7777-8888-9999-000000000000",
            client_secret="secret-654321",
            subscription_key="sub-654321",
            currency="DKK",
            name="Kiosken ApS",
        )
        yield server


@pytest.fixture
def api(sandbox: SandboxServer) -> Api:
    return Api(sandbox)


@pytest.fixture
def other_api(sandbox: SandboxServer) -> Api:
    return Api(sandbox, OTHER_MSN)


# -- a local webhook receiver ----------------------------------------------------------------
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class Receiver:
    """Records POSTs; answers with ``statuses`` (consumed in order, then ``default_status``),
    after sleeping ``delays`` (consumed in order) seconds."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    default_status: int = 200
    responder: Callable[[Received], int] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        item = Received(request.full_path.rstrip("?"), dict(request.headers), request.get_data(), time.monotonic())
        with self.lock:
            self.received.append(item)
            status = self.statuses.pop(0) if self.statuses else self.default_status
            delay = self.delays.pop(0) if self.delays else 0.0
        if self.responder is not None:
            status = self.responder(item)
        if delay:
            time.sleep(delay)
        return Response("ok", status=status)(environ, start_response)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        with self.lock:
            raise AssertionError(f"expected {count} deliveries, got {len(self.received)}: {self.received}")

    def payloads(self) -> list[Any]:
        with self.lock:
            return [r.json() for r in self.received]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextlib.contextmanager
def run_receiver() -> Iterator[Receiver]:
    """A webhook receiver on a free loopback port, for as long as the block runs."""
    recv = Receiver()
    server: BaseWSGIServer = make_server("127.0.0.1", 0, recv, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.01), daemon=True)
    thread.start()
    recv.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield recv
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as recv:
        yield recv
