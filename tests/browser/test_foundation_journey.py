import pytest
from django.contrib.auth import get_user_model

from merchant_portal.tenancy.models import SalesUnit
from merchant_portal.tenancy.roles import Role
from tests.factories import MembershipFactory, MerchantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_owner_logs_in_adds_a_sales_unit_and_switches_merchant(live_server, page, shot):
    acme = MerchantFactory(name="Acme Kiosks", slug="acme")
    second = MerchantFactory(name="Second Shop", slug="second")
    user = get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)
    MembershipFactory(user=user, merchant=acme, role=Role.OWNER)
    MembershipFactory(user=user, merchant=second, role=Role.VIEWER)

    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    shot("login")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Acme Kiosks").click()
    assert page.get_by_test_id("current-merchant").inner_text() == "Acme Kiosks"
    shot("dashboard")

    page.get_by_role("link", name="Sales units", exact=True).click()
    page.get_by_role("button", name="Add sales unit").click()
    page.get_by_label("Name").fill("Kiosk Torget")
    page.get_by_label("MSN").fill("778899")
    page.get_by_label("Client id").fill("7a1c8f3e-2b4d-4e6f-8a9b-0c1d2e3f4a5b")
    page.get_by_label("Client secret").fill("browser-secret-value-1234")
    page.get_by_label("Subscription key").fill("browser-subkey-value-9876")
    shot("sales-unit-form")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Kiosk Torget").wait_for()
    assert page.get_by_test_id("client-secret").inner_text() == "••••••••1234"
    assert "browser-secret-value" not in page.content()
    shot("sales-unit-detail")
    assert SalesUnit.objects.get(msn="778899").client_secret == "browser-secret-value-1234"

    page.get_by_text("Switch merchant").click()
    page.get_by_role("link", name="Second Shop").click()
    assert page.get_by_test_id("current-merchant").inner_text() == "Second Shop"
    assert page.get_by_role("button", name="Add sales unit").count() == 0  # a viewer here
    shot("switched")


def test_a_form_error_is_shown_next_to_its_field(live_server, page, shot):
    acme = MerchantFactory(name="Acme Kiosks", slug="acme")
    user = get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)
    MembershipFactory(user=user, merchant=acme, role=Role.OWNER)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/m/acme/sales-units/new/")
    page.get_by_label("Name").fill("Bad")
    page.get_by_label("MSN").fill("12x")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#id_msn_error")
    assert "4 to 10 digits" in error.inner_text()
    assert page.get_by_label("Name").input_value() == "Bad"  # nothing typed is lost
    shot("form-error")
