"""Vipps MobilePay sandbox: a local test double of the Vipps APIs and of the customer's app.

For development, demos and tests only; never used in production. It emulates, on loopback:

* Access token ``POST /accesstoken/get``; every other call needs its Bearer token.
* QR API merchant callback codes (``/qr/v1/merchant-callback...``), the MobilePay beacon
  mapping and ``POST /qr/v1/exchange/customer``; images behind ``qrImageUrl``.
* Webhooks API (``/webhooks/v1/webhooks``) with signed, retried, ordered deliveries.
* ePayment API (``/epayment/v1/...``) with the payment state machine and idempotency.
* MobilePay PoS v10 ``GET /pos/v10/pointofsales/{posId}/checkin`` and its notifications.
* The customer's phone at ``/_sandbox/phone`` and a JSON control API at ``/_sandbox/api/``.

Entry points::

    python -m vipps_sandbox --host 127.0.0.1 --port 8100 --seed seed.json

    from vipps_sandbox.server import SandboxServer, fast_config
    with SandboxServer(config=fast_config()) as sandbox: ...

``vipps_sandbox.contract`` validates traffic against the OpenAPI files and imports neither
Flask nor the server, so importing this package stays cheap; the names below load lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .faults import Faults
    from .server import SandboxServer
    from .state import SandboxConfig, SandboxState

__all__ = ["Faults", "SandboxConfig", "SandboxServer", "SandboxState"]

_LAZY = {
    "Faults": "vipps_sandbox.faults",
    "SandboxServer": "vipps_sandbox.server",
    "SandboxConfig": "vipps_sandbox.state",
    "SandboxState": "vipps_sandbox.state",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vipps_sandbox' has no attribute {name!r}")
