"""Signed fixtures through the real view: what is stored, what is refused, and that nothing else happens there."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.webhooks_app.helpers import SECRET, checkin_payload, deliver, epayment_payload, signed_headers, subscribe
from webhooks_app.models import WebhookDelivery, WebhookEvent
from webhooks_app.services import webhook_deliveries_file

pytestmark = pytest.mark.django_db

Outcome = WebhookDelivery.Outcome


@pytest.fixture
def registered(acme_unit):
    subscribe(acme_unit)
    return acme_unit


def only_delivery() -> WebhookDelivery:
    (delivery,) = WebhookDelivery.objects.all()
    return delivery


def test_a_valid_check_in_is_stored_as_a_pending_event_with_its_delivery(registered):
    payload = checkin_payload(registered.msn)
    response = deliver(payload)
    assert response.status_code == 200 and response.json()["outcome"] == "received"
    assert only_delivery().outcome == Outcome.RECEIVED and not WebhookEvent.objects.exists()
    assert webhook_deliveries_file() == 1  # the relay's first step
    event = WebhookEvent.objects.get()
    assert (event.event_type, event.status, event.sales_unit) == ("user.checked-in.v1", "pending", registered)
    assert event.dedupe_key == f"kiosk-1|{payload['initiatedAt']}"
    assert event.payload["customerToken"] == "***" and json.loads(event.body) == payload
    delivery = only_delivery()
    assert delivery.outcome == Outcome.ACCEPTED and delivery.event == event
    assert delivery.headers["X-Ms-Date"] and json.loads(delivery.body) == payload


def test_the_older_merchant_serial_number_field_is_accepted(registered):
    assert deliver(checkin_payload(registered.msn, old_name=True)).status_code == 200
    webhook_deliveries_file()
    assert WebhookEvent.objects.get().sales_unit == registered


def test_a_customer_token_is_not_stored_in_clear(registered):
    from django.db import connection

    payload = checkin_payload(registered.msn, token="very-secret-customer-token")
    deliver(payload)
    webhook_deliveries_file()
    with connection.cursor() as cursor:
        cursor.execute("SELECT body, payload FROM webhooks_app_webhookevent")
        stored = " ".join(str(v) for v in cursor.fetchone())
        cursor.execute("SELECT body FROM webhooks_app_webhookdelivery")
        stored += str(cursor.fetchone())
    assert "very-secret-customer-token" not in stored


def test_a_duplicate_is_answered_200_and_stored_as_a_delivery_but_not_as_a_second_event(registered):
    payload = epayment_payload(registered.msn)
    assert deliver(payload).status_code == deliver(payload).status_code == 200
    webhook_deliveries_file()
    assert WebhookEvent.objects.count() == 1
    assert list(WebhookDelivery.objects.order_by("pk").values_list("outcome", flat=True)) == ["accepted", "duplicate"]


def test_events_out_of_order_are_both_accepted_never_refused(registered):
    """CAPTURED before AUTHORIZED: a 4xx here would make Vipps hold back every later event of the payment."""
    captured = deliver(epayment_payload(registered.msn, "CAPTURED"))
    authorized = deliver(epayment_payload(registered.msn, "AUTHORIZED"))
    assert captured.status_code == authorized.status_code == 200
    webhook_deliveries_file()
    types = set(WebhookEvent.objects.values_list("event_type", flat=True))
    assert types == {"epayments.payment.captured.v1", "epayments.payment.authorized.v1"}


def test_a_second_secret_for_the_same_url_verifies_too(registered):
    assert deliver(epayment_payload(registered.msn)).status_code == 200  # the first secret is now cached
    subscribe(registered, secret="the-new-secret-after-rotation")
    assert deliver(epayment_payload(registered.msn), secret="the-new-secret-after-rotation").status_code == 200


def assert_rejected(response, status: int, reason: str):
    assert response.status_code == status, response.content
    assert reason in response.json()["reason"]
    delivery = only_delivery()
    assert delivery.outcome == Outcome.REJECTED and reason in delivery.reason
    assert not WebhookEvent.objects.exists()


def test_a_tampered_body_is_refused(registered):
    raw = json.dumps(epayment_payload(registered.msn)).encode()
    assert_rejected(deliver(raw, body=raw.replace(b"49900", b"1")), 401, "does not match the body")


def test_a_body_with_a_matching_hash_but_no_signature_of_ours_is_refused(registered):
    assert_rejected(deliver(epayment_payload(registered.msn), secret="a-wrong-secret"), 401, "signature")


@pytest.mark.parametrize("missing", ["x-ms-date", "x-ms-content-sha256", "Authorization"])
def test_missing_signature_headers_are_refused(registered, missing):
    raw = json.dumps(epayment_payload(registered.msn)).encode()
    response = Client().post(
        reverse("vipps_webhook"),
        data=raw,
        content_type="application/json",
        headers={k: v for k, v in signed_headers(raw).items() if k != missing},
    )
    assert_rejected(response, 401, "missing")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/hooks/vipps/",
        "https://portal.example.no/hooks/other/",
        "http://portal.example.no:8443/hooks/vipps/",
    ],
)
def test_a_signature_for_another_host_or_path_is_refused(registered, url):
    assert_rejected(deliver(epayment_payload(registered.msn), url=url), 401, "signature")


def test_the_request_host_header_is_not_trusted(registered):
    """A proxy may rewrite Host; the configured public URL decides."""
    response = deliver(epayment_payload(registered.msn), headers={"Host": "localhost"})
    assert response.status_code == 200 and only_delivery().headers["Host"] == "localhost"


def test_an_oversized_body_is_refused_without_reading_it_all(registered, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    payload = epayment_payload(registered.msn) | {"padding": "x" * 5000}
    response = deliver(payload)
    assert_rejected(response, 413, "body over 1000 bytes")
    assert len(only_delivery().body) <= 4096


def test_malformed_json_without_a_readable_msn_is_refused(registered):
    assert_rejected(deliver(b'{"name": "AUTHORIZED", '), 400, "not valid JSON")


def test_malformed_json_that_vipps_signed_is_kept_quarantined_and_answered_200(registered):
    """A 4xx would make Vipps hold back the payment's later events; the bad one is set aside instead."""
    response = deliver(f'{{"msn": "{registered.msn}", "name": '.encode())
    assert response.status_code == 200 and response.json()["outcome"] == "quarantined"
    delivery = only_delivery()
    assert delivery.outcome == Outcome.QUARANTINED and "not valid JSON" in delivery.reason
    assert delivery.sales_unit == registered
    assert webhook_deliveries_file() == 0 and not WebhookEvent.objects.exists()


