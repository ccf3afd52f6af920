"""Webhooks are hints confirmed with GET payment; polling repairs a missed one; rules act on check-ins."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments import services
from payments.models import Payment, PaymentOperation, PaymentRule
from tests.payments.conftest import PHONE, request_payment, sandbox_checkin, vipps_events
from tests.webhooks_app.helpers import deliver, epayment_payload, location, subscribe
from webhooks_app import services as webhook_services
from webhooks_app.models import WebhookEvent


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = "https://portal.example.no"


def test_an_authorized_webhook_is_confirmed_with_get_before_the_payment_changes(sandbox, sandbox_unit):
    subscribe(sandbox_unit)
    payment = request_payment(sandbox_unit)
    # A forged or stale "AUTHORIZED" changes nothing: Vipps still says CREATED.
    deliver(epayment_payload(sandbox_unit.msn, "AUTHORIZED", reference=payment.reference))
    webhook_services.webhook_events_relay()
    payment.refresh_from_db()
    assert payment.state == "CREATED" and payment.checked_at is not None

    sandbox.state.approve(sandbox_unit.msn, payment.reference)
    deliver(epayment_payload(sandbox_unit.msn, "AUTHORIZED", reference=payment.reference))
    webhook_services.webhook_events_relay()

    payment.refresh_from_db()
    assert (payment.state, payment.authorized_amount) == ("AUTHORIZED", 10_000)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_a_webhook_about_a_payment_the_portal_did_not_make_is_discarded(sandbox, sandbox_unit):
    subscribe(sandbox_unit)
    deliver(epayment_payload(sandbox_unit.msn, "AUTHORIZED", reference="someone-elses-order-1"))
    webhook_services.webhook_events_relay()
    event = WebhookEvent.objects.get()
    assert event.status == "failed" and "No payment with reference" in event.detail


def test_reconciliation_repairs_a_missed_webhook(sandbox, sandbox_unit):
    payment = request_payment(sandbox_unit)
    sandbox.state.approve(sandbox_unit.msn, payment.reference)  # the webhook never arrives
    assert services.payments_reconcile() == 0  # not due yet: 5 s after create
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now() - timedelta(seconds=1))

    assert services.payments_reconcile() == 1

    payment.refresh_from_db()
    assert payment.state == "AUTHORIZED" and payment.next_check_at is None  # final: no more polling


def test_reconciliation_resends_a_request_whose_task_was_lost(sandbox, sandbox_unit, alice):
    payment = services.payment_request_create(
        sales_unit=sandbox_unit,
        amount=5_000,
        description="Lost task",
        actor=alice,
        request_token="t1",
        phone_number=PHONE,
    )  # the on-commit enqueue never ran (as if the broker lost it)
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now() - timedelta(seconds=1))
    services.payments_reconcile()
    payment.refresh_from_db()
    assert payment.sending == "sent" and sandbox.state.payment(sandbox_unit.msn, payment.reference).amount == 5_000


def test_a_double_submitted_request_sends_one_push_message(sandbox, sandbox_unit, alice):
    first = request_payment(sandbox_unit, actor=alice, request_token="form-1")
    second = request_payment(sandbox_unit, actor=alice, request_token="form-1")
    assert first.pk == second.pk and Payment.objects.count() == 1
    assert len(sandbox.state.pending_for_phone(PHONE)) == 1


def test_a_sales_unit_without_push_messages_gets_error_5080_explained(sandbox, acme_unit):
    sandbox.register_merchant(
        msn=acme_unit.msn,
        client_id=acme_unit.client_id,
        client_secret=acme_unit.client_secret,
        subscription_key=acme_unit.subscription_key,
        push_message_allowed=False,
    )
    payment = request_payment(acme_unit)
    assert payment.sending == "failed" and payment.error_code == "5080"
    assert "not allowed to send push messages" in payment.error_message
    assert payment.customer == ""  # the phone number is not kept


def test_a_request_from_a_check_in_uses_its_customer_token_at_the_point_of_sale(sandbox, sandbox_unit):
    loc = location(sandbox_unit)
    checkin = sandbox_checkin(sandbox, sandbox_unit, loc)

    payment = request_payment(sandbox_unit, checkin=checkin, amount=4_990)

    remote = sandbox.state.payment(sandbox_unit.msn, payment.reference)
    assert "customerToken" in remote.customer and remote.target_phone == PHONE
    assert (remote.user_flow, remote.customer_interaction) == ("PUSH_MESSAGE", "CUSTOMER_PRESENT")
    assert payment.location == loc and payment.customer_label == "check-in"
    assert payment.reference.startswith(f"{sandbox_unit.msn}-")


def test_receipt_lines_are_sent_in_minor_units_with_their_tax(sandbox, sandbox_unit):
    lines = [
        {"name": "Coffee", "quantity": "2", "unit_price": 3_500, "tax_percentage": 15},
        {"name": "Bun", "quantity": "1", "unit_price": 3_000, "tax_percentage": 15},
    ]
    payment = request_payment(sandbox_unit, amount=10_000, lines=lines)
    receipt = sandbox.state.payment(sandbox_unit.msn, payment.reference).receipt
    coffee = receipt["orderLines"][0]
    assert (coffee["totalAmount"], coffee["totalAmountExcludingTax"], coffee["totalTaxAmount"]) == (7_000, 6_087, 913)
    assert receipt["bottomLine"]["currency"] == "NOK"


def test_a_vending_location_asks_every_check_in_to_pay_and_captures_on_approval(sandbox, sandbox_unit):
    loc = location(sandbox_unit, "Vending 3")
    PaymentRule.objects.create(
        location=loc, request_on_checkin=True, amount=2_500, description="Soda", auto_capture=True
    )
    checkin = sandbox_checkin(sandbox, sandbox_unit, loc)
    payment = Payment.objects.get(checkin=checkin)
    assert (payment.amount, payment.description, payment.auto_capture) == (2_500, "Soda", True)
    assert services.payment_rule_on_checkin(checkin=checkin).pk == payment.pk  # once per check-in

    services.payment_request_send(payment_id=payment.pk)
    sandbox.state.approve(sandbox_unit.msn, payment.reference)
    services.payment_refresh(payment=payment)
    operation = PaymentOperation.objects.get(payment=payment)
    assert (operation.kind, operation.amount, operation.requested_by) == ("capture", 2_500, None)
    services.payment_operation_execute(operation_id=operation.pk)

    payment.refresh_from_db()
    assert payment.captured_amount == 2_500
    assert len(vipps_events(sandbox, payment, "CAPTURED")) == 1
    # A second authorization notice (webhook after the poll) does not capture again.
    services.payment_refresh(payment=payment)
    assert PaymentOperation.objects.filter(payment=payment).count() == 1


def test_epayment_events_held_before_this_handler_existed_apply_when_replayed(sandbox, sandbox_unit, monkeypatch):
    from webhooks_app import dispatch

    subscribe(sandbox_unit)
    payment = request_payment(sandbox_unit)
    sandbox.state.approve(sandbox_unit.msn, payment.reference)
    with monkeypatch.context() as older_version:
        older_version.delitem(dispatch._HANDLERS, "epayments.payment.authorized.v1")
        deliver(epayment_payload(sandbox_unit.msn, "AUTHORIZED", reference=payment.reference))
        webhook_services.webhook_events_relay()
    event = WebhookEvent.objects.get()
    assert event.status == "held"

    webhook_services.webhook_event_replay(event=event, actor=None)
    webhook_services.webhook_events_relay()

    event.refresh_from_db()
    payment.refresh_from_db()
    assert event.status == "processed" and payment.state == "AUTHORIZED"
