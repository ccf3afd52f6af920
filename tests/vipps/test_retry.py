"""call_with_retries: backoff, jitter, Retry-After, permanent errors, same idempotency key."""

from __future__ import annotations

import random

import pytest
import requests

from tests.vipps.samples import MODIFICATION, REFERENCE
from vipps import Amount, VippsAPIError, VippsError, VippsReadTimeout, VippsValidationError, call_with_retries
from vipps.retry import backoff_delay

CAPTURE = f"/epayment/v1/payments/{REFERENCE}/capture"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def api_error(status: int, retry_after: float | None = None) -> VippsAPIError:
    return VippsAPIError(status=status, retry_after=retry_after)


def failing(*errors: BaseException, result: str = "ok"):
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return fn, calls


def test_capture_is_retried_with_the_same_idempotency_key(client, fake):
    fake.add("POST", CAPTURE, exc=requests.ReadTimeout("slow"))
    fake.add("POST", CAPTURE, status=503, body={"title": "Service Unavailable"})
    fake.add("POST", CAPTURE, body=MODIFICATION, content_type="application/problem+json")
    sleeps = Sleeps()

    def capture():
        return client.capture_payment(REFERENCE, Amount("NOK", 10000), idempotency_key="payment-42-capture-1")

    result = call_with_retries(
        capture,
        attempts=5,
        base_delay=0.5,
        max_delay=10,
        sleep=sleeps,
    )

    assert result.psp_reference == MODIFICATION["pspReference"]
    captures = fake.calls("POST", CAPTURE)
    assert [c.headers["Idempotency-Key"] for c in captures] == ["payment-42-capture-1"] * 3
    assert len({c.request.body for c in captures}) == 1  # same body too
    assert len(sleeps) == 2


def test_stops_at_once_on_a_permanent_error(client, fake):
    fake.add("POST", CAPTURE, status=409, body={"title": "Conflict"}, times=None)
    sleeps = Sleeps()
    with pytest.raises(VippsAPIError) as info:
        call_with_retries(
            lambda: client.capture_payment(REFERENCE, Amount("NOK", 1), idempotency_key="k-1"),
            attempts=5,
            sleep=sleeps,
        )
    assert info.value.status == 409
    assert len(fake.calls("POST", CAPTURE)) == 1
    assert sleeps == []


def test_gives_up_after_the_last_attempt_and_raises_the_last_error():
    errors = [api_error(500), api_error(502), api_error(503)]
    fn, calls = failing(*errors)
    sleeps = Sleeps()
    with pytest.raises(VippsAPIError) as info:
        call_with_retries(fn, attempts=3, sleep=sleeps)
    assert info.value is errors[2]
    assert len(calls) == 3
    assert len(sleeps) == 2


def test_returns_the_first_success_without_sleeping():
    fn, calls = failing()
    sleeps = Sleeps()
    assert call_with_retries(fn, attempts=3, sleep=sleeps) == "ok"
    assert (len(calls), sleeps) == (1, [])


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    fn, _ = failing(*(api_error(500) for _ in range(5)))
    sleeps = Sleeps()
    call_with_retries(fn, attempts=6, base_delay=1, max_delay=5, sleep=sleeps, rng=random.Random(7))
    windows = [1, 2, 4, 5, 5]
    assert len(sleeps) == 5
    for delay, window in zip(sleeps, windows, strict=True):
        assert window / 2 <= delay <= window
    assert len(set(sleeps)) > 1  # jittered, not constant


def test_backoff_delay_bounds():
    rng = random.Random(1)
    for attempt in range(1, 10):
        delay = backoff_delay(attempt, 0.5, 8, rng)
        window = min(8, 0.5 * 2 ** (attempt - 1))
        assert window / 2 <= delay <= window


def test_honours_retry_after_when_longer_than_the_backoff():
    fn, calls = failing(api_error(429, retry_after=4.0), api_error(423, retry_after=0.1))
    sleeps = Sleeps()
    assert call_with_retries(fn, attempts=3, base_delay=0.2, max_delay=10, sleep=sleeps) == "ok"
    assert sleeps[0] == 4.0
    assert 0.2 <= sleeps[1] <= 0.4  # backoff window for attempt 2 wins over the shorter Retry-After
    assert len(calls) == 3


def test_retry_after_longer_than_max_delay_is_raised_for_the_caller_to_reschedule():
    error = api_error(429, retry_after=120)
    fn, calls = failing(error)
    sleeps = Sleeps()
    with pytest.raises(VippsAPIError) as info:
        call_with_retries(fn, attempts=5, max_delay=30, sleep=sleeps)
    assert info.value.retry_after == 120
    assert (len(calls), sleeps) == (1, [])


def test_transport_errors_are_retried():
    fn, calls = failing(VippsReadTimeout("timeout"))
    assert call_with_retries(fn, attempts=2, sleep=Sleeps()) == "ok"
    assert len(calls) == 2


@pytest.mark.parametrize("error", [VippsValidationError("bad"), VippsError("unknown"), KeyError("bug")], ids=type)
def test_non_retryable_and_foreign_exceptions_propagate_immediately(error):
    fn, calls = failing(error)
    with pytest.raises(type(error)):
        call_with_retries(fn, attempts=3, sleep=Sleeps())
    assert len(calls) == 1


def test_attempts_must_be_positive():
    with pytest.raises(ValueError):
        call_with_retries(lambda: None, attempts=0)
