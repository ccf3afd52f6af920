"""The legacy MobilePay PoS journey through the UI: a Danish sales unit, a location mapped to a MobilePay PoS; the
customer checks in at the PoS on the sandbox's customer page; MobilePay's notification reaches the portal, which
asks MobilePay who checked in; the check-in appears on the console without a reload; the cashier asks for a
payment in DKK and the customer approves it on the phone."""

import pytest
import requests
from playwright.sync_api import expect

from payments.models import CheckIn, Payment
from tests.browser.journey import (
    PHONE,
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
    vipps_issues_test_keys,
)
from webhooks_app.models import WebhookDelivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POS_ID = "7e6acbde-345e-4641-b2f4-d8df0f3a5147"
UNIT = {
    "name": "Acme København",
    "msn": "445566",
    "client_id": "9d2b7a60-1c3e-4f5a-8b9c-0d1e2f3a4b5c",
    "client_secret": "sandbox-client-secret-dk01",
    "subscription_key": "sandbox-subscription-key-dk01",
}


def test_a_mobilepay_pos_check_in_is_asked_to_pay_and_approves(live_server, page, shot, alice, sandbox, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    vipps_issues_test_keys(sandbox.url, **UNIT, currency="DKK")
    # Control API, MobilePay's side: MobilePay allow-listed our notification URL under a CallbackAlias (agreed by
    # e-mail, see the README), and the PoS vendor created the till's PoS with that alias. No UI does either.
    for path, body in (
        ("callback-aliases", {"alias": "acme-portal", "url": f"{live_server.url}/hooks/mobilepay/pos/"}),
        (
            "pos",
            {
                "msn": UNIT["msn"],
                "merchantPosId": "kasse-1",
                "name": "Kasse 1 Strøget",
                "posId": POS_ID,
                "callbackAlias": "acme-portal",
            },
        ),
    ):
        response = requests.post(f"{sandbox.url}/_sandbox/api/{path}", json=body, timeout=10)
        assert response.status_code == 201, response.text

    log_in(page, live_server.url, "alice", "/m/acme/sales-units/")
    add_sales_unit(page, **UNIT, market="DK", currency="DKK")
    add_location(page, name="Strøget", address="Strøget 1, København", mobilepay_pos_id=POS_ID)
    open_console(page, "Strøget")
    console_url = page.url
    shot("console-empty")

    # The customer checks in at the till's PoS (its beacon) in the MobilePay app.
    phone = customer_phone(page, sandbox.url)
    phone.locator("form").filter(has_text="Kasse 1 Strøget").get_by_role("button", name="Check in").click()
    expect(phone.get_by_role("status")).to_contain_text("Checked in at the MobilePay point of sale", timeout=WAIT_MS)
    shot("phone-checked-in", phone)
    # The relay process files MobilePay's notification; the worker asks MobilePay who checked in.
    relay_until(lambda: CheckIn.objects.exists())
    assert WebhookDelivery.objects.filter(source="mobilepay_pos").exists()

    row = page.get_by_test_id("checkin")
    expect(row).to_contain_text("MobilePay PoS", timeout=WAIT_MS)
    assert still_same_document(page, console_url)
    checkin = CheckIn.objects.get()
    assert (checkin.source, checkin.pos_id) == ("mobilepay_pos", POS_ID)
    shot("console-check-in")

    open_request_form(page)
    send_payment_request(page, amount=4_500, description="Smørrebrød")
    payment_url = page.url
    page.evaluate("window.__noReload = true")
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.checkin_id) == (4_500, "DKK", checkin.pk)
    shot("waiting-for-customer")

    approve_on_phone(phone, "Smørrebrød")
    shot("phone-paid", phone)
    relay_until(lambda: Payment.objects.get().state == Payment.State.AUTHORIZED)
    expect(page.get_by_test_id("state")).to_have_text("Authorized", timeout=WAIT_MS)
    expect(page.get_by_test_id("authorized")).to_have_text("45.00")
    assert still_same_document(page, payment_url)
    shot("authorized")

    remote = sandbox.state.payment(UNIT["msn"], payment.reference)
    assert (remote.state, remote.approved_by, remote.amount, remote.currency) == ("AUTHORIZED", PHONE, 4_500, "DKK")
    assert sandbox.state.wait_for_deliveries(timeout=10)
