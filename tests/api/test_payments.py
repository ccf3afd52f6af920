"""Payments through the API: requested for a check-in or a phone number, read, listed by cursor, and captured,
cancelled or refunded through the payment services (which own the rules)."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from merchant_portal.api.idempotency import CLAIM_LEASE
from merchant_portal.api.models import IdempotencyRecord
from merchant_portal.audit.models import AuditEntry
from merchant_portal.core import crypto
from payments.models import Payment, PaymentOperation
from qrcodes.models import Location
from tests.api.factories import checkin_at, payment_at
from tests.factories import SalesUnitFactory


def test_request_a_payment_for_a_checked_in_customer(api, shop):
    checkin = checkin_at(shop)
    response = api.post(
        reverse("api:payment-list"),
        {"checkin": checkin.pk, "amount": 4900, "description": "Coffee and a bun"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-1",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["checkin"] == checkin.pk and body["location"] == shop.pk and body["amount"] == 4900
    assert body["sending"] == "queued" and body["state"] == "CREATED" and body["customer_label"] == "check-in"
    payment = Payment.objects.get()
    assert payment.customer == checkin.customer_token and "customer" not in body
    entry = AuditEntry.objects.get(action="payment.requested")
    assert entry.actor_type == AuditEntry.ActorType.API_KEY and payment.created_by is None


def test_request_a_payment_to_a_phone_number_masks_it(api, shop):
    response = api.post(
        reverse("api:payment-list"),
        {"phone_number": "4791234567", "location": shop.pk, "amount": 12500, "description": "Order 1031"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "91234567" not in response.content.decode()
    assert "4791234567" not in str(AuditEntry.objects.get(action="payment.requested").data)


def test_a_retried_create_with_the_same_idempotency_key_is_one_payment(api, shop):
    body = {"phone_number": "4791234567", "location": shop.pk, "amount": 100, "description": "Gum"}
    first = api.post(reverse("api:payment-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="till-7-0042")
    IdempotencyRecord.objects.all().delete()  # even when the stored response is gone, the payment is not doubled
    again = api.post(reverse("api:payment-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="till-7-0042")
    assert first.json()["id"] == again.json()["id"] and Payment.objects.count() == 1


def test_a_retry_after_a_request_died_before_storing_its_answer_is_the_same_payment_and_capture(api, shop):
    """The worker was killed after the payment (or the capture) was committed and before its response was stored:
    once the claim's lease has run out, the retry runs again and answers with what the dead request saved."""

    def die_before_the_answer_was_stored():
        IdempotencyRecord.objects.update(
            status_code=None, body="", created_at=timezone.now() - CLAIM_LEASE - timedelta(seconds=1)
        )

    body = {"phone_number": "4791234567", "location": shop.pk, "amount": 10_000, "description": "Gum"}
    first = api.post(reverse("api:payment-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="till-7-0043")
    die_before_the_answer_was_stored()
    again = api.post(reverse("api:payment-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="till-7-0043")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"] and Payment.objects.count() == 1
    assert AuditEntry.objects.filter(action="payment.requested").count() == 1

    Payment.objects.update(state=Payment.State.AUTHORIZED, authorized_amount=10_000, sending=Payment.Sending.SENT)
    url = reverse("api:payment-capture", kwargs={"pk": first.json()["id"]})
    capture = api.post(url, {"amount": 4000}, format="json", HTTP_IDEMPOTENCY_KEY="cap-2")
    IdempotencyRecord.objects.filter(key="cap-2").update(status_code=None)
    IdempotencyRecord.objects.update(created_at=timezone.now() - CLAIM_LEASE - timedelta(seconds=1))
    retried = api.post(url, {"amount": 4000}, format="json", HTTP_IDEMPOTENCY_KEY="cap-2")
    assert retried.status_code == 202 and retried.json()["id"] == capture.json()["id"]
    assert PaymentOperation.objects.count() == 1


def test_create_needs_a_checkin_or_a_phone_number(api, shop):
    checkin = checkin_at(shop)
    for body in [
        {"amount": 100, "description": "Gum"},
        {"checkin": checkin.pk, "phone_number": "4791234567", "amount": 100, "description": "Gum"},
        {"phone_number": "4791234567", "amount": 100, "description": "Gum"},
        {"phone_number": "12", "location": shop.pk, "amount": 100, "description": "Gum"},
        {"checkin": checkin.pk, "amount": 0, "description": "Gum"},
    ]:
        assert api.post(reverse("api:payment-list"), body, format="json").status_code == 400, body


def test_an_expired_checkin_is_a_409(api, shop):
    checkin = checkin_at(shop, minutes_left=-1)
    response = api.post(
        reverse("api:payment-list"), {"checkin": checkin.pk, "amount": 100, "description": "Gum"}, format="json"
    )
    assert response.status_code == 409 and "expired" in response.json()["detail"]


def test_get_and_list_with_cursor_pagination(api, shop):
    payments = [payment_at(shop) for _ in range(3)]
    assert api.get(reverse("api:payment-detail", kwargs={"pk": payments[0].pk})).json()["id"] == payments[0].pk
    first = api.get(reverse("api:payment-list"), {"page_size": 2}).json()
    assert [row["id"] for row in first["results"]] == [payments[2].pk, payments[1].pk]
    second = api.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [payments[0].pk] and second["next"] is None
    authorized = payment_at(shop, state=Payment.State.AUTHORIZED)
    rows = api.get(reverse("api:payment-list"), {"state": "AUTHORIZED"}).json()["results"]
    assert [row["id"] for row in rows] == [authorized.pk]
    assert api.get(reverse("api:payment-list"), {"state": "NOPE"}).status_code == 400


def test_capture_and_refund_queue_operations(api, shop):
    payment = payment_at(shop, state=Payment.State.AUTHORIZED, authorized_amount=10_000, sending=Payment.Sending.SENT)
    url = reverse("api:payment-capture", kwargs={"pk": payment.pk})
    response = api.post(url, {"amount": 4000}, format="json", HTTP_IDEMPOTENCY_KEY="cap-1")
    assert response.status_code == 202, response.json()
    assert response.json()["kind"] == "capture" and response.json()["status"] == "pending"
    assert api.post(url, {"amount": 4000}, format="json", HTTP_IDEMPOTENCY_KEY="cap-1").status_code == 202
    assert PaymentOperation.objects.count() == 1
    too_much = api.post(url, {"amount": 7000}, format="json")
    assert too_much.status_code == 409 and "at most" in too_much.json()["detail"]
    refund = api.post(reverse("api:payment-refund", kwargs={"pk": payment.pk}), {"amount": 100}, format="json")
    assert refund.status_code == 409  # nothing is captured yet
    assert AuditEntry.objects.get(action="payment.capture_requested").actor_type == AuditEntry.ActorType.API_KEY


def test_cancel(api, shop):
    unsent = payment_at(shop)
    assert api.post(reverse("api:payment-cancel", kwargs={"pk": unsent.pk})).status_code == 409
    sent = payment_at(shop, sending=Payment.Sending.SENT)
    response = api.post(reverse("api:payment-cancel", kwargs={"pk": sent.pk}))
    assert response.status_code == 202 and response.json()["kind"] == "cancel"


def test_events_of_a_payment(api, shop):
    payment = payment_at(shop, state=Payment.State.AUTHORIZED, authorized_amount=500, sending=Payment.Sending.SENT)
    api.post(reverse("api:payment-capture", kwargs={"pk": payment.pk}), {"amount": 500}, format="json")
    events = api.get(reverse("api:payment-events", kwargs={"pk": payment.pk})).json()
    assert [event["kind"] for event in events] == ["staff"]
    assert events[0]["title"] == "Asked to capture NOK\xa05.00" and "API key" in events[0]["detail"]


def test_read_only_key_cannot_move_money(make_key, shop):
    client = make_key(access="read")
    payment = payment_at(shop, state=Payment.State.AUTHORIZED, authorized_amount=500, sending=Payment.Sending.SENT)
    assert client.get(reverse("api:payment-detail", kwargs={"pk": payment.pk})).status_code == 200
    for name in ("capture", "refund", "cancel"):
        url = reverse(f"api:payment-{name}", kwargs={"pk": payment.pk})
        assert client.post(url, {"amount": 500}, format="json").status_code == 403
    assert not PaymentOperation.objects.exists()


def test_location_limited_key_must_name_its_location(make_key, shop, acme_unit):
    client = make_key(locations=[shop])
    body = {"phone_number": "4791234567", "sales_unit": acme_unit.pk, "amount": 100, "description": "Gum"}
    assert client.post(reverse("api:payment-list"), body, format="json").status_code == 403
    body["location"] = shop.pk
    assert client.post(reverse("api:payment-list"), body, format="json").status_code == 201


def test_a_page_of_payments_costs_the_same_queries_at_any_size_and_decrypts_nothing(api, shop, acme, monkeypatch):
    """Loading a page must not decrypt each row's sales-unit secrets or the waiting customer's phone number: the
    answer holds neither (bench/api.py found that decrypting them was a quarter of a page's time)."""

    def queries_for_first_page() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(reverse("api:payment-list"), {"page_size": 200})
        assert response.status_code == 200
        return len(response.json()["results"]), len(captured.captured_queries)

    payment_at(shop)
    api.get(reverse("api:payment-list"))  # the key's last use is written once a minute, not on every request
    rows, few = queries_for_first_page()
    assert rows == 1

    second = Location.objects.create(sales_unit=SalesUnitFactory(merchant=acme), name="Kiosk")
    for n in range(60):
        location = shop if n % 2 else second
        payment_at(location, customer="4791234567", checkin=checkin_at(location) if n % 3 == 0 else None)
    decrypted = []
    monkeypatch.setattr(crypto, "decrypt", lambda token: decrypted.append(token) or "")
    rows, many = queries_for_first_page()
    assert rows == 61 and many == few and decrypted == []


def test_a_payment_request_loads_what_it_names_in_one_query(api, shop, acme_unit):
    """The check-in, location or sales unit named in the body comes with its sales unit and merchant (which the
    payment service and the audit log read) and the location's payment rule, not lazily one query at a time."""

    def queries(body: dict) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = api.post(reverse("api:payment-list"), body, format="json", HTTP_IDEMPOTENCY_KEY=str(body))
        assert response.status_code == 201, response.json()
        return [query["sql"] for query in captured.captured_queries]

    api.get(reverse("api:payment-list"))  # the key's last use is written once a minute, not on every request
    by_location = queries({"phone_number": "4791234567", "location": shop.pk, "amount": 100, "description": "Gum"})
    by_checkin = queries({"checkin": checkin_at(shop).pk, "amount": 100, "description": "Gum"})
    by_unit = queries({"phone_number": "4791234567", "sales_unit": acme_unit.pk, "amount": 100, "description": "Gum"})
    # A check-in costs one query more: its row is locked and read with its active payment (no second charge).
    assert len(by_location) == len(by_checkin) - 1 == len(by_unit)
    for sql in by_location + by_checkin + by_unit:  # the rule comes with the location; the secrets stay unread
        assert 'FROM "payments_paymentrule"' not in sql and '"client_secret"' not in sql, sql
    for sql in by_location + by_checkin + by_unit:
        assert 'FROM "tenancy_merchant"' not in sql and 'FROM "tenancy_salesunit" WHERE' not in sql, sql


def test_the_locations_payment_rule_decides_auto_capture_unless_the_request_does(api, shop, acme_unit):
    from payments.models import PaymentRule

    PaymentRule.objects.create(location=shop, auto_capture=True)

    def create(body: dict) -> Payment:
        body = {"amount": 100, "description": "Gum"} | body
        response = api.post(reverse("api:payment-list"), body, format="json", HTTP_IDEMPOTENCY_KEY=str(body))
        assert response.status_code == 201, response.json()
        return Payment.objects.get(pk=response.json()["id"])

    assert create({"phone_number": "4791234567", "location": shop.pk}).auto_capture is True
    assert create({"checkin": checkin_at(shop).pk}).auto_capture is True
    assert create({"phone_number": "4791234567", "location": shop.pk, "auto_capture": False}).auto_capture is False
    assert create({"phone_number": "4791234567", "sales_unit": acme_unit.pk}).auto_capture is False  # no location
