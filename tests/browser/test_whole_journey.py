"""The whole journey through the UI, as the issue lists it: an owner adds a sandbox sales unit, a location and QR
codes, prints them; a customer scans one on the sandbox's customer page; the check-in appears on the console
without a reload; the cashier asks for a payment, the customer approves it on the phone, staff capture it and
refund part. The console and the request form are also checked at tablet sizes (the till's screen)."""

import pytest
from playwright.sync_api import expect

from payments.models import CheckIn, Payment
from qrcodes.models import QrCode
from tests.browser.journey import (
    PHONE,
    TABLETS,
    WAIT_MS,
    add_location,
    add_sales_unit,
    approve_on_phone,
    customer_phone,
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

UNIT = {
    "name": "Acme Oslo",
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


def test_from_an_empty_merchant_to_a_partly_refunded_payment(
    live_server, page, shot, alice, sandbox, settings, tmp_path
):
    settings.PUBLIC_BASE_URL = live_server.url  # where the sandbox delivers webhooks: the live server
    vipps_issues_test_keys(sandbox.url, **UNIT, currency="NOK")

    # 1. Log in; add the sales unit with those keys; the portal registers its webhooks at Vipps (the sandbox).
    log_in(page, live_server.url, "alice", "/m/acme/sales-units/")
    add_sales_unit(page, **UNIT, market="NO", currency="NOK")
    shot("sales-unit-connected")
    assert {w.url for w in sandbox.state.webhooks.values()} == {f"{live_server.url}/hooks/vipps/"}

    # A location, three QR codes at once, synced with Vipps.
    add_location(page, name="Kiosk Torget", address="Torget 1, Oslo")
    page.get_by_role("button", name="Create several").click()
    page.get_by_label("Number of codes").fill("3")
    page.get_by_label("Location description").fill("Kiosk Torget")
    page.get_by_role("button", name="Create").click()
    for n in (1, 2, 3):
        expect(page.get_by_test_id(f"sync-state-kiosk-torget-00{n}")).to_have_text("Synced", timeout=WAIT_MS)
    assert {qr.merchant_qr_id for qr in sandbox.state.list_callback_qrs()} == {
        "kiosk-torget-001",
        "kiosk-torget-002",
        "kiosk-torget-003",
    }
    shot("qr-codes-synced")

    # The printable sheet: a PDF whose codes scan as the codes' qrContent.
    page.get_by_role("button", name="Print (PDF)").click()
    page.get_by_label("A4, 4 per page").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Make PDF").click()
    pdf = tmp_path / "sheet.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    (decoded,) = decode_pdf(pdf.read_bytes(), tmp_path)
    assert sorted(decoded) == sorted(QrCode.objects.values_list("qr_content", flat=True))
    shot("sheet-form")

    # 2. The console is open before the customer scans.
    open_console(page, "Kiosk Torget")
    console_url = page.url
    shot("console-empty")

    phone = customer_phone(page, sandbox.url)
    phone.locator("form.qr-code").filter(has_text="kiosk-torget-002").get_by_role("button", name="Scan").click()
    expect(phone.get_by_role("status")).to_contain_text("the merchant was notified", timeout=WAIT_MS)
    shot("phone-scanned", phone)
    relay_until(lambda: CheckIn.objects.exists())  # the relay process hands the delivery to a worker

    row = page.get_by_test_id("checkin")
    expect(row).to_contain_text("Kiosk Torget", timeout=WAIT_MS)  # the code's location description
    assert still_same_document(page, console_url)  # htmx brought it in: no reload, no navigation
    shot("console-check-in")
    # The countdown keeps moving, but the button the cashier is about to tap stays the same element.
    button = row.get_by_role("button", name="Request payment")
    button.evaluate("b => { b.__kept = true; }")
    countdown = row.get_by_test_id("countdown")
    expect(countdown).not_to_have_text(countdown.inner_text(), timeout=WAIT_MS)
    assert button.evaluate("b => b.__kept === true"), "the poll replaced the button"

    # 6. The console at the till: a tablet, both ways up.
    for orientation, size in TABLETS.items():
        page.set_viewport_size(size)
        tablet_usable(page, [row.get_by_role("button", name="Request payment")])
        shot(f"console-tablet-{orientation}")
    page.set_viewport_size({"width": 1280, "height": 860})

    # 3 and 6. The request form, also at the till's tablet; the customer approves on the phone; the page follows.
    open_request_form(page)
    assert page.get_by_label("Amount").get_attribute("inputmode") == "decimal"  # the tablet's number pad
    for orientation, size in TABLETS.items():
        page.set_viewport_size(size)
        tablet_usable(page, [page.get_by_test_id("send-payment-request")])
        shot(f"request-form-tablet-{orientation}")
    page.set_viewport_size({"width": 1280, "height": 860})
    send_payment_request(page, amount="120.00", description="Coffee and cake")
    payment_url = page.url
    page.evaluate("window.__noReload = true")
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.checkin.qr_code.merchant_qr_id) == (
        12_000,
        "NOK",
        "kiosk-torget-002",
    )
    shot("waiting-for-customer")
    # While it polls, an unchanged page is left alone: the buttons stay the elements the cashier may tap. (Vipps'
    # "created" webhook changes the timeline once: let it land and be shown first.)
    assert sandbox.state.wait_for_deliveries(timeout=10)
    page.evaluate(POLLS, 2)  # the second one started after the webhook landed
    check_now = page.get_by_role("button", name="Check with Vipps now")
    check_now.evaluate("b => { b.__kept = true; }")
    page.evaluate(POLLS, 2)
    assert check_now.evaluate("b => b.__kept === true"), "an unchanged poll replaced the page"

    approve_on_phone(phone, "Coffee and cake")
    shot("phone-paid", phone)
    relay_until(lambda: Payment.objects.get().state == Payment.State.AUTHORIZED)  # the ePayment webhook
    expect(page.get_by_test_id("state")).to_have_text("Authorized", timeout=WAIT_MS)
    expect(page.get_by_test_id("authorized")).to_have_text("120.00")
    assert still_same_document(page, payment_url)
    shot("authorized")

    page.get_by_label("Capture amount").fill("120.00")
    page.get_by_role("button", name="Capture", exact=True).click()
    expect(page.get_by_test_id("captured")).to_have_text("120.00", timeout=WAIT_MS)
    expect(page.get_by_test_id("state")).to_have_text("Authorized")
    shot("captured")

    page.get_by_label("Refund amount").fill("35.00")
    page.get_by_role("button", name="Refund").click()
    expect(page.get_by_test_id("refunded")).to_have_text("35.00", timeout=WAIT_MS)
    shot("refunded")

    remote = sandbox.state.payment(UNIT["msn"], payment.reference)
    assert (remote.state, remote.approved_by) == ("AUTHORIZED", PHONE)
    assert (remote.captured, remote.refunded) == (12_000, 3_500)
    # Capture and refund make Vipps send webhooks too: let them land before the database is emptied.
    assert sandbox.state.wait_for_deliveries(timeout=10)
