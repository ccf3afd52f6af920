"""Shared fixtures. Merchant tests read like sentences with three people (after healthchecks' alice/bob/charlie):

- alice owns merchant "acme"; bob is a member of acme with a role chosen per test;
- charlie owns another merchant, "other", and is an outsider to acme.
"""

import time

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.test import Client
from django.utils import timezone, translation

from merchant_portal.tenancy.roles import Role
from tests.factories import MembershipFactory, MerchantFactory, SalesUnitFactory, UserFactory
from vipps_sandbox.server import SandboxServer, fast_config


@pytest.fixture(autouse=True)
def _english_unless_asked():
    """Every test starts in the default language: a request in another language leaves it active in the
    thread, and text built outside a request (services, selectors) would follow the previous test."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Tasks run inline in ordinary tests; tests marked `broker` use a real worker instead."""
    from merchant_portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


class Clock:
    """`timezone.now()` stands still until the test moves it (`clock.at += timedelta(...)`)."""

    def __init__(self):
        self.at = timezone.now()

    def __call__(self):
        return self.at


@pytest.fixture
def clock(monkeypatch):
    fixed = Clock()
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed


@pytest.fixture
def acme(db):
    return MerchantFactory(name="Acme Kiosks", slug="acme")


@pytest.fixture
def other(db):
    return MerchantFactory(name="Other Shop", slug="other")


@pytest.fixture
def alice(acme):
    user = UserFactory(username="alice")
    MembershipFactory(user=user, merchant=acme, role=Role.OWNER)
    return user


@pytest.fixture
def charlie(other):
    user = UserFactory(username="charlie")
    MembershipFactory(user=user, merchant=other, role=Role.OWNER)
    return user


@pytest.fixture
def make_member(acme):
    def make(role: str, username: str | None = None):
        user = UserFactory(username=username or f"bob-{role}")
        MembershipFactory(user=user, merchant=acme, role=role)
        return user

    return make


@pytest.fixture
def acme_unit(acme):
    return SalesUnitFactory(merchant=acme, name="Acme Oslo", msn="223344")


@pytest.fixture
def other_unit(other):
    return SalesUnitFactory(merchant=other, name="Other Bergen", msn="556677")


def wait_until(condition, timeout: float = 30.0) -> bool:
    """Poll `condition` while a worker thread writes. Should SQLite refuse the read with "locked", that means
    "not yet"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return True
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sandbox(settings):
    """The Vipps sandbox in-process on a free loopback port; VIPPS_BASE_URL points at it."""
    with SandboxServer(config=fast_config()) as server:
        settings.VIPPS_BASE_URL = server.url
        yield server


@pytest.fixture
def sandbox_unit(sandbox, acme_unit):
    """acme's sales unit, known to the sandbox with the same keys."""
    sandbox.register_merchant(
        msn=acme_unit.msn,
        client_id=acme_unit.client_id,
        client_secret=acme_unit.client_secret,
        subscription_key=acme_unit.subscription_key,
        currency=acme_unit.currency,
    )
    return acme_unit
