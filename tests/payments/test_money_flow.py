"""Capture, refund and cancel reach Vipps exactly once, whatever fails in between; the sandbox is the witness."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection

from merchant_portal.tenancy.models import VippsCall
from payments import services, tasks
from payments.models import Payment, PaymentOperation
from tests.payments.conftest import vipps_events

Kind = PaymentOperation.Kind
Status = PaymentOperation.Status


class Clock:
    """time.time() for the portal's per-minute limiter, moved on together with the sandbox's clock."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def next_minute(self) -> None:
        self.offset += 61
        self.sandbox.state.advance(61)


@pytest.fixture
def clock(sandbox, monkeypatch):
    clock = Clock(sandbox)
    monkeypatch.setattr(services, "time", clock)
    return clock


def request(payment, kind, amount=0, token=None, actor=None):
    """Save an operation without running it (the task is what the tests drive)."""
    return services.payment_operation_request(
        payment=payment,
        kind=kind,
        amount=amount,
        request_token=token or f"{kind}-{amount}-{time.monotonic()}",
        actor=actor,
    )


def settle(clock, rounds: int = 40) -> None:
    """What workers and the beat job do over time: run every pending operation, a minute apart, until none is."""
    for _ in range(rounds):
        pending = list(PaymentOperation.objects.filter(status=Status.PENDING).values_list("pk", flat=True))
        if not pending:
            return
        for pk in pending:
            services.payment_operation_execute(operation_id=pk)
        clock.next_minute()
    raise AssertionError("operations did not settle")


def assert_once_each(sandbox, payment, name: str, kind: str) -> None:
    """Vipps saw exactly one change per operation we asked for, with its key, and the amounts agree."""
    payment.refresh_from_db()
    events = vipps_events(sandbox, payment, name)
    operations = list(payment.operations.filter(kind=kind))
    assert sorted(e.idempotency_key for e in events) == sorted(o.idempotency_key for o in operations)
    assert all(o.status == Status.DONE for o in operations)
    remote = sandbox.state.payment(payment.sales_unit.msn, payment.reference)
    assert sum(e.amount for e in events) == sum(o.amount for o in operations)
    field = {"CAPTURED": "captured", "REFUNDED": "refunded"}[name]
    assert getattr(payment, f"{field}_amount") == getattr(remote, field) == sum(o.amount for o in operations)


def test_capture_refund_and_cancel_move_the_money_once_and_the_amounts_add_up(sandbox, authorized, alice, clock):
    payment = authorized(10_000)
    assert (payment.state, payment.authorized_amount) == ("AUTHORIZED", 10_000)

    request(payment, Kind.CAPTURE, 6_000, actor=alice)
    settle(clock)
    request(payment, Kind.REFUND, 2_500, actor=alice)
    request(payment, Kind.CANCEL, actor=alice)
    settle(clock)

    payment.refresh_from_db()
    assert payment.state == "AUTHORIZED"  # stays so after capture, refund and cancel (§4.4)
    assert (payment.captured_amount, payment.refunded_amount, payment.cancelled_amount) == (6_000, 2_500, 4_000)
    assert_once_each(sandbox, payment, "CAPTURED", Kind.CAPTURE)
    assert_once_each(sandbox, payment, "REFUNDED", Kind.REFUND)
    assert len(vipps_events(sandbox, payment, "CANCELLED")) == 1


def test_amounts_are_checked_against_what_is_left_including_operations_on_their_way(authorized, alice):
    payment = authorized(10_000)
    request(payment, Kind.CAPTURE, 7_000)
    # Amounts in the message are money in the active language (English: "NOK 30.00" with a no-break space).
    with pytest.raises(ValidationError) as capture_error:
        request(payment, Kind.CAPTURE, 3_001)
    assert "at most NOK\u00a030.00" in capture_error.value.messages[0]
    with pytest.raises(ValidationError) as refund_error:
        request(payment, Kind.REFUND, 100)
    assert "refund at most NOK\u00a00.00" in refund_error.value.messages[0]


