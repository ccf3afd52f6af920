"""Poison isolation: one stored item that cannot be filed or applied delays only itself, is quarantined with its
reason, counts as a warning in /healthz, shows in the event log, and can be replayed after a fix."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from merchant_portal.core import jsonbody
from merchant_portal.core.models import Heartbeat
from payments.models import CheckIn
from tests.conftest import client_for
from tests.webhooks_app.helpers import checkin_payload, deliver, epayment_payload, location, qr_code, subscribe
from webhooks_app import dispatch, services
from webhooks_app.events import CHECKED_IN
from webhooks_app.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status
Outcome = WebhookDelivery.Outcome
POISON = b'{"msn": "223344", "reference": "acme-1", "name": "AUTHORIZED", "pspReference": "1", "x": [[[['


@pytest.fixture
def acme_kiosk(acme_unit):
    subscribe(acme_unit)
    return qr_code(location(acme_unit))


@pytest.fixture
def other_kiosk(other_unit):
    subscribe(other_unit)
    return qr_code(location(other_unit, "Bryggen"), "bryggen-1")


def poison_delivery(unit, body: str = POISON.decode()) -> WebhookDelivery:
    """A row stored as received before the door decoded strictly (e.g. by an older version)."""
    return WebhookDelivery.objects.create(
        source=WebhookDelivery.Source.VIPPS,
        sales_unit=unit,
        body=body,
        outcome=Outcome.RECEIVED,
        event_type="epayments.payment.authorized.v1",
        dedupe_key="acme-1|AUTHORIZED|1",
    )


def test_a_poison_delivery_between_two_of_another_merchant_delays_only_itself(acme_kiosk, other_kiosk):
    assert deliver(checkin_payload(other_kiosk.sales_unit.msn, "bryggen-1")).status_code == 200
    poison = poison_delivery(acme_kiosk.sales_unit)
    assert deliver(checkin_payload(other_kiosk.sales_unit.msn, "bryggen-1")).status_code == 200

    services.webhook_events_relay()  # one pass: the relay's normal latency

    assert CheckIn.objects.filter(location=other_kiosk.location, status="active").count() == 2
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {Status.PROCESSED}
    poison.refresh_from_db()
    assert poison.outcome == Outcome.QUARANTINED and poison.attempts == 1 and "not valid JSON" in poison.reason
    assert services.webhook_events_relay() == 0  # never picked up again on its own

    # The fix (here: the stored body repaired; in life, usually a new version that can read it), then a replay.
    WebhookDelivery.objects.filter(pk=poison.pk).update(body=POISON.decode().replace(', "x": [[[[', "}"))
    call_command("replay_webhook_events", "--delivery", str(poison.pk))
    services.webhook_events_relay()
    poison.refresh_from_db()
    assert poison.outcome == Outcome.ACCEPTED and poison.event.sales_unit == acme_kiosk.sales_unit


def test_an_unexpected_filing_error_is_retried_with_backoff_then_quarantined(acme_kiosk, monkeypatch):
    deliver(epayment_payload(acme_kiosk.sales_unit.msn))
    monkeypatch.setattr(services, "mask_json", lambda payload: 1 / 0)
    for attempt in range(1, services.FILE_ATTEMPTS + 1):
        services.webhook_deliveries_file()
        delivery = WebhookDelivery.objects.get()
        assert delivery.attempts == attempt and "ZeroDivisionError" in delivery.reason
        if attempt < services.FILE_ATTEMPTS:
            assert delivery.outcome == Outcome.RECEIVED and delivery.next_attempt_at > timezone.now()
            assert services.webhook_deliveries_file() == 0  # backed off: not due yet
            WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert delivery.outcome == Outcome.QUARANTINED and delivery.next_attempt_at is None


def test_a_signed_delivery_that_cannot_be_read_is_quarantined_at_the_door_and_filed_once_it_can(
    acme_kiosk, monkeypatch
):
    payload = epayment_payload(acme_kiosk.sales_unit.msn)
    raw = json.dumps(payload).encode("utf-16")
    response = deliver(raw)
    assert response.status_code == 200 and response.json()["outcome"] == "quarantined"
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome == Outcome.QUARANTINED and "not UTF-8" in delivery.reason
    assert delivery.body_encoding == "base64" and services._raw_body(delivery) == raw

    # The "fix": a version whose decoder reads UTF-16.
    strict = jsonbody.loads

    def reads_utf16(body, **kwargs):
        return strict(body.decode("utf-16") if body[:2] in (b"\xff\xfe", b"\xfe\xff") else body, **kwargs)

    monkeypatch.setattr(jsonbody, "loads", reads_utf16)
    services.webhook_delivery_replay(delivery=delivery, actor=None)
    services.webhook_events_relay()
    delivery.refresh_from_db()
    assert delivery.outcome == Outcome.ACCEPTED
    assert (delivery.event.event_type, delivery.event.sales_unit) == (
        "epayments.payment.authorized.v1",
        acme_kiosk.sales_unit,
    )


def test_an_event_that_keeps_failing_is_quarantined_and_replayable(acme_kiosk, monkeypatch):
    calls = []

    def boom(event, prepared):
        calls.append(event.pk)
        raise RuntimeError("handler bug")

    monkeypatch.setitem(dispatch._HANDLERS, CHECKED_IN, dispatch.Handler(apply=boom))
    deliver(checkin_payload(acme_kiosk.sales_unit.msn, acme_kiosk.merchant_qr_id))
    services.webhook_events_relay()
    for _ in range(services.MAX_ATTEMPTS - 1):
        WebhookEvent.objects.filter(status=Status.FAILED).update(next_attempt_at=timezone.now())
        services.webhook_events_relay()
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts, event.next_attempt_at) == (Status.QUARANTINED, services.MAX_ATTEMPTS, None)
    assert "handler bug" in event.detail and len(calls) == services.MAX_ATTEMPTS
    assert services.webhook_events_relay() == 0

    monkeypatch.undo()  # the fix
    assert services.webhook_events_replay(merchant=None, since=timezone.now() - timedelta(hours=1), actor=None) == 1
    services.webhook_events_relay()
    event.refresh_from_db()
    assert event.status == Status.PROCESSED and CheckIn.objects.get().location == acme_kiosk.location


def test_an_event_whose_task_never_finishes_is_quarantined_by_the_sweeper(acme_kiosk):
    deliver(epayment_payload(acme_kiosk.sales_unit.msn))
    services.webhook_deliveries_file()
    stale = timezone.now() - timedelta(minutes=5)
    for _ in range(services.MAX_ATTEMPTS - 1):
        WebhookEvent.objects.update(status=Status.QUEUED, queued_at=stale)
        assert services.webhook_events_sweep() == 1
    WebhookEvent.objects.update(status=Status.QUEUED, queued_at=stale)
    assert services.webhook_events_sweep() == 0
    assert WebhookEvent.objects.get().status == Status.QUARANTINED


def test_healthz_warns_about_quarantined_items_but_stays_200(client, acme_kiosk):
    Heartbeat.objects.create(name="worker", at=timezone.now())
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["quarantine"]["warning"] is False
    assert body["quarantine"]["counts"]["webhooks"] == 0 and body["quarantine"]["detail"] == "nothing quarantined"
    poison_delivery(acme_kiosk.sales_unit)
    services.webhook_deliveries_file()
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "warning" and body["quarantine"]["warning"] is True
    assert body["quarantine"]["counts"]["webhooks"] == 1 and "webhooks 1" in body["quarantine"]["detail"]


def test_the_event_log_shows_quarantined_items_with_their_reason_and_a_manager_replays_them(
    acme, alice, acme_kiosk, make_member
):
    poison = poison_delivery(acme_kiosk.sales_unit)
    services.webhook_deliveries_file()
    page = client_for(alice).get(reverse("webhook_event_list", args=[acme.slug]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-status="quarantined"' in html and "not valid JSON" in html

    viewer = make_member("viewer")
    url = reverse("webhook_delivery_replay", args=[acme.slug, poison.pk])
    assert client_for(viewer).post(url).status_code == 403
    assert client_for(alice).post(url).status_code == 302
    poison.refresh_from_db()
    assert poison.outcome == Outcome.RECEIVED and poison.attempts == 0


def test_another_merchant_cannot_replay_a_quarantined_delivery(acme_kiosk, other, charlie):
    poison = poison_delivery(acme_kiosk.sales_unit)
    services.webhook_deliveries_file()
    url = reverse("webhook_delivery_replay", args=[other.slug, poison.pk])
    assert client_for(charlie).post(url).status_code == 404
    assert WebhookDelivery.objects.get(pk=poison.pk).outcome == Outcome.QUARANTINED
