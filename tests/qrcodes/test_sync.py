"""Local first, then Vipps: tasks with the sandbox, including faults."""

import pytest
from django.utils import timezone

from qrcodes import services, tasks
from qrcodes.models import QrCode, QrImage
from tests.factories import SalesUnitFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline_retries")]


def create(run_tasks, location, alice, **fields):
    fields.setdefault("location_description", "Kiosk Torget")
    return run_tasks(services.qr_code_create, location=location, actor=alice, **fields)


def test_a_new_code_is_synced_with_its_category_and_both_images_cached(run_tasks, location, alice, at_vipps):
    code = create(run_tasks, location, alice, category=QrCode.Category.VENDING)
    code.refresh_from_db()
    assert code.merchant_qr_id == "kiosk-torget-001"
    assert code.sync_state == QrCode.SyncState.SYNCED and code.sync_error == "" and code.next_sync_at is None
    remote = at_vipps.codes()["kiosk-torget-001"]
    assert (remote.location_description, remote.category) == ("Kiosk Torget", "VENDING")
    assert code.qr_content == remote.qr_content
    images = {image.format: image for image in code.images.all()}
    assert bytes(images["SVG"].content).lstrip().startswith(b"<?xml") and b"<svg" in bytes(images["SVG"].content)
    assert bytes(images["PNG"].content).startswith(b"\x89PNG") and "size=400" in images["PNG"].url
    assert all(image.qr_content == remote.qr_content for image in images.values())


def test_an_edit_is_sent_and_the_unchanged_image_is_not_fetched_again(
    run_tasks, location, alice, at_vipps, monkeypatch
):
    code = create(run_tasks, location, alice)
    fetched = []
    monkeypatch.setattr(services, "fetch_image", lambda url, image_format: fetched.append(url))
    run_tasks(
        services.qr_code_update,
        qr_code=QrCode.objects.get(pk=code.pk),
        actor=alice,
        location_description="Kiosk ved inngangen",
        category=QrCode.Category.IN_STORE,
    )
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.SYNCED and code.version == 2
    assert at_vipps.codes()[code.merchant_qr_id].location_description == "Kiosk ved inngangen"
    assert fetched == [] and b"<svg" in bytes(code.images.get(format="SVG").content)


def test_vipps_down_then_back_keeps_everything_typed_and_ends_synced(run_tasks, location, alice, at_vipps, sandbox):
    sandbox.faults.fail(503, operation="qr_put")
    code = create(run_tasks, location, alice, location_description="Automat ved døra", category="VENDING")
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.FAILED
    assert "503" in code.sync_error and "tries again automatically" in code.sync_error
    assert (code.location_description, code.category) == ("Automat ved døra", "VENDING")
    assert code.next_sync_at > timezone.now() and code.sync_attempts == 1
    assert at_vipps.codes() == {}

    sandbox.faults.clear()
    QrCode.objects.filter(pk=code.pk).update(next_sync_at=timezone.now())  # the retry time has come
    tasks.sync_due_qr_codes.delay()
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.SYNCED and code.sync_error == ""
    assert at_vipps.codes()[code.merchant_qr_id].location_description == "Automat ved døra"


def test_a_short_outage_is_bridged_by_the_tasks_own_retries(run_tasks, location, alice, at_vipps, sandbox):
    sandbox.faults.fail(500, operation="qr_put", times=2)
    code = create(run_tasks, location, alice)
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.SYNCED
    assert code.merchant_qr_id in at_vipps.codes()


def test_a_refusal_is_shown_and_not_retried_automatically(run_tasks, location, alice, sandbox, sandbox_unit):
    sandbox.faults.fail(400, operation="qr_put")
    code = create(run_tasks, location, alice)
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.FAILED and code.next_sync_at is None
    assert code.sync_error.startswith("Vipps answered HTTP 400")
    assert services.qr_codes_claim_due() == []


def test_retry_after_a_failure_syncs(run_tasks, location, alice, sandbox, at_vipps):
    sandbox.faults.fail(400, operation="qr_put", times=1)
    code = create(run_tasks, location, alice)
    code.refresh_from_db()
    run_tasks(services.qr_code_retry, qr_code=code, actor=alice)
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.SYNCED and code.merchant_qr_id in at_vipps.codes()


def test_a_lost_task_message_is_sent_again_by_the_beat_job(location, alice, sandbox_unit, at_vipps):
    code = services.qr_code_create(location=location, actor=alice, location_description="Kiosk")  # never enqueued
    assert code.sync_state == QrCode.SyncState.PENDING and code.next_sync_at > timezone.now()
    assert services.qr_codes_claim_due() == []
    QrCode.objects.filter(pk=code.pk).update(next_sync_at=timezone.now())
    tasks.sync_due_qr_codes.delay()
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.SYNCED