def test_thirty_percent_of_captures_failing_slowly_still_capture_each_operation_once(sandbox, authorized, clock):
    payments = [authorized(20_000) for _ in range(4)]
    sandbox.faults.seed(2026)
    sandbox.faults.fail(503, "capture", rate=0.3)
    sandbox.faults.add_latency(0.2, "capture", rate=0.3)  # the 2 s of production, shortened for the suite
    for payment in payments:
        for part in (5_000, 7_000, 8_000):
            request(payment, Kind.CAPTURE, part)

    settle(clock)

    calls = VippsCall.objects.filter(operation="capture_payment")
    assert calls.filter(status_code=503).exists(), "the faults were not hit"
    for payment in payments:
        assert_once_each(sandbox, payment, "CAPTURED", Kind.CAPTURE)
        assert payment.captured_amount == 20_000


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no `except Exception` catches it."""


def test_a_worker_killed_after_vipps_captured_is_redelivered_and_captures_nothing_more(
    sandbox, authorized, monkeypatch
):
    payment = authorized(10_000)
    operation = request(payment, Kind.CAPTURE, 10_000)
    real_complete = services._complete

    def killed(*args, **kwargs):
        raise WorkerKilled()

    monkeypatch.setattr(services, "_complete", killed)
    with pytest.raises(WorkerKilled):
        tasks.execute_payment_operation.apply(args=[operation.pk])
    operation.refresh_from_db()
    assert operation.status == Status.PENDING and len(vipps_events(sandbox, payment, "CAPTURED")) == 1

    monkeypatch.setattr(services, "_complete", real_complete)
    tasks.execute_payment_operation.apply(args=[operation.pk])  # acks_late + reject_on_worker_lost: redelivered

    operation.refresh_from_db()
    assert operation.status == Status.DONE
    assert_once_each(sandbox, payment, "CAPTURED", Kind.CAPTURE)
    # The redelivery found the capture in Vipps' event log and did not POST again.
    assert VippsCall.objects.filter(reference=payment.reference, operation="capture_payment").count() == 1


def test_a_read_timeout_after_vipps_applied_the_capture_is_not_captured_twice(sandbox, authorized, settings, clock):
    payment = authorized(10_000)
    settings.VIPPS_READ_TIMEOUT = 0.5
    sandbox.faults.apply_then_timeout("capture", times=1, seconds=1.5)
    operation = request(payment, Kind.CAPTURE, 4_000)

    outcome = services.payment_operation_execute(operation_id=operation.pk)
    assert outcome.status == "retry"
    operation.refresh_from_db()
    assert operation.status == Status.PENDING and operation.next_attempt_at is not None

    settle(clock)
    assert_once_each(sandbox, payment, "CAPTURED", Kind.CAPTURE)
    assert payment.captured_amount == 4_000


def test_without_the_event_log_the_retry_still_captures_once_thanks_to_the_idempotency_key(
    sandbox, authorized, settings, clock, monkeypatch
):
    payment = authorized(10_000)
    settings.VIPPS_READ_TIMEOUT = 0.5
    sandbox.faults.apply_then_timeout("capture", times=1, seconds=1.5)
    monkeypatch.setattr(services, "_applied_at_vipps", lambda client, operation: False)
    request(payment, Kind.CAPTURE, 4_000)

    settle(clock)
    assert VippsCall.objects.filter(reference=payment.reference, operation="capture_payment").count() == 2
    assert_once_each(sandbox, payment, "CAPTURED", Kind.CAPTURE)


def concurrently(fn, n: int = 5) -> list:
    """Run fn in n threads released together. SQLite takes one writer at a time (the others wait for its lock);
    an attempt refused with "locked" is repeated, as Celery redelivers a task. On PostgreSQL the race is real."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            for _ in range(100):
                try:
                    results.append(fn())
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_the_same_capture_clicked_twice_at_once_is_one_capture_at_vipps(sandbox, authorized, monkeypatch, clock):
    payment = authorized(10_000)
    queued = []
    monkeypatch.setattr(tasks.execute_payment_operation, "delay_on_commit", queued.append)

    operations = concurrently(lambda: request(payment, Kind.CAPTURE, 10_000, token="form-7f3a").pk, n=2)
    assert len(set(operations)) == 1 and PaymentOperation.objects.count() == 1

    # Both clicks' tasks (and a duplicated delivery) run at the same time.
    outcomes = concurrently(lambda: services.payment_operation_execute(operation_id=operations[0]).status, n=4)
    assert "done" in outcomes
    # On the in-memory SQLite a lease release can itself be refused ("locked"); such a lease would run out.
    PaymentOperation.objects.update(leased_until=None)
    settle(clock)
    assert_once_each(sandbox, payment, "CAPTURED", Kind.CAPTURE)
    assert VippsCall.objects.filter(reference=payment.reference, operation="capture_payment").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_different_captures_at_once_cannot_capture_more_than_authorized(authorized, monkeypatch):
    payment = authorized(10_000)
    monkeypatch.setattr(tasks.execute_payment_operation, "delay_on_commit", lambda pk: None)

    def capture_7000():
        try:
            return request(payment, Kind.CAPTURE, 7_000)
        except ValidationError:
            return None

    results = concurrently(capture_7000, n=3)
    assert len([r for r in results if r is not None]) == 1
    assert PaymentOperation.objects.count() == 1


