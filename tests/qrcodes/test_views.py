"""The pages: forms say Vipps' limits first, sync state is shown and polled, sheets stream or show progress."""

import pytest
from django.urls import reverse

from merchant_portal.tenancy.roles import Role
from qrcodes import services
from qrcodes.models import Location, QrCode, QrSheet, Reconciliation
from tests.conftest import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline_retries")]


def url(name, **kwargs):
    return reverse(name, kwargs={"merchant_slug": "acme", **kwargs})


@pytest.fixture
def manager(make_member):
    return client_for(make_member(Role.MANAGER))


def test_a_manager_adds_a_location_to_one_of_the_merchants_sales_units(manager, acme_unit, other_unit):
    page = manager.get(url("location_create"))
    assert list(page.context["form"].fields["sales_unit"].queryset) == [acme_unit]
    response = manager.post(url("location_create"), {"sales_unit": acme_unit.pk, "name": "Kiosk Torget", "address": ""})
    location = Location.objects.get()
    assert response.status_code == 302 and response.url == url("location_detail", pk=location.pk)
    refused = manager.post(url("location_create"), {"sales_unit": other_unit.pk, "name": "Sneaky"})
    assert refused.status_code == 200 and Location.objects.count() == 1


def test_the_form_states_the_36_character_limit_and_keeps_what_was_typed(manager, location):
    page = manager.get(url("qr_code_create", pk=location.pk)).content.decode()
    assert "At most 36 characters" in page and 'maxlength="36"' in page and "kiosk-torget-001" in page
    typed = "Kiosken ved hovedinngangen på Torget 1"  # 38 characters
    response = manager.post(
        url("qr_code_create", pk=location.pk), {"location_description": typed, "category": "IN_STORE"}
    )
    assert response.status_code == 200 and not QrCode.objects.exists()
    assert "at most 36 characters" in response.content.decode() and typed in response.content.decode()


def test_creating_a_code_shows_it_synced_with_its_image(
    manager, location, at_vipps, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            url("qr_code_create", pk=location.pk),
            {"location_description": "Kiosk", "category": "VENDING", "merchant_qr_id": "torget-kiosk-1"},
        )
    assert response.status_code == 302
    code = QrCode.objects.get()
    page = manager.get(url("location_detail", pk=location.pk)).content.decode()
    assert 'data-testid="sync-state-torget-kiosk-1">Synced<' in page and "hx-trigger" not in page
    image = manager.get(url("qr_code_image", pk=code.pk))
    assert image["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")
    detail = manager.get(url("qr_code_detail", pk=code.pk)).content.decode()
    assert code.qr_content in detail


def test_a_pending_code_makes_the_table_poll_until_vipps_confirms(manager, location, alice):
    services.qr_code_create(location=location, actor=alice, location_description="Kiosk")
    page = manager.get(url("location_detail", pk=location.pk)).content.decode()
    assert 'hx-trigger="every 1s"' in page and ">Pending<" in page
    partial = manager.get(url("location_detail", pk=location.pk), HTTP_HX_REQUEST="true").content.decode()
    assert partial.strip().startswith('<div id="qr-codes"') and "<html" not in partial


def test_a_failed_sync_shows_vipps_error_and_a_retry_button(
    manager, location, alice, sandbox, sandbox_unit, django_capture_on_commit_callbacks
):
    sandbox.faults.fail(400, operation="qr_put", times=1)
    with django_capture_on_commit_callbacks(execute=True):
        code = services.qr_code_create(location=location, actor=alice, location_description="Kiosk")
    page = manager.get(url("location_detail", pk=location.pk)).content.decode()
    assert ">Failed<" in page and "Vipps answered HTTP 400" in page and "Retry now" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(url("qr_code_retry", pk=code.pk), {"next": url("location_detail", pk=location.pk)})
    assert response.url == url("location_detail", pk=location.pk)
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.SYNCED


