"""Every page of the staff journey on a phone (390 px) and a desktop (1366 px): no sideways scrolling, a compact
menu on the phone, and no serious or critical accessibility violation as axe-core finds them.

axe-core comes from npm (scripts/test.sh: `npm install --prefix .cache/npm axe-core@<pinned>`). It is run with
page.evaluate, which the DevTools protocol executes outside the page's Content-Security-Policy; injecting it as a
<script> would be refused (script-src 'self'), and rightly so."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from merchant_portal.api.services import api_key_create
from qrcodes.models import Location, QrCode
from tests.browser.conftest import ARTIFACTS, watch_csp
from tests.factories import CheckInFactory, PaymentFactory, SalesUnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def journey(acme, alice, acme_unit):
    """A merchant mid-day: two sales units with a location of one name, a location with 60 codes, a customer
    waiting at the console, a partly refunded payment, an API key."""
    bergen = SalesUnitFactory(merchant=acme, name="Acme Bergen", msn="998877")
    Location.objects.create(sales_unit=bergen, name="Kiosk Torget")
    kiosk = Location.objects.create(sales_unit=acme_unit, name="Kiosk Torget", address="Torget 1, 0150 Oslo")
    QrCode.objects.bulk_create(
        QrCode(
            location=kiosk,
            sales_unit=acme_unit,
            merchant_qr_id=f"kiosk-torget-{n:03d}",
            location_description="Kiosken ved hovedinngangen",
            sync_state=QrCode.SyncState.SYNCED if n <= 55 else QrCode.SyncState.FAILED,
            sync_error="" if n <= 55 else "Vipps answered HTTP 400: locationDescription is too long for this field",
        )
        for n in range(1, 61)
    )
    code = QrCode.objects.get(merchant_qr_id="kiosk-torget-001")
    CheckInFactory(qr_code=code, phone_masked="+47 9•• •• 567")
    served = CheckInFactory(qr_code=code, initiated_at=timezone.now() - timedelta(minutes=3))
    payment = PaymentFactory(
        checkin=served,
        amount=24_900,
        state="AUTHORIZED",
        authorized_amount=24_900,
        captured_amount=24_900,
        refunded_amount=4_900,
        description="Kaffe og kanelbolle, stor",
    )
    api_key_create(merchant=acme, actor=alice, name="Kassesystem Torget", access="write", locations=[kiosk])
    return {"kiosk": kiosk, "code": code, "payment": payment}


def journey_pages(journey) -> list[tuple[str, str]]:
    def m(name, **kwargs):
        return reverse(name, kwargs={"merchant_slug": "acme", **kwargs})

    kiosk, code, payment = journey["kiosk"], journey["code"], journey["payment"]
    return [
        ("dashboard", m("dashboard")),
        ("sales-units", m("sales_unit_list")),
        ("sales-unit", m("sales_unit_detail", pk=kiosk.sales_unit_id)),
        ("locations", m("location_list")),
        ("location", m("location_detail", pk=kiosk.pk)),
        ("qr-code", m("qr_code_detail", pk=code.pk)),
        ("qr-bulk", m("qr_code_bulk_create", pk=kiosk.pk)),
        ("sheet", m("qr_sheet_for_location", pk=kiosk.pk)),
        ("checkins", m("checkin_location_list")),
        ("console", m("checkin_console", pk=kiosk.pk)),
        ("payment-form", m("payment_create")),
        ("payments", m("payment_list")),
        ("payment", m("payment_detail", pk=payment.pk)),
        ("members", m("member_list")),
        ("api-keys", m("api_key_list")),
        ("api-key-new", m("api_key_create")),
        ("webhooks", m("webhook_list")),
        ("webhook-events", m("webhook_event_list")),
        ("audit", m("audit_log")),
        ("api-docs", reverse("api:docs")),
    ]


def axe_serious(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line per rule with the first offenders."""
    page.evaluate(AXE.read_text())
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + " (" + v.impact + "): " + v.help + " — " +
                 v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "))"""
    )
    return violations