def test_malformed_json_with_a_signature_that_does_not_verify_is_refused(registered):
    assert_rejected(deliver(f'{{"msn": "{registered.msn}", "name": '.encode(), secret="wrong"), 401, "signature")


def test_an_unknown_msn_is_refused(registered):
    assert_rejected(deliver(epayment_payload("999999")), 400, "unknown MSN")


def test_a_known_msn_without_registration_at_this_url_is_refused(acme_unit):
    assert_rejected(deliver(epayment_payload(acme_unit.msn)), 401, "no registration")


def test_get_is_not_allowed(registered):
    assert Client().get(reverse("vipps_webhook")).status_code == 405


def test_the_view_makes_no_broker_call_and_no_outbound_http_call(registered, monkeypatch):
    import kombu
    import requests

    def forbidden(*args, **kwargs):
        raise AssertionError("the webhook view must not call out")

    monkeypatch.setattr(requests.Session, "send", forbidden)
    monkeypatch.setattr(kombu.Producer, "publish", forbidden)
    monkeypatch.setattr("celery.app.task.Task.apply_async", forbidden)
    assert deliver(checkin_payload(registered.msn)).status_code == 200
    assert deliver(epayment_payload(registered.msn)).status_code == 200
    assert WebhookDelivery.objects.filter(outcome=Outcome.RECEIVED).count() == 2


def test_unknown_event_shapes_with_a_valid_signature_are_kept(registered):
    assert deliver({"msn": registered.msn, "something": "new"}).status_code == 200
    webhook_deliveries_file()
    assert WebhookEvent.objects.get().event_type == "unknown"


def test_rejections_are_logged_without_secrets(registered, caplog):
    deliver(epayment_payload(registered.msn), secret="a-wrong-secret")
    assert "rejected" in caplog.text and SECRET not in caplog.text
