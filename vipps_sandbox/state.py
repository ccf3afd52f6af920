"""The sandbox's in-memory state (no HTTP here).

All mutation happens under one re-entrant lock (``state.lock``): the werkzeug server is
threaded and the delivery thread ticks payment expiry. Methods raise ``SandboxError`` with
the HTTP status and Vipps error code a real API would answer; the routes render it in each
API's own error shape.

The rules of each API live in a mixin under ``vipps_sandbox/domain/`` (QR, payments,
webhooks, PoS); this module holds the state itself, time, merchants and tokens, event
emission, seeding and snapshots. Behaviour follows CONTRACTS.md: payment states and
aggregates §4.4–4.6, error codes §4.7, idempotency §4.2, QR §5, webhooks §3, PoS §6. Where
the live API is newer than the spec file, the live behaviour is emulated (reference 8–64
characters, minimum amounts, ``expiresAt`` up to 60 days, 25 webhooks per event type).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .delivery import Delivery, Dispatcher
from .domain.base import (  # noqa: F401 - re-exported for routes and users of the state
    MSN_RE,
    PHONE_RE,
    REFERENCE_RE,
    UUID_RE,
    SandboxConfig,
    StateBase,
    _token,
    fingerprint,
    normalize_phone,
)
from .domain.payments import PaymentsMixin
from .domain.pos import PosMixin
from .domain.qr import QrMixin
from .domain.webhooks import WebhooksMixin
from .errors import SandboxError
from .faults import Faults
from .models import (
    CURRENCIES,
    AccessToken,
    CallbackQr,
    CustomerToken,
    IdempotencyRecord,
    Merchant,
    Payment,
    PaymentEvent,
    PointOfSale,
    Webhook,
)

__all__ = ["SandboxConfig", "SandboxState", "normalize_phone"]

# Who issued a bearer token: the Vipps access token API, or MobilePay's integrator
# authentication (PoS v10). Each API only accepts its own kind.
VIPPS_TOKEN = "vipps"
POS_TOKEN = "pos"
_TOKEN_KINDS = {VIPPS_TOKEN: "a Vipps access token", POS_TOKEN: "a PoS integrator token"}


@dataclass
class IssuedToken(AccessToken):
    """An access token tagged with its issuer (``VIPPS_TOKEN`` or ``POS_TOKEN``)."""

    issuer: str = VIPPS_TOKEN


class SandboxState(QrMixin, PaymentsMixin, WebhooksMixin, PosMixin, StateBase):
    """Everything the sandbox knows, and the operations on it (the rules live in ``domain/``)."""

    def __init__(self, config: SandboxConfig | None = None, faults: Faults | None = None) -> None:
        self.config = config or SandboxConfig()
        self.faults = faults or Faults()
        self.lock = threading.RLock()
        self._stopping = threading.Event()
        self.clock_offset = 0.0
        self.merchants: dict[str, Merchant] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.qr_codes: dict[tuple[str, str], CallbackQr] = {}
        self.images: dict[str, str] = {}  # image id -> encoded content
        self.customer_tokens: dict[str, CustomerToken] = {}
        self.payments: dict[tuple[str, str], Payment] = {}
        self.redirect_tokens: dict[str, tuple[str, str]] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.rate_windows: dict[tuple[str, str], list[float]] = {}
        self.points_of_sale: dict[str, PointOfSale] = {}
        self.callback_aliases: dict[str, str] = {}
        self.phones: list[str] = []  # numbers offered on the phone page
        self.scans: list[dict[str, Any]] = []
        self.dispatcher = Dispatcher(self.config.delivery, self.faults, self._delivery_active, self.tick)

    # -- time ----------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (token and payment expiry) and apply expiries."""
        with self.lock:
            self.clock_offset += seconds
        self.tick()

    def sleep(self, seconds: float) -> None:
        """Sleep that ends early when the server stops (used by latency/timeout faults)."""
        self._stopping.wait(seconds)

    def start(self) -> None:
        self._stopping.clear()
        self.dispatcher.start()

    def stop(self) -> None:
        self._stopping.set()
        self.dispatcher.stop()

    def tick(self) -> None:
        """Expire due payments and PoS check-ins (called by the delivery thread)."""
        now = self.now()
        with self.lock:
            for payment in self.payments.values():
                if payment.state == "CREATED" and payment.expires_at <= now:
                    self._transition(payment, "EXPIRED", payment.amount, None)
            for pos in self.points_of_sale.values():
                if pos.checkin is not None and pos.checkin.expires_at <= now:
                    pos.checkin = None

    # -- merchants and auth --------------------------------------------------------------
    def register_merchant(
        self,
        msn: str,
        client_id: str,
        client_secret: str,
        subscription_key: str | None = None,
        currency: str = "NOK",
        name: str = "Sandbox merchant",
        subscription_keys: Iterable[str] | None = None,
        push_message_allowed: bool = True,
        long_living_payments_allowed: bool = True,
        partial_capture_allowed: bool = True,
    ) -> Merchant:
        """Register (or replace) a sandbox sales unit and its keys."""
        keys = [k for k in ([subscription_key] if subscription_key else []) + list(subscription_keys or []) if k]
        problems = []
        if not MSN_RE.match(str(msn)):
            problems.append(("msn", "must be 4-10 digits (the ePayment spec allows 4-6)"))
        if not client_id:
            problems.append(("client_id", "required"))
        if not client_secret:
            problems.append(("client_secret", "required"))
        if not keys:
            problems.append(("subscription_key", "required"))
        if currency not in CURRENCIES:
            problems.append(("currency", f"must be one of {', '.join(CURRENCIES)}"))
        if problems:
            raise SandboxError(400, "Invalid sandbox merchant", fields=problems)
        with self.lock:
            for other in self.merchants.values():
                if other.msn != msn and other.client_id == client_id:
                    raise SandboxError(409, f"client_id is already used by MSN {other.msn}")
            merchant = Merchant(
                msn=str(msn),
                client_id=client_id,
                client_secret=client_secret,
                subscription_keys=keys,
                currency=currency,
                name=name,
                push_message_allowed=push_message_allowed,
                long_living_payments_allowed=long_living_payments_allowed,
                partial_capture_allowed=partial_capture_allowed,
            )
            self.merchants[merchant.msn] = merchant
            return merchant

    def merchant(self, msn: str) -> Merchant:
        with self.lock:
            if msn not in self.merchants:
                raise SandboxError(404, f"No sandbox merchant with MSN {msn}")
            return self.merchants[msn]

    def issue_token(
        self,
        client_id: str | None,
        client_secret: str | None,
        subscription_key: str | None,
        msn: str | None = None,
        issuer: str = VIPPS_TOKEN,
    ) -> IssuedToken:
        """A new bearer token; ``issuer`` says which API it is for (see ``authenticate``)."""
        if issuer not in _TOKEN_KINDS:
            raise ValueError(f"unknown token issuer {issuer!r}")
        if not client_id or not client_secret:
            raise SandboxError(400, "The client_id and client_secret headers are required")
        if not subscription_key:
            raise SandboxError(401, "Access denied due to missing subscription key")
        with self.lock:
            merchant = next((m for m in self.merchants.values() if m.client_id == client_id), None)
            if merchant is None or not secrets.compare_digest(merchant.client_secret, client_secret):
                raise SandboxError(401, "Invalid client_id or client_secret")
            if subscription_key not in merchant.subscription_keys:
                raise SandboxError(401, "Access denied due to invalid subscription key")
            if msn is not None and msn != merchant.msn:
                raise SandboxError(401, f"The keys do not belong to MSN {msn}")
            now = self.now()
            token = IssuedToken(
                token=_token(96),
                msn=merchant.msn,
                subscription_key=subscription_key,
                issued_at=now,
                expires_at=now + self.config.access_token_ttl,
                issuer=issuer,
            )
            self.tokens[token.token] = token
            return token

    def authenticate(
        self,
        authorization: str | None,
        subscription_key: str | None,
        check_subscription_key: bool = True,
        issuer: str = VIPPS_TOKEN,
    ) -> Merchant:
        """The merchant behind a ``Bearer`` token; 401 for anything missing, unknown or expired,
        and for a token of another issuer (a PoS integrator token on the Vipps APIs, or the
        other way round)."""
        if check_subscription_key and not subscription_key:
            raise SandboxError(
                401,
                "Access denied due to missing subscription key. Make sure to include "
                "the Ocp-Apim-Subscription-Key header",
            )
        if not authorization or not authorization.startswith("Bearer "):
            raise SandboxError(401, "Missing or malformed Authorization header (expected 'Bearer <token>')")
        with self.lock:
            token = self.tokens.get(authorization[len("Bearer ") :].strip())
            if token is None:
                raise SandboxError(401, "Invalid access token")
            if token.issuer != issuer:
                raise SandboxError(
                    401,
                    f"This API needs {_TOKEN_KINDS[issuer]}, not {_TOKEN_KINDS.get(token.issuer, token.issuer)}",
                )
            if token.expires_at <= self.now():
                raise SandboxError(401, "The access token has expired")
            merchant = self.merchants.get(token.msn)
            if merchant is None:
                raise SandboxError(401, "The access token's merchant no longer exists")
            if check_subscription_key and subscription_key not in merchant.subscription_keys:
                raise SandboxError(401, "Access denied due to invalid subscription key")
            return merchant

    def emit(self, msn: str, event_type: str, payload: dict[str, Any], ordering_key: str) -> list[Delivery]:
        """Queue ``payload`` for every webhook of ``msn`` that subscribes to ``event_type``."""
        with self.lock:
            targets = [w for w in self.webhooks.values() if w.msn == msn and event_type in w.events]
            return [
                self.dispatcher.enqueue_webhook(w.id, w.url, w.secret, event_type, payload, ordering_key, msn)
                for w in sorted(targets, key=lambda w: w.created_at)
            ]

    def _delivery_active(self, delivery: Delivery) -> bool:
        # Deliveries to a deleted registration stop; PoS aliases stay.
        if delivery.kind != "webhook":
            return True
        with self.lock:
            return delivery.target_id in self.webhooks

    def deliveries(self, kind: str | None = None) -> list[Delivery]:
        return self.dispatcher.deliveries(kind)

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Wait until no webhook or PoS notification is pending (tests)."""
        return self.dispatcher.wait_idle(timeout)

    # -- seeding and snapshots -----------------------------------------------------------
    def load_seed(self, data: dict[str, Any] | list[Any]) -> None:
        """Apply a seed document (see ``vipps_sandbox.seed``)."""
        from .seed import apply_seed

        apply_seed(self, data)

    def snapshot(self) -> dict[str, Any]:
        """Durable parts of the state as JSON-able data (merchants, QR codes, webhooks, payments,
        idempotency records, customer tokens, PoS)."""
        with self.lock:
            return {
                "version": 1,
                "merchants": [asdict(m) for m in self.merchants.values()],
                "qrCodes": [asdict(q) for q in self.qr_codes.values()],
                "webhooks": [asdict(w) for w in self.webhooks.values()],
                "payments": [asdict(p) for p in self.payments.values()],
                # A retry after a restart must replay, not apply again (CONTRACTS §4.2).
                "idempotency": [
                    {"msn": msn, "key": key} | asdict(record) | {"body": base64.b64encode(record.body).decode("ascii")}
                    for (msn, key), record in self.idempotency.items()
                ],
                "customerTokens": [asdict(t) for t in self.customer_tokens.values()],
                "callbackAliases": dict(self.callback_aliases),
                "pointsOfSale": [asdict(p) | {"checkin": None} for p in self.points_of_sale.values()],
                "phones": list(self.phones),
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            for m in data.get("merchants", []):
                self.merchants[m["msn"]] = Merchant(**m)
            for q in data.get("qrCodes", []):
                qr = CallbackQr(**q)
                self.qr_codes[(qr.msn, qr.merchant_qr_id)] = qr
                self.images[qr.image_id] = qr.qr_content
            for w in data.get("webhooks", []):
                self.webhooks[w["id"]] = Webhook(**w)
            for p in data.get("payments", []):
                events = [PaymentEvent(**e) for e in p.pop("events", [])]
                payment = Payment(**p, events=events)
                self.payments[(payment.msn, payment.reference)] = payment
                if payment.redirect_token:
                    self.redirect_tokens[payment.redirect_token] = (payment.msn, payment.reference)
            for r in data.get("idempotency", []):
                r = dict(r)
                msn, key = r.pop("msn"), r.pop("key")
                r["body"] = base64.b64decode(r["body"])
                self.idempotency[(msn, key)] = IdempotencyRecord(**r)
            for t in data.get("customerTokens", []):
                customer_token = CustomerToken(**t)
                self.customer_tokens[customer_token.token] = customer_token
            self.callback_aliases.update(data.get("callbackAliases", {}))
            for p in data.get("pointsOfSale", []):
                pos = PointOfSale(**p)
                self.points_of_sale[pos.pos_id] = pos
            for phone in data.get("phones", []):
                self.remember_phone(phone)

    def save(self, path: str | Path) -> None:
        target = Path(path)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(self.snapshot(), indent=1), encoding="utf-8")
        tmp.replace(target)

    def reset(self) -> None:
        """Forget everything except the registered merchants (and their tokens)."""
        with self.lock:
            for store in (
                self.qr_codes,
                self.images,
                self.customer_tokens,
                self.payments,
                self.redirect_tokens,
                self.webhooks,
                self.idempotency,
                self.rate_windows,
                self.points_of_sale,
                self.callback_aliases,
            ):
                store.clear()
            self.scans.clear()
        self.dispatcher.clear()
