import pytest
from rest_framework.test import APIClient

from merchant_portal.api.models import ApiKey
from merchant_portal.api.services import api_key_create
from qrcodes.models import Location


@pytest.fixture
def make_key(alice):
    """A key of `merchant` (default acme) and an API client that sends it."""

    def make(merchant=None, access=ApiKey.Access.READ_WRITE, sales_units=(), locations=(), name="Till vendor"):
        merchant = merchant or alice.memberships.get().merchant
        key, token = api_key_create(
            merchant=merchant, actor=None, name=name, access=access, sales_units=sales_units, locations=locations
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        client.api_key = key
        return client

    return make


@pytest.fixture
def api(make_key, acme_unit):
    """A read-write key of acme, for everything."""
    return make_key()


@pytest.fixture
def shop(acme_unit):
    return Location.objects.create(sales_unit=acme_unit, name="Shop", address="Storgata 1")
