"""Hostile input to every location and QR code form, through the real views as a manager."""

import uuid

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from merchant_portal.tenancy.roles import Role
from qrcodes.models import Location, QrCode
from tests.conftest import client_for
from tests.factories import QrCodeFactory
from tests.hostile_forms import FORM_SETTINGS, assert_door_held, assert_storable, counts, data_with_hostile_fields

LOCATION = {"name": "Kiosk Torget", "address": "Torget 1, Oslo", "mobilepay_pos_id": ""}
pos_ids = st.one_of(st.just(""), st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()))


@pytest.fixture
def manager(make_member):
    return make_member(Role.MANAGER)


def url(name: str, acme, **kwargs) -> str:
    return reverse(name, kwargs={"merchant_slug": acme.slug, **kwargs})


def _check_locations_stored() -> None:
    for location in Location.objects.all():
        assert_storable(location, identifiers=("name", "address", "mobilepay_pos_id"))
        assert location.mobilepay_pos_id == location.mobilepay_pos_id.lower()


@FORM_SETTINGS
@given(data=data_with_hostile_fields(LOCATION, ["name", "address", "mobilepay_pos_id"]), pos_id=pos_ids)
def test_location_create_never_fails_and_stores_only_clean_rows(acme, acme_unit, manager, data, pos_id):
    client = client_for(manager)
    data = {**data, "sales_unit": acme_unit.pk}
    if data["mobilepay_pos_id"] == "":
        data["mobilepay_pos_id"] = pos_id
    before = counts(Location)
    response = client.post(url("location_create", acme), data)
    assert_door_held(response, before, counts(Location))
    _check_locations_stored()


@FORM_SETTINGS
@given(data=data_with_hostile_fields(LOCATION, ["name", "address", "mobilepay_pos_id"]))
def test_location_edit_never_fails_and_keeps_the_row_clean(acme, acme_unit, manager, data):
    location = Location.objects.create(sales_unit=acme_unit, name="Kiosk", address="Torget 1")
    client = client_for(manager)
    before = Location.objects.values().get(pk=location.pk)
    response = client.post(url("location_update", acme, pk=location.pk), data)
    assert response.status_code < 500
    if response.status_code == 200:
        assert Location.objects.values().get(pk=location.pk) == before
    _check_locations_stored()


QR = {"location_description": "Kiosk 1", "category": "IN_STORE", "merchant_qr_id": ""}


@FORM_SETTINGS
@given(data=data_with_hostile_fields(QR, ["location_description", "category", "merchant_qr_id"]))
def test_qr_code_create_never_fails(acme, acme_unit, manager, data):
    location = Location.objects.create(sales_unit=acme_unit, name="Kiosk")
    client = client_for(manager)
    before = counts(QrCode)
    response = client.post(url("qr_code_create", acme, pk=location.pk), data)
    assert_door_held(response, before, counts(QrCode))
    for code in QrCode.objects.all():
        assert_storable(code, identifiers=("merchant_qr_id", "location_description"))


@FORM_SETTINGS
@given(
    data=data_with_hostile_fields(
        {"count": "3", "description": "Automat", "category": "VENDING"}, ["count", "description"]
    )
)
def test_qr_code_bulk_create_never_fails(acme, acme_unit, manager, data):
    location = Location.objects.create(sales_unit=acme_unit, name="Automater")
    client = client_for(manager)
    before = counts(QrCode)
    response = client.post(url("qr_code_bulk_create", acme, pk=location.pk), data)
    assert_door_held(response, before, counts(QrCode))
    for code in QrCode.objects.all():
        assert_storable(code, identifiers=("merchant_qr_id", "location_description"))


@FORM_SETTINGS
@given(
    data=data_with_hostile_fields(
        {"beacon_id": "", "location_description": "Kasse 1"}, ["beacon_id", "location_description"]
    )
)
def test_mobilepay_beacon_mapping_never_fails(acme, acme_unit, manager, data):
    location = Location.objects.create(sales_unit=acme_unit, name="Kasse")
    data["beacon_id"] = data["beacon_id"] or str(uuid.uuid4())
    client = client_for(manager)
    before = counts(QrCode)
    response = client.post(url("qr_code_map_beacon", acme, pk=location.pk), data)
    assert_door_held(response, before, counts(QrCode))
    for code in QrCode.objects.all():
        assert_storable(code, identifiers=("merchant_qr_id", "location_description"))


@FORM_SETTINGS
@given(
    data=data_with_hostile_fields(
        {"location_description": "Kiosk 2", "category": "IN_STORE"}, ["location_description", "category", "location"]
    )
)
def test_qr_code_edit_never_fails(acme, acme_unit, manager, data):
    code = QrCodeFactory(location__sales_unit=acme_unit, location_description="Kiosk 1")
    data["location"] = data.get("location") or code.location_id
    client = client_for(manager)
    before = QrCode.objects.values("location_description", "category", "location").get(pk=code.pk)
    response = client.post(url("qr_code_update", acme, pk=code.pk), data)
    assert response.status_code < 500
    if response.status_code == 200:
        assert QrCode.objects.values("location_description", "category", "location").get(pk=code.pk) == before
    assert_storable(QrCode.objects.get(pk=code.pk), identifiers=("merchant_qr_id", "location_description"))
