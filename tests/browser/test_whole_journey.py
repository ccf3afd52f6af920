"""The whole journey through the UI, in each of the portal's four languages: an owner adds a sandbox sales unit, a
location and QR codes, prints them; a customer scans one on the sandbox's customer page; the check-in appears on
the console without a reload; the cashier asks for a payment, the customer approves it on the phone, staff capture
it and refund part; the payments list and the dashboard tell the story.

Each language drives the journey at one width (two on a desktop, two on a phone) and looks at every key page at
both, so every page of the journey is seen in every language at 390 and at 1366 px (screenshots in
PLAYWRIGHT_ARTIFACTS, named by language, width and step), at the cost of one journey per language. The test finds
buttons and links by their names in the page's language, read from the portal's catalog; fields by their names;
and fails on any console error or uncaught exception in the browser, not only on CSP violations."""

import re

import pytest
from playwright.sync_api import Page, expect

from merchant_portal.core.i18n import format_money
from payments.models import CheckIn, Payment
from payments.status import MerchantStatus
from qrcodes.models import QrCode
from tests.browser.conftest import ARTIFACTS
from tests.browser.journey import (
    PHONE,
    TABLETS,
    WAIT_MS,
    add_location,
    add_sales_unit,
    approve_on_phone,
    customer_phone,
    enter_amount,
    field,
    follow_menu,
    gettext_in,
    log_in,
    open_console,
    open_request_form,
    relay_until,
    send_payment_request,
    still_same_document,
    tablet_usable,
    vipps_issues_test_keys,
)
from tests.qrcodes.test_pdf import decode_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_SIZE = {"width": 390, "height": 844}
DESKTOP_SIZE = {"width": 1366, "height": 768}
SIZES = {390: PHONE_SIZE, 1366: DESKTOP_SIZE}

# (language, the browser's locale, the width the journey is driven at, the merchant's market and currency)
JOURNEYS = [
    ("en", "en-GB", 1366, "NO", "NOK"),
    ("nb", "nb-NO", 390, "NO", "NOK"),
    ("da", "da-DK", 390, "DK", "DKK"),
    ("fi", "fi-FI", 1366, "FI", "EUR"),
]

UNIT = {
    "name": "Acme Sentrum",
    "msn": "223344",
    "client_id": "4b8e4c5a-2f55-4d44-9f3e-6e1f1c1d2e3f",
    "client_secret": "sandbox-client-secret-0001",
    "subscription_key": "sandbox-subscription-key-0001",
}

# Resolves after `n` htmx requests have completed (whether or not they swapped anything), or fails after 15 s.
POLLS = """n => new Promise((done, fail) => {
    let seen = 0;
    const count = () => {
        if (++seen === n) { document.body.removeEventListener('htmx:afterRequest', count); done(); }
    };
    document.body.addEventListener('htmx:afterRequest', count);
    setTimeout(() => fail(new Error(`only ${seen} of ${n} polls in 15 s`)), 15000);
})"""

# Each bar as drawn: its data-value (a machine number: a localised one does not parse) and its rendered box.
BARS = """svg => [...svg.querySelectorAll('.bars rect')].map(r => {
    const box = r.getBBox();
    return {value: r.getAttribute('data-value'), width: box.width, height: box.height};
})"""


class Look:
    """look("step"): the page as it is now, at both widths, a full-page screenshot each, named by language, width
    and step; a page that scrolls sideways is noted in `overflows` (the test asserts there are none at its end,
    so one run lists them all). The journey then goes on at its own width."""

    def __init__(self, page: Page, language: str, width: int):
        self.page, self.language, self.width = page, language, width
        self.count = 0
        self.overflows: list[str] = []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, step: str, both: bool = True) -> None:
        """`both=False` for a passing state of a page already seen at the other width (keeps the run short)."""
        self.count += 1
        self.shoot(step, self.width)
        if both:
            self.shoot(step, next(w for w in SIZES if w != self.width))
            self.page.set_viewport_size(SIZES[self.width])

    def shoot(self, step: str, width: int) -> None:
        page = self.page
        page.set_viewport_size(SIZES[width])
        wide = page.evaluate("document.documentElement.scrollWidth")
        name = f"whole-journey-{self.language}-{width}px-{self.count:02d}-{step}.png"
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        if wide > width:
            self.overflows.append(f"{name}: {wide} px wide")


def drawn_bars(page: Page, testid: str) -> list[dict]:
    """The chart's bars; each data-value is a plain number, and every bar with a value above 0 is drawn."""
    bars = page.get_by_test_id(testid).evaluate(BARS)
    assert bars, f"{testid}: no bars"
    for bar in bars:
        assert re.fullmatch(r"-?\d+(\.\d+)?", bar["value"] or ""), f"{testid}: data-value {bar['value']!r}"
        if float(bar["value"]) > 0:
            assert bar["width"] > 0 and bar["height"] > 0, f"{testid}: a bar with data is not drawn: {bar}"
    assert any(float(bar["value"]) > 0 for bar in bars), f"{testid}: no bar with data"
    return bars


