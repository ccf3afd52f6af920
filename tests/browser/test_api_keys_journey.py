import pytest
import requests
from django.contrib.auth import get_user_model

from merchant_portal.tenancy.roles import Role
from tests.factories import MembershipFactory, MerchantFactory, SalesUnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_owner_creates_an_api_key_sees_it_once_uses_it_and_revokes_it(live_server, page, shot):
    acme = MerchantFactory(name="Acme Kiosks", slug="acme")
    SalesUnitFactory(merchant=acme, name="Acme Oslo", msn="223344")
    user = get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)
    MembershipFactory(user=user, merchant=acme, role=Role.OWNER)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="API keys").click()
    page.get_by_role("button", name="Create API key").click()
    page.get_by_label("Name").fill("Till vendor AS")
    page.get_by_label("Read-write").check()
    shot("form")
    page.get_by_role("button", name="Create key").click()
    token = page.get_by_test_id("api-key-token").input_value()
    assert token.startswith("vmp_")
    shot("shown-once")

    answer = requests.get(f"{live_server.url}/api/v1/sales-units/", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["results"][0]["msn"] == "223344"

    page.get_by_role("button", name="Done").click()
    keys = page.get_by_test_id("api-keys")
    assert "Till vendor AS" in keys.inner_text() and token not in page.content()
    prefix = token.split("_")[1]  # vmp_<prefix>_<secret>: the prefix is all the portal keeps besides a hash
    page.get_by_test_id(f"revoke-{prefix}").click()
    page.get_by_role("cell", name="Revoked").wait_for()
    shot("revoked")
    answer = requests.get(f"{live_server.url}/api/v1/sales-units/", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.headers["Content-Type"].startswith("application/problem+json")
