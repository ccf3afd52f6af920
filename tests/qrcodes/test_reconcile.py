"""Reconcile with Vipps: import, missing, differences; on demand (task) and periodic."""

import pytest

from qrcodes import services, tasks
from qrcodes.models import Location, QrCode, Reconciliation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline_retries")]


@pytest.fixture
def synced(run_tasks, location, alice, at_vipps):
    codes = run_tasks(services.qr_codes_bulk_create, location=location, actor=alice, count=3, description="Kasse")
    return {code.merchant_qr_id: code for code in codes}


def reconcile(run_tasks, unit, alice) -> Reconciliation:
    run = run_tasks(services.reconciliation_start, sales_unit=unit, actor=alice)
    run.refresh_from_db()
    return run


def test_codes_only_at_vipps_are_imported_with_their_images(run_tasks, synced, sandbox_unit, alice, at_vipps):
    at_vipps.put("made-elsewhere", "Laget i annet system", category="VENDING")
    run = reconcile(run_tasks, sandbox_unit, alice)
    assert (run.state, run.imported, run.missing, run.differing) == ("done", 1, 0, 0)
    code = QrCode.objects.get(merchant_qr_id="made-elsewhere")
    assert code.imported and code.sync_state == QrCode.SyncState.SYNCED
    assert code.location.name == "Imported from Vipps" and code.location.sales_unit == sandbox_unit
    assert code.location_description == "Laget i annet system"
    assert code.qr_content == at_vipps.codes()["made-elsewhere"].qr_content
    assert {image.format for image in code.images.all()} == {"SVG", "PNG"}
    assert reconcile(run_tasks, sandbox_unit, alice).imported == 0  # once only


def test_codes_vipps_lost_are_flagged_and_can_be_made_again(run_tasks, synced, sandbox_unit, alice, at_vipps):
    at_vipps.delete("kiosk-torget-002")
    run = reconcile(run_tasks, sandbox_unit, alice)
    assert (run.missing, run.imported) == (1, 0)
    lost = QrCode.objects.get(merchant_qr_id="kiosk-torget-002")
    old_content = lost.qr_content
    assert lost.missing_at_vipps
    assert not QrCode.objects.get(merchant_qr_id="kiosk-torget-001").missing_at_vipps

    run_tasks(services.qr_code_retry, qr_code=lost, actor=alice)
    lost.refresh_from_db()
    assert not lost.missing_at_vipps and lost.sync_state == QrCode.SyncState.SYNCED
    assert lost.qr_content != old_content  # a new code: its new image is cached
    assert lost.images.get(format="SVG").qr_content == lost.qr_content


def test_pending_codes_are_not_called_missing(run_tasks, location, alice, sandbox_unit, at_vipps):
    services.qr_code_create(location=location, actor=alice, location_description="Not sent yet")
    run = reconcile(run_tasks, sandbox_unit, alice)
    assert run.missing == 0 and not QrCode.objects.filter(missing_at_vipps=True).exists()


def test_differences_are_shown_and_either_side_can_win(run_tasks, synced, sandbox_unit, alice, at_vipps):
    at_vipps.put("kiosk-torget-001", "Endret hos Vipps")
    run = reconcile(run_tasks, sandbox_unit, alice)
    assert run.differing == 1
    code = QrCode.objects.get(merchant_qr_id="kiosk-torget-001")
    assert code.differences == [("Location description", "Kasse 1", "Endret hos Vipps")]

    run_tasks(services.qr_code_retry, qr_code=code, actor=alice)  # send ours
    assert at_vipps.codes()["kiosk-torget-001"].location_description == "Kasse 1"
    code.refresh_from_db()
    assert code.differences == []

    at_vipps.put("kiosk-torget-001", "Vipps vinner")
    reconcile(run_tasks, sandbox_unit, alice)
    code.refresh_from_db()
    run_tasks(services.qr_code_accept_remote, qr_code=code, actor=alice)  # keep theirs
    code.refresh_from_db()
    assert code.location_description == "Vipps vinner" and code.differences == []


def test_a_category_difference_is_shown_when_vipps_reports_the_category(location):
    code = QrCode(location=location, sales_unit=location.sales_unit, location_description="A", category="IN_STORE")
    code.sync_state, code.remote_description, code.remote_category = QrCode.SyncState.SYNCED, "A", "VENDING"
    assert code.differences == [("Category", "IN_STORE", "VENDING")]


def test_a_changed_image_link_seen_by_reconcile_is_fetched_again(
    run_tasks, synced, sandbox, sandbox_unit, alice, at_vipps
):
    code = synced["kiosk-torget-003"]
    old = code.images.get(format="SVG").url
    sandbox.state.rotate_image_url(at_vipps.merchant, code.merchant_qr_id)
    reconcile(run_tasks, sandbox_unit, alice)
    assert code.images.get(format="SVG").url != old


def test_vipps_down_marks_the_run_failed_and_changes_nothing(run_tasks, synced, sandbox, sandbox_unit, alice):
    sandbox.faults.fail(503, operation="qr_list")
    run = reconcile(run_tasks, sandbox_unit, alice)
    assert run.state == "failed" and "503" in run.error
    assert not QrCode.objects.filter(missing_at_vipps=True).exists()


def test_the_periodic_job_reconciles_every_sales_unit_of_this_environment(
    synced, sandbox_unit, at_vipps, django_capture_on_commit_callbacks
):
    at_vipps.put("from-the-app", "Fra appen")
    tasks.reconcile_all_sales_units.delay()
    run = Reconciliation.objects.get(sales_unit=sandbox_unit)
    assert run.state == "done" and run.imported == 1
    assert Location.objects.filter(name="Imported from Vipps").count() == 1


def test_the_report_lists_differences_only_for_synced_codes(run_tasks, synced, sandbox_unit, alice, at_vipps):
    from qrcodes import selectors

    at_vipps.put("kiosk-torget-001", "Endret hos Vipps")
    reconcile(run_tasks, sandbox_unit, alice)
    flagged = selectors.qr_codes_needing_attention(sales_unit=sandbox_unit)
    assert [c.merchant_qr_id for c in flagged] == ["kiosk-torget-001"]
    code = QrCode.objects.get(merchant_qr_id="kiosk-torget-001")
    services.qr_code_update(qr_code=code, actor=alice, location_description="Ny tekst", category="IN_STORE")
    assert not selectors.qr_codes_needing_attention(sales_unit=sandbox_unit).exists()  # on its way to Vipps
