"""Fault injection for the sandbox's APIs and webhook deliveries.

Request faults (matched per API operation, or for every operation):

* ``latency``            - sleep before handling the request.
* ``error``              - answer an HTTP error (default 500) without doing anything.
* ``timeout``            - hold the request for ``timeout_delay`` seconds, do nothing, then 504:
                           the client's read timeout fires first.
* ``apply_then_timeout`` - perform the operation, then hold the response for ``timeout_delay``
                           seconds: the call took effect but the client timed out.

Each rule has a ``rate`` (share of matching requests it hits) and optionally ``times`` (it hits
at most that many requests, then stops: "fail N times then succeed"). An ``error`` rule may carry
``retry_after`` (seconds): the answer then has a ``Retry-After`` header, as a real 429 or 503 would.

Webhook delivery faults: ``drop`` (never sent), ``duplicate`` (sent twice), ``reorder`` (held
back for ``reorder_delay`` seconds and exempt from ordering, so later events overtake it).

Randomness comes from one ``random.Random`` that ``seed()`` resets, so runs are repeatable.
Operations are named by the spec's operationId (``capturePayment``) or a short alias
(``capture``); see ``OPERATION_ALIASES``.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

REQUEST_FAULT_KINDS = ("latency", "error", "timeout", "apply_then_timeout")
WEBHOOK_FAULT_KINDS = ("drop", "duplicate", "reorder")

# Short names accepted wherever an operation is named.
OPERATION_ALIASES: dict[str, str] = {
    "token": "fetchAuthorizationTokenUsingPost",
    "accesstoken": "fetchAuthorizationTokenUsingPost",
    "create": "createPayment",
    "get": "getPayment",
    "events": "getPaymentEventLog",
    "capture": "capturePayment",
    "refund": "refundPayment",
    "cancel": "cancelPayment",
    "approve": "forceApprove",
    "qr_put": "PutMerchantCallbackQr",
    "qr_get": "GetMerchantCallbackById",
    "qr_list": "GetMerchantCallbackQrs",
    "qr_delete": "DeleteMerchantCallbackQr",
    "qr_mobilepay_put": "PutMerchantCallbackMobilePayQr",
    "exchange": "exchangeCustomer",
    "webhook_register": "registerWebhook",
    "webhook_list": "getWebhooks",
    "webhook_delete": "deleteWebhook",
    "checkin": "GetCheckIn",
    "pos_token": "fetchPosToken",
}


def canonical_operation(name: str | None) -> str | None:
    if name is None:
        return None
    return OPERATION_ALIASES.get(name.lower(), OPERATION_ALIASES.get(name, name))


@dataclass
class FaultRule:
    kind: str
    operation: str | None = None
    rate: float = 1.0
    times: int | None = None
    status: int = 500
    seconds: float = 0.0  # latency, or the hold time of (apply then) timeout; 0 = Faults.timeout_delay
    hits: int = 0
    retry_after: float | None = None  # error: send ``Retry-After`` with this many seconds

    def __post_init__(self) -> None:
        if self.kind not in REQUEST_FAULT_KINDS:
            raise ValueError(f"unknown request fault kind {self.kind!r}; expected one of {REQUEST_FAULT_KINDS}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.kind == "error" and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        self.operation = canonical_operation(self.operation)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass
class WebhookFaultRule:
    kind: str
    rate: float = 1.0
    times: int | None = None
    event_type: str | None = None
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in WEBHOOK_FAULT_KINDS:
            raise ValueError(f"unknown webhook fault kind {self.kind!r}; expected one of {WEBHOOK_FAULT_KINDS}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass
class RequestFate:
    """What the faults decided for one request."""

    latency: float = 0.0
    error_status: int | None = None
    retry_after: float | None = None  # with error_status: the Retry-After header (seconds)
    timeout: float | None = None  # hold, do nothing, then 504
    apply_then_timeout: float | None = None  # do it, then hold the response

    @property
    def any(self) -> bool:
        return bool(self.latency or self.error_status or self.timeout or self.apply_then_timeout)


@dataclass
class DeliveryFate:
    drop: bool = False
    duplicate: bool = False
    reorder: bool = False


@dataclass
class Faults:
    """The fault configuration of one sandbox; thread safe."""

    timeout_delay: float = 30.0
    reorder_delay: float = 0.3
    rules: list[FaultRule] = field(default_factory=list)
    webhook_rules: list[WebhookFaultRule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random()

    # -- configuration -------------------------------------------------------------------
    def seed(self, value: int | None) -> None:
        """Make every later random decision repeatable."""
        with self._lock:
            self._rng.seed(value)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.webhook_rules.clear()

    def add(self, rule: FaultRule | WebhookFaultRule) -> FaultRule | WebhookFaultRule:
        with self._lock:
            (self.rules if isinstance(rule, FaultRule) else self.webhook_rules).append(rule)
        return rule

    def add_latency(
        self, seconds: float, operation: str | None = None, rate: float = 1.0, times: int | None = None
    ) -> FaultRule:
        return self.add(FaultRule("latency", operation, rate, times, seconds=seconds))  # type: ignore[return-value]

    def fail(
        self,
        status: int = 500,
        operation: str | None = None,
        rate: float = 1.0,
        times: int | None = None,
        retry_after: float | None = None,
    ) -> FaultRule:
        """Answer ``status`` without doing anything; ``times=N`` = fail N times then succeed.

        ``retry_after`` (seconds) adds a ``Retry-After`` header (typical for 429 and 503).
        """
        rule = FaultRule("error", operation, rate, times, status=status, retry_after=retry_after)
        return self.add(rule)  # type: ignore[return-value]

    def timeout(
        self, operation: str | None = None, rate: float = 1.0, times: int | None = None, seconds: float = 0.0
    ) -> FaultRule:
        return self.add(FaultRule("timeout", operation, rate, times, seconds=seconds))  # type: ignore[return-value]

    def apply_then_timeout(
        self, operation: str | None = None, rate: float = 1.0, times: int | None = None, seconds: float = 0.0
    ) -> FaultRule:
        return self.add(  # type: ignore[return-value]
            FaultRule("apply_then_timeout", operation, rate, times, seconds=seconds)
        )

    def drop_webhooks(
        self, rate: float = 1.0, times: int | None = None, event_type: str | None = None
    ) -> WebhookFaultRule:
        return self.add(WebhookFaultRule("drop", rate, times, event_type))  # type: ignore[return-value]

    def duplicate_webhooks(
        self, rate: float = 1.0, times: int | None = None, event_type: str | None = None
    ) -> WebhookFaultRule:
        return self.add(WebhookFaultRule("duplicate", rate, times, event_type))  # type: ignore[return-value]

    def reorder_webhooks(
        self, rate: float = 1.0, times: int | None = None, event_type: str | None = None
    ) -> WebhookFaultRule:
        return self.add(WebhookFaultRule("reorder", rate, times, event_type))  # type: ignore[return-value]

    # -- decisions -----------------------------------------------------------------------
    def _hit(self, rule: FaultRule | WebhookFaultRule) -> bool:
        # Called with the lock held. Draw only for partial rates so that rate=1 rules do not
        # shift the random sequence of the others.
        if rule.exhausted:
            return False
        if rule.rate < 1.0 and self._rng.random() >= rule.rate:
            return False
        rule.hits += 1
        return True

    def for_request(self, operation: str) -> RequestFate:
        fate = RequestFate()
        with self._lock:
            for rule in self.rules:
                if rule.operation is not None and rule.operation != operation:
                    continue
                if rule.kind == "latency":
                    if self._hit(rule):
                        fate.latency += rule.seconds
                elif fate.error_status is None and fate.timeout is None and fate.apply_then_timeout is None:
                    if not self._hit(rule):
                        continue
                    hold = rule.seconds or self.timeout_delay
                    if rule.kind == "error":
                        fate.error_status = rule.status
                        fate.retry_after = rule.retry_after
                    elif rule.kind == "timeout":
                        fate.timeout = hold
                    else:
                        fate.apply_then_timeout = hold
        return fate

    def for_delivery(self, event_type: str) -> DeliveryFate:
        fate = DeliveryFate()
        with self._lock:
            for rule in self.webhook_rules:
                if rule.event_type is not None and rule.event_type != event_type:
                    continue
                if getattr(fate, rule.kind):
                    continue
                if self._hit(rule):
                    setattr(fate, rule.kind, True)
        return fate

    # -- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "timeoutDelay": self.timeout_delay,
                "reorderDelay": self.reorder_delay,
                "rules": [asdict(r) for r in self.rules],
                "webhooks": [asdict(r) for r in self.webhook_rules],
            }

    def configure(self, data: dict[str, Any]) -> None:
        """Apply a JSON fault description (the body of ``POST /_sandbox/api/faults``).

        ``{"seed": 7, "replace": false, "timeoutDelay": 2.0, "reorderDelay": 0.3,
        "rules": [{"kind": "error", "operation": "capture", "status": 503, "times": 2, "retryAfter": 5}],
        "webhooks": [{"kind": "drop", "rate": 0.5, "eventType": "epayments.payment.captured.v1"}]}``
        """
        rules = [
            FaultRule(
                kind=str(r["kind"]),
                operation=r.get("operation"),
                rate=float(r.get("rate", 1.0)),
                times=None if r.get("times") is None else int(r["times"]),
                status=int(r.get("status", 500)),
                seconds=float(r.get("seconds", 0.0)),
                retry_after=_optional_float(r.get("retryAfter", r.get("retry_after"))),
            )
            for r in data.get("rules", [])
        ]
        webhook_rules = [
            WebhookFaultRule(
                kind=str(r["kind"]),
                rate=float(r.get("rate", 1.0)),
                times=None if r.get("times") is None else int(r["times"]),
                event_type=r.get("eventType", r.get("event_type")),
            )
            for r in data.get("webhooks", [])
        ]
        if data.get("replace"):
            self.clear()
        if "seed" in data:
            self.seed(data["seed"])
        with self._lock:
            if "timeoutDelay" in data:
                self.timeout_delay = float(data["timeoutDelay"])
            if "reorderDelay" in data:
                self.reorder_delay = float(data["reorderDelay"])
            self.rules.extend(rules)
            self.webhook_rules.extend(webhook_rules)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` takes whole seconds: round up, so a client never retries too early."""
    return str(max(0, math.ceil(seconds)))
