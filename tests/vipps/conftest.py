from __future__ import annotations

import pytest
import requests

from tests.vipps.fakes import FakeAdapter
from vipps import CallRecord, Credentials, InMemoryTokenCache, VippsClient, VippsConfig

MSN = "123456"
CLIENT_ID = "fb492b5e-7907-4d83-ba20-c7fb60ca35de"
CLIENT_SECRET = "Y8Kteew6GE2ZmeycEt6egg-CLIENT-SECRET"
SUBSCRIPTION_KEY = "da7d5b0e18a84aeda961c0c31b75c2a9"
BASE_URL = "https://apitest.vipps.no"


@pytest.fixture
def fake() -> FakeAdapter:
    return FakeAdapter()


@pytest.fixture
def session(fake: FakeAdapter) -> requests.Session:
    s = requests.Session()
    s.mount("https://", fake)
    s.mount("http://", fake)
    return s


@pytest.fixture
def config() -> VippsConfig:
    return VippsConfig(
        base_url=BASE_URL,
        system_name="merchant-portal",
        system_version="1.4.0",
        plugin_name="vipps-client",
        plugin_version="0.1.0",
    )


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(msn=MSN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, subscription_key=SUBSCRIPTION_KEY)


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def token_cache() -> InMemoryTokenCache:
    return InMemoryTokenCache()


@pytest.fixture
def client(config, credentials, token_cache, session, records, fake) -> VippsClient:
    """A client whose token endpoint always answers with a valid token."""
    fake.add_token()
    return VippsClient(config, credentials, token_cache=token_cache, session=session, on_call=records.append)
