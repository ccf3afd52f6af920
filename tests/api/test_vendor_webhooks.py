"""Outbound webhooks to POS vendors (Standard Webhooks): what is sent to whom, signed how, retried when, and the
owners' pages. The vendor is a real HTTP server on loopback that records each request and answers as told."""

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from merchant_portal.api import outbound, services
from merchant_portal.api.models import TEST_EVENT, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from merchant_portal.api.services import MAX_ATTEMPTS, RETRY_SCHEDULE, Outcome
from merchant_portal.audit.models import AuditEntry
from merchant_portal.core.crypto import decrypt
from payments import services as payments
from payments.models import CheckIn, Payment, PaymentOperation
from qrcodes.models import Location
from tests.api.factories import payment_at
from tests.conftest import client_for, wait_until
from tests.factories import SalesUnitFactory
from tests.payments.conftest import request_payment
from vipps import Aggregate, Amount
from vipps import Payment as VippsPayment

State = WebhookDelivery.State
CHECKIN, PAYMENT = "checkin.created", "payment.state_changed"
# The test vector of the Standard Webhooks libraries (libraries/*/tests in the spec's repository).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def spec_signature(secret: str, message_id: str, timestamp, body: str) -> str:
    """The spec's algorithm, written out here independently of the portal and of the library."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class Receiver:
    """A POS vendor's endpoint: records every request; answers from `script` in order, then `default`.
    An answer is (status, headers), "hang" (no answer until released) or "block" (200 once released)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list = []
        self.default = (200, {})
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                with receiver.lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                    )
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                if answer == "hang":
                    receiver.release.wait(10)
                    return
                if answer == "block":
                    receiver.release.wait(10)
                    answer = (200, {})
                status, headers = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"received": true, "note": "call 4791234567"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vipps-portal?vendor=42"

    def answer(self, *answers) -> None:
        self.script.extend(answers)

    def ids(self) -> list[str]:
        return [r["headers"]["webhook-id"] for r in self.requests]

    def payloads(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    vendor = Receiver()
    yield vendor
    vendor.close()


@pytest.fixture
def hook(make_key, receiver, acme_unit):
    """A key (acme's, for everything unless limited) with a webhook to the receiver."""

    def make(events=(CHECKIN, PAYMENT), **key_fields) -> WebhookEndpoint:
        client = make_key(**key_fields)
        endpoint, created = services.webhook_endpoint_save(
            api_key=client.api_key, actor=None, url=receiver.url, event_types=list(events)
        )
        assert created
        endpoint.client = client
        return endpoint

    return make


def make_due(delivery: WebhookDelivery) -> None:
    """Travel to the delivery's next attempt."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def seconds_to_next_attempt(delivery: WebhookDelivery) -> float:
    delivery.refresh_from_db()
    return (delivery.next_attempt_at - delivery.attempt_log.first().started_at).total_seconds()


def new_checkin(location, token: str = "") -> CheckIn:
    return payments.checkin_create(
        location=location,
        customer_token=token or f"tok-{time.monotonic_ns()}",
        initiated_at=timezone.now(),
        source=CheckIn.Source.QR,
    )


def authorize(payment: Payment) -> Payment:
    """What a GET payment from Vipps says once the customer approved."""
    amount, zero = Amount(payment.currency, payment.amount), Amount(payment.currency, 0)
    remote = VippsPayment(
        reference=payment.reference,
        psp_reference="psp-1",
        state="AUTHORIZED",
        amount=amount,
        aggregate=Aggregate(authorized=amount, cancelled=zero, captured=zero, refunded=zero),
        payment_method_type="WALLET",
    )
    return payments.payment_apply_remote(payment_id=payment.pk, remote=remote)


def page_url(endpoint_or_key, name: str = "api_key_webhook") -> str:
    key = getattr(endpoint_or_key, "api_key", endpoint_or_key)
    return reverse(name, kwargs={"merchant_slug": key.merchant.slug, "pk": key.pk})


# Signatures ---------------------------------------------------------------------------------------------------


def test_signatures_match_the_spec_test_vector():
    args = {"message_id": SPEC_ID, "timestamp": SPEC_TIMESTAMP, "body": SPEC_BODY}
    assert outbound.signature(secrets_=[SPEC_SECRET], **args) == SPEC_SIGNATURE
    assert spec_signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    other = outbound.secret_new()
    both = outbound.signature(secrets_=[other, SPEC_SECRET], **args).split(" ")
    assert both == [spec_signature(other, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY), SPEC_SIGNATURE]


def test_new_secrets_are_whsec_and_24_or_more_random_bytes():
    made = {outbound.secret_new() for _ in range(20)}
    assert len(made) == 20
    for secret in made:
        assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24


def test_a_new_checkin_reaches_the_vendor_signed_and_shaped_like_the_api(
    hook, receiver, shop, django_capture_on_commit_callbacks
):
    endpoint = hook()
    with django_capture_on_commit_callbacks(execute=True):
        checkin = new_checkin(shop, token="customer-token-do-not-leak")
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.DELIVERED and delivery.attempts == 1
    assert headers["webhook-id"] == delivery.message_id and "." not in delivery.message_id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["content-type"] == "application/json"
    assert headers["webhook-signature"] == spec_signature(
        endpoint.secret, headers["webhook-id"], headers["webhook-timestamp"], body
    )
    assert Webhook(endpoint.secret).verify(body, headers)["type"] == CHECKIN
    assert request["path"] == "/hooks/vipps-portal?vendor=42"

    payload = json.loads(body)
    assert set(payload) == {"type", "timestamp", "data"} and payload["timestamp"].endswith("Z")
    api_view = endpoint.client.get(reverse("api:checkin-detail", kwargs={"pk": checkin.pk})).json()
    assert payload["data"] == api_view and payload["data"]["location"] == shop.pk
    assert "customer-token-do-not-leak" not in body
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.ok
    assert "4791234567" not in attempt.response_excerpt and "received" in attempt.response_excerpt


# Who gets which event -----------------------------------------------------------------------------------------


def test_a_checkin_goes_once_to_each_endpoint_that_wants_it_and_may_see_it(
    hook, receiver, shop, acme, acme_unit, other, other_unit, django_capture_on_commit_callbacks
):
    kiosk = Location.objects.create(sales_unit=acme_unit, name="Kiosk")
    bergen = SalesUnitFactory(merchant=acme, name="Acme Bergen", msn="998877")
    everything = hook()
    this_shop = hook(locations=[shop])
    this_unit = hook(sales_units=[acme_unit])
    hook(events=[PAYMENT])
    hook(locations=[kiosk])
    hook(sales_units=[bergen])
    hook(merchant=other)
    revoked = hook()
    services.api_key_revoke(api_key=revoked.api_key, actor=None)
    disabled = hook()
    services.webhook_endpoint_disable(endpoint=disabled, actor=None, reason="Paused.")

    with django_capture_on_commit_callbacks(execute=True):
        checkin = new_checkin(shop, token="same-customer")
        new_checkin(shop, token="same-customer")  # the same customerToken is the same check-in: no new event

    endpoints = set(WebhookDelivery.objects.values_list("endpoint", flat=True))
    assert endpoints == {everything.pk, this_shop.pk, this_unit.pk}
    assert len(receiver.requests) == 3 and len(set(receiver.ids())) == 3
    assert {p["data"]["id"] for p in receiver.payloads()} == {checkin.pk}


def test_a_mobilepay_pos_checkin_is_sent_too(hook, receiver, shop, django_capture_on_commit_callbacks):
    hook(events=[CHECKIN])
    with django_capture_on_commit_callbacks(execute=True):
        payments.pos_checkin_apply(None, (shop, "pos-customer-token"))
    [payload] = receiver.payloads()
    assert payload["type"] == CHECKIN and payload["data"]["source"] == CheckIn.Source.MOBILEPAY_POS


def test_a_checkin_rolled_back_sends_nothing(hook, receiver, shop, django_capture_on_commit_callbacks):
    from django.db import transaction

    hook()

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort), transaction.atomic():
        new_checkin(shop)
        assert WebhookDelivery.objects.count() == 1  # written in the same transaction...
        raise Abort
    assert not WebhookDelivery.objects.exists() and receiver.requests == []  # ...and gone with it


def test_a_payment_state_change_goes_to_endpoints_that_want_it_and_may_see_it(
    hook, receiver, shop, acme_unit, django_capture_on_commit_callbacks
):
    kiosk = Location.objects.create(sales_unit=acme_unit, name="Kiosk")
    everything = hook()
    this_shop = hook(locations=[shop])
    hook(events=[CHECKIN])
    hook(locations=[kiosk])
    at_shop, by_phone = payment_at(shop), payment_at(shop)
    Payment.objects.filter(pk=by_phone.pk).update(location=None)  # asked of a phone number, for the sales unit
    with django_capture_on_commit_callbacks(execute=True):
        authorize(at_shop)
        authorize(by_phone)  # no location: outside every location limit, as in the API
        authorize(at_shop)  # the same answer again is no change
    rows = sorted(WebhookDelivery.objects.values_list("endpoint", "body"))
    assert [(endpoint, json.loads(body)["data"]["id"]) for endpoint, body in rows] == sorted(
        [(everything.pk, at_shop.pk), (everything.pk, by_phone.pk), (this_shop.pk, at_shop.pk)]
    )
    assert {p["type"] for p in receiver.payloads()} == {PAYMENT} and len(receiver.requests) == 3
    assert {p["data"]["state"] for p in receiver.payloads()} == {"AUTHORIZED"}


def test_payment_changes_from_vipps_are_sent_as_they_happen(
    hook, receiver, sandbox, sandbox_unit, alice, django_capture_on_commit_callbacks
):
    shop = Location.objects.create(sales_unit=sandbox_unit, name="Shop")
    endpoint = hook(events=[PAYMENT])
    with django_capture_on_commit_callbacks(execute=True):
        payment = request_payment(sandbox_unit, location=shop, actor=alice)
    assert receiver.requests == []  # asked for, not changed
    sandbox.state.approve(sandbox_unit.msn, payment.reference)
    with django_capture_on_commit_callbacks(execute=True):
        payments.payment_refresh(payment=payment)
        payments.payment_refresh(payment=payment)
    with django_capture_on_commit_callbacks(execute=True):
        payments.payment_operation_request(
            payment=payment, kind=PaymentOperation.Kind.CAPTURE, amount=4_000, request_token="cap-1", actor=alice
        )
    states = [(p["data"]["state"], p["data"]["captured_amount"]) for p in receiver.payloads()]
    assert states == [("AUTHORIZED", 0), ("AUTHORIZED", 4_000)]
    api_view = endpoint.client.get(reverse("api:payment-detail", kwargs={"pk": payment.pk})).json()
    assert receiver.payloads()[-1]["data"] == api_view

    sandbox.faults.fail(400, operation="create", times=1)
    with django_capture_on_commit_callbacks(execute=True):
        refused = request_payment(sandbox_unit, location=shop, actor=alice)
    assert refused.sending == Payment.Sending.FAILED
    last = receiver.payloads()[-1]["data"]
    assert (last["id"], last["sending"]) == (refused.pk, "failed")
    assert "4791234567" not in "".join(r["body"] for r in receiver.requests)


# Retries --------------------------------------------------------------------------------------------------------


def test_a_failing_endpoint_is_retried_with_the_same_id_and_growing_delays_until_it_answers(
    hook, receiver, django_capture_on_commit_callbacks
):
    endpoint = hook()
    receiver.answer((500, {}), (502, {}))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (State.PENDING, 1, 500)
    first_delay = seconds_to_next_attempt(delivery)
    assert 4.5 <= first_delay <= 5.5
    assert services.webhook_deliveries_drain() == 0 and len(receiver.requests) == 1  # not due yet

    make_due(delivery)
    assert services.webhook_deliveries_drain() == 1
    second_delay = seconds_to_next_attempt(delivery)
    assert 270 <= second_delay <= 330 and delivery.last_status_code == 502

    make_due(delivery)
    assert services.webhook_deliveries_drain() == 1
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED and delivery.next_attempt_at is None and delivery.attempts == 3
    assert receiver.ids() == [delivery.message_id] * 3
    for request in receiver.requests:  # each attempt is signed for its own timestamp
        headers = request["headers"]
        assert headers["webhook-signature"] == spec_signature(
            endpoint.secret, headers["webhook-id"], headers["webhook-timestamp"], request["body"]
        )
    assert len({r["body"] for r in receiver.requests}) == 1
    assert [a.status_code for a in WebhookAttempt.objects.order_by("id")] == [500, 502, 200]
    make_due(delivery)
    assert services.webhook_deliveries_drain() == 0 and len(receiver.requests) == 3


def test_the_schedule_gives_up_after_about_three_days(hook, receiver):
    total = sum(RETRY_SCHEDULE, timedelta())
    assert timedelta(days=3) <= total <= timedelta(days=3, hours=6) and MAX_ATTEMPTS == 10
    endpoint = hook()
    receiver.default = (503, {})
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == (
            Outcome.RETRY if attempt < MAX_ATTEMPTS else Outcome.FAILED
        )
        if attempt < MAX_ATTEMPTS:
            delays.append(seconds_to_next_attempt(delivery))
            make_due(delivery)
    for delay, step in zip(delays, RETRY_SCHEDULE, strict=True):
        assert step.total_seconds() * 0.9 <= delay <= step.total_seconds() * 1.1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (State.FAILED, MAX_ATTEMPTS, None)
    assert delivery.last_status_code == 503 and delivery.last_error == f"Gave up after {MAX_ATTEMPTS} attempts."
    assert len(receiver.requests) == MAX_ATTEMPTS and set(receiver.ids()) == {delivery.message_id}
    assert services.webhook_deliveries_drain() == 0


def test_a_longer_retry_after_is_honoured(hook, receiver):
    endpoint = hook()
    receiver.answer((429, {"Retry-After": "120"}))
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.RETRY
    assert 119 <= seconds_to_next_attempt(delivery) <= 125


def test_a_redirect_is_a_failure_and_not_followed(hook, receiver):
    endpoint = hook()
    receiver.answer((307, {"Location": receiver.url + "&moved=1"}))
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.RETRY
    delivery.refresh_from_db()
    assert delivery.last_status_code == 307 and len(receiver.requests) == 1


def test_a_receiver_that_does_not_answer_in_time_is_a_failure_to_retry(hook, receiver, monkeypatch):
    monkeypatch.setattr(outbound, "READ_TIMEOUT", 0.3)
    endpoint = hook()
    receiver.answer("hang")
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.RETRY
    delivery.refresh_from_db()
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None and attempt.error == "No answer within 0.3 s." == delivery.last_error
    assert delivery.state == State.PENDING and delivery.leased_until is None


def test_an_unreachable_endpoint_is_a_failure_that_names_no_url(hook, receiver):
    endpoint = hook()
    receiver.close()  # nobody listens on that port any more
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.RETRY
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Could not connect") and "127.0.0.1" not in delivery.last_error


# Once, and never lost --------------------------------------------------------------------------------------------


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs."""


def test_a_worker_killed_between_sending_and_recording_leads_to_a_resend_with_the_same_id(hook, receiver, monkeypatch):
    endpoint = hook()
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)

    def killed(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(services, "_attempt_record", killed)
    with pytest.raises(WorkerKilled):
        services.webhook_delivery_attempt(delivery_id=delivery.pk)
    monkeypatch.undo()
    delivery.refresh_from_db()
    assert len(receiver.requests) == 1 and delivery.state == State.PENDING and delivery.attempts == 1
    # While the dead worker's lease lasts, neither the task nor the beat job sends it again.
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.SKIPPED
    assert services.webhook_deliveries_drain() == 0 and len(receiver.requests) == 1

    WebhookDelivery.objects.filter(pk=delivery.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert services.webhook_deliveries_drain() == 1
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED and receiver.ids() == [delivery.message_id] * 2


def _retrying(fn):
    """SQLite takes one writer at a time; a call refused with "locked" is repeated. On PostgreSQL the race is
    real."""
    for _ in range(100):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.01)
    raise AssertionError("the database stayed locked")


@pytest.mark.django_db(transaction=True)
def test_the_task_a_redelivered_copy_and_the_beat_job_racing_send_a_delivery_once(hook, receiver):
    endpoint = hook()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id="msg_race",
        event_type=TEST_EVENT,
        body='{"type":"webhook.test"}',
        next_attempt_at=timezone.now(),
    )
    receiver.answer("block")  # the first request is held open until the others have tried
    results: dict[str, object] = {}
    racers = {
        "task": lambda: services.webhook_delivery_attempt(delivery_id=delivery.pk),
        "copy": lambda: services.webhook_delivery_attempt(delivery_id=delivery.pk),  # acks_late redelivery
        "beat": services.webhook_deliveries_drain,
    }
    barrier = threading.Barrier(len(racers))

    def run(name, fn):
        try:
            barrier.wait()
            results[name] = _retrying(fn)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in racers.items()]
    for thread in threads:
        thread.start()
    assert wait_until(lambda: len(receiver.requests) == 1 and len(results) == len(racers) - 1, timeout=10)
    receiver.release.set()
    for thread in threads:
        thread.join(10)
    succeeded = [name for name, result in results.items() if result in (Outcome.DELIVERED, 1)]
    assert len(succeeded) == 1 and len(receiver.requests) == 1, results
    assert all(result in (Outcome.SKIPPED, 0) for name, result in results.items() if name not in succeeded)
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED and delivery.attempts == 1 and WebhookAttempt.objects.count() == 1
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.SKIPPED
    assert services.webhook_deliveries_drain() == 0 and len(receiver.requests) == 1


