"""Access tokens: cached, shared through a ``TokenCache``, refreshed once on HTTP 401."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from vipps.errors import VippsAPIError, VippsResponseError
from vipps.token_cache import TokenCache, cache_ttl

logger = logging.getLogger("vipps")

T = TypeVar("T")


def parse_expires_in(value: Any) -> int:
    """``expires_in`` as int: the access token spec types it as a string, its example as an int."""
    if isinstance(value, bool):
        raise VippsResponseError("expires_in is not a number")
    try:
        return int(str(value).strip())
    except ValueError:
        raise VippsResponseError("expires_in is not a number") from None


@dataclass(frozen=True)
class AccessToken:
    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    expires_on: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> AccessToken:
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            raise VippsResponseError("access token response has no access_token")
        expires_on = data.get("expires_on")
        return cls(
            access_token=data["access_token"],
            token_type=str(data.get("token_type") or "Bearer"),
            expires_in=parse_expires_in(data.get("expires_in")),
            expires_on=int(expires_on) if str(expires_on or "").strip().isdigit() else None,
        )


class TokenManager:
    """Gets a bearer token from the cache or ``fetch``, and repeats a call once after a 401."""

    def __init__(self, cache: TokenCache, key: str, fetch: Callable[[], AccessToken]) -> None:
        self._cache = cache
        self._key = key
        self._fetch = fetch

    def token(self) -> str:
        try:
            cached = self._cache.get(self._key)
        except Exception:
            # A cache outage must not stop payments: fall back to fetching a token.
            logger.warning("vipps token cache get failed; fetching a new token", exc_info=True)
            cached = None
        return cached or self.refresh()

    def refresh(self) -> str:
        fetched = self._fetch()
        ttl = cache_ttl(fetched.expires_in)
        if ttl > 0:
            try:
                self._cache.set(self._key, fetched.access_token, ttl)
            except Exception:
                logger.warning("vipps token cache set failed", exc_info=True)
        return fetched.access_token

    def call(self, send: Callable[[str], T]) -> T:
        """Run ``send(token)``; on 401 fetch a fresh token (overwriting the cache) and retry once.

        Overwriting with ``set`` is how an invalid cached token is invalidated: the protocol has no
        delete. A second 401 is raised to the caller: the credentials are wrong, not the token.
        """
        token = self.token()  # a 401 from the token endpoint itself is not retried
        try:
            return send(token)
        except VippsAPIError as exc:
            if exc.status != 401:
                raise
        logger.info("vipps got 401; refreshing the access token once")
        return send(self.refresh())