def test_retry_does_not_redirect_off_site(manager, location, alice):
    code = services.qr_code_create(location=location, actor=alice, location_description="Kiosk")
    response = manager.post(url("qr_code_retry", pk=code.pk), {"next": "https://evil.example/"})
    assert response.url == url("qr_code_detail", pk=code.pk)


def test_a_viewer_sees_codes_but_no_change_buttons(make_member, location, alice):
    services.qr_code_create(location=location, actor=alice, location_description="Kiosk")
    page = client_for(make_member(Role.VIEWER)).get(url("location_detail", pk=location.pk)).content.decode()
    assert "kiosk-torget-001" in page and "New QR code" not in page and "Print (PDF)" in page


def test_bulk_create_and_the_beacon_form(manager, location):
    response = manager.post(
        url("qr_code_bulk_create", pk=location.pk), {"count": 5, "description": "Automat", "category": "VENDING"}
    )
    assert response.status_code == 302 and QrCode.objects.count() == 5
    bad = manager.post(url("qr_code_map_beacon", pk=location.pk), {"beacon_id": "12345", "location_description": "X"})
    assert "GUID" in bad.content.decode() and QrCode.objects.count() == 5
    ok = manager.post(
        url("qr_code_map_beacon", pk=location.pk), {"beacon_id": "123456789012345", "location_description": "X"}
    )
    assert ok.status_code == 302 and QrCode.objects.get(kind="mobilepay").merchant_qr_id == "123456789012345"


def test_delete_asks_first_then_marks_the_code_deleting(manager, location, alice):
    code = services.qr_code_create(location=location, actor=alice, location_description="Kiosk")
    assert "cannot be undone" in manager.get(url("qr_code_delete", pk=code.pk)).content.decode()
    manager.post(url("qr_code_delete", pk=code.pk))
    code.refresh_from_db()
    assert code.sync_state == QrCode.SyncState.DELETING


def test_a_small_sheet_streams_at_once(manager, location, alice, at_vipps, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.qr_codes_bulk_create(location=location, actor=alice, count=3, description="Kasse")
    response = manager.post(url("qr_sheet_for_location", pk=location.pk), {"layout": "4"})
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert 'filename="qr-codes_msn-223344_kiosk-torget_' in response["Content-Disposition"]


def test_a_large_sheet_shows_progress_then_a_download_link(
    manager, location, alice, at_vipps, settings, django_capture_on_commit_callbacks
):
    settings.QR_SHEET_INLINE_MAX_CODES = 2
    with django_capture_on_commit_callbacks(execute=True):
        services.qr_codes_bulk_create(location=location, actor=alice, count=3, description="Kasse")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = manager.post(url("qr_sheet_for_sales_unit", pk=location.sales_unit.pk), {"layout": "12"})
    sheet = QrSheet.objects.get()
    assert response.url == url("qr_sheet_detail", pk=sheet.pk)
    waiting = manager.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "<progress" in waiting and 'hx-trigger="every 1s"' in waiting
    assert manager.get(url("qr_sheet_download", pk=sheet.pk)).status_code == 404
    queued[0]()
    done = manager.get(response.url).content.decode()
    assert "Download qr-codes_msn-223344_all-locations_" in done and "hx-trigger" not in done
    assert manager.get(url("qr_sheet_download", pk=sheet.pk)).content.startswith(b"%PDF")


def test_nothing_to_print_is_said_on_the_form(manager, location):
    response = manager.post(url("qr_sheet_for_location", pk=location.pk), {"layout": "12"})
    assert "no synced QR codes" in response.content.decode() and not QrSheet.objects.exists()


def test_reconcile_on_demand_shows_its_findings(manager, location, alice, at_vipps, django_capture_on_commit_callbacks):
    at_vipps.put("from-elsewhere", "Annet system")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(url("qr_reconcile_start", pk=location.sales_unit.pk))
    assert response.url == url("qr_reconcile", pk=location.sales_unit.pk)
    page = manager.get(response.url).content.decode()
    assert "1 imported, 0 missing at Vipps, 0 with differences" in page and "from-elsewhere" in page
    assert Reconciliation.objects.get().state == "done"