# 410, disable, revoke ---------------------------------------------------------------------------------------------


def test_410_gone_disables_the_endpoint_and_stops_sending(hook, receiver, shop, django_capture_on_commit_callbacks):
    endpoint = hook()
    waiting = services.webhook_test_send(endpoint=endpoint, actor=None)  # its task has not run yet
    receiver.answer((410, {}))
    with django_capture_on_commit_callbacks(execute=True):
        new_checkin(shop)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410 Gone" in endpoint.disabled_reason
    gone = WebhookDelivery.objects.get(event_type=CHECKIN)
    assert (gone.state, gone.last_status_code) == (State.FAILED, 410)
    waiting.refresh_from_db()
    assert waiting.state == State.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        new_checkin(shop)
    assert services.webhook_deliveries_drain() == 0
    assert len(receiver.requests) == 1 and WebhookDelivery.objects.count() == 2
    entry = AuditEntry.objects.get(action="api_key.webhook_disabled")
    assert entry.actor_type == AuditEntry.ActorType.SYSTEM and "410" in entry.data["reason"]


def test_revoking_the_key_cancels_waiting_deliveries_and_stops_events(hook, receiver, shop):
    endpoint = hook()
    waiting = services.webhook_test_send(endpoint=endpoint, actor=None)
    services.api_key_revoke(api_key=endpoint.api_key, actor=None)
    waiting.refresh_from_db()
    assert waiting.state == State.CANCELLED
    new_checkin(shop)
    assert services.webhook_deliveries_drain() == 0
    assert WebhookDelivery.objects.count() == 1 and receiver.requests == []


