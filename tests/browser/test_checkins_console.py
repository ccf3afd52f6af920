import json

import pytest
import requests
from django.contrib.auth import get_user_model

from merchant_portal.tenancy.roles import Role
from tests.factories import MembershipFactory, MerchantFactory, SalesUnitFactory
from tests.webhooks_app.helpers import checkin_payload, location, qr_code, signed_headers, subscribe
from webhooks_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_the_console_shows_a_new_check_in_without_reload(live_server, page, shot, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    acme = MerchantFactory(name="Acme Kiosks", slug="acme")
    user = get_user_model().objects.create_user("carol", "carol@example.com", PASSWORD)
    MembershipFactory(user=user, merchant=acme, role=Role.CASHIER)
    unit = SalesUnitFactory(merchant=acme, name="Acme Oslo", msn="223344")
    subscribe(unit)
    kiosk = qr_code(location(unit, "Kiosk Torget"), "kiosk-1", "Till 1")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Check-ins").click()
    page.get_by_role("link", name="Kiosk Torget").click()
    page.get_by_test_id("no-checkins").wait_for()
    page.evaluate("window.__sameDocument = true")
    shot("console-empty")

    body = json.dumps(checkin_payload(unit.msn, kiosk.merchant_qr_id)).encode()
    response = requests.post(
        f"{live_server.url}/hooks/vipps/",
        data=body,
        headers=signed_headers(body) | {"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200
    services.webhook_events_relay()

    row = page.get_by_test_id("checkin")
    row.wait_for(timeout=5000)
    assert "Till 1" in row.inner_text()
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    countdown = page.get_by_test_id("countdown").inner_text()
    assert countdown.startswith("14:") or countdown == "15:00"
    assert "/payments/new/?checkin=" in page.get_by_role("button", name="Request payment").get_attribute("href")
    shot("console-with-check-in")
