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

import json
import logging
import re
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

logger = logging.getLogger(__name__)

# Phone numbers (MSISDNs) and other long digit runs in logged URLs, e.g.
# /_sandbox/phone?phone=4791234567 or /_sandbox/api/phones/4791234567/pending.
_LONG_DIGITS = re.compile(r"(?<!\d)\d{8,15}(?!\d)")


def mask_digits(text: str) -> str:
    """Mask runs of 8-15 digits but their last 2: ``4791234567`` -> ``********67``."""
    return _LONG_DIGITS.sub(lambda m: "*" * (len(m.group()) - 2) + m.group()[-2:], text)


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

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        # Every access/error log line passes here: keep phone numbers out of the log.
        masked = [mask_digits(a) if isinstance(a, str) else a for a in args]
        super().log(type, mask_digits(message), *masked)


class QuietRequestHandler(SandboxRequestHandler):
    quiet = True


class SandboxServer:
    """The sandbox on ``host:port`` (port 0 = any free port) with werkzeug's threaded server.

    ``url`` is the base URL, ``state`` the in-memory ``SandboxState`` and ``faults`` its
    ``Faults``. Use it as a context manager, or call ``start()`` / ``stop()``.

    With a ``state_file`` the state is loaded from it, written back on ``stop()``, and saved
    every ``save_interval`` seconds while it changes, so a crash loses little. A missing seed
    file is logged and skipped.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SandboxConfig | None = None,
        faults: Faults | None = None,
        seed: str | Path | dict[str, Any] | list[Any] | None = None,
        state_file: str | Path | None = None,
        save_interval: float = 2.0,
    ) -> None:
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.state = SandboxState(config, self.faults)
        self.state_file = Path(state_file) if state_file else None
        self.save_interval = save_interval
        if self.state_file is not None and self.state_file.exists():
            self.state.restore(json.loads(self.state_file.read_text(encoding="utf-8")))
        if isinstance(seed, str | Path):
            try:
                load_seed_file(self.state, seed)
            except FileNotFoundError:
                logger.warning("Seed file %s not found; starting without it", seed)
        elif seed is not None:
            self.state.load_seed(seed)
        self.app = create_app(self.state)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._save_lock = threading.Lock()
        self._saved: str | None = None  # the JSON last written to the state file
        self._autosave_stop = threading.Event()
        self._autosave_thread: threading.Thread | None = None
        self._shutdown_requested = threading.Event()

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox server is not running")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> SandboxServer:
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=QuietRequestHandler)
        self.state.start()
        self._start_autosave()
        server = self._server
        # A short poll interval keeps stop() fast (it waits for the serve loop to notice).
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.01), name="vipps-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Foreground mode for the command line; returns after ``request_shutdown()`` (or Ctrl-C),
        having saved the state file."""
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=SandboxRequestHandler)
        self.state.start()
        self._start_autosave()
        try:
            if not self._shutdown_requested.is_set():
                self._server.serve_forever()
        finally:
            self.stop()

    def request_shutdown(self) -> None:
        """Make ``serve_forever()`` return (and save); safe to call from a signal handler."""
        self._shutdown_requested.set()
        server = self._server
        if server is not None and self._thread is None:
            # shutdown() waits for the serve loop, which runs in the caller's (main) thread.
            threading.Thread(target=server.shutdown, name="vipps-sandbox-shutdown", daemon=True).start()

    def stop(self) -> None:
        self.state.stop()
        self._autosave_stop.set()
        if self._autosave_thread is not None:
            self._autosave_thread.join(timeout=5)
            self._autosave_thread = None
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        if self._server is not None:
            self._server.server_close()
        self.save_state(force=True)
        self._server = None
        self._thread = None

    # -- the state file ------------------------------------------------------------------
    def save_state(self, force: bool = False) -> bool:
        """Write the state file if the state changed since the last write (always with ``force``).

        Returns whether the file was written.
        """
        if self.state_file is None:
            return False
        with self._save_lock:
            text = json.dumps(self.state.snapshot(), indent=1)
            if text == self._saved and not force:
                return False
            tmp = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(self.state_file)
            self._saved = text
            return True

    def _start_autosave(self) -> None:
        if self.state_file is None or self.save_interval <= 0 or self._autosave_thread is not None:
            return
        self._autosave_stop.clear()
        self._autosave_thread = threading.Thread(target=self._autosave, name="vipps-sandbox-autosave", daemon=True)
        self._autosave_thread.start()

    def _autosave(self) -> None:
        while not self._autosave_stop.wait(self.save_interval):
            try:
                self.save_state()
            except Exception:  # a full disk must not end the autosave (or the sandbox)
                logger.exception("Could not save the sandbox state to %s", self.state_file)

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
