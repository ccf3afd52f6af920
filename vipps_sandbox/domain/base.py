"""What the domain mixins share: the state's attributes, constants and small helpers.

``SandboxState`` (``vipps_sandbox.state``) combines the mixins of this package; each mixin
holds the rules of one API. All of them work under ``self.lock``.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .. import contract
from ..delivery import DeliveryConfig, Dispatcher
from ..errors import SandboxError
from ..faults import Faults
from ..models import (
    AccessToken,
    CallbackQr,
    CustomerToken,
    IdempotencyRecord,
    Merchant,
    Payment,
    PointOfSale,
    Webhook,
)

# Live API: 8-64 since ePayment v1.7.0 (the 1.4.1 spec file says 8-50).
REFERENCE_RE = re.compile(contract.LIVE_REFERENCE_PATTERN)
MSN_RE = re.compile(r"^[0-9]{4,10}$")
PHONE_RE = re.compile(r"^\d{10,15}$")
# Not documented by Vipps (CONTRACTS §5.1, UNCONFIRMED); a lenient superset of the safe rule.
MERCHANT_QR_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
BEACON_ID_RE = re.compile(r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d{15})$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
BRAND_ID_RE = re.compile(r"^(MPPOS|POSDK|POSFI)[A-Za-z0-9]{5}$")
LOCATION_ID_RE = re.compile(r"^[A-Za-z0-9]{5}$")
QR_CATEGORIES = ("IN_STORE", "VENDING", "AGE_CHECK")
LOCATION_DESCRIPTION_MAX = 36

EPAYMENT_EVENTS = dict(contract.EPAYMENT_EVENT_TYPES)
EVENT_TYPE_BY_NAME = {name: event_type for event_type, name in EPAYMENT_EVENTS.items()}
KNOWN_EVENT_TYPES = frozenset(
    [
        *EPAYMENT_EVENTS,
        "user.checked-in.v1",
        "recurring.agreement-activated.v1",
        "recurring.agreement-rejected.v1",
        "recurring.agreement-stopped.v1",
        "recurring.agreement-expired.v1",
        "recurring.charge-reserved.v1",
        "recurring.charge-captured.v1",
        "recurring.charge-canceled.v1",
        "recurring.charge-failed.v1",
        "recurring.charge-refunded.v1",
        "recurring.charge-creation-failed.v1",
        "login.merchant-initiated.ping.v1",
    ]
)
CHECKED_IN = "user.checked-in.v1"


@dataclass
class SandboxConfig:
    """Timing and policy knobs; tests shorten the times."""

    access_token_ttl: float = 3600.0  # 1 h, as in the Vipps test environment
    customer_token_ttl: float = 900.0  # 15 min (CONTRACTS §5.2)
    payment_timeout: float = 600.0  # ~10 min until EXPIRED (CONTRACTS §4.4)
    pos_checkin_ttl: float = 60.0  # not documented; a check-in is forgotten after this
    pos_poll_delay_ms: int = 1000
    max_webhooks_per_event: int = 25  # since Feb 2024 (CONTRACTS §3.2)
    # ePayment create/capture/cancel/refund calls per MSN + reference and window (CONTRACTS §4.11);
    # more answer 429 with Retry-After. None switches the limit off.
    epayment_rate_limit: int | None = 5
    epayment_rate_window: float = 60.0
    # Vipps only accepts https webhook URLs; a loopback test double has to allow http.
    allow_http_webhooks: bool = True
    # A fixed base URL for qrImageUrl/redirectUrl; default: the host the client used.
    public_url: str | None = None
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)


def _iso(moment: float) -> str:
    """``2023-08-14T12:48:46.260Z`` (milliseconds, UTC), as Vipps writes timestamps."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(moment * 1000) % 1000:03d}Z"


def _iso7(moment: float) -> str:
    """``2023-10-06T10:45:40.3061965Z`` (7 fractional digits, .NET style) for ``initiatedAt``."""
    dt = datetime.fromtimestamp(moment, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


def _token(nbytes: int = 32) -> str:
    return base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")


def _psp_reference() -> str:
    return str(10**17 + secrets.randbelow(9 * 10**17))


def normalize_phone(value: str) -> str:
    """MSISDN digits from what a person types; 8 digits are taken as a Norwegian number."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 8:
        digits = "47" + digits
    if not PHONE_RE.match(digits):
        raise SandboxError(
            400,
            f"{value!r} is not a phone number (MSISDN, 10-15 digits, e.g. 4791234567)",
            code="4070",
            fields=[("phoneNumber", "must match ^\\d{10,15}$")],
        )
    return digits


def fingerprint(body: bytes) -> str:
    """Body identity for idempotency: canonical JSON when it parses, the raw bytes otherwise."""
    if not body.strip():
        return ""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return body.decode("utf-8", "replace")


class StateBase:
    """The attributes every mixin relies on (``SandboxState.__init__`` sets them)."""

    config: SandboxConfig
    faults: Faults
    lock: threading.RLock
    clock_offset: float
    merchants: dict[str, Merchant]
    tokens: dict[str, AccessToken]
    qr_codes: dict[tuple[str, str], CallbackQr]
    images: dict[str, str]  # image id -> the text the QR image encodes
    customer_tokens: dict[str, CustomerToken]
    payments: dict[tuple[str, str], Payment]
    redirect_tokens: dict[str, tuple[str, str]]
    webhooks: dict[str, Webhook]
    idempotency: dict[tuple[str, str], IdempotencyRecord]
    # (MSN, reference) -> times (sandbox clock) of the modifying calls inside the rate window
    rate_windows: dict[tuple[str, str], list[float]]
    points_of_sale: dict[str, PointOfSale]
    callback_aliases: dict[str, str]
    phones: list[str]
    scans: list[dict[str, Any]]
    dispatcher: Dispatcher

    def now(self) -> float:
        raise NotImplementedError

    def tick(self) -> None:
        raise NotImplementedError

    def emit(self, msn: str, event_type: str, payload: dict[str, Any], ordering_key: str) -> list[Any]:
        raise NotImplementedError

    def remember_phone(self, phone: str) -> None:
        with self.lock:
            if phone not in self.phones:
                self.phones.append(phone)

    def _pos_customer_token(self, value: str) -> CustomerToken | None:
        """The customerToken of a MobilePay PoS check-in (``GET …/checkin``) pays like a QR scan's: the PoS
        payment is an ePayment with ``customer.customerToken`` (CONTRACTS §7)."""
        for pos in list(self.points_of_sale.values()):
            checkin = pos.checkin
            if checkin is not None and checkin.customer_token == value:
                return CustomerToken(
                    token=value,
                    phone=checkin.phone,
                    msn=pos.msn,
                    merchant_qr_id=pos.beacon_id,
                    issued_at=checkin.checked_in_at,
                    expires_at=checkin.expires_at,
                )
        return None

    def _customer_token(self, msn: str, value: str) -> CustomerToken:
        token = self.customer_tokens.get(value) or self._pos_customer_token(value)
        if token is None or token.msn != msn:
            raise SandboxError(
                400,
                "Invalid customerToken",
                code="4050",
                fields=[("customerToken", "unknown token, or issued for another merchant")],
            )
        if token.expires_at <= self.now():
            raise SandboxError(
                400,
                "The customerToken has expired (valid for 15 minutes)",
                code="4050",
                fields=[("customerToken", "expired")],
            )
        return token
