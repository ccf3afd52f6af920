"""Background delivery of webhooks (signed, retried, ordered) and MobilePay PoS notifications.

Semantics follow CONTRACTS §3.3 and §6.1:

* A webhook delivery succeeds on any 2xx; any other status, a connection error or no answer
  within ``webhook_timeout`` (10 s at Vipps) is a failure and is retried after the next delay
  of the retry schedule. When the schedule is used up the delivery is given up ("failed").
* Order is kept per registered webhook and ordering key (the payment): a delivery is only
  sent when every earlier delivery of the same (webhook, payment) is finished, so a failing
  AUTHORIZED holds back CAPTURED until a retry of AUTHORIZED succeeds. Other payments are
  not held back.
* PoS notifications are plain JSON POSTs (no signature); only ``200`` is a success, and a
  failure is retried 3 times.
* Faults (``Faults.for_delivery``) may drop, duplicate or reorder a delivery.

One dispatcher thread picks due deliveries and hands them to a small thread pool, so a slow
receiver does not stall deliveries to other receivers or other payments.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from .faults import Faults
from .signing import http_date, sign

logger = logging.getLogger(__name__)


def vipps_retry_delays() -> list[float]:
    """Seconds between attempts as summarised by Vipps (CONTRACTS §3.3, S8): about every 2 s for
    the first 4 attempts, then 60 s, then 120 s, then hourly up to attempt 29, then daily up
    to 7 days after the first attempt."""
    delays: list[float] = [2, 2, 2, 60, 120]
    delays += [3600] * (29 - 1 - len(delays))
    elapsed = sum(delays)
    while elapsed + 86400 <= 7 * 86400:
        delays.append(86400)
        elapsed += 86400
    return delays


@dataclass
class DeliveryConfig:
    webhook_retry_delays: list[float] = field(default_factory=vipps_retry_delays)
    webhook_timeout: float = 10.0
    # "The service will retry the call 3 times" (seed document 000); the spacing is not documented.
    pos_retry_delays: list[float] = field(default_factory=lambda: [2.0, 2.0, 2.0])
    pos_timeout: float = 10.0
    workers: int = 8
    # How often the dispatcher wakes up without news (also drives payment expiry).
    tick_interval: float = 0.25


@dataclass
class Attempt:
    at: str
    status: int | None
    error: str | None
    duration: float

    def public(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "status": self.status,
            "error": self.error,
            "duration": round(self.duration, 4),
        }


@dataclass
class Delivery:
    id: str
    kind: str  # "webhook" or "pos"
    target_id: str  # webhook registration id, or PoS callback alias
    url: str
    secret: str | None
    event_type: str
    body: bytes
    ordering_key: str
    seq: int
    message_id: str
    retry_delays: list[float]
    timeout: float
    msn: str | None = None
    status: str = "pending"  # pending | delivered | failed | dropped | cancelled
    attempts: list[Attempt] = field(default_factory=list)
    next_at: float = 0.0
    ignore_order: bool = False
    in_flight: bool = False
    duplicate_after_success: bool = False
    is_duplicate: bool = False
    reordered: bool = False

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "targetId": self.target_id,
            "url": self.url,
            "eventType": self.event_type,
            "msn": self.msn,
            "orderingKey": self.ordering_key,
            "messageId": self.message_id,
            "status": self.status,
            "attempts": [a.public() for a in self.attempts],
            "duplicate": self.is_duplicate,
            "reordered": self.reordered,
            "payload": self.payload,
        }


class Dispatcher:
    """Owns the delivery queue and the thread(s) that work it."""

    def __init__(
        self,
        config: DeliveryConfig,
        faults: Faults,
        is_active: Callable[[Delivery], bool] = lambda d: True,
        tick: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.faults = faults
        self._is_active = is_active
        self._tick = tick
        self._cond = threading.Condition()
        self._deliveries: list[Delivery] = []
        self._seq = itertools.count(1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        # requests.Session is not documented as thread-safe and deliveries run on a pool: one per thread.
        self._sessions = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = requests.Session()
        return session

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.config.workers, thread_name_prefix="sandbox-delivery")
        self._thread = threading.Thread(target=self._run, name="sandbox-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- queueing ------------------------------------------------------------------------
    def enqueue_webhook(
        self,
        webhook_id: str,
        url: str,
        secret: str,
        event_type: str,
        payload: dict[str, Any],
        ordering_key: str,
        msn: str,
    ) -> Delivery:
        return self._enqueue(
            kind="webhook",
            target_id=webhook_id,
            url=url,
            secret=secret,
            event_type=event_type,
            payload=payload,
            ordering_key=ordering_key,
            msn=msn,
            retry_delays=list(self.config.webhook_retry_delays),
            timeout=self.config.webhook_timeout,
        )

    def enqueue_pos_notification(self, alias: str, url: str, payload: dict[str, Any], msn: str) -> Delivery:
        return self._enqueue(
            kind="pos",
            target_id=alias,
            url=url,
            secret=None,
            event_type="pos.checkin.notification",
            payload=payload,
            ordering_key=f"pos:{uuid.uuid4()}",
            msn=msn,
            retry_delays=list(self.config.pos_retry_delays),
            timeout=self.config.pos_timeout,
        )

    def _enqueue(
        self,
        *,
        kind: str,
        target_id: str,
        url: str,
        secret: str | None,
        event_type: str,
        payload: dict[str, Any],
        ordering_key: str,
        msn: str,
        retry_delays: list[float],
        timeout: float,
    ) -> Delivery:
        fate = self.faults.for_delivery(event_type)
        now = time.monotonic()
        delivery = Delivery(
            id=str(uuid.uuid4()),
            kind=kind,
            target_id=target_id,
            url=url,
            secret=secret,
            event_type=event_type,
            body=json.dumps(payload, separators=(",", ":")).encode("utf-8"),
            ordering_key=ordering_key,
            seq=next(self._seq),
            message_id=str(uuid.uuid4()),
            retry_delays=retry_delays,
            timeout=timeout,
            msn=msn,
            next_at=now,
            duplicate_after_success=fate.duplicate,
        )
        if fate.drop:
            delivery.status = "dropped"
        elif fate.reorder:
            # Held back and exempt from ordering: later events of the same payment overtake it.
            delivery.reordered = True
            delivery.ignore_order = True
            delivery.next_at = now + self.faults.reorder_delay
        with self._cond:
            self._deliveries.append(delivery)
            self._cond.notify_all()
        return delivery

    # -- inspection ----------------------------------------------------------------------
    def deliveries(self, kind: str | None = None) -> list[Delivery]:
        with self._cond:
            return [d for d in self._deliveries if kind is None or d.kind == kind]

    def clear(self) -> None:
        with self._cond:
            self._deliveries = [d for d in self._deliveries if d.in_flight]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is pending or in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(d.status == "pending" for d in self._deliveries):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def wait_for(self, predicate: Callable[[list[Delivery]], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(list(self._deliveries)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    # -- the work ------------------------------------------------------------------------
    def _due(self, now: float) -> tuple[list[Delivery], float]:
        """Deliveries to send now, and how long to sleep otherwise. Called with the lock held."""
        ready: list[Delivery] = []
        wake = now + self.config.tick_interval
        blocked: set[tuple[str, str, str]] = set()
        for d in self._deliveries:  # in enqueue order
            if d.status != "pending":
                continue
            chain = (d.kind, d.target_id, d.ordering_key)
            if not d.ignore_order:
                if chain in blocked:
                    continue
                blocked.add(chain)  # d is the head of its chain
            if d.in_flight:
                continue
            if d.next_at <= now:
                ready.append(d)
            else:
                wake = min(wake, d.next_at)
        return ready, max(0.0, wake - now)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._tick is not None:
                try:
                    self._tick()
                except Exception:  # a bad tick must not stop the deliveries
                    logger.exception("sandbox tick failed")
            with self._cond:
                ready, sleep_for = self._due(time.monotonic())
                for d in ready:
                    d.in_flight = True
            for d in ready:
                if self._pool is None:
                    break
                self._pool.submit(self._attempt, d)
            with self._cond:
                if not ready:
                    self._cond.wait(sleep_for)

    def _attempt(self, delivery: Delivery) -> None:
        if not self._is_active(delivery):
            with self._cond:
                delivery.status = "cancelled"
                delivery.in_flight = False
                self._cond.notify_all()
            return
        headers = {"Content-Type": "application/json"}
        if delivery.secret is not None:
            signature = sign(delivery.secret, delivery.url, delivery.body, http_date())
            headers |= signature.headers()
            headers["Webhook-Id"] = delivery.message_id
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            response = self._session().post(
                delivery.url,
                data=delivery.body,
                headers=headers,
                timeout=delivery.timeout,
                allow_redirects=False,
            )
            status = response.status_code
            response.close()
        except requests.Timeout:
            error = "timeout"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempt = Attempt(
            at=datetime.now(UTC).isoformat(), status=status, error=error, duration=time.monotonic() - started
        )
        ok = status == 200 if delivery.kind == "pos" else status is not None and 200 <= status < 300
        with self._cond:
            delivery.attempts.append(attempt)
            delivery.in_flight = False
            if ok:
                delivery.status = "delivered"
                if delivery.duplicate_after_success and not delivery.is_duplicate:
                    self._deliveries.append(self._duplicate_of(delivery))
            else:
                index = len(delivery.attempts) - 1
                if index < len(delivery.retry_delays):
                    delivery.next_at = time.monotonic() + delivery.retry_delays[index]
                else:
                    delivery.status = "failed"
            self._cond.notify_all()

    def _duplicate_of(self, original: Delivery) -> Delivery:
        return Delivery(
            id=str(uuid.uuid4()),
            kind=original.kind,
            target_id=original.target_id,
            url=original.url,
            secret=original.secret,
            event_type=original.event_type,
            body=original.body,
            ordering_key=original.ordering_key,
            seq=next(self._seq),
            message_id=original.message_id,
            retry_delays=[],
            timeout=original.timeout,
            msn=original.msn,
            next_at=time.monotonic(),
            ignore_order=True,
            is_duplicate=True,
        )
