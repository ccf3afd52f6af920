"""Vipps' answers are checked before they are merged, and one bad payment or operation only delays itself."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merchant_portal.audit.models import AuditEntry
from merchant_portal.core.health import check_quarantine
from payments import selectors, services
from payments.models import Payment, PaymentOperation
from tests.conftest import client_for
from tests.payments.conftest import request_payment
from tests.webhooks_app.helpers import deliver, epayment_payload, subscribe
from vipps import Aggregate, Amount, ModificationResult
from vipps import Payment as VippsPayment
from vipps.client import VippsClient
from webhooks_app import services as webhook_services

HYPOTHESIS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def answer(payment, *, reference=None, currency="NOK", amount=None, authorized=0, captured=0, refunded=0, cancelled=0):
    """What GET payment could say about `payment`."""
    money = lambda value: Amount(currency, value)  # noqa: E731
    return VippsPayment(
        reference=payment.reference if reference is None else reference,
        psp_reference="psp-1",
        state="AUTHORIZED" if authorized else "CREATED",
        amount=money(payment.amount if amount is None else amount),
        aggregate=Aggregate(
            authorized=money(authorized), cancelled=money(cancelled), captured=money(captured), refunded=money(refunded)
        ),
        payment_method_type="WALLET",
    )


@pytest.fixture
def vipps_says(monkeypatch):
    """GET payment answers what the test says for the references it names; the sandbox answers the rest."""
    answers = {}
    real = VippsClient.get_payment

    def get_payment(client, reference):
        if reference in answers:
            found = answers[reference]
            if isinstance(found, Exception):
                raise found
            return found
        return real(client, reference)

    monkeypatch.setattr(VippsClient, "get_payment", get_payment)
    return answers


def due_now(model, pk, field):
    model.objects.filter(pk=pk).update(**{field: timezone.now() - timedelta(seconds=1)})


def detail_page(user, payment, language="en") -> str:
    url = reverse("payment_detail", kwargs={"merchant_slug": "acme", "pk": payment.pk})
    response = client_for(user).get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


# Answers that are not ours or not possible ------------------------------------------------------------------


def test_an_answer_about_another_reference_is_not_merged_but_flagged_on_the_page_and_timeline(
    sandbox, sandbox_unit, alice, vipps_says
):
    payment = request_payment(sandbox_unit, actor=alice)
    vipps_says[payment.reference] = answer(payment, reference="someone-else-42", authorized=payment.amount)

    services.payment_refresh(payment=payment)

    payment.refresh_from_db()
    assert (payment.state, payment.authorized_amount) == ("CREATED", 0)
    assert payment.anomaly_code == Payment.Anomaly.REFERENCE and "someone-else-42" in payment.anomaly
    assert payment.check_failures == 1 and payment.next_check_at > timezone.now()
    timeline = selectors.payment_timeline(payment=payment)
    flagged = [e for e in timeline if e["title"] == "Vipps' answer was not applied"]
    assert len(flagged) == 1 and not flagged[0]["ok"] and "someone-else-42" in flagged[0]["technical"]

    english = detail_page(alice, payment)
    assert 'data-testid="payment-anomaly"' in english
    assert "Vipps answered about another payment reference than this one." in english
    assert "someone-else-42" in english
    norwegian = detail_page(alice, payment, "nb")
    assert '<html lang="nb"' in norwegian and 'data-testid="payment-anomaly"' in norwegian
    assert "someone-else-42" in norwegian


@pytest.mark.parametrize(
    ("amounts", "why"),
    [
        ({"authorized": 30_000, "captured": 49_900}, "captured above authorized"),
        ({"authorized": 30_000, "captured": 10_000, "refunded": 20_000}, "refunded above captured"),
        ({"authorized": 40_000}, "authorized above the amount"),
        ({"amount": 1, "authorized": 1}, "another amount than asked for"),
        ({"currency": "DKK", "authorized": 30_000}, "another currency"),
    ],
)
def test_impossible_amounts_are_not_merged(sandbox, authorized, vipps_says, amounts, why):
    payment = authorized(30_000)
    vipps_says[payment.reference] = answer(payment, **amounts)

    services.payment_refresh(payment=payment)

    payment.refresh_from_db()
    assert (payment.authorized_amount, payment.captured_amount, payment.refunded_amount) == (30_000, 0, 0), why
    assert payment.anomaly_code in (Payment.Anomaly.AMOUNTS, Payment.Anomaly.CURRENCY), why


def test_a_later_correct_answer_is_merged_and_clears_the_flag_but_the_timeline_keeps_it(
    sandbox, sandbox_unit, alice, vipps_says
):
    payment = request_payment(sandbox_unit, actor=alice)
    vipps_says[payment.reference] = answer(payment, authorized=payment.amount, captured=payment.amount * 2)
    services.payment_refresh(payment=payment)
    services.payment_refresh(payment=payment)  # the same wrong answer again: one timeline entry
    assert Payment.objects.get(pk=payment.pk).check_failures == 2

    del vipps_says[payment.reference]
    sandbox.state.approve(sandbox_unit.msn, payment.reference)
    services.payment_refresh(payment=payment)

    payment.refresh_from_db()
    assert (payment.state, payment.authorized_amount) == ("AUTHORIZED", payment.amount)
    assert (payment.anomaly_code, payment.anomaly, payment.anomaly_at, payment.check_failures) == ("", "", None, 0)
    titles = [e["title"] for e in selectors.payment_timeline(payment=payment)]
    assert titles.count("Vipps' answer was not applied") == 1
    assert "Vipps' answer fits again and was applied" in titles
    assert 'data-testid="payment-anomaly"' not in detail_page(alice, payment)


def test_a_webhook_triggered_get_with_a_foreign_reference_is_not_merged(sandbox, sandbox_unit, vipps_says, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example.no"
    subscribe(sandbox_unit)
    payment = request_payment(sandbox_unit)
    vipps_says[payment.reference] = answer(payment, reference=f"{sandbox_unit.msn}-other-1", authorized=payment.amount)

    deliver(epayment_payload(sandbox_unit.msn, "AUTHORIZED", reference=payment.reference))
    webhook_services.webhook_events_relay()

    payment.refresh_from_db()
    assert (payment.state, payment.authorized_amount, payment.anomaly_code) == ("CREATED", 0, "reference")


def test_a_create_answer_about_another_reference_leaves_the_request_queued_and_flagged(
    sandbox, sandbox_unit, alice, monkeypatch
):
    real = VippsClient.create_payment

    def create_payment(client, request, *, idempotency_key):
        return replace(real(client, request, idempotency_key=idempotency_key), reference="not-ours-123")

    monkeypatch.setattr(VippsClient, "create_payment", create_payment)
    payment = request_payment(sandbox_unit, actor=alice)

    assert (payment.sending, payment.anomaly_code) == ("queued", "reference")
    assert payment.next_check_at > timezone.now()

    monkeypatch.setattr(VippsClient, "create_payment", real)
    due_now(Payment, payment.pk, "next_check_at")
    services.payments_reconcile()  # resends with the same key; the answer is ours now
    payment.refresh_from_db()
    assert payment.sending == "sent" and payment.check_failures == 0


def test_a_capture_answer_that_cannot_be_right_completes_nothing(sandbox, authorized, monkeypatch):
    payment = authorized(10_000)

    def capture_payment(client, reference, amount, *, idempotency_key):
        money = lambda value: Amount("NOK", value)  # noqa: E731
        aggregate = Aggregate(authorized=money(10_000), cancelled=money(0), captured=money(49_900), refunded=money(0))
        return ModificationResult(reference, "psp", "AUTHORIZED", money(10_000), aggregate)

    monkeypatch.setattr(VippsClient, "capture_payment", capture_payment)
    operation = services.payment_operation_request(
        payment=payment, kind="capture", amount=5_000, request_token="c-1", actor=None
    )
    assert services.payment_operation_execute(operation_id=operation.pk).status == "postponed"

    operation.refresh_from_db()
    payment.refresh_from_db()
    assert operation.status == "pending" and operation.failures == 1 and "not applied" in operation.error_message
    assert payment.captured_amount == 0 and payment.anomaly_code == Payment.Anomaly.AMOUNTS


# Poison isolation ------------------------------------------------------------------------------------------


def test_a_poison_operation_between_two_good_ones_delays_only_itself_and_can_be_replayed(
    sandbox, authorized, alice, monkeypatch, django_capture_on_commit_callbacks
):
    payments = [authorized(10_000) for _ in range(3)]
    poison = payments[1]
    real = VippsClient.capture_payment

    def capture_payment(client, reference, amount, *, idempotency_key):
        if reference == poison.reference:
            raise KeyError("pspReference")  # a bug meeting an answer nobody expected
        return real(client, reference, amount, idempotency_key=idempotency_key)

    monkeypatch.setattr(VippsClient, "capture_payment", capture_payment)
    # Attempts in quick succession here; Vipps' per-minute limit is tested on its own (test_money_flow).
    monkeypatch.setattr(services, "_modification_slot", lambda payment: 0.0)
    operations = []
    for n, payment in enumerate(payments):
        # Saved as if their tasks were lost (the on-commit enqueue never runs here); the drain is what runs them.
        operations.append(
            services.payment_operation_request(
                payment=payment, kind="capture", amount=10_000, request_token=f"c-{n}", actor=alice
            )
        )
        due_now(PaymentOperation, operations[-1].pk, "next_attempt_at")

    assert services.payment_operations_drain() == 3  # one pass: the poison one does not stop the others

    status = lambda op: PaymentOperation.objects.get(pk=op.pk)  # noqa: E731
    assert status(operations[0]).status == status(operations[2]).status == "done"
    assert Payment.objects.get(pk=payments[2].pk).captured_amount == 10_000
    bad = status(operations[1])
    assert (bad.status, bad.failures) == ("pending", 1) and "KeyError" in bad.error_message
    assert bad.next_attempt_at > timezone.now() + timedelta(seconds=20)  # backed off
    assert services.payment_operations_drain() == 0  # not before its time

    for failures in range(2, PaymentOperation.QUARANTINE_AFTER + 1):
        due_now(PaymentOperation, bad.pk, "next_attempt_at")
        assert services.payment_operations_drain() == 1
        assert status(bad).failures == failures
    bad = status(bad)
    assert bad.quarantined and bad.next_attempt_at is None
    assert services.payment_operations_drain() == 0  # never picked up again on its own
    page = detail_page(alice, poison)
    assert 'data-testid="payment-anomaly"' in page and "Set aside" in page
    assert any("set aside" in e["title"] for e in selectors.payment_timeline(payment=poison))
    quarantine = check_quarantine()
    assert quarantine.warning and quarantine.counts["payment_operations"] == 1

    monkeypatch.setattr(VippsClient, "capture_payment", real)  # the fix is deployed
    url = reverse("payment_retry", kwargs={"merchant_slug": "acme", "pk": poison.pk})
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(alice).post(url).status_code == 302

    bad = status(bad)
    assert (bad.status, bad.quarantined_at) == ("done", None)
    assert Payment.objects.get(pk=poison.pk).captured_amount == 10_000
    assert AuditEntry.objects.filter(action="payment.retried", target_id=str(poison.pk)).exists()


def test_a_poll_that_fails_for_one_payment_polls_the_others_and_quarantines_it_after_bounded_attempts(
    sandbox, sandbox_unit, alice, vipps_says
):
    payments = [request_payment(sandbox_unit, actor=alice) for _ in range(3)]
    poison = payments[1]
    vipps_says[poison.reference] = ValueError("a body nobody expected")
    for payment in payments:
        sandbox.state.approve(sandbox_unit.msn, payment.reference)
        due_now(Payment, payment.pk, "next_check_at")

    assert services.payments_reconcile() == 2

    assert [Payment.objects.get(pk=p.pk).state for p in payments] == ["AUTHORIZED", "CREATED", "AUTHORIZED"]
    for failures in range(1, Payment.QUARANTINE_AFTER):
        flagged = Payment.objects.get(pk=poison.pk)
        assert flagged.check_failures == failures and flagged.anomaly_code == Payment.Anomaly.ERROR
        assert flagged.next_check_at > timezone.now()
        due_now(Payment, poison.pk, "next_check_at")
        services.payments_reconcile()
    flagged = Payment.objects.get(pk=poison.pk)
    assert flagged.quarantined and flagged.next_check_at is None
    assert "stopped checking" in detail_page(alice, flagged)

    del vipps_says[poison.reference]
    services.payment_retry(payment=flagged, actor=alice)
    assert services.payments_reconcile() == 1
    flagged.refresh_from_db()
    assert (flagged.state, flagged.anomaly_code, flagged.quarantined) == ("AUTHORIZED", "", False)


# Properties ---------------------------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=65_000_000)


@HYPOTHESIS
@given(
    reference=st.one_of(st.just(None), st.text(max_size=60)),
    currency=st.sampled_from(["NOK", "DKK", "EUR"]),
    amount=st.one_of(st.just(None), amounts),
    authorized=amounts,
    captured=amounts,
    refunded=amounts,
    cancelled=amounts,
)
def test_whatever_vipps_answers_nothing_impossible_is_stored(
    sandbox_unit, reference, currency, amount, authorized, captured, refunded, cancelled
):
    payment = Payment.objects.create(
        merchant_id=sandbox_unit.merchant_id,
        sales_unit=sandbox_unit,
        reference=f"{sandbox_unit.msn}-prop-0001",
        idempotency_key="prop-1",
        currency="NOK",
        amount=30_000,
        description="Property",
        sending=Payment.Sending.SENT,
    )
    remote = answer(
        payment,
        reference=reference,
        currency=currency,
        amount=amount,
        authorized=authorized,
        captured=captured,
        refunded=refunded,
        cancelled=cancelled,
    )
    try:
        services.payment_apply_remote(payment_id=payment.pk, remote=remote)
        stored = Payment.objects.get(pk=payment.pk)
        fits = (
            remote.reference == payment.reference
            and currency == "NOK"
            and remote.amount.value == 30_000
            and refunded <= captured <= authorized <= 30_000
            and cancelled <= 30_000
        )
        assert stored.refunded_amount <= stored.captured_amount <= stored.authorized_amount <= stored.amount
        assert bool(stored.anomaly_code) is not fits
        assert stored.authorized_amount == (authorized if fits else 0)
    finally:
        AuditEntry.objects.all().delete()
        payment.delete()
