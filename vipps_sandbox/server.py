"""Run the sandbox in a background thread (tests) or in the foreground (``python -m vipps_sandbox``).

with SandboxServer() as sandbox:
    sandbox.register_merchant(msn="123456", client_id="cid", client_secret="cs",
                              subscription_key="sub", currency="NOK")
    headers = sandbox.auth_headers("123456")   # Authorization, subscription key, MSN
    requests.get(f"{sandbox.url}/epayment/v1/payments/ref-12345678", headers=headers)
    sandbox.state.approve("123456", "ref-12345678", "4791234567")
    sandbox.faults.fail(503, operation="capture", times=2)
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_app
from .delivery import DeliveryConfig
from .faults import Faults
from .models import Merchant
from .seed import load_seed_file
from .state import SandboxConfig, SandboxState

RAW_HEADERS_KEY = "vipps_sandbox.raw_headers"


class SandboxRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, keeping the raw headers.

    werkzeug (like gunicorn) drops headers with an underscore in their name, because
    ``client_id`` and ``client-id`` would both become ``HTTP_CLIENT_ID``. Vipps' token call
    sends exactly ``client_id`` and ``client_secret``, so the raw header list is passed on.
    """

    quiet = False

    def make_environ(self) -> dict[str, Any]:  # type: ignore[override]
        environ = super().make_environ()
        environ[RAW_HEADERS_KEY] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.quiet:
            super().log_request(code, size)


class QuietRequestHandler(SandboxRequestHandler):
    quiet = True


class SandboxServer:
    """The sandbox on ``host:port`` (port 0 = any free port) with werkzeug's threaded server.

    ``url`` is the base URL, ``state`` the in-memory ``SandboxState`` and ``faults`` its
    ``Faults``. Use it as a context manager, or call ``start()`` / ``stop()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SandboxConfig | None = None,
        faults: Faults | None = None,
        seed: str | Path | dict[str, Any] | list[Any] | None = None,
        state_file: str | Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.state = SandboxState(config, self.faults)
        self.state_file = Path(state_file) if state_file else None
        if self.state_file is not None and self.state_file.exists():
            import json

            self.state.restore(json.loads(self.state_file.read_text(encoding="utf-8")))
        if isinstance(seed, str | Path):
            load_seed_file(self.state, seed)
        elif seed is not None:
            self.state.load_seed(seed)
        self.app = create_app(self.state)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox server is not running")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> SandboxServer:
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=QuietRequestHandler)
        self.state.start()
        server = self._server
        # A short poll interval keeps stop() fast (it waits for the serve loop to notice).
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.01), name="vipps-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Foreground mode for the command line."""
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=SandboxRequestHandler)
        self.state.start()
        try:
            self._server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self.state.stop()
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        if self._server is not None:
            self._server.server_close()
        if self.state_file is not None:
            self.state.save(self.state_file)
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- conveniences for tests and demos ------------------------------------------------
    def register_merchant(self, **kwargs: Any) -> Merchant:
        """``state.register_merchant`` (msn, client_id, client_secret, subscription_key, currency, ...)."""
        return self.state.register_merchant(**kwargs)

    def access_token(self, msn: str) -> str:
        """Fetch a token for a registered merchant over HTTP, like a client would."""
        merchant = self.state.merchant(msn)
        response = requests.post(
            f"{self.url}/accesstoken/get",
            headers={
                "client_id": merchant.client_id,
                "client_secret": merchant.client_secret,
                "Ocp-Apim-Subscription-Key": merchant.subscription_keys[0],
                "Merchant-Serial-Number": msn,
            },
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def auth_headers(self, msn: str) -> dict[str, str]:
        """Authorization, Ocp-Apim-Subscription-Key and Merchant-Serial-Number for ``msn``."""
        merchant = self.state.merchant(msn)
        return {
            "Authorization": f"Bearer {self.access_token(msn)}",
            "Ocp-Apim-Subscription-Key": merchant.subscription_keys[0],
            "Merchant-Serial-Number": msn,
        }


def fast_config(**overrides: Any) -> SandboxConfig:
    """A config with a compressed webhook schedule for tests (retries after 50-200 ms)."""
    delivery = DeliveryConfig(
        webhook_retry_delays=[0.05, 0.1, 0.2],
        webhook_timeout=1.0,
        pos_retry_delays=[0.05, 0.05, 0.05],
        pos_timeout=1.0,
        tick_interval=0.05,
    )
    return SandboxConfig(delivery=overrides.pop("delivery", delivery), **overrides)
