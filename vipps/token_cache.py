"""Pluggable access-token cache.

Tokens are valid for 1 h (test) or 24 h (production) and Vipps asks us not to fetch one per
request, so processes share them through a cache. The portal adapts Django's cache to this
protocol; ``InMemoryTokenCache`` serves scripts and tests.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class TokenCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_seconds: int) -> None: ...


class InMemoryTokenCache:
    """Thread-safe, process-local ``TokenCache`` with expiry."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            value, expires_at = item
            if self._clock() >= expires_at:
                del self._items[key]
                return None
            return value

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        with self._lock:
            self._items[key] = (value, self._clock() + ttl_seconds)


def token_cache_key(kind: str, *parts: str) -> str:
    """Cache key from identifying (non-secret) parts, hashed so no raw identifier is exposed."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"vipps:token:{kind}:{digest}"


def cache_ttl(expires_in: int) -> int:
    """Seconds to keep a token: its lifetime minus a margin, so a cached token is never stale.

    The margin (10 % of the lifetime, at most 5 minutes) absorbs clock skew and slow requests.
    """
    return max(0, expires_in - min(300, expires_in // 10))
