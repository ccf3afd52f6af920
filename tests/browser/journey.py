"""Steps shared by the whole-journey browser tests: what a merchant's staff and a customer do, through the UI.

Two things are not UI, and say so where they are used:
- the relay: in production the `relay` process (Procfile) files stored webhook deliveries and hands them to the
  workers. Here the test plays that process with `relay_until`, one pass at a time in the test thread (tasks run
  eagerly, as everywhere in the suite), so SQLite sees one writer at a time and the step stays deterministic;
- the sandbox's control API, for what happens at Vipps MobilePay's back office and not in any UI of ours or the
  customer's phone (test keys issued to the merchant, a MobilePay PoS created by the PoS vendor).
"""

import html
from collections.abc import Callable
from urllib.parse import urlencode

import requests
from django.utils import translation
from playwright.sync_api import Page, expect

from merchant_portal.core.i18n import format_money, machine_amount
from payments.status import MerchantStatus
from tests.conftest import wait_until
from webhooks_app.services import webhook_events_relay

PASSWORD = "correct horse battery staple"
PHONE = "4791234567"
WAIT_MS = 20_000  # per UI wait: generous for a slow shared 2-core machine, and bounded

TABLETS = {"landscape": {"width": 1024, "height": 768}, "portrait": {"width": 768, "height": 1024}}

Translate = Callable[..., str]


def gettext_in(language: str) -> Translate:
    """t(msgid) or t(msgid, context): the text a page in `language` shows, from the portal's own catalog, so that a
    journey finds its buttons and links by what the reader sees without the test knowing their language.
    `msgid` may also be a lazy label (a choice's), shown in that language. Templates escape `&` in msgids."""

    def t(msgid, context: str | None = None) -> str:
        with translation.override(language):
            text = translation.pgettext(context, msgid) if context else str(translation.gettext(msgid))
        return html.unescape(text)

    return t


EN = gettext_in("en")


def field(page: Page, name: str):
    """A form field by its name attribute (code, the same in every language)."""
    return page.locator(f'main form [name="{name}"]')


def enter_amount(input_locator, minor: int, language: str) -> None:
    """Type an amount as staff in `language` write it ("120,00" in Norwegian). A number input keeps its value in
    the browser's own unlocalised form whatever the display language, so it is given that."""
    if input_locator.get_attribute("type") == "number":
        input_locator.fill(machine_amount(minor))
    else:
        input_locator.fill(format_money(minor, language=language))


def follow_menu(page: Page, name: str, t: Translate = EN) -> None:
    """Follow a link of the merchant's sections by its (translated) name: the sidebar on a wide screen, the menu
    folded into the top bar on a phone (opened first)."""
    menu = page.get_by_test_id("section-menu")
    if menu.is_visible():
        if menu.get_attribute("open") is None:
            menu.locator("summary").click()
        menu.get_by_role("link", name=name, exact=True).click()
    else:
        page.get_by_role("navigation", name=t("Sections")).get_by_role("link", name=name, exact=True).click()


def log_in(page: Page, base_url: str, username: str, next_path: str, t: Translate = EN) -> None:
    """Log in from a bookmark of a merchant page (the till's tablet keeps one), which the log-in returns to."""
    page.goto(f"{base_url}/accounts/login/?{urlencode({'next': next_path})}")
    field(page, "username").fill(username)
    field(page, "password").fill(PASSWORD)
    page.get_by_role("button", name=t("Log in"), exact=True).click()
    expect(page).to_have_url(f"{base_url}{next_path}", timeout=WAIT_MS)
    page.get_by_test_id("current-merchant").wait_for()


def vipps_issues_test_keys(sandbox_url: str, **merchant) -> None:
    """Control API: the merchant got test keys for this MSN from Vipps' business portal (no UI of ours does that)."""
    response = requests.post(f"{sandbox_url}/_sandbox/api/merchants", json=merchant, timeout=10)
    assert response.status_code == 201, response.text


