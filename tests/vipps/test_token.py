"""Access token: caching, expiry, sharing, refresh once on 401."""

from __future__ import annotations

import pytest

from tests.vipps.conftest import CLIENT_ID, CLIENT_SECRET, MSN
from tests.vipps.fakes import ACCESS_TOKEN
from vipps import AccessToken, InMemoryTokenCache, VippsAPIError, VippsClient, VippsResponseError
from vipps.auth import parse_expires_in
from vipps.token_cache import cache_ttl

WEBHOOKS = {"webhooks": []}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingCache(InMemoryTokenCache):
    def __init__(self, clock=None) -> None:
        super().__init__(clock or Clock())
        self.sets: list[tuple[str, str, int]] = []

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self.sets.append((key, value, ttl_seconds))
        super().set(key, value, ttl_seconds)


def make_client(config, credentials, session, cache):
    return VippsClient(config, credentials, token_cache=cache, session=session)


def test_token_is_fetched_once_and_reused(client, fake):
    fake.add("GET", "/webhooks/v1/webhooks", body=WEBHOOKS, times=3)
    for _ in range(3):
        client.list_webhooks()
    assert len(fake.calls("POST", "/accesstoken/get")) == 1
    assert len(fake.api_calls()) == 3


@pytest.mark.parametrize("expires_in", ["3599", 3599, " 86398 "])
def test_expires_in_is_parsed_from_string_or_int(config, credentials, session, fake, expires_in):
    cache = RecordingCache()
    # the spec types expires_in as a string; its own example (and some servers) use an int
    fake.add_token(expires_in=expires_in, check_response=isinstance(expires_in, str))
    client = make_client(config, credentials, session, cache)
    token = client.fetch_access_token()
    assert token.expires_in == int(str(expires_in).strip())
    assert token.expires_on == 1700003599
    client.access_token()
    (_, value, ttl) = cache.sets[0]
    assert value == ACCESS_TOKEN
    assert 0 < ttl < token.expires_in  # refreshed shortly before expiry


@pytest.mark.parametrize("bad", [None, "soon", True])
def test_unparseable_expires_in_is_a_response_error(bad):
    with pytest.raises(VippsResponseError):
        parse_expires_in(bad)


def test_cache_ttl_leaves_a_margin():
    assert cache_ttl(3600) == 3300  # 1 h test token: 5 min margin
    assert cache_ttl(86400) == 86100  # 24 h production token
    assert cache_ttl(60) == 54  # short tokens: 10 %
    assert cache_ttl(0) == 0


def test_token_is_refetched_after_cache_expiry(config, credentials, session, fake):
    clock = Clock()
    cache = RecordingCache(clock)
    fake.add_token(expires_in="3600")
    fake.add("GET", "/webhooks/v1/webhooks", body=WEBHOOKS, times=3)
    client = make_client(config, credentials, session, cache)

    client.list_webhooks()
    clock.now += 3299
    client.list_webhooks()
    assert len(fake.calls("POST", "/accesstoken/get")) == 1
    clock.now += 2  # past expires_in minus the margin
    client.list_webhooks()
    assert len(fake.calls("POST", "/accesstoken/get")) == 2


def test_token_that_expires_too_soon_is_not_cached(config, credentials, session, fake):
    cache = RecordingCache()
    fake.add_token(expires_in="0")
    fake.add("GET", "/webhooks/v1/webhooks", body=WEBHOOKS, times=2)
    client = make_client(config, credentials, session, cache)
    client.list_webhooks()
    client.list_webhooks()
    assert cache.sets == []
    assert len(fake.calls("POST", "/accesstoken/get")) == 2


def test_cache_is_shared_between_clients_of_the_same_sales_unit(config, credentials, session, fake):
    cache = InMemoryTokenCache()
    fake.add_token()
    fake.add("GET", "/webhooks/v1/webhooks", body=WEBHOOKS, times=2)
    make_client(config, credentials, session, cache).list_webhooks()
    make_client(config, credentials, session, cache).list_webhooks()  # e.g. another worker process
    assert len(fake.calls("POST", "/accesstoken/get")) == 1


def test_cache_key_separates_sales_units_and_hides_the_secret(config, credentials, session, fake):
    cache = RecordingCache()
    fake.add_token(times=2)
    make_client(config, credentials, session, cache).access_token()
    other = type(credentials)(
        msn="654321", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, subscription_key="other-key"
    )
    make_client(config, other, session, cache).access_token()

    keys = [key for key, _, _ in cache.sets]
    assert len(set(keys)) == 2
    for key in keys:
        assert CLIENT_SECRET not in key and CLIENT_ID not in key and MSN not in key
        assert key.startswith("vipps:token:")


def test_401_refreshes_the_token_once_and_retries(config, credentials, session, fake):
    cache = RecordingCache()
    fake.add_token(access_token="stale-token-1", times=1)
    fake.add_token(access_token="fresh-token-2", times=1)
    fake.add("GET", "/webhooks/v1/webhooks", status=401, body={"title": "Unauthorized"})
    fake.add("GET", "/webhooks/v1/webhooks", body=WEBHOOKS)
    client = make_client(config, credentials, session, cache)

    assert client.list_webhooks() == []
    auths = [s.headers["Authorization"] for s in fake.api_calls()]
    assert auths == ["Bearer stale-token-1", "Bearer fresh-token-2"]
    # the refreshed token replaced the stale one in the shared cache
    assert cache.get(cache.sets[-1][0]) == "fresh-token-2"


def test_repeated_401_is_raised_after_one_refresh(client, fake):
    fake.add("GET", "/webhooks/v1/webhooks", status=401, times=None)
    with pytest.raises(VippsAPIError) as info:
        client.list_webhooks()
    assert info.value.status == 401
    assert info.value.retryable is False
    assert len(fake.api_calls()) == 2
    assert len(fake.calls("POST", "/accesstoken/get")) == 2


def test_401_from_the_token_endpoint_is_permanent_and_not_looped(config, credentials, session, fake):
    fake.add("POST", "/accesstoken/get", status=401, times=None)
    client = make_client(config, credentials, session, InMemoryTokenCache())
    with pytest.raises(VippsAPIError) as info:
        client.list_webhooks()
    error = info.value
    assert (error.status, error.retryable, error.operation) == (401, False, "fetch_access_token")
    assert len(fake.sent) == 1


def test_other_errors_do_not_refresh_the_token(client, fake):
    fake.add("GET", "/webhooks/v1/webhooks", status=403, body={"title": "Forbidden"})
    with pytest.raises(VippsAPIError):
        client.list_webhooks()
    assert len(fake.calls("POST", "/accesstoken/get")) == 1


def test_a_broken_cache_falls_back_to_fetching(config, credentials, session, fake):
    class BrokenCache:
        def get(self, key):
            raise ConnectionError("redis down")

        def set(self, key, value, ttl_seconds):
            raise ConnectionError("redis down")

    fake.add_token()
    fake.add("GET", "/webhooks/v1/webhooks", body=WEBHOOKS)
    assert make_client(config, credentials, session, BrokenCache()).list_webhooks() == []


def test_access_token_repr_hides_the_token():
    token = AccessToken.from_json({"access_token": ACCESS_TOKEN, "expires_in": "3599", "token_type": "Bearer"})
    assert ACCESS_TOKEN not in repr(token)
    assert token.expires_on is None
