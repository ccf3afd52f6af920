"""Locations and QR codes saved here: validation, readable ids, audit. (Vipps is not involved here.)"""

import pytest
from django.core.exceptions import ValidationError

from merchant_portal.audit.models import AuditEntry
from qrcodes import selectors, services
from qrcodes.models import Location, QrCode
from tests.factories import SalesUnitFactory

pytestmark = pytest.mark.django_db


def test_location_create_update_delete_are_audited(acme_unit, alice):
    location = services.location_create(sales_unit=acme_unit, actor=alice, name="Kiosk", address="Torget 1")
    services.location_update(location=location, actor=alice, name="Kiosk Torget", address="Torget 1")
    services.location_delete(location=location, actor=alice)
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", "data"))
    assert actions == [("location.created", {}), ("location.updated", {"changed": ["name"]}), ("location.deleted", {})]


def test_a_location_with_codes_cannot_be_deleted(location, alice):
    services.qr_code_create(location=location, actor=alice, location_description="Kiosk")
    with pytest.raises(ValidationError, match="QR codes"):
        services.location_delete(location=location, actor=alice)
    assert Location.objects.filter(pk=location.pk).exists()


def test_ids_are_readable_unique_per_msn_and_continue_their_sequence(acme_unit, alice):
    blåbær = Location.objects.create(sales_unit=acme_unit, name="Blåbær-kiosken, Øvre Slottsgate 3!")
    first = services.qr_code_create(location=blåbær, actor=alice, location_description="Kiosk")
    second = services.qr_code_create(location=blåbær, actor=alice, location_description="Kiosk")
    assert (first.merchant_qr_id, second.merchant_qr_id) == (
        "blabaer-kiosken-ovre-slottsg-001",
        "blabaer-kiosken-ovre-slottsg-002",
    )
    assert all(len(c.merchant_qr_id) <= 36 for c in (first, second))
    other_unit = SalesUnitFactory(merchant=acme_unit.merchant)
    elsewhere = Location.objects.create(sales_unit=other_unit, name=blåbær.name)
    assert selectors.next_merchant_qr_ids(sales_unit=other_unit, name=elsewhere.name)[0][0].endswith("-001")


def test_a_chosen_id_must_be_unique_in_the_msn_and_use_safe_characters(location, alice):
    services.qr_code_create(location=location, actor=alice, location_description="A", merchant_qr_id="till-1")
    with pytest.raises(ValidationError, match="already exists"):
        services.qr_code_create(location=location, actor=alice, location_description="B", merchant_qr_id="till-1")
    with pytest.raises(ValidationError, match="letters"):
        services.qr_code_create(location=location, actor=alice, location_description="B", merchant_qr_id="till 1/ø")


def test_the_description_is_at_most_36_characters(location, alice):
    with pytest.raises(ValidationError, match="1 to 36 characters"):
        services.qr_code_create(location=location, actor=alice, location_description="x" * 37)
    assert services.qr_code_create(location=location, actor=alice, location_description="x" * 36).pk


def test_bulk_create_numbers_ids_and_descriptions_alike(location, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as enqueued:
        codes = services.qr_codes_bulk_create(location=location, actor=alice, count=12, description="Automat")
    assert [c.merchant_qr_id for c in codes][:2] == ["kiosk-torget-001", "kiosk-torget-002"]
    assert codes[-1].location_description == "Automat 12" and len(enqueued) == 12
    assert all(c.sync_state == QrCode.SyncState.PENDING for c in codes)
    more = services.qr_codes_bulk_create(location=location, actor=alice, count=1, description="Automat")
    assert more[0].merchant_qr_id == "kiosk-torget-013" and more[0].location_description == "Automat 13"


def test_bulk_create_refuses_descriptions_that_would_grow_too_long(location, alice):
    with pytest.raises(ValidationError) as error:
        services.qr_codes_bulk_create(location=location, actor=alice, count=100, description="x" * 33)
    assert "Vipps allows 36" in str(error.value) and not QrCode.objects.exists()


def test_an_edit_bumps_the_version_and_waits_for_vipps_again(location, alice):
    code = services.qr_code_create(location=location, actor=alice, location_description="A")
    QrCode.objects.filter(pk=code.pk).update(sync_state=QrCode.SyncState.SYNCED)
    code.refresh_from_db()
    services.qr_code_update(qr_code=code, actor=alice, location_description="B", category="VENDING")
    assert (code.version, code.sync_state, code.category) == (2, QrCode.SyncState.PENDING, "VENDING")


def test_moving_a_code_to_another_location_stays_local(location, alice):
    code = services.qr_code_create(location=location, actor=alice, location_description="A")
    QrCode.objects.filter(pk=code.pk).update(sync_state=QrCode.SyncState.SYNCED)
    code.refresh_from_db()
    other = Location.objects.create(sales_unit=location.sales_unit, name="Lager")
    services.qr_code_update(qr_code=code, actor=alice, location_description="A", category="IN_STORE", location=other)
    assert (code.location, code.version, code.sync_state) == (other, 1, QrCode.SyncState.SYNCED)
    foreign = Location.objects.create(sales_unit=SalesUnitFactory(merchant=location.sales_unit.merchant), name="X")
    with pytest.raises(ValidationError, match="same sales unit"):
        services.qr_code_update(
            qr_code=code, actor=alice, location_description="A", category="IN_STORE", location=foreign
        )


def test_a_beacon_id_must_look_like_one(location, alice):
    with pytest.raises(ValidationError):
        services.qr_code_map_beacon(location=location, actor=alice, beacon_id="not-a-beacon", location_description="X")
