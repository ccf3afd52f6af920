"""Steps shared by the whole-journey browser tests: what a merchant's staff and a customer do, through the UI.

Two things are not UI, and say so where they are used:
- the relay: in production the `relay` process (Procfile) files stored webhook deliveries and hands them to the
  workers. Here the test plays that process with `relay_until`, one pass at a time in the test thread (tasks run
  eagerly, as everywhere in the suite), so SQLite sees one writer at a time and the step stays deterministic;
- the sandbox's control API, for what happens at Vipps MobilePay's back office and not in any UI of ours or the
  customer's phone (test keys issued to the merchant, a MobilePay PoS created by the PoS vendor).
"""

from urllib.parse import urlencode

import requests
from playwright.sync_api import Page, expect

from tests.conftest import wait_until
from webhooks_app.services import webhook_events_relay

PASSWORD = "correct horse battery staple"
PHONE = "4791234567"
WAIT_MS = 20_000  # per UI wait: generous for a slow shared 2-core machine, and bounded

TABLETS = {"landscape": {"width": 1024, "height": 768}, "portrait": {"width": 768, "height": 1024}}


def log_in(page: Page, base_url: str, username: str, next_path: str) -> None:
    """Log in from a bookmark of a merchant page (the till's tablet keeps one), which the log-in returns to."""
    page.goto(f"{base_url}/accounts/login/?{urlencode({'next': next_path})}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}{next_path}", timeout=WAIT_MS)
    page.get_by_test_id("current-merchant").wait_for()


def vipps_issues_test_keys(sandbox_url: str, **merchant) -> None:
    """Control API: the merchant got test keys for this MSN from Vipps' business portal (no UI of ours does that)."""
    response = requests.post(f"{sandbox_url}/_sandbox/api/merchants", json=merchant, timeout=10)
    assert response.status_code == 201, response.text


def add_sales_unit(page: Page, *, name, msn, market, currency, client_id, client_secret, subscription_key) -> None:
    page.get_by_role("link", name="Sales units").click()
    page.get_by_test_id("add-sales-unit").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("MSN").fill(msn)
    page.get_by_label("Market").select_option(market)
    page.get_by_label("Currency").select_option(currency)
    page.get_by_label("Client id").fill(client_id)
    page.get_by_label("Client secret").fill(client_secret)
    page.get_by_label("Subscription key").fill(subscription_key)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=WAIT_MS)
    page.get_by_test_id("test-connection").click()
    expect(page.locator(".message.success")).to_contain_text("Connected", timeout=WAIT_MS)


def add_location(page: Page, *, name: str, address: str, mobilepay_pos_id: str = "") -> None:
    page.get_by_role("link", name="Locations & QR codes").click()
    page.get_by_role("button", name="Add location").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Address").fill(address)
    if mobilepay_pos_id:
        page.get_by_label("MobilePay PoS id").fill(mobilepay_pos_id)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=WAIT_MS)


def open_console(page: Page, location_name: str) -> None:
    page.get_by_role("link", name="Check-ins").click()
    page.get_by_role("link", name=location_name).click()
    expect(page.get_by_test_id("no-checkins")).to_be_visible(timeout=WAIT_MS)
    # Survives only while the document does: still there later means nothing reloaded or navigated.
    page.evaluate("window.__noReload = true")


def still_same_document(page: Page, url: str) -> bool:
    return page.url == url and page.evaluate("window.__noReload === true")


def customer_phone(page: Page, sandbox_url: str, phone: str = PHONE) -> Page:
    """The customer's phone (the sandbox's customer page) in a second tab, with the customer's number chosen."""
    phone_page = page.context.new_page()
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


def open_request_form(page: Page) -> None:
    page.get_by_test_id("checkin").get_by_role("button", name="Request payment").click()
    expect(page.get_by_test_id("checkin-customer")).to_be_visible(timeout=WAIT_MS)


def send_payment_request(page: Page, *, amount: str, description: str) -> None:
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Description").fill(description)
    page.get_by_test_id("send-payment-request").click()
    expect(page.get_by_test_id("state")).to_have_text("Waiting for the customer", timeout=WAIT_MS)
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