def test_a_sync_overtaken_by_an_edit_does_not_mark_the_edit_synced(location, alice, sandbox_unit, at_vipps):
    code = services.qr_code_create(location=location, actor=alice, location_description="First")
    stale = QrCode.objects.get(pk=code.pk)
    services.qr_code_update(qr_code=code, actor=alice, location_description="Second", category="IN_STORE")
    services.qr_code_push(qr_code=stale)  # the first sync finishes after the edit
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.PENDING and code.location_description == "Second"
    tasks.sync_qr_code.delay(code.pk)
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.SYNCED
    assert at_vipps.codes()[code.merchant_qr_id].location_description == "Second"


def test_delete_removes_the_code_at_vipps_then_here(run_tasks, location, alice, at_vipps, sandbox):
    code = create(run_tasks, location, alice)
    sandbox.faults.fail(503, operation="qr_delete")
    run_tasks(services.qr_code_delete, qr_code=QrCode.objects.get(pk=code.pk), actor=alice)
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.DELETING and "503" in code.sync_error
    assert code.merchant_qr_id in at_vipps.codes()
    sandbox.faults.clear()
    run_tasks(services.qr_code_retry, qr_code=code, actor=alice)
    assert not QrCode.objects.filter(pk=code.pk).exists() and not QrImage.objects.exists()
    assert at_vipps.codes() == {}


def test_deleting_a_code_vipps_already_lost_just_removes_it_here(run_tasks, location, alice, at_vipps):
    code = create(run_tasks, location, alice)
    at_vipps.delete(code.merchant_qr_id)
    run_tasks(services.qr_code_delete, qr_code=QrCode.objects.get(pk=code.pk), actor=alice)
    assert not QrCode.objects.filter(pk=code.pk).exists()


def test_a_changed_image_link_is_fetched_again(run_tasks, location, alice, at_vipps, sandbox):
    code = create(run_tasks, location, alice)
    old_url = code.images.get(format="SVG").url
    sandbox.state.rotate_image_url(at_vipps.merchant, code.merchant_qr_id)
    run_tasks(services.qr_code_retry, qr_code=QrCode.objects.get(pk=code.pk), actor=alice)
    image = code.images.get(format="SVG")
    assert image.url != old_url and b"<svg" in bytes(image.content)


def test_a_failed_image_fetch_asks_vipps_again_for_a_fresh_link(
    location, alice, sandbox_unit, at_vipps, sandbox, monkeypatch
):
    code = services.qr_code_create(location=location, actor=alice, location_description="Kiosk")
    from qrcodes import images

    real_fetch, calls = images.fetch_image, []

    def fetch_once_stale(url, image_format):
        calls.append(url)
        if len(calls) == 1:  # the link was rotated between GET and fetch
            sandbox.state.rotate_image_url(at_vipps.merchant, code.merchant_qr_id)
        return real_fetch(url, image_format)

    monkeypatch.setattr(services, "fetch_image", fetch_once_stale)
    tasks.sync_qr_code.delay(code.pk)
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.SYNCED
    assert calls[0] != calls[1] and code.images.get(format="SVG").url == calls[1]


def test_mapping_a_mobilepay_beacon_uses_the_dedicated_endpoint(run_tasks, location, alice, at_vipps):
    beacon = "7c4a8d09-ca37-4bd1-9f50-5c3b2e1f0a11"
    code = run_tasks(
        services.qr_code_map_beacon,
        location=location,
        actor=alice,
        beacon_id=beacon,
        location_description="Gammel MobilePay-kasse",
    )
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.SYNCED and code.kind == QrCode.Kind.MOBILEPAY
    remote = at_vipps.codes()[beacon]
    assert remote.kind == "mobilepay" and code.qr_content == remote.qr_content


def test_a_beacon_mapped_by_another_merchant_gives_the_409_explained(run_tasks, location, alice, at_vipps, sandbox):
    beacon = "123456789012345"
    other = SalesUnitFactory(msn="998877")
    sandbox.register_merchant(
        msn=other.msn,
        client_id=other.client_id,
        client_secret=other.client_secret,
        subscription_key=other.subscription_key,
        currency="NOK",
    )
    sandbox.state.put_mobilepay_qr(sandbox.state.merchant("998877"), beacon, {"locationDescription": "Theirs"})
    code = run_tasks(
        services.qr_code_map_beacon, location=location, actor=alice, beacon_id=beacon, location_description="Ours"
    )
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.FAILED and code.next_sync_at is None
    assert code.sync_error.startswith("Vipps refused the mapping (HTTP 409 Conflict): this beaconId is already in use")
    assert "another merchant" in code.sync_error and "support" in code.sync_error
    assert beacon not in at_vipps.codes()


def test_keys_for_another_environment_fail_with_the_reason(run_tasks, location, alice, sandbox):
    location.sales_unit.environment = "production"
    location.sales_unit.save()
    code = create(run_tasks, location, alice)
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.FAILED and "Production keys" in code.sync_error
    assert code.next_sync_at is None
