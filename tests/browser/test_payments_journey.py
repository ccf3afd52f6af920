"""A cashier's day: a customer checks in, is asked to pay, approves in the app; staff capture and refund part."""

import pytest

from payments.models import Payment
from tests.payments.conftest import sandbox_checkin
from tests.webhooks_app.helpers import location

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_check_in_to_request_to_approval_to_capture_to_partial_refund(
    live_server, page, shot, alice, sandbox, sandbox_unit
):
    kiosk = location(sandbox_unit, "Kiosk Torget")
    sandbox_checkin(sandbox, sandbox_unit, kiosk)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Check-ins").click()
    page.get_by_role("link", name="Kiosk Torget").click()
    page.get_by_role("button", name="Request payment").click()

    page.get_by_test_id("checkin-customer").wait_for()
    page.get_by_label("Amount").fill("120.00")
    page.get_by_label("Description").fill("Coffee and cake")
    page.get_by_label("Receipt lines (optional)").fill("Coffee; 2; 35.00; 15\nCake; 1; 50.00; 15")
    shot("request-form")
    page.get_by_role("button", name="Send payment request").click()

    assert page.get_by_test_id("state").inner_text() == "Waiting for the customer"
    payment = Payment.objects.get()
    assert (payment.amount, payment.sending) == (12_000, "sent")
    shot("waiting-for-customer")

    sandbox.state.approve(sandbox_unit.msn, payment.reference)  # the customer taps "Pay" in the app
    page.get_by_role("button", name="Check with Vipps now").click()
    assert page.get_by_test_id("state").inner_text() == "Authorized"
    assert page.get_by_test_id("authorized").inner_text() == "120.00"
    shot("authorized")

    page.get_by_label("Capture amount").fill("120.00")
    page.get_by_role("button", name="Capture", exact=True).click()
    assert page.get_by_test_id("confirm-amount").inner_text() == "NOK\xa0120.00"  # nothing moves before "Yes"
    assert sandbox.state.payment(sandbox_unit.msn, payment.reference).captured == 0
    page.get_by_test_id("confirm-yes").click()
    assert page.get_by_test_id("captured").inner_text() == "120.00"
    shot("captured")

    page.get_by_label("Refund amount").fill("35.00")
    page.get_by_role("button", name="Refund").click()
    page.get_by_test_id("confirm-yes").click()
    assert page.get_by_test_id("refunded").inner_text() == "35.00"
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "Asked Vipps to capture: answer 200" in timeline and "Asked Vipps to refund: answer 200" in timeline
    shot("refunded-with-timeline")

    remote = sandbox.state.payment(sandbox_unit.msn, payment.reference)
    assert (remote.captured, remote.refunded) == (12_000, 3_500)
