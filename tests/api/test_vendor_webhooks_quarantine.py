"""One outbound delivery the portal cannot make (here: its endpoint's signing secret was encrypted with a key that
was later lost) delays only itself: each attempt is recorded, retried on the usual schedule and quarantined when
it is over, counted in /healthz, and delivered by Resend once the cause is fixed. Other merchants' deliveries go
out in the same drain pass all along."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from merchant_portal.api import outbound, selectors, services
from merchant_portal.api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from merchant_portal.api.services import MAX_ATTEMPTS, RETRY_SCHEDULE, Outcome
from merchant_portal.api.tasks import deliver_webhook
from merchant_portal.audit.models import AuditEntry
from merchant_portal.core.health import check_quarantine
from tests.api.test_vendor_webhooks import Receiver, spec_signature
from tests.conftest import client_for

State = WebhookDelivery.State
pytestmark = pytest.mark.django_db
INTERNAL = "The portal failed on this delivery (ImproperlyConfigured); the details are in its log."


@pytest.fixture
def receiver():
    vendor = Receiver()
    yield vendor
    vendor.close()


@pytest.fixture
def endpoint_for(make_key, receiver):
    def make(merchant=None, name="Till vendor") -> WebhookEndpoint:
        client = make_key(merchant=merchant, name=name)
        endpoint, _ = services.webhook_endpoint_save(
            api_key=client.api_key, actor=None, url=receiver.url, event_types=["checkin.created"]
        )
        return endpoint

    return make


def lose_encryption_key(settings, endpoint: WebhookEndpoint) -> str:
    """Store the endpoint's secret encrypted with a key the portal then no longer has (a botched rotation)."""
    current, lost = list(settings.FIELD_ENCRYPTION_KEYS), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [lost]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=endpoint.secret)
    settings.FIELD_ENCRYPTION_KEYS = current
    return lost


def test_a_poison_delivery_is_quarantined_while_another_merchants_deliveries_go_out(
    endpoint_for, receiver, acme_unit, other, charlie, settings, clock, django_capture_on_commit_callbacks
):
    acme_endpoint = endpoint_for()
    poison_endpoint = endpoint_for(merchant=other, name="Other till vendor")
    good1 = services.webhook_test_send(endpoint=acme_endpoint, actor=None)
    poison = services.webhook_test_send(endpoint=poison_endpoint, actor=None)
    good2 = services.webhook_test_send(endpoint=acme_endpoint, actor=None)
    for seconds, delivery in zip((3, 2, 1), (good1, poison, good2), strict=True):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=clock() - timedelta(seconds=seconds))
    lost = lose_encryption_key(settings, poison_endpoint)

    assert services.webhook_deliveries_drain() == 3

    assert receiver.ids() == [good1.message_id, good2.message_id]
    assert {d.state for d in WebhookDelivery.objects.filter(pk__in=[good1.pk, good2.pk])} == {State.DELIVERED}
    poison.refresh_from_db()
    assert (poison.state, poison.attempts, poison.last_error) == (State.PENDING, 1, INTERNAL)
    assert poison.leased_until is None and poison.lease_token == ""
    assert poison.attempt_log.get().error == INTERNAL

    # The usual schedule, each step ±10 %; every pass also delivers a new event of acme at once.
    for attempt in range(2, MAX_ATTEMPTS + 1):
        step = RETRY_SCHEDULE[attempt - 2].total_seconds()
        assert step * 0.9 <= (poison.next_attempt_at - clock()).total_seconds() <= step * 1.1
        clock.at = poison.next_attempt_at
        fresh = services.webhook_test_send(endpoint=acme_endpoint, actor=None)
        assert services.webhook_deliveries_drain() == 2
        assert WebhookDelivery.objects.get(pk=fresh.pk).state == State.DELIVERED
        poison.refresh_from_db()
        assert poison.attempts == attempt

    assert poison.state == State.QUARANTINED and poison.next_attempt_at is None
    assert poison.last_error == f"Quarantined after {MAX_ATTEMPTS} attempts. {INTERNAL}"
    assert poison.attempt_log.count() == MAX_ATTEMPTS and poison.message_id not in receiver.ids()
    clock.at += timedelta(days=5)
    assert services.webhook_deliveries_drain() == 0
    assert selectors.webhook_deliveries_quarantined_count() == 1
    health = check_quarantine()
    assert health.warning and health.counts["vendor_webhooks"] == 1

    # The operator puts the lost key back (README, key rotation); the owner reads why and resends.
    settings.FIELD_ENCRYPTION_KEYS = [*settings.FIELD_ENCRYPTION_KEYS, lost]
    client = client_for(charlie)
    page = client.get(reverse("api_key_webhook_delivery", args=["other", poison.pk])).content.decode()
    assert 'data-state="quarantined"' in page and 'data-testid="delivery-quarantined"' in page
    assert "Quarantined after 10 attempts." in page and 'data-testid="resend"' in page
    log = client.get(reverse("api_key_webhook", args=["other", poison_endpoint.api_key_id])).content.decode()
    assert f'data-testid="delivery-{poison.message_id}" data-state="quarantined"' in log

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("api_key_webhook_resend", args=["other", poison.pk]))
    assert response.status_code == 302
    poison.refresh_from_db()
    assert (poison.state, poison.attempts) == (State.DELIVERED, 1)
    [request] = [r for r in receiver.requests if r["headers"]["webhook-id"] == poison.message_id]
    headers = request["headers"]
    secret = WebhookEndpoint.objects.get(pk=poison_endpoint.pk).secret
    assert headers["webhook-signature"] == spec_signature(
        secret, poison.message_id, headers["webhook-timestamp"], request["body"]
    )
    assert AuditEntry.objects.filter(merchant=other, action="api_key.webhook_resent", actor_user=charlie).exists()
    assert selectors.webhook_deliveries_quarantined_count() == 0


