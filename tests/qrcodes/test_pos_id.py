"""A MobilePay PosId belongs to one location in the whole installation, and is a GUID."""

import importlib

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from merchant_portal.api.models import ApiKey
from merchant_portal.api.services import api_key_create
from qrcodes import services
from qrcodes.models import Location
from tests.conftest import client_for
from tests.factories import LocationFactory

POS_ID = "7e6acbde-345e-4641-b2f4-d8df0f3a5147"
migration = importlib.import_module("qrcodes.migrations.0004_location_pos_id_unique_guid")


def test_a_second_merchant_cannot_claim_a_pos_id_and_is_not_told_who_holds_it(
    acme, acme_unit, other, other_unit, charlie
):
    services.location_create(sales_unit=acme_unit, actor=None, name="Acme till", mobilepay_pos_id=POS_ID)
    response = client_for(charlie).post(
        reverse("location_create", kwargs={"merchant_slug": other.slug}),
        {"sales_unit": other_unit.pk, "name": "Stolen till", "mobilepay_pos_id": POS_ID.upper()},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["mobilepay_pos_id"] == ["This PosId is already in use."]
    page = response.content.decode()
    assert acme.name not in page and "Acme till" not in page and acme_unit.msn not in page
    assert list(Location.objects.filter(mobilepay_pos_id=POS_ID).values_list("sales_unit", flat=True)) == [acme_unit.pk]


def test_editing_another_location_onto_a_taken_pos_id_is_refused(acme, acme_unit, other_unit, charlie):
    services.location_create(sales_unit=acme_unit, actor=None, name="Acme till", mobilepay_pos_id=POS_ID)
    theirs = services.location_create(sales_unit=other_unit, actor=None, name="Their till")
    with pytest.raises(ValidationError) as refused:
        services.location_update(location=theirs, actor=None, mobilepay_pos_id=f" {POS_ID.upper()} ")
    assert refused.value.message_dict == {"mobilepay_pos_id": ["This PosId is already in use."]}
    theirs.refresh_from_db()
    assert theirs.mobilepay_pos_id == ""


def test_the_api_answers_400_problem_json_without_the_holder(acme_unit, other, other_unit):
    services.location_create(sales_unit=acme_unit, actor=None, name="Acme till", mobilepay_pos_id=POS_ID)
    _, token = api_key_create(
        merchant=other,
        actor=None,
        name="Their till vendor",
        access=ApiKey.Access.READ_WRITE,
        sales_units=(),
        locations=(),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(
        "/api/v1/locations/",
        {"sales_unit": other_unit.pk, "name": "Stolen", "mobilepay_pos_id": POS_ID},
        format="json",
        HTTP_IDEMPOTENCY_KEY="pos-id-1",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"]["mobilepay_pos_id"] == ["This PosId is already in use."]
    assert acme_unit.merchant.name not in response.content.decode()
    assert Location.objects.filter(sales_unit=other_unit).count() == 0


def test_a_location_keeps_its_own_pos_id_on_edit_and_it_is_stored_lower_case(acme_unit):
    location = services.location_create(sales_unit=acme_unit, actor=None, name="Till", mobilepay_pos_id=POS_ID.upper())
    assert location.mobilepay_pos_id == POS_ID
    services.location_update(location=location, actor=None, name="Till 2", mobilepay_pos_id=POS_ID.upper())
    location.refresh_from_db()
    assert (location.name, location.mobilepay_pos_id) == ("Till 2", POS_ID)


@pytest.mark.parametrize("pos_id", ["123", "not-a-guid", f"{POS_ID}\n", f"{POS_ID}0", POS_ID.replace("-", "")])
def test_a_pos_id_must_be_a_guid(acme_unit, pos_id):
    with pytest.raises(ValidationError) as refused:
        services.location_create(sales_unit=acme_unit, actor=None, name="Till", mobilepay_pos_id=pos_id)
    assert "mobilepay_pos_id" in refused.value.message_dict
    assert not Location.objects.exists()


def test_many_locations_may_have_no_pos_id(acme_unit):
    for number in range(3):
        services.location_create(sales_unit=acme_unit, actor=None, name=f"Till {number}")
    assert Location.objects.filter(mobilepay_pos_id="").count() == 3


def test_the_database_refuses_a_duplicate_in_any_case_even_past_the_services(acme_unit, other_unit):
    LocationFactory(sales_unit=acme_unit, mobilepay_pos_id=POS_ID)
    with pytest.raises(IntegrityError), transaction.atomic():
        LocationFactory(sales_unit=other_unit, mobilepay_pos_id=POS_ID.upper())


def test_the_migration_gives_a_shared_pos_id_to_the_oldest_location_and_blanks_the_others():
    rows = [(1, f" {POS_ID.upper()} "), (2, POS_ID), (3, "other"), (4, POS_ID.upper()), (5, "   ")]
    assert migration.pos_id_changes(rows) == {1: POS_ID, 2: "", 4: "", 5: ""}