def test_a_delivery_of_a_webhook_disabled_after_it_was_queued_is_cancelled_not_sent(hook, receiver):
    endpoint = hook()
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)  # e.g. between the claim and the send
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.CANCELLED
    delivery.refresh_from_db()
    assert delivery.state == State.CANCELLED and delivery.attempts == 0 and receiver.requests == []


# URL rules --------------------------------------------------------------------------------------------------------


def test_production_sends_only_over_https_to_public_addresses(settings, make_key):
    settings.DEBUG = False
    settings.VIPPS_BASE_URL = "https://api.vipps.no"
    for url in [
        "http://pos.example.com/hooks",
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.0.0.8/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://user:password@pos.example.com/hooks",
        "ftp://pos.example.com/hooks",
    ]:
        assert outbound.url_problem(url), url
    assert outbound.url_problem("https://pos.example.com/hooks") is None
    key = make_key().api_key
    with pytest.raises(Exception) as refused:
        services.webhook_endpoint_save(api_key=key, actor=None, url="http://pos.example.com/h", event_types=[CHECKIN])
    assert "url" in refused.value.message_dict and not WebhookEndpoint.objects.exists()
    # A development install (DEBUG, or the local Vipps sandbox) may send over http to this machine.
    settings.VIPPS_BASE_URL = "http://127.0.0.1:8100"
    assert outbound.url_problem("http://127.0.0.1:9000/hooks") is None
    settings.VIPPS_BASE_URL, settings.DEBUG = "https://api.vipps.no", True
    assert outbound.url_problem("http://localhost:9000/hooks") is None


