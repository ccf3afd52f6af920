import math
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from .models import ApiKey


class ApiKeyRateThrottle(BaseThrottle):
    """Requests per API key (settings.API_THROTTLE_RATE, e.g. "600/min"); over it, 429 with Retry-After.

    A sliding window counter (as Cloudflare counts): one counter per key and fixed window, and the rate seen is this
    window's count plus the last window's, weighted by how much of the last window the sliding one still covers.
    Two small integers per key, whatever the rate. The request is counted first and uncounted when refused, so on
    Redis (an atomic INCR) concurrent requests of one key each see their own count: none is lost and the limit is
    not overshot. DRF's SimpleRateThrottle instead reads, appends to and writes back a list of every timestamp in
    the window: up to 600 floats pickled per request at the default rate, and concurrent requests overwrite each
    other's. (The file cache of the embedded defaults has no atomic increment: it reads and writes, as DRF's does.)
    """

    timer = time.time

    @property
    def cache(self) -> BaseCache:
        return caches["default"]  # the backend itself, not the proxy: _add asks which class it is

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        # Read per request, not at import, so a deployment (or a test) can change it. DRF's parser, which uses no
        # state of its throttle: "600/min", "10/s", "5000/hour", "0/day" (none at all).
        limit, duration = SimpleRateThrottle.parse_rate(None, settings.API_THROTTLE_RATE)
        if limit is None:
            return True
        now = self.timer()
        window, elapsed = divmod(now, duration)
        # The prefix, not the id: ids are reused after a rollback (tests) or a restore.
        base = f"throttle_api_key_{request.auth.prefix}_{duration}_"
        key, last_key = f"{base}{int(window)}", f"{base}{int(window) - 1}"
        count = self._add(key, 1, duration)
        last = self.cache.get(last_key, 0)
        share = 1 - elapsed / duration  # of the last window, still inside the sliding one
        if last * share + count <= limit:
            return True
        self._add(key, -1, duration)  # a refused request does not count
        count -= 1  # this window's requests, without this one; a retry counts 1 again
        if count + 1 > limit:  # not in this window: in the next, when this one's weight has dropped enough
            self._wait = duration - elapsed + (duration * (1 - (limit - 1) / count) if count else duration)
        else:  # when the last window's weight has dropped enough
            self._wait = duration * (1 - (limit - count - 1) / last) - elapsed
        return False

    def _add(self, key: str, delta: int, duration: int) -> int:
        """The counter after adding `delta`; a window's counter lives on as the next window's last one."""
        timeout = 2 * duration + 1
        if type(self.cache).incr is BaseCache.incr:
            # Not atomic anyway (the file cache): read and write, keeping the timeout (BaseCache.incr drops it).
            value = self.cache.get(key, 0) + delta
            self.cache.set(key, value, timeout=timeout)
            return value
        try:
            return self.cache.incr(key, delta)  # Redis, Memcached, local memory: atomic, and the expiry stays
        except ValueError:  # the window's first request
            if self.cache.add(key, delta, timeout=timeout):
                return delta
            return self.cache.incr(key, delta)

    def wait(self) -> float | None:
        return max(1, math.ceil(self._wait))
