"""From stored row to effect: the outbox relay, the worker, the sweeper, parking, replay and pruning."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone

from payments.models import CheckIn
from tests.webhooks_app.helpers import checkin_payload, deliver, epayment_payload, location, qr_code, subscribe
from webhooks_app import dispatch, services
from webhooks_app.events import CHECKED_IN
from webhooks_app.models import WebhookDelivery, WebhookEvent

Status = WebhookEvent.Status


@pytest.fixture
def kiosk(acme_unit):
    subscribe(acme_unit)
    return qr_code(location(acme_unit))


@pytest.mark.django_db
def test_the_relay_hands_stored_events_to_the_worker_which_creates_the_check_in(kiosk):
    deliver(checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id))
    assert not CheckIn.objects.exists()  # nothing happens in the request
    assert services.webhook_events_relay() == 1
    checkin = CheckIn.objects.get()
    assert (checkin.location, checkin.qr_code, checkin.status) == (kiosk.location, kiosk, "active")
    assert checkin.expires_at - checkin.initiated_at == timedelta(minutes=15)
    assert WebhookEvent.objects.get().status == Status.PROCESSED
    assert services.webhook_events_relay() == 0


@pytest.mark.django_db
def without_handler(monkeypatch, event_type: str = "epayments.payment.authorized.v1") -> None:
    """An event type this version has no handler for (the payments app handles ePayment events)."""
    from webhooks_app import dispatch

    monkeypatch.delitem(dispatch._HANDLERS, event_type)


def test_events_without_a_handler_are_kept_with_a_clear_status_until_one_can_apply_them(kiosk, monkeypatch):
    without_handler(monkeypatch)
    deliver(epayment_payload(kiosk.sales_unit.msn))
    services.webhook_events_relay()
    event = WebhookEvent.objects.get()
    assert event.status == Status.HELD and "No handler" in event.detail
    assert services.webhook_events_relay() == 0  # not retried on its own


@pytest.mark.django_db
def test_a_check_in_at_an_unknown_qr_code_is_parked_then_placed_once_the_code_exists(kiosk):
    deliver(checkin_payload(kiosk.sales_unit.msn, "kiosk-2"))
    services.webhook_events_relay()
    event = WebhookEvent.objects.get()
    assert event.status == Status.PARKED and event.next_attempt_at > timezone.now()
    assert services.webhook_events_relay() == 0  # not due yet
    qr_code(kiosk.location, "kiosk-2", "Till 2")
    WebhookEvent.objects.update(next_attempt_at=timezone.now())
    assert services.webhook_events_relay() == 1
    assert CheckIn.objects.get().qr_code.merchant_qr_id == "kiosk-2"


@pytest.mark.django_db
def test_an_expired_check_in_that_cannot_be_placed_fails_for_good(kiosk):
    old = timezone.now() - timedelta(minutes=16)
    deliver(checkin_payload(kiosk.sales_unit.msn, "kiosk-9", initiated=old))
    services.webhook_events_relay()
    event = WebhookEvent.objects.get()
    assert event.status == Status.FAILED and event.next_attempt_at is None and "expired" in event.detail


@pytest.mark.django_db
def test_a_handler_error_fails_the_event_keeps_the_reason_and_retries_later(kiosk, monkeypatch):
    def boom(event, prepared):
        raise RuntimeError("database of QR codes on fire")

    monkeypatch.setitem(dispatch._HANDLERS, CHECKED_IN, dispatch.Handler(apply=boom))
    deliver(checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id))
    services.webhook_events_relay()
    event = WebhookEvent.objects.get()
    assert event.status == Status.FAILED and "on fire" in event.detail and event.next_attempt_at > timezone.now()
    assert WebhookDelivery.objects.get().outcome == "accepted"  # the log row survives the failure


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, and the open transaction is never committed."""


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_processing_leaves_the_event_to_be_redelivered_and_applied_once(kiosk, monkeypatch):
    original = dispatch.handler_for(CHECKED_IN)

    def dies_after_applying(event, prepared):
        original.apply(event, prepared)
        assert CheckIn.objects.count() == 1  # applied inside the transaction...
        raise WorkerKilled

    deliver(checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id))
    services.webhook_deliveries_file()
    event = WebhookEvent.objects.get()
    WebhookEvent.objects.update(status=Status.QUEUED, queued_at=timezone.now())
    monkeypatch.setitem(dispatch._HANDLERS, CHECKED_IN, dispatch.Handler(apply=dies_after_applying))
    with pytest.raises(WorkerKilled):
        services.webhook_event_process(event_id=event.pk)
    assert not CheckIn.objects.exists()  # ...and rolled back with it
    assert WebhookEvent.objects.get().status == Status.QUEUED
    monkeypatch.setitem(dispatch._HANDLERS, CHECKED_IN, original)
    # acks_late + reject_on_worker_lost redeliver the message; a second copy (or the sweeper's) is harmless.
    assert services.webhook_event_process(event_id=event.pk) == Status.PROCESSED
    assert services.webhook_event_process(event_id=event.pk) is None
    assert CheckIn.objects.count() == 1


