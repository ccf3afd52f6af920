"""The API's read serializers answer exactly what DRF's own `to_representation` would, through the fast path of
`FlatReadMixin`; and an unlimited key's request costs no query for its limits."""

import django.apps
import pytest
from rest_framework import serializers

from merchant_portal.api.base import FlatReadMixin
from merchant_portal.api.migrations import __name__ as migrations_package
from merchant_portal.api.models import ApiKey
from merchant_portal.api.resources.checkins import CheckInSerializer
from merchant_portal.api.resources.locations import LocationSerializer, SalesUnitSerializer
from merchant_portal.api.resources.payments import OperationSerializer, PaymentSerializer
from merchant_portal.api.resources.qr_codes import QrCodeSerializer
from payments.models import CheckIn, PaymentOperation

from .factories import checkin_at, objects_of, payment_at

pytestmark = pytest.mark.django_db


def drf_answer(serializer_class, instance) -> dict:
    """What DRF's Serializer.to_representation gives, without the mixin."""
    return dict(serializers.Serializer.to_representation(serializer_class(), instance))


@pytest.fixture
def objects(acme, acme_unit):
    made = objects_of(acme, sales_unit=acme_unit)
    location = made["location"]
    checkin = checkin_at(location, phone_masked="47****4567")
    expired = checkin_at(location, minutes_left=-1)  # status computed by a method field: EXPIRED
    pos = checkin_at(location, source=CheckIn.Source.MOBILEPAY_POS, qr_code=None)
    paid = payment_at(location, checkin=checkin, state="AUTHORIZED", authorized_amount=10_000, error_code="x")
    phone = payment_at(location, customer_label="47******67")
    phone.location = None
    operation = PaymentOperation.objects.create(
        payment=paid, kind=PaymentOperation.Kind.CAPTURE, amount=500, request_token="r", idempotency_key="k-1"
    )
    return {
        PaymentSerializer: [made["payment"], paid, phone],
        CheckInSerializer: [made["checkin"], checkin, expired, pos],
        QrCodeSerializer: [made["qr-code"]],
        LocationSerializer: [location],
        SalesUnitSerializer: [acme_unit],
        OperationSerializer: [operation],
    }


def test_every_read_serializer_of_the_api_uses_the_fast_path(objects):
    flat = {cls for cls in _subclasses(FlatReadMixin) if cls.__module__.startswith("merchant_portal.api.resources")}
    assert flat >= set(objects)
    assert {QrCodeSerializer, PaymentSerializer, CheckInSerializer} <= flat


def test_the_fast_path_answers_what_drf_answers(objects):
    for serializer_class, instances in objects.items():
        for instance in instances:
            fast = dict(serializer_class(instance).data)
            assert fast == drf_answer(serializer_class, instance), serializer_class.__name__
        many = serializer_class(instances, many=True).data
        assert [dict(row) for row in many] == [drf_answer(serializer_class, i) for i in instances]


def test_the_fast_path_keeps_nulls_ids_and_method_fields(objects):
    payment = objects[PaymentSerializer][2]
    answer = PaymentSerializer(payment).data
    assert answer["location"] is None and answer["checkin"] is None
    assert answer["sales_unit"] == payment.sales_unit_id
    assert isinstance(answer["created_at"], str) and answer["created_at"].startswith(str(payment.created_at.year))
    assert CheckInSerializer(objects[CheckInSerializer][2]).data["status"] == CheckIn.Status.EXPIRED


def test_an_unlimited_key_costs_one_query_to_authenticate(make_key, acme_unit, shop, django_assert_num_queries):
    payment_at(shop)
    unlimited = make_key()
    unlimited.get("/api/v1/payments/")  # the first use records last_used_at
    with django_assert_num_queries(2):  # the key (with its merchant), the page
        assert unlimited.get("/api/v1/payments/").status_code == 200
    limited = make_key(locations=[shop])
    assert limited.api_key.limited is True and unlimited.api_key.limited is False
    limited.get("/api/v1/payments/")
    with django_assert_num_queries(4):  # and its sales units and locations, as ids
        response = limited.get("/api/v1/payments/")
    assert [p["location"] for p in response.json()["results"]] == [shop.pk]


def test_the_migration_marks_keys_that_already_had_limits(make_key, acme_unit, shop):
    import importlib

    limited, unlimited = make_key(sales_units=[acme_unit]).api_key, make_key().api_key
    ApiKey.objects.update(limited=False)
    migration = importlib.import_module(f"{migrations_package}.0003_apikey_limited")
    migration.mark_limited_keys(django.apps.apps, None)
    assert set(ApiKey.objects.filter(limited=True).values_list("pk", flat=True)) == {limited.pk}
    assert ApiKey.objects.get(pk=unlimited.pk).limited is False


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
