"""One QR code the portal cannot sync (here: its sales unit's keys were encrypted with a key that was later lost)
delays only itself: it is recorded, backed off, quarantined after a bound, counted in /healthz, and synced by
Retry now once the cause is fixed. Other merchants' codes are synced in the same beat run all along."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from merchant_portal.audit.models import AuditEntry
from merchant_portal.core.health import check_quarantine
from merchant_portal.tenancy.models import SalesUnit
from qrcodes import selectors, services, tasks
from qrcodes.models import Location, QrCode, Reconciliation
from tests.conftest import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline_retries")]


def lose_encryption_key(settings, sales_unit: SalesUnit) -> str:
    """Store the sales unit's keys encrypted with a key the portal then no longer has (a botched rotation)."""
    current, lost = list(settings.FIELD_ENCRYPTION_KEYS), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [lost]
    SalesUnit.objects.filter(pk=sales_unit.pk).update(client_secret=sales_unit.client_secret)
    settings.FIELD_ENCRYPTION_KEYS = current
    return lost


@pytest.fixture
def other_location(other_unit):
    return Location.objects.create(sales_unit=other_unit, name="Bryggen")


def test_a_poison_code_is_quarantined_while_another_merchants_codes_sync(
    location,
    other_location,
    other_unit,
    alice,
    charlie,
    at_vipps,
    sandbox,
    settings,
    clock,
    django_capture_on_commit_callbacks,
):
    # Saved here, their first sync message lost: the beat job finds all three due, the poison in the middle.
    good1 = services.qr_code_create(location=location, actor=alice, location_description="Kiosk 1")
    poison = services.qr_code_create(location=other_location, actor=charlie, location_description="Bryggen")
    good2 = services.qr_code_create(location=location, actor=alice, location_description="Kiosk 2")
    for seconds, code in zip((3, 2, 1), (good1, poison, good2), strict=True):
        QrCode.objects.filter(pk=code.pk).update(next_sync_at=clock() - timedelta(seconds=seconds))
    lost = lose_encryption_key(settings, other_unit)

    tasks.sync_due_qr_codes.delay()

    for code in (good1, good2):
        code.refresh_from_db()
        assert code.sync_state == QrCode.SyncState.SYNCED and code.merchant_qr_id in at_vipps.codes()
    poison.refresh_from_db()
    assert poison.sync_state == QrCode.SyncState.FAILED and poison.sync_attempts == 1
    assert poison.sync_error == "The portal failed on this code (ImproperlyConfigured); the details are in its log."
    assert poison.next_sync_at == clock() + timedelta(minutes=2) and poison.quarantined_at is None

    # Backed off exponentially; each run also syncs a new code of acme at once.
    for attempt in range(2, services.QUARANTINE_AFTER + 1):
        clock.at = poison.next_sync_at
        fresh = services.qr_code_create(location=location, actor=alice, location_description=f"Kiosk {attempt + 1}")
        QrCode.objects.filter(pk=fresh.pk).update(next_sync_at=clock())
        tasks.sync_due_qr_codes.delay()
        fresh.refresh_from_db()
        poison.refresh_from_db()
        assert fresh.sync_state == QrCode.SyncState.SYNCED
        assert poison.sync_attempts == attempt
        if attempt < services.QUARANTINE_AFTER:
            assert poison.next_sync_at == clock() + timedelta(minutes=2**attempt)

    assert poison.quarantined_at == clock() and poison.next_sync_at is None
    assert poison.sync_state == QrCode.SyncState.FAILED and "ImproperlyConfigured" in poison.sync_error
    clock.at += timedelta(days=2)
    assert services.qr_codes_claim_due() == []
    assert selectors.qr_codes_quarantined_count() == 1
    health = check_quarantine()
    assert health.warning and health.counts["qr_codes"] == 1
    assert AuditEntry.objects.filter(merchant=other_unit.merchant, action="qr_code.sync_quarantined").count() == 1

    # The operator puts the lost key back (README, key rotation); the row stays quarantined until Retry now.
    settings.FIELD_ENCRYPTION_KEYS = [*settings.FIELD_ENCRYPTION_KEYS, lost]
    sandbox.register_merchant(
        msn=other_unit.msn,
        client_id=other_unit.client_id,
        client_secret=other_unit.client_secret,
        subscription_key=other_unit.subscription_key,
        currency=other_unit.currency,
    )
    client = client_for(charlie)
    page = client.get(reverse("qr_code_detail", args=["other", poison.pk])).content.decode()
    assert f'data-state="quarantined" data-testid="sync-state-{poison.merchant_qr_id}">Quarantined<' in page
    assert "(ImproperlyConfigured)" in page and "stopped trying after 5 failed attempts" in page
    assert "Retry now" in page
    listing = client.get(reverse("location_detail", args=["other", other_location.pk])).content.decode()
    assert ">Quarantined<" in listing and "hx-trigger" not in listing  # nothing to wait for: no polling

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("qr_code_retry", args=["other", poison.pk]))
    assert response.status_code == 302
    poison.refresh_from_db()
    assert poison.sync_state == QrCode.SyncState.SYNCED and poison.quarantined_at is None
    assert poison.sync_attempts == 0 and poison.sync_error == ""
    assert poison.merchant_qr_id in {
        qr.merchant_qr_id for qr in sandbox.state.list_callback_qrs(sandbox.state.merchant(other_unit.msn))
    }
    assert selectors.qr_codes_quarantined_count() == 0


