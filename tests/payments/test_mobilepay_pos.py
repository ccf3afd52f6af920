"""MobilePay PoS v10 notifications (seed document 000): formats, idempotency, and the check-in lookup."""

import json
import time

import pytest
from django.test import Client
from django.urls import reverse

from payments.models import CheckIn
from tests.webhooks_app.helpers import location
from webhooks_app import services
from webhooks_app.models import PosMerchantId, WebhookDelivery, WebhookEvent

POS_ID = "7e6acbde-345e-4641-b2f4-d8df0f3a5147"


def notification(**changes) -> dict:
    return {
        "MerchantId": "622d3369-f940-4921-93eb-c8fca0c081b4",
        "MerchantBrandId": "MPPOS12345",
        "MerchantLocationId": "12345",
        "MerchantPosId": "MobilePay Merchant Pos Id",
        "PosId": POS_ID,
    } | changes


def notify(payload) -> "Client.response":
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Client().post(reverse("mobilepay_pos_notification"), data=body, content_type="application/json")


@pytest.mark.django_db
def test_a_valid_notification_for_a_mapped_pos_is_stored_and_answered_200(acme_unit):
    location(acme_unit, mobilepay_pos_id=POS_ID.upper())
    response = notify(notification())
    assert response.status_code == 200
    services.webhook_deliveries_file()
    event = WebhookEvent.objects.get()
    assert (event.event_type, event.sales_unit, event.status) == ("mobilepay.pos.notification", acme_unit, "pending")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value",
    [
        ("MerchantId", "not-a-guid"),
        ("MerchantBrandId", "XYZ12345"),
        ("MerchantLocationId", "1234"),
        ("MerchantPosId", "x" * 37),
        ("PosId", "12345"),
    ],
)
def test_badly_formatted_fields_are_refused_with_the_reason(acme_unit, field, value):
    location(acme_unit, mobilepay_pos_id=POS_ID)
    response = notify(notification(**{field: value}))
    assert response.status_code == 400 and field in response.json()["reason"]
    assert WebhookDelivery.objects.get().outcome == "rejected" and not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_an_unmapped_pos_or_a_broken_body_is_refused(acme_unit):
    assert notify(notification()).status_code == 404
    assert notify(b"{nope").status_code == 400
    assert WebhookDelivery.objects.filter(outcome="rejected").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_pos_check_in_reaches_the_console_once_even_when_mobilepay_retries(live_server, sandbox, sandbox_unit):
    loc = location(sandbox_unit, mobilepay_pos_id=POS_ID)
    sandbox.state.add_callback_alias("portal-cb", f"{live_server.url}/hooks/mobilepay/pos/")
    pos = sandbox.state.add_point_of_sale(
        sandbox_unit.msn, "till-1", pos_id=POS_ID, callback_alias="portal-cb", poll_delay_ms=300
    )
    sandbox.state.pos_checkin(POS_ID, "4791234567")
    assert sandbox.state.wait_for_deliveries(timeout=10)
    assert [d.attempts[-1].status for d in sandbox.state.deliveries("pos")] == [200]

    notify(notification(PosId=POS_ID, MerchantId=pos.merchant_id))  # MobilePay repeating the notification
    services.webhook_events_relay()
    # The first notification polled; the repeat waits for pollDelayInMs instead of polling again at once.
    statuses = sorted(WebhookEvent.objects.values_list("status", flat=True))
    assert statuses == ["parked", "processed"]
    WebhookEvent.objects.filter(status="parked").update(next_attempt_at=None, status="pending")
    time.sleep(0.35)  # the sandbox's pollDelayInMs
    services.webhook_events_relay()
    checkin = CheckIn.objects.get()
    assert (checkin.location, checkin.source, checkin.pos_id) == (loc, "mobilepay_pos", POS_ID)
    assert checkin.customer_token == pos.checkin.customer_token
    # MobilePay confirmed the check-in: from now on notifications for this sales unit must carry its MerchantId.
    assert PosMerchantId.objects.get(sales_unit=sandbox_unit).merchant_id == pos.merchant_id.lower()
    assert pos.poll_violations == 0 and pos.polls == 2
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
