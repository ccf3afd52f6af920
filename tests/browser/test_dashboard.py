"""The dashboard on a tablet, both ways round: stat cards, the chart and the webhook health table are on screen."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from merchant_portal.tenancy.roles import Role
from payments.models import Payment
from tests.factories import (
    CheckInFactory,
    LocationFactory,
    MembershipFactory,
    MerchantFactory,
    PaymentFactory,
    QrCodeFactory,
    SalesUnitFactory,
)
from tests.webhooks_app.helpers import subscribe
from webhooks_app.events import REGISTRATION_GROUPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_the_dashboard_reads_on_a_tablet(live_server, page, shot, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    acme = MerchantFactory(name="Acme Kiosks", slug="acme")
    user = get_user_model().objects.create_user("vera", "vera@example.com", PASSWORD)
    MembershipFactory(user=user, merchant=acme, role=Role.VIEWER)
    unit = SalesUnitFactory(merchant=acme, name="Acme Oslo", msn="223344")
    for group in REGISTRATION_GROUPS:
        subscribe(unit, events=group)
    code = QrCodeFactory(location=LocationFactory(sales_unit=unit, name="Kiosk Torget"), merchant_qr_id="kiosk-1")
    start = timezone.localtime().replace(hour=0, minute=5, second=0, microsecond=0)
    for n in range(6):
        checkin = CheckInFactory(qr_code=code, initiated_at=start + timedelta(hours=2 * n))
        if n % 2 == 0:
            PaymentFactory(
                checkin=checkin,
                created_at=checkin.initiated_at,
                state=Payment.State.AUTHORIZED,
                authorized_amount=4_500,
                captured_amount=4_500,
            )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("vera")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("dashboard-live").wait_for()

    for width, height in [(1024, 768), (768, 1024)]:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/m/acme/")
        cards = page.get_by_test_id("stat-cards")
        cards.wait_for()
        assert page.get_by_test_id("stat-checkins-value").inner_text() == "6"
        assert page.get_by_test_id("stat-captured-value").inner_text() == "3"
        for testid in ("stat-checkins", "stat-created", "stat-authorized", "stat-captured"):
            box = page.get_by_test_id(testid).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (testid, width, box)
        chart = page.get_by_test_id("chart-checkins-svg")
        chart.scroll_into_view_if_needed()
        assert chart.is_visible() and chart.locator("rect").count() in (23, 24, 25)  # hours of today
        health = page.get_by_test_id("webhook-health")
        health.scroll_into_view_if_needed()
        assert health.is_visible()
        assert page.get_by_test_id("health-223344").get_attribute("data-registration") == "registered"
        # Nothing pushes the page sideways: wide tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(f"dashboard-{width}x{height}")