def test_in_production_the_address_is_checked_again_before_each_request(hook, receiver, settings, monkeypatch):
    endpoint = hook()  # saved on a development install: plain http to this machine
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    settings.DEBUG = False
    settings.VIPPS_BASE_URL = "https://api.vipps.no"
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.RETRY
    delivery.refresh_from_db()
    assert receiver.requests == [] and delivery.last_error == "Not sent: The address must start with https://."

    # A public-looking name whose address is on the portal's own network is not called either.
    real_getaddrinfo = outbound.socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "pos.example.com":
            return [(outbound.socket.AF_INET, outbound.socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))]
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolve)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://pos.example.com/hooks")
    make_due(delivery)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.RETRY
    delivery.refresh_from_db()
    assert delivery.last_error == "Not sent: The address resolves to a private or local network."
    assert delivery.attempt_log.count() == 2 and receiver.requests == []


# The owners' pages ------------------------------------------------------------------------------------------------


def test_an_owner_sets_up_a_webhook_and_sees_its_secret_once(alice, make_key, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    key = make_key().api_key
    client = client_for(alice)
    url = page_url(key)
    assert 'data-testid="webhook-setup"' in client.get(url).content.decode()
    listing = client.get(reverse("api_key_list", kwargs={"merchant_slug": key.merchant.slug})).content.decode()
    assert f'data-testid="webhook-{key.prefix}"' in listing

    response = client.post(page_url(key, "api_key_webhook_edit"), {"url": receiver.url, "event_types": [CHECKIN]})
    assert response.status_code == 302 and response.url == url
    endpoint = WebhookEndpoint.objects.get(api_key=key)
    secret = endpoint.secret
    assert endpoint.event_types == [CHECKIN] and endpoint.enabled
    first = client.get(url)
    assert f'value="{secret}"' in first.content.decode() and first["Cache-Control"] == "no-store"
    second = client.get(url).content.decode()
    assert secret not in second and endpoint.masked_secret in second and 'data-testid="webhook-secret"' not in second

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM api_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert secret.removeprefix("whsec_") not in stored and decrypt(stored) == secret
    entry = AuditEntry.objects.get(action="api_key.webhook_created")
    assert entry.actor_user == alice and entry.data == {"url": receiver.url.split("?")[0], "event_types": [CHECKIN]}
    assert secret.removeprefix("whsec_") not in json.dumps(list(AuditEntry.objects.values("data", "target_repr")))

    services.webhook_test_send(endpoint=endpoint, actor=alice)
    services.webhook_deliveries_drain()
    assert len(receiver.requests) == 1
    assert secret.removeprefix("whsec_") not in caplog.text and "webhook" in caplog.text


def test_a_bad_address_is_explained_on_the_form(alice, make_key, settings):
    settings.DEBUG = False
    settings.VIPPS_BASE_URL = "https://api.vipps.no"
    key = make_key().api_key
    response = client_for(alice).post(
        page_url(key, "api_key_webhook_edit"), {"url": "http://pos.example.com/h", "event_types": [CHECKIN]}
    )
    assert response.status_code == 200 and "https://" in str(response.context["form"].errors["url"])
    assert not WebhookEndpoint.objects.exists()


def test_rotating_the_secret_shows_the_new_one_once_and_signs_with_both_for_a_day(
    hook, receiver, alice, django_capture_on_commit_callbacks
):
    endpoint = hook()
    old = endpoint.secret
    client = client_for(alice)
    response = client.post(page_url(endpoint, "api_key_webhook_rotate"))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    new = endpoint.secret
    assert new != old and endpoint.previous_secret == old
    page = client.get(page_url(endpoint)).content.decode()
    assert new in page and old not in page
    assert new not in client.get(page_url(endpoint)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_test_send(endpoint=endpoint, actor=None)
    request = receiver.requests[-1]
    headers, body = request["headers"], request["body"]
    assert headers["webhook-signature"].split(" ") == [
        spec_signature(secret, headers["webhook-id"], headers["webhook-timestamp"], body) for secret in (new, old)
    ]
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_until=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_test_send(endpoint=endpoint, actor=None)
    assert " " not in receiver.requests[-1]["headers"]["webhook-signature"]
    assert AuditEntry.objects.filter(action="api_key.webhook_secret_rotated", actor_user=alice).count() == 1


def test_an_owner_disables_tests_and_enables_the_webhook(
    hook, receiver, alice, shop, django_capture_on_commit_callbacks
):
    endpoint = hook()
    client = client_for(alice)
    assert client.post(page_url(endpoint, "api_key_webhook_disable")).status_code == 302
    page = client.get(page_url(endpoint)).content.decode()
    assert 'data-enabled="false"' in page and "Disabled by alice." in page
    new_checkin(shop)
    response = client.post(page_url(endpoint, "api_key_webhook_test"), follow=True)
    assert "enable it first" in response.content.decode() and not WebhookDelivery.objects.exists()

    assert client.post(page_url(endpoint, "api_key_webhook_enable")).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(page_url(endpoint, "api_key_webhook_test")).status_code == 302
    [payload] = receiver.payloads()
    assert payload["type"] == TEST_EVENT and payload["data"]["api_key"]["prefix"] == endpoint.api_key.prefix
    actions = list(AuditEntry.objects.filter(action__startswith="api_key.webhook").values_list("action", flat=True))
    assert sorted(actions) == sorted(
        ["api_key.webhook_disabled", "api_key.webhook_enabled", "api_key.webhook_test_sent", "api_key.webhook_created"]
    )


def test_an_owner_resends_a_failed_delivery_from_the_log(hook, receiver, alice, django_capture_on_commit_callbacks):
    endpoint = hook()
    receiver.default = (500, {})
    delivery = services.webhook_test_send(endpoint=endpoint, actor=None)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=MAX_ATTEMPTS - 1)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == Outcome.FAILED
    client = client_for(alice)
    page = client.get(page_url(endpoint)).content.decode()
    assert f'data-testid="delivery-{delivery.message_id}" data-state="failed"' in page
    assert f'data-testid="resend-{delivery.message_id}"' in page

    receiver.default = (200, {})
    resend = reverse("api_key_webhook_resend", kwargs={"merchant_slug": "acme", "pk": delivery.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resend)
    assert response.status_code == 302 and response.url == page_url(endpoint)
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED and delivery.attempts == 1
    assert receiver.ids() == [delivery.message_id] * 2
    assert AuditEntry.objects.get(action="api_key.webhook_resent").actor_user == alice
    detail = client.get(reverse("api_key_webhook_delivery", kwargs={"merchant_slug": "acme", "pk": delivery.pk}))
    assert detail.status_code == 200 and detail.content.decode().count("HTTP 500") == 1
    assert 'data-state="delivered"' in detail.content.decode()
    assert client.get(resend).status_code == 405


def test_the_delivery_log_pages_newest_first(hook, alice):
    endpoint = hook()
    for number in range(30):
        WebhookDelivery.objects.create(
            endpoint=endpoint, message_id=f"msg_{number:03}", event_type=TEST_EVENT, body="{}"
        )
    client = client_for(alice)
    first = client.get(page_url(endpoint)).content.decode()
    assert "msg_029" in first and "msg_005" in first and "msg_004" not in first
    assert first.index("msg_029") < first.index("msg_028") and 'data-testid="page-older"' in first
    second = client.get(page_url(endpoint) + "?page=2").content.decode()
    assert "msg_004" in second and "msg_000" in second and "msg_005" not in second


def test_removing_the_webhook_deletes_its_log(hook, alice):
    endpoint = hook()
    services.webhook_test_send(endpoint=endpoint, actor=None)
    response = client_for(alice).post(page_url(endpoint, "api_key_webhook_delete"))
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert AuditEntry.objects.filter(action="api_key.webhook_deleted", actor_user=alice).exists()


# Housekeeping -------------------------------------------------------------------------------------------------------


def test_settled_deliveries_are_pruned_after_thirty_days(hook):
    endpoint = hook()
    old = timezone.now() - timedelta(days=31)

    def delivery(state, created_at):
        row = WebhookDelivery.objects.create(
            endpoint=endpoint, message_id=f"msg_{time.monotonic_ns()}", event_type=TEST_EVENT, body="{}", state=state
        )
        WebhookDelivery.objects.filter(pk=row.pk).update(created_at=created_at)
        WebhookAttempt.objects.create(delivery=row, started_at=created_at, status_code=200)
        return row

    kept = [delivery(State.PENDING, old), delivery(State.DELIVERED, timezone.now())]
    delivery(State.DELIVERED, old)
    delivery(State.FAILED, old)
    assert services.webhook_deliveries_prune() == 4  # two deliveries and their attempts
    assert set(WebhookDelivery.objects.all()) == set(kept) and WebhookAttempt.objects.count() == 2


def test_beat_drains_due_deliveries_and_prunes_daily():
    from merchant_portal.celery import app

    schedule = {entry["task"]: entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    drain = schedule["merchant_portal.api.tasks.drain_webhook_deliveries"]
    assert drain["schedule"] <= 5 and "merchant_portal.api.tasks.prune_webhook_deliveries" in schedule
    app.loader.import_default_modules()
    assert {"merchant_portal.api.tasks.drain_webhook_deliveries", "merchant_portal.api.tasks.deliver_webhook"} <= set(
        app.tasks
    )