def add_sales_unit(
    page: Page, *, name, msn, market, currency, client_id, client_secret, subscription_key, t: Translate = EN
) -> None:
    follow_menu(page, t("Sales units"), t)
    page.get_by_test_id("add-sales-unit").click()
    field(page, "name").fill(name)
    field(page, "msn").fill(msn)
    field(page, "market").select_option(market)
    field(page, "currency").select_option(currency)
    field(page, "client_id").fill(client_id)
    field(page, "client_secret").fill(client_secret)
    field(page, "subscription_key").fill(subscription_key)
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=WAIT_MS)
    page.get_by_test_id("test-connection").click()
    connected = t("Connected: Vipps issued an access token valid for %(minutes)s min.").split("%(minutes)s")[0]
    expect(page.locator(".message.success")).to_contain_text(connected.strip(), timeout=WAIT_MS)


def add_location(page: Page, *, name: str, address: str, mobilepay_pos_id: str = "", t: Translate = EN) -> None:
    follow_menu(page, t("Locations &amp; QR codes"), t)
    page.get_by_role("button", name=t("Add location"), exact=True).click()
    field(page, "name").fill(name)
    field(page, "address").fill(address)
    if mobilepay_pos_id:
        field(page, "mobilepay_pos_id").fill(mobilepay_pos_id)
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=WAIT_MS)


def open_console(page: Page, location_name: str, t: Translate = EN) -> None:
    follow_menu(page, t("Check-ins"), t)
    page.get_by_role("main").get_by_role("link", name=location_name).click()
    expect(page.get_by_test_id("no-checkins")).to_be_visible(timeout=WAIT_MS)
    # Survives only while the document does: still there later means nothing reloaded or navigated.
    page.evaluate("window.__noReload = true")


def still_same_document(page: Page, url: str) -> bool:
    return page.url == url and page.evaluate("window.__noReload === true")


def customer_phone(page: Page, sandbox_url: str, phone: str = PHONE) -> Page:
    """The customer's phone (the sandbox's customer page) in a second tab, with the customer's number chosen."""
    phone_page = page.context.new_page()
    # The sandbox, a test double of Vipps' app, has no icon: its 404 is not an error of the portal's pages.
    phone_page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    phone_page.goto(f"{sandbox_url}/_sandbox/phone")
    phone_page.get_by_placeholder("Phone number").fill(phone)
    phone_page.get_by_role("button", name="Use").click()
    expect(phone_page.locator("#phone-number")).to_have_text(phone, timeout=WAIT_MS)
    return phone_page


def approve_on_phone(phone_page: Page, description: str) -> None:
    """The push request pops up on the phone (the page reloads itself when one arrives); the customer pays."""
    card = phone_page.locator(".payment-request").filter(has_text=description)
    expect(card).to_be_visible(timeout=WAIT_MS)
    card.get_by_role("button", name="Pay").click()
    expect(phone_page.get_by_role("status")).to_contain_text("Paid", timeout=WAIT_MS)


def relay_until(condition, timeout: float = 20) -> None:
    """The relay process's loop (see the module docstring), until `condition()` holds."""
    assert wait_until(lambda: webhook_events_relay() >= 0 and condition(), timeout=timeout), "relay: timed out"


def open_request_form(page: Page, t: Translate = EN) -> None:
    page.get_by_test_id("checkin").get_by_role("button", name=t("Request payment"), exact=True).click()
    expect(page.get_by_test_id("checkin-customer")).to_be_visible(timeout=WAIT_MS)


def send_payment_request(page: Page, *, amount: int, description: str, language: str = "en") -> None:
    t = gettext_in(language)
    enter_amount(field(page, "amount"), amount, language)
    field(page, "description").fill(description)
    page.get_by_test_id("send-payment-request").click()
    expect(page.get_by_test_id("state")).to_have_text(t(MerchantStatus.WAITING.label), timeout=WAIT_MS)
    expect(page.get_by_test_id("payment-error")).to_have_count(0)  # Vipps took the request


def tablet_usable(page: Page, primary) -> dict:
    """Nothing scrolls sideways, the primary buttons are on screen and at least 44 px tall (a finger's target)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    # With the navigation stacked above the page (portrait), the page follows it directly, without a blank gap.
    gap = page.evaluate(
        """() => { const nav = document.querySelector('.sidebar'), main = document.querySelector('main');
        const n = nav.getBoundingClientRect(), m = main.getBoundingClientRect();
        return n.right > m.left ? m.top - n.bottom : 0; }"""
    )
    assert gap < 2, f"{gap} px of blank space between the navigation and the page"
    sizes = {}
    for button in primary:
        expect(button).to_be_in_viewport(timeout=WAIT_MS)
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44, (button, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], (button, box)
        sizes[button] = box
    return sizes
