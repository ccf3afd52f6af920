"""x-ms-date is part of the signed string: once a signature matches, the date must be a readable HTTP date no
older than WEBHOOK_MAX_AGE_HOURS and no further ahead than WEBHOOK_CLOCK_SKEW_SECONDS (fixed clock)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from payments.models import CheckIn
from payments.selectors import checkins_waiting_at
from tests.webhooks_app.helpers import (
    SECRET,
    checkin_payload,
    deliver,
    epayment_payload,
    hook_url,
    location,
    qr_code,
    subscribe,
)
from vipps_sandbox.signing import http_date, sign
from webhooks_app import services
from webhooks_app.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 30, 8, 12, 20, tzinfo=UTC)


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def registered(acme_unit):
    subscribe(acme_unit)
    return acme_unit


def deliver_dated(unit, x_ms_date: str):
    raw = json.dumps(epayment_payload(unit.msn)).encode()
    headers = {k: v for k, v in sign(SECRET, hook_url(), raw, x_ms_date).headers().items() if k != "Host"}
    return deliver(raw, headers=headers)


def assert_refused(response, reason: str):
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert reason in response.json()["detail"] and reason in response.json()["reason"]
    assert not WebhookDelivery.objects.exclude(outcome="rejected").exists()
    assert reason in WebhookDelivery.objects.get().reason


@pytest.mark.parametrize("age", [timedelta(hours=8 * 24) - timedelta(seconds=1), timedelta(0), -timedelta(minutes=5)])
def test_a_date_just_inside_both_bounds_is_accepted(fixed_clock, registered, age):
    assert deliver_dated(registered, http_date(NOW - age)).status_code == 200


def test_a_date_older_than_the_horizon_is_refused(fixed_clock, registered):
    assert_refused(deliver_dated(registered, http_date(NOW - timedelta(hours=8 * 24, seconds=1))), "old")


def test_a_delivery_400_days_old_is_refused_with_its_age(fixed_clock, registered):
    assert_refused(deliver_dated(registered, http_date(NOW - timedelta(days=400))), "400 days old")


def test_the_horizon_is_configurable(fixed_clock, registered, settings):
    settings.WEBHOOK_MAX_AGE_HOURS = 1
    assert_refused(deliver_dated(registered, http_date(NOW - timedelta(minutes=61))), "61 minutes old")


@pytest.mark.parametrize("ahead", [timedelta(minutes=5, seconds=1), timedelta(days=1)])
def test_a_date_further_in_the_future_than_the_skew_is_refused(fixed_clock, registered, ahead):
    assert_refused(deliver_dated(registered, http_date(NOW + ahead)), "in the future")


@pytest.mark.parametrize("value", ["not a date", "2026-03-30T08:12:20Z", "Mon, 99 Mar 2026 08:12:20 GMT", "\t"])
def test_an_unreadable_date_is_refused(fixed_clock, registered, value):
    assert_refused(deliver_dated(registered, value), "RFC 1123")


def test_the_date_is_judged_only_for_a_matching_signature(fixed_clock, registered):
    raw = json.dumps(epayment_payload(registered.msn)).encode()
    headers = sign("a-wrong-secret", hook_url(), raw, "not a date").headers()
    response = deliver(raw, headers={k: v for k, v in headers.items() if k != "Host"})
    assert response.status_code == 401 and "signature does not match" in response.json()["reason"]


# Check-ins whose own time is older than the token's 15 minutes ---------------------------------------------


@pytest.fixture
def kiosk(registered):
    return qr_code(location(registered))


def test_a_stale_check_in_is_stored_expired_and_never_shown_as_waiting(kiosk):
    payload = checkin_payload(
        kiosk.sales_unit.msn, kiosk.merchant_qr_id, initiated=timezone.now() - timedelta(minutes=16)
    )
    # Signed now (a replay re-signed, or a very late retry): the delivery is fresh, its check-in is not.
    assert deliver(payload).status_code == 200
    services.webhook_events_relay()
    checkin = CheckIn.objects.get()
    assert checkin.status == CheckIn.Status.EXPIRED and checkin.location == kiosk.location
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert not checkins_waiting_at(location=kiosk.location).exists()


def test_a_fresh_check_in_waits_and_one_from_the_future_waits_no_longer_than_its_token(kiosk):
    now = timezone.now()
    deliver(checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id, initiated=now + timedelta(hours=3)))
    services.webhook_events_relay()
    checkin = CheckIn.objects.get()
    assert checkin.status == CheckIn.Status.ACTIVE
    assert checkin.expires_at <= timezone.now() + timedelta(minutes=15)


def test_a_check_in_with_an_unreadable_time_fails_for_good_with_the_reason(kiosk):
    payload = checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id) | {"initiatedAt": "yesterday"}
    deliver(payload)
    services.webhook_events_relay()
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED and "ISO 8601" in event.detail
    assert event.next_attempt_at is None and not CheckIn.objects.exists()
