"""The payment's derived `status` in the API: read-only next to Vipps' `state`, an enum in the schema, and a
list filter that agrees with it."""

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from payments.models import Payment
from payments.status import MerchantStatus
from tests.api.factories import payment_at


def test_a_captured_payment_reads_captured_while_vipps_says_authorized(api, shop):
    payment = payment_at(
        shop, state=Payment.State.AUTHORIZED, authorized_amount=500, captured_amount=500, sending=Payment.Sending.SENT
    )
    body = api.get(reverse("api:payment-detail", kwargs={"pk": payment.pk})).json()
    assert (body["state"], body["status"]) == ("AUTHORIZED", "captured")


def test_the_list_filters_on_status_and_refuses_an_unknown_one(api, shop):
    refunded = payment_at(
        shop,
        state=Payment.State.AUTHORIZED,
        authorized_amount=500,
        captured_amount=500,
        refunded_amount=100,
        sending=Payment.Sending.SENT,
    )
    payment_at(shop, state=Payment.State.AUTHORIZED, authorized_amount=500, sending=Payment.Sending.SENT)
    listed = api.get(reverse("api:payment-list"), {"status": "partly_refunded"}).json()["results"]
    assert [p["id"] for p in listed] == [refunded.pk]
    refused = api.get(reverse("api:payment-list"), {"status": "Captured"})
    assert refused.status_code == 400 and refused["Content-Type"].startswith("application/problem+json")


@pytest.mark.django_db
def test_the_schema_gives_status_as_a_read_only_enum_and_the_second_payment_flag():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    status = components["Payment"]["properties"]["status"]
    enum = status.get("enum") or components[status["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(enum) == set(MerchantStatus.values) and status.get("readOnly")
    assert "state" in components["Payment"]["properties"]
    assert components["PaymentCreateRequest"]["properties"]["allow_second_payment"]["type"] == "boolean"
