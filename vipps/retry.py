"""A small retry loop for callers that do not have their own (Celery tasks do).

``fn`` must repeat the *same* operation, with the same idempotency key, on every attempt, e.g.
``call_with_retries(lambda: client.capture_payment(ref, amount, idempotency_key=key), attempts=4)``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from vipps.errors import VippsError

logger = logging.getLogger("vipps")

T = TypeVar("T")


def backoff_delay(attempt: int, base_delay: float, max_delay: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter": half the window fixed, half random.

    ``attempt`` is 1 for the wait after the first failure. The fixed half keeps a minimum spacing;
    the random half spreads out many workers that failed at the same moment.
    """
    window = min(max_delay, base_delay * (2 ** (attempt - 1)))
    return window / 2 + (rng or random).uniform(0, window / 2)


def call_with_retries(
    fn: Callable[[], T],
    *,
    attempts: int = 3,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Call ``fn`` up to ``attempts`` times while it raises a retryable ``VippsError``.

    * Permanent errors (``retryable`` False) and non-Vipps exceptions are raised at once.
    * The wait is ``backoff_delay`` but never shorter than the server's ``retry_after``.
    * If the server asks for a wait longer than ``max_delay`` the error is raised instead of
      blocking, so the caller can reschedule (e.g. a Celery ``countdown=exc.retry_after``).
    * After the last attempt the last error is raised.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except VippsError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            if exc.retry_after is not None and exc.retry_after > max_delay:
                raise
            delay = max(backoff_delay(attempt, base_delay, max_delay, rng), exc.retry_after or 0.0)
            logger.warning(
                "vipps %s failed (attempt %d/%d, %s); retrying in %.2f s",
                exc.operation or "call",
                attempt,
                attempts,
                type(exc).__name__,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")
