"""MobilePay PoS notifications reach only the location whose PosId they name, of the MobilePay merchant that
PosId belongs to; text fields with control characters are refused."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.webhooks_app.helpers import location
from webhooks_app import services
from webhooks_app.models import PosMerchantId, WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db

ACME_POS = "7e6acbde-345e-4641-b2f4-d8df0f3a5147"
OTHER_POS = "0b7f3c1e-9d2a-4c55-8f61-2a9e4d7b1c33"
ACME_MERCHANT = "622d3369-f940-4921-93eb-c8fca0c081b4"
OTHER_MERCHANT = "a1b2c3d4-e5f6-4711-8abc-def012345678"


def notification(**changes) -> dict:
    return {
        "MerchantId": ACME_MERCHANT,
        "MerchantBrandId": "MPPOS12345",
        "MerchantLocationId": "12345",
        "MerchantPosId": "Till 1",
        "PosId": ACME_POS,
    } | changes


def notify(payload):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Client().post(reverse("mobilepay_pos_notification"), data=body, content_type="application/json")


@pytest.fixture
def two_merchants(acme_unit, other_unit):
    return location(acme_unit, mobilepay_pos_id=ACME_POS), location(other_unit, "Bryggen", mobilepay_pos_id=OTHER_POS)


def test_each_notification_lands_only_at_the_location_whose_pos_id_it_names(two_merchants):
    acme_loc, other_loc = two_merchants
    assert notify(notification(PosId=ACME_POS.upper())).status_code == 200
    assert notify(notification(PosId=OTHER_POS, MerchantId=OTHER_MERCHANT)).status_code == 200
    services.webhook_deliveries_file()
    units = {e.dedupe_key.split("|")[0]: e.sales_unit for e in WebhookEvent.objects.all()}
    assert units == {ACME_POS: acme_loc.sales_unit, OTHER_POS: other_loc.sales_unit}


def test_a_forged_first_notification_teaches_nothing_and_a_confirmed_merchant_id_is_then_required(two_merchants):
    acme_loc, _ = two_merchants
    # The endpoint is unauthenticated: a first notification, forged or not, must not fix the MerchantId.
    assert notify(notification(MerchantId=OTHER_MERCHANT)).status_code == 200
    assert not PosMerchantId.objects.exists()
    # Learnt once MobilePay confirmed a check-in at that PosId (pos_checkin_apply); a second one is not taken.
    unit_id = acme_loc.sales_unit_id
    assert services.pos_merchant_id_learn(sales_unit_id=unit_id, merchant_id=ACME_MERCHANT.upper())
    assert not services.pos_merchant_id_learn(sales_unit_id=unit_id, merchant_id=OTHER_MERCHANT)
    assert PosMerchantId.objects.get(sales_unit_id=unit_id).merchant_id == ACME_MERCHANT
    received = WebhookDelivery.objects.filter(outcome="received").count()
    response = notify(notification(MerchantId=OTHER_MERCHANT))
    assert response.status_code == 409 and "MerchantId" in response.json()["reason"]
    assert response["Content-Type"] == "application/problem+json"
    assert WebhookDelivery.objects.filter(outcome="received").count() == received
    # The same merchant, whatever the letter case of its GUID, is still accepted.
    assert notify(notification(MerchantId=ACME_MERCHANT.upper())).status_code == 200


@pytest.mark.parametrize(
    "value", ["Till\n1", "Till\x001", "\r", "Till 1\n", "\x7f", "a\u2028b", "", "Till\u202e1", "Till\u200b1", "x" * 37]
)
def test_control_characters_in_merchant_pos_id_are_refused(two_merchants, value):
    response = notify(notification(MerchantPosId=value))
    reason = response.json()["reason"]
    assert response.status_code == 400 and ("MerchantPosId" in reason or "NUL" in reason)
    assert not WebhookDelivery.objects.exclude(outcome="rejected").exists()


@pytest.mark.parametrize("field", ["MerchantId", "PosId"])
def test_a_guid_with_a_trailing_newline_is_refused(two_merchants, field):
    response = notify(notification(**{field: notification()[field] + "\n"}))
    assert response.status_code == 400 and field in response.json()["reason"]


def test_a_body_with_a_byte_order_mark_is_accepted_and_filed(two_merchants):
    assert notify(b"\xef\xbb\xbf" + json.dumps(notification()).encode()).status_code == 200
    services.webhook_events_relay()
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome == "accepted" and not delivery.event.body.startswith("\ufeff")


@pytest.mark.parametrize(
    "body, reason",
    [
        (json.dumps(notification()).encode("utf-16"), "not UTF-8"),
        (b"[" * 50_000, "nested deeper"),
        (b'{"PosId": NaN}', "NaN"),
        (b"", "empty"),
    ],
)
def test_an_undecodable_body_is_a_400_with_the_reason(two_merchants, body, reason):
    response = notify(body)
    assert response.status_code == 400 and reason in response.json()["reason"]
    assert WebhookDelivery.objects.get().outcome == "rejected"
