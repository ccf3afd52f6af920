"""The per-key throttle: a sliding window counter, its Retry-After, and no lost or extra requests under concurrency."""

import threading
import time
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache

from merchant_portal.api.throttling import ApiKeyRateThrottle

WINDOW_START = 1_800_000_000.0  # a multiple of 60: a minute starts here


@pytest.fixture
def key(api):
    return SimpleNamespace(auth=api.api_key)


def ask(request, at: float) -> tuple[bool, int | None]:
    throttle = ApiKeyRateThrottle()
    with mock.patch.object(ApiKeyRateThrottle, "timer", lambda self: at):
        allowed = throttle.allow_request(request, None)
    return allowed, None if allowed else throttle.wait()


def test_the_window_slides_and_retry_after_says_when_the_next_request_passes(key, settings):
    settings.API_THROTTLE_RATE = "10/min"
    assert [ask(key, WINDOW_START + 1)[0] for _ in range(10)] == [True] * 10
    allowed, wait = ask(key, WINDOW_START + 2)
    # Not in this minute; in the next once its 10 weigh 9 or less: 6 s into it, 64 s from now.
    assert (allowed, wait) == (False, 64)
    assert ask(key, WINDOW_START + 65)[0] is False  # 10 x (1 - 5/60) + 1 > 10
    assert ask(key, WINDOW_START + 66)[0] is True
    # Half-way through the next minute the last one's 10 weigh 5: four more pass (the one above makes five).
    assert [ask(key, WINDOW_START + 90)[0] for _ in range(5)] == [True] * 4 + [False]
    allowed, wait = ask(key, WINDOW_START + 90)
    assert (allowed, wait) == (False, 6)  # at 96 s, 10 x 24/60 + 5 + 1 = 10
    assert ask(key, WINDOW_START + 95.9)[0] is False
    assert ask(key, WINDOW_START + 96.1)[0] is True


def test_refused_requests_do_not_count(key, settings):
    settings.API_THROTTLE_RATE = "3/min"
    for _ in range(3):
        assert ask(key, WINDOW_START + 1)[0]
    for _ in range(50):
        assert not ask(key, WINDOW_START + 2)[0]
    # The next minute weighs the 3 that passed, not the 53 asked: 21 s into it, 3 x 39/60 + 1 = 2.95.
    assert ask(key, WINDOW_START + 60 + 21)[0] is True


class SlowReads(LocMemCache):
    """Reads that yield to other threads, so a read-then-write counter would lose increments here."""

    def get(self, *args, **kwargs):
        value = super().get(*args, **kwargs)
        time.sleep(0.001)
        return value


def test_concurrent_requests_of_one_key_are_each_counted_once(key, settings):
    """With an atomic increment (Redis in the PostgreSQL run; local memory otherwise, as the file cache has
    none) exactly the limit passes, however the requests interleave."""
    settings.API_THROTTLE_RATE = "20/min"
    backend = caches["default"]
    if type(backend).incr is BaseCache.incr:
        backend = SlowReads("throttle-test", {})
    start, answers = threading.Barrier(40), []

    def request():
        start.wait()
        answers.append(ask(key, WINDOW_START + 1)[0])

    with mock.patch.object(ApiKeyRateThrottle, "cache", backend):
        threads = [threading.Thread(target=request) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers.count(True) == 20 and len(answers) == 40


def test_a_key_of_a_limited_rate_is_counted_apart_from_others(key, make_key, settings):
    settings.API_THROTTLE_RATE = "2/min"
    other = SimpleNamespace(auth=make_key(name="Another vendor").api_key)
    assert [ask(key, WINDOW_START)[0] for _ in range(3)] == [True, True, False]
    assert ask(other, WINDOW_START)[0] is True


def test_a_rate_of_zero_refuses_every_request(key, settings):
    settings.API_THROTTLE_RATE = "0/min"
    assert ask(key, WINDOW_START + 10) == (False, 110)