def confirm_operation(page: Page, kind: str, amount: str, reference: str) -> None:
    """The confirmation step of a capture, refund or cancel names what it will do, to whom, before anything moves."""
    expect(page.get_by_test_id("confirm-operation")).to_have_attribute("data-kind", kind, timeout=WAIT_MS)
    expect(page.get_by_test_id("confirm-amount")).to_have_text(amount)
    expect(page.get_by_test_id("confirm-customer")).not_to_be_empty()
    expect(page.get_by_test_id("confirm-reference")).to_have_text(reference)


@pytest.mark.parametrize(
    ("language", "locale", "width", "market", "currency"), JOURNEYS, ids=[f"{j[0]}-{j[2]}px" for j in JOURNEYS]
)
def test_from_an_empty_merchant_to_a_partly_refunded_payment(
    live_server, strict_page, alice, sandbox, settings, tmp_path, language, locale, width, market, currency
):
    settings.PUBLIC_BASE_URL = live_server.url  # where the sandbox delivers webhooks: the live server
    t = gettext_in(language)

    def amount(minor: int) -> str:
        """An amount as a person in this language reads and types it ("120,00" in Norwegian)."""
        return format_money(minor, language=language)

    def money(minor: int) -> str:
        return format_money(minor, currency, language=language)

    vipps_issues_test_keys(sandbox.url, **UNIT, currency=currency)
    # The merchant's browser speaks their language: the portal follows it (no language picked yet).
    page = strict_page(locale=locale, viewport=SIZES[width])
    look = Look(page, language, width)

    # 1. Log in; add the sales unit with those keys; the portal registers its webhooks at Vipps (the sandbox).
    log_in(page, live_server.url, "alice", "/m/acme/sales-units/", t)
    expect(page.locator("html")).to_have_attribute("lang", language)
    look("sales-units-empty", both=False)
    add_sales_unit(page, **UNIT, market=market, currency=currency, t=t)
    look("sales-unit-connected")
    assert {w.url for w in sandbox.state.webhooks.values()} == {f"{live_server.url}/hooks/vipps/"}

    # A location, three QR codes at once, synced with Vipps.
    add_location(page, name="Kiosk Torget", address="Torget 1", t=t)
    page.get_by_role("button", name=t("Create several"), exact=True).click()
    field(page, "count").fill("3")
    field(page, "description").fill("Kiosk Torget")
    page.get_by_role("button", name=t("Create"), exact=True).click()
    for n in (1, 2, 3):
        expect(page.get_by_test_id(f"sync-state-kiosk-torget-00{n}")).to_have_attribute(
            "data-state", "synced", timeout=WAIT_MS
        )
    assert {qr.merchant_qr_id for qr in sandbox.state.list_callback_qrs()} == {
        "kiosk-torget-001",
        "kiosk-torget-002",
        "kiosk-torget-003",
    }
    look("qr-codes-synced")

    # The printable sheet, four to a page: every code on it scans as its own qrContent, in every language.
    page.get_by_role("button", name=t("Print (PDF)"), exact=True).click()
    page.locator('main form [name="layout"][value="4"]').check()
    look("sheet-form")
    with page.expect_download() as download:
        page.get_by_role("button", name=t("Make PDF"), exact=True).click()
    document = download.value.path().read_bytes()
    assert document.startswith(b"%PDF-")
    decoded = [code for codes_on_page in decode_pdf(document, tmp_path) for code in codes_on_page]
    assert sorted(decoded) == sorted(QrCode.objects.values_list("qr_content", flat=True))

    # 2. The console is open before the customer scans.
    open_console(page, "Kiosk Torget", t)
    console_url = page.url
    look("console-empty", both=False)

    phone = customer_phone(page, sandbox.url)
    phone.locator("form.qr-code").filter(has_text="kiosk-torget-002").get_by_role("button", name="Scan").click()
    expect(phone.get_by_role("status")).to_contain_text("the merchant was notified", timeout=WAIT_MS)
    relay_until(lambda: CheckIn.objects.exists())  # the relay process hands the delivery to a worker

    row = page.get_by_test_id("checkin")
    expect(row).to_contain_text("Kiosk Torget", timeout=WAIT_MS)  # the code's location description
    assert still_same_document(page, console_url)  # htmx brought it in: no reload, no navigation
    look("console-check-in")
    # The countdown keeps moving, but the button the cashier is about to tap stays the same element.
    button = row.get_by_role("button", name=t("Request payment"), exact=True)
    button.evaluate("b => { b.__kept = true; }")
    countdown = row.get_by_test_id("countdown")
    expect(countdown).not_to_have_text(countdown.inner_text(), timeout=WAIT_MS)
    assert button.evaluate("b => b.__kept === true"), "the poll replaced the button"

    # The console at the till: a tablet, both ways up.
    for size in TABLETS.values():
        page.set_viewport_size(size)
        tablet_usable(page, [row.get_by_role("button", name=t("Request payment"), exact=True)])
    page.set_viewport_size(SIZES[width])

    # 3. The request form; the customer approves on the phone; the page follows.
    open_request_form(page, t)
    assert field(page, "amount").get_attribute("inputmode") == "decimal"  # the tablet's number pad
    look("request-form")
    send_payment_request(page, amount=12_000, description="Coffee and cake", language=language)
    payment_url = page.url
    page.evaluate("window.__noReload = true")
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.checkin.qr_code.merchant_qr_id) == (
        12_000,
        currency,
        "kiosk-torget-002",
    )
    look("waiting-for-customer", both=False)
    # While it polls, an unchanged page is left alone: the buttons stay the elements the cashier may tap. (Vipps'
    # "created" webhook changes the timeline once: let it land and be shown first.)
    assert sandbox.state.wait_for_deliveries(timeout=10)
    page.evaluate(POLLS, 2)  # the second one started after the webhook landed
    check_now = page.get_by_role("button", name=t("Check with Vipps now"), exact=True)
    check_now.evaluate("b => { b.__kept = true; }")
    page.evaluate(POLLS, 2)
    assert check_now.evaluate("b => b.__kept === true"), "an unchanged poll replaced the page"

    approve_on_phone(phone, "Coffee and cake")
    relay_until(lambda: Payment.objects.get().state == Payment.State.AUTHORIZED)  # the ePayment webhook
    expect(page.get_by_test_id("state")).to_have_attribute(
        "data-status", MerchantStatus.AUTHORIZED.value, timeout=WAIT_MS
    )
    expect(page.get_by_test_id("state")).to_have_text(t(MerchantStatus.AUTHORIZED.label))
    expect(page.get_by_test_id("authorized")).to_have_text(amount(12_000))
    assert still_same_document(page, payment_url)
    look("authorized")

    # 4. Capture it all, then refund part. Money moves only once the confirmation, naming the amount, the customer
    # and the payment, is answered.
    capture = page.locator("form", has=page.get_by_role("button", name=t("Capture", "button"), exact=True))
    enter_amount(capture.locator('[name="amount"]'), 12_000, language)
    capture.get_by_role("button", name=t("Capture", "button"), exact=True).click()
    confirm_operation(page, "capture", money(12_000), payment.reference)
    assert sandbox.state.payment(UNIT["msn"], payment.reference).captured == 0
    look("confirm-capture", both=False)
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("captured")).to_have_text(amount(12_000), timeout=WAIT_MS)
    expect(page.get_by_test_id("state")).to_have_attribute("data-status", MerchantStatus.CAPTURED.value)
    expect(page.get_by_test_id("state")).to_have_text(t(MerchantStatus.CAPTURED.label))
    look("captured", both=False)

    refund = page.get_by_test_id("refund-form")
    expect(refund.locator('[name="amount"]')).to_have_value("")  # never pre-filled with everything
    refund.locator('[name="scope"][value="part"]').check()
    enter_amount(refund.locator('[name="amount"]'), 3_500, language)
    refund.get_by_role("button", name=t("Refund", "button"), exact=True).click()
    confirm_operation(page, "refund", money(3_500), payment.reference)
    look("confirm-refund")
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("refunded")).to_have_text(amount(3_500), timeout=WAIT_MS)
    expect(page.get_by_test_id("state")).to_have_attribute("data-status", MerchantStatus.PARTLY_REFUNDED.value)
    expect(page.get_by_test_id("state")).to_have_text(t(MerchantStatus.PARTLY_REFUNDED.label))
    look("refunded")

    remote = sandbox.state.payment(UNIT["msn"], payment.reference)
    assert (remote.state, remote.approved_by) == ("AUTHORIZED", PHONE)
    assert (remote.captured, remote.refunded) == (12_000, 3_500)
    # Capture and refund make Vipps send webhooks too: let them land (and the phone stop polling) before the
    # database is emptied.
    assert sandbox.state.wait_for_deliveries(timeout=10)
    phone.close()

    # 5. The history. The console: the customer was served, and left the queue with the outcome.
    open_console(page, "Kiosk Torget", t)
    served = page.get_by_test_id("served").filter(has_text="Kiosk Torget")
    expect(served.get_by_test_id("outcome")).to_have_attribute("data-outcome", "refunded")
    look("console-served")

    # The payments list says what happened in the merchant's words; the dashboard draws it.
    follow_menu(page, t("Payments"), t)
    listed = page.get_by_role("row").filter(has_text=payment.reference)
    expect(listed).to_contain_text(t(MerchantStatus.PARTLY_REFUNDED.label))
    look("payments")

    follow_menu(page, t("Dashboard"), t)
    page.get_by_test_id("dashboard-live").wait_for()
    (checkins,) = [b for b in drawn_bars(page, "chart-checkins-svg") if float(b["value"]) > 0]
    assert float(checkins["value"]) == 1
    drawn_bars(page, f"chart-captured-{currency}-svg")
    look("dashboard")
    assert not look.overflows, "Pages that scroll sideways:\n" + "\n".join(look.overflows)