@pytest.mark.django_db
def test_the_sweeper_makes_events_whose_task_was_lost_due_again(kiosk):
    deliver(checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id))
    services.webhook_deliveries_file()
    WebhookEvent.objects.update(status=Status.QUEUED, queued_at=timezone.now() - timedelta(minutes=3))
    assert services.webhook_events_sweep() == 1
    assert services.webhook_events_relay() == 1
    assert CheckIn.objects.count() == 1


def concurrently(fn, n: int = 5) -> list:
    """Run fn in n threads released together. SQLite takes one writer at a time (the others wait for its lock);
    an attempt refused with "locked" is repeated, as Vipps repeats a delivery answered with 5xx and Celery
    redelivers a task. On PostgreSQL the race is real."""
    barrier = threading.Barrier(n)
    results = []

    def run():
        try:
            barrier.wait()
            for _ in range(50):
                try:
                    results.append(fn())
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_five_times_concurrently_is_stored_and_applied_once(kiosk):
    payload = checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id)
    statuses = concurrently(lambda: deliver(payload).status_code)
    assert statuses == [200] * 5
    concurrently(services.webhook_deliveries_file)
    assert WebhookEvent.objects.count() == 1
    outcomes = list(WebhookDelivery.objects.values_list("outcome", flat=True))
    # Every hit is logged (a repeated one too): one was accepted, the others recognised as duplicates.
    assert outcomes.count("accepted") == 1 and outcomes.count("duplicate") == len(outcomes) - 1 >= 4

    event_id = WebhookEvent.objects.get().pk
    WebhookEvent.objects.update(status=Status.QUEUED)
    results = concurrently(lambda: services.webhook_event_process(event_id=event_id))
    assert results.count(Status.PROCESSED) == 1 and CheckIn.objects.count() == 1


@pytest.mark.django_db
def test_replay_one_event_and_all_failed_since_a_time(kiosk, alice):
    deliver(checkin_payload(kiosk.sales_unit.msn, "kiosk-9", initiated=timezone.now() - timedelta(minutes=20)))
    services.webhook_events_relay()
    assert WebhookEvent.objects.get().status == Status.FAILED
    count = services.webhook_events_replay(
        merchant=kiosk.sales_unit.merchant, since=timezone.now() - timedelta(hours=1), actor=alice
    )
    assert count == 1 and WebhookEvent.objects.get().status == Status.PENDING


@pytest.mark.django_db
def test_the_replay_command_replays_by_id_or_since(kiosk, capsys, monkeypatch):
    without_handler(monkeypatch)
    deliver(epayment_payload(kiosk.sales_unit.msn))
    services.webhook_events_relay()
    event = WebhookEvent.objects.get()
    call_command("replay_webhook_events", "--since", "2000-01-01", "--status", "held")
    assert WebhookEvent.objects.get().status == Status.PENDING
    services.webhook_events_relay()
    call_command("replay_webhook_events", "--id", str(event.pk))
    assert WebhookEvent.objects.get().status == Status.PENDING
    assert "queued again" in capsys.readouterr().out


@pytest.mark.django_db
def test_pruning_removes_old_deliveries_and_settled_events_only(kiosk, settings):
    deliver(epayment_payload(kiosk.sales_unit.msn))
    deliver(checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id))
    services.webhook_events_relay()
    deliver(epayment_payload(kiosk.sales_unit.msn, "CAPTURED"))
    services.webhook_deliveries_file()  # an event still pending
    deliver(epayment_payload(kiosk.sales_unit.msn, "REFUNDED"))  # a delivery not yet filed
    old = timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS + 1)
    WebhookEvent.objects.update(received_at=old)
    WebhookDelivery.objects.update(received_at=old)
    services.webhook_data_prune()
    assert list(WebhookEvent.objects.values_list("status", flat=True)) == [Status.PENDING]
    assert list(WebhookDelivery.objects.values_list("outcome", flat=True)) == ["received"]
    assert CheckIn.objects.get().event is None


@pytest.mark.django_db
def test_the_relay_command_files_and_publishes_stored_deliveries(kiosk):
    deliver(checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id))
    call_command("run_webhook_relay", "--once")
    assert CheckIn.objects.get().qr_code == kiosk
    assert WebhookEvent.objects.get().status == Status.PROCESSED


@pytest.mark.django_db
def test_the_relay_command_survives_a_failing_pass(kiosk, monkeypatch):
    import webhooks_app.management.commands.run_webhook_relay as command

    def broken(**kwargs):
        raise OperationalError("database went away")

    monkeypatch.setattr(command, "webhook_events_relay", broken)
    call_command("run_webhook_relay", "--once")  # logs and carries on: no exception escapes the loop