def test_an_unexpected_error_in_the_first_attempt_is_recorded_not_raised(endpoint_for, receiver, monkeypatch):
    endpoint = endpoint_for()

    def broken(**kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(outbound, "signed_headers", broken)
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    deliver_webhook.delay(delivery.pk)  # the task of the first attempt: it must not fail either
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING and delivery.attempts == 1
    assert delivery.last_error == "The portal failed on this delivery (KeyError); the details are in its log."
    assert receiver.requests == []


def test_attempts_that_never_record_an_outcome_end_in_quarantine_without_another_send(endpoint_for, receiver):
    endpoint = endpoint_for()
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    # Ten attempts were claimed and their workers killed each time (the lease ran out).
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=MAX_ATTEMPTS)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.QUARANTINED
    delivery.refresh_from_db()
    assert delivery.state == State.QUARANTINED and receiver.requests == []
    assert "stopped before their outcome was recorded" in delivery.last_error
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_a_receivers_odd_answer_is_logged_and_never_breaks_the_attempt(endpoint_for, receiver, monkeypatch):
    """A response nested deeper than the JSON parser goes, with NUL bytes (PostgreSQL cannot store them)."""
    endpoint = endpoint_for()
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    real_post = outbound.requests.post

    def post(*args, **kwargs):
        response = real_post(*args, **kwargs)
        response.raw.read = lambda *a, **k: b"[" * 1000 + b"\x00" * 24
        return response

    monkeypatch.setattr(outbound.requests, "post", post)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.DELIVERED
    excerpt = delivery.attempt_log.get().response_excerpt
    assert excerpt.startswith("[[[") and "\x00" not in excerpt and len(excerpt) <= 300


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=outbound.EXCERPT_BYTES),
        st.integers(0, outbound.EXCERPT_BYTES // 2).map(lambda depth: b"[" * depth + b"]" * depth),
        st.integers(0, outbound.EXCERPT_BYTES // 8).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    )
)
def test_any_response_start_gives_a_storable_masked_excerpt(raw):
    excerpt = outbound._excerpt(raw)
    assert isinstance(excerpt, str) and len(excerpt) <= 300
    assert not any(ord(char) < 32 and char not in "\t\n\r" for char in excerpt)