def test_a_delete_that_keeps_failing_inside_the_portal_is_quarantined_and_resumed_by_retry(
    run_tasks, location, alice, at_vipps, clock, monkeypatch
):
    code = run_tasks(services.qr_code_create, location=location, actor=alice, location_description="Kiosk")
    real_push = services.qr_code_push

    def broken(*, qr_code):
        raise ValueError("a bug")

    monkeypatch.setattr(services, "qr_code_push", broken)
    run_tasks(services.qr_code_delete, qr_code=QrCode.objects.get(pk=code.pk), actor=alice)
    for _ in range(services.QUARANTINE_AFTER - 1):
        code.refresh_from_db()
        clock.at = code.next_sync_at
        tasks.sync_due_qr_codes.delay()
    code.refresh_from_db()
    assert code.quarantined_at == clock() and code.sync_attempts == services.QUARANTINE_AFTER
    assert code.sync_state == QrCode.SyncState.DELETING  # what was asked is kept
    assert not selectors.qr_codes_awaiting_vipps(QrCode.objects.filter(pk=code.pk))
    tasks.sync_qr_code.delay(code.pk)  # a stray copy of an old message does nothing
    code.refresh_from_db()
    assert code.sync_attempts == services.QUARANTINE_AFTER

    monkeypatch.setattr(services, "qr_code_push", real_push)
    run_tasks(services.qr_code_retry, qr_code=code, actor=alice)
    assert not QrCode.objects.filter(pk=code.pk).exists() and code.merchant_qr_id not in at_vipps.codes()


def test_vipps_outages_are_not_poison_and_are_never_quarantined(run_tasks, location, alice, sandbox, at_vipps, clock):
    sandbox.faults.fail(503, operation="qr_put")
    code = run_tasks(services.qr_code_create, location=location, actor=alice, location_description="Kiosk")
    for _ in range(services.QUARANTINE_AFTER + 3):
        code.refresh_from_db()
        clock.at = code.next_sync_at
        tasks.sync_due_qr_codes.delay()
    code.refresh_from_db()
    assert code.quarantined_at is None and code.next_sync_at is not None
    assert code.next_sync_at - clock() == services.MAX_RETRY_DELAY


def test_a_reconcile_that_fails_inside_the_portal_is_recorded_and_does_not_stop_the_others(
    sandbox_unit, other_unit, settings, sandbox
):
    lose_encryption_key(settings, other_unit)
    tasks.reconcile_all_sales_units.delay()
    runs = {run.sales_unit_id: run for run in Reconciliation.objects.all()}
    assert runs[sandbox_unit.pk].state == Reconciliation.State.DONE
    failed = runs[other_unit.pk]
    assert failed.state == Reconciliation.State.FAILED and "(ImproperlyConfigured)" in failed.error