def overflow(page) -> int:
    """How many pixels the page scrolls sideways (0: none)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def log_in(page, base_url):
    page.goto(f"{base_url}/accounts/login/")
    page.locator("input[name=username]").fill("alice")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.parametrize(
    ("viewport", "language"), [(PHONE, "en"), (PHONE, "nb"), (DESKTOP, "en")], ids=["390-en", "390-nb", "1366-en"]
)
def test_every_page_fits_the_screen_and_passes_axe(live_server, browser, journey, viewport, language):
    assert AXE.exists(), f"axe-core is missing: run `npm install --prefix .cache/npm axe-core` ({AXE})"
    context = browser.new_context(viewport=viewport, locale=language, extra_http_headers={"Accept-Language": language})
    csp_violations = watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    try:
        log_in(page, live_server.url)
        if language != "en":
            page.get_by_test_id("language-picker").locator("summary").click()
            page.get_by_test_id(f"language-{language}").click()
            page.wait_for_load_state()
        pages = [("login", "/accounts/login/"), *journey_pages(journey)]
        for name, path in pages:
            if name == "login":
                anonymous = context.browser.new_context(viewport=viewport, locale=language)
                target = anonymous.new_page()
            else:
                target = page
            response = target.goto(f"{live_server.url}{path}")
            assert response.status == 200, (name, response.status)
            # The API reference is for vendors' developers, in English.
            assert target.locator("html").get_attribute("lang") == ("en" if name == "api-docs" else language), name
            target.screenshot(path=str(ARTIFACTS / f"layout-{viewport['width']}-{language}-{name}.png"), full_page=True)
            if (wide := overflow(target)) > 0:
                problems.append(f"{name}: scrolls {wide} px sideways")
            problems += [f"{name}: {v}" for v in axe_serious(target)]
            if name == "login":
                anonymous.close()
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert not csp_violations, "\n".join(csp_violations)


def test_on_a_phone_the_sections_are_one_menu_row(live_server, browser, journey):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('payment_list', kwargs={'merchant_slug': 'acme'})}")
    assert page.locator(".topbar").bounding_box()["height"] < 90
    assert page.locator("main h1").bounding_box()["y"] < 120
    assert not page.get_by_role("link", name="Audit log").is_visible()
    page.get_by_test_id("section-menu").locator("summary").click()
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/audit/")
    context.close()


def test_the_payments_filter_bar_is_usable_at_both_widths(live_server, browser, journey):
    for viewport, per_row in ((DESKTOP, 7), (PHONE, 2)):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}{reverse('payment_list', kwargs={'merchant_slug': 'acme'})}")
        fields = page.locator("form.filters .grid > label")
        boxes = [fields.nth(i).bounding_box() for i in range(fields.count())]
        assert all(box["width"] >= 130 for box in boxes), boxes
        assert sum(1 for box in boxes if abs(box["y"] - boxes[0]["y"]) < 2) == per_row
        assert page.locator("form.filters label", has_text="Amount from").bounding_box()["height"] < 100
        context.close()


def test_the_new_api_key_has_a_copy_button(live_server, browser, journey):
    context = browser.new_context(viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    csp_violations = watch_csp(context)
    page = context.new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('api_key_create', kwargs={'merchant_slug': 'acme'})}")
    page.locator("input[name=name]").fill("Automat 7")
    page.locator("main form button[type=submit]").click()
    token = page.get_by_test_id("api-key-token").input_value()
    page.get_by_test_id("api-key-token-copy").click()
    page.locator("#api-key-token-status", has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token
    page.screenshot(path=str(ARTIFACTS / "layout-390-en-api-key-created.png"), full_page=True)
    context.close()
    assert not csp_violations


def test_the_favicon_is_served(live_server, browser):
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(f"{live_server.url}/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    context.close()