def test_vipps_rate_limit_is_respected_per_reference(sandbox, authorized, clock):
    payment = authorized(10_000)
    for _ in range(6):
        request(payment, Kind.CAPTURE, 1_000)

    for pk in PaymentOperation.objects.values_list("pk", flat=True):
        services.payment_operation_execute(operation_id=pk)

    # Vipps allows 5 modifications a minute per reference (the create counted as one): the rest wait.
    assert PaymentOperation.objects.filter(status=Status.DONE).count() == 4
    waiting = PaymentOperation.objects.filter(status=Status.PENDING)
    assert waiting.count() == 2 and all("limit" in o.error_message for o in waiting)
    assert not VippsCall.objects.filter(status_code=429).exists()
    settle(clock)
    assert_once_each(sandbox, payment, "CAPTURED", Kind.CAPTURE)


def test_a_429_from_vipps_postpones_the_operation_by_its_retry_after(sandbox, authorized):
    payment = authorized(10_000)
    sandbox.faults.fail(429, "capture", times=1, retry_after=42)
    operation = request(payment, Kind.CAPTURE, 1_000)

    outcome = services.payment_operation_execute(operation_id=operation.pk)

    assert outcome.status == "retry" and outcome.retry_in == 42
    operation.refresh_from_db()
    assert operation.status == Status.PENDING and "429" in operation.error_message


def test_a_refused_capture_fails_with_vipps_code_and_a_plain_explanation(sandbox, authorized):
    payment = authorized(10_000)
    # Captured elsewhere (e.g. in Vipps' business portal) after we last looked.
    sandbox.state.payments[(payment.sales_unit.msn, payment.reference)].captured = 9_000
    operation = request(payment, Kind.CAPTURE, 5_000)

    services.payment_operation_execute(operation_id=operation.pk)

    operation.refresh_from_db()
    payment.refresh_from_db()
    assert operation.status == Status.FAILED and operation.error_code == "6090"
    assert "more than what is left to capture" in operation.error_message
    assert payment.captured_amount == 9_000  # refreshed from Vipps after the refusal


def test_the_drain_hands_postponed_and_lost_operations_to_a_task_again(authorized, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    payment = authorized(10_000)
    operation = request(payment, Kind.CAPTURE, 1_000)  # its task was "lost": the on-commit never ran
    assert services.payment_operations_drain() == 0
    PaymentOperation.objects.filter(pk=operation.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))

    assert services.payment_operations_drain() == 1
    operation.refresh_from_db()
    assert operation.status == Status.DONE
    assert Payment.objects.get(pk=payment.pk).captured_amount == 1_000


def test_withdrawing_an_unanswered_request_terminates_it_once(sandbox, sandbox_unit, alice, clock):
    from tests.payments.conftest import request_payment

    payment = request_payment(sandbox_unit, actor=alice)
    request(payment, Kind.CANCEL, token="withdraw")
    request(payment, Kind.CANCEL, token="withdraw")  # the double click
    settle(clock)

    payment.refresh_from_db()
    assert payment.state == "TERMINATED" and payment.is_final
    assert len(vipps_events(sandbox, payment, "TERMINATED")) == 1
    with pytest.raises(ValidationError):
        request(payment, Kind.CANCEL)
