"""A store manager makes QR codes, watches them reach Vipps (the sandbox) and downloads a printable PDF."""

import subprocess

import pytest
import zxingcpp
from PIL import Image

from merchant_portal.tenancy.roles import Role
from qrcodes import services
from qrcodes.models import QrCode, QrSheet
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(page, live_server, acme, role=Role.MANAGER):
    user = UserFactory(username="mona")
    MembershipFactory(user=user, merchant=acme, role=role)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("mona")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("current-merchant").wait_for()
    return user


def test_create_codes_see_them_synced_and_download_the_pdf(
    live_server, page, shot, acme, sandbox, sandbox_unit, tmp_path
):
    log_in(page, live_server, acme)
    page.get_by_role("link", name="Locations & QR codes").click()
    page.get_by_role("button", name="Add location").click()
    page.get_by_label("Name").fill("Kiosk Torget")
    page.get_by_label("Address").fill("Torget 1, Oslo")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Kiosk Torget").wait_for()

    # Vipps refuses the first attempt: the page says so and offers a retry; nothing typed is lost.
    sandbox.faults.fail(400, operation="qr_put", times=1)
    page.get_by_role("button", name="New QR code").click()
    description = page.get_by_label("Location description")
    assert description.get_attribute("maxlength") == "36"
    assert page.get_by_label("Merchant QR id").input_value() == "kiosk-torget-001"
    description.fill("Kiosken ved inngangen")
    page.get_by_label("Category").select_option("VENDING")
    shot("new-code-form")
    page.get_by_role("button", name="Save").click()
    state = page.get_by_test_id("sync-state-kiosk-torget-001")
    assert state.inner_text() == "Failed"
    assert "Vipps answered HTTP 400" in page.locator(".sync-error").inner_text()
    shot("sync-failed")
    page.get_by_role("button", name="Retry now").click()
    page.get_by_test_id("sync-state-kiosk-torget-001").filter(has_text="Synced").wait_for()

    page.get_by_role("button", name="Create several").click()
    page.get_by_label("Number of codes").fill("13")
    page.get_by_label("Location description").fill("Automat")
    page.get_by_role("button", name="Create").click()
    page.get_by_test_id("sync-state-kiosk-torget-014").filter(has_text="Synced").wait_for()
    assert page.locator("img.qr-thumb").count() == 14
    page.wait_for_function(
        "[...document.querySelectorAll('img.qr-thumb')].every(img => img.complete && img.naturalWidth > 0)"
    )
    shot("location-synced")
    remote = {qr.merchant_qr_id: qr for qr in sandbox.state.list_callback_qrs()}
    assert remote["kiosk-torget-001"].location_description == "Kiosken ved inngangen"
    assert remote["kiosk-torget-001"].category == "VENDING" and len(remote) == 14

    page.get_by_role("button", name="Print (PDF)").click()
    assert page.get_by_test_id("sheet-code-count").inner_text() == "14"
    page.get_by_label("A4, 12 per page").check()
    shot("sheet-form")
    with page.expect_download() as download:
        page.get_by_role("button", name="Make PDF").click()
    assert download.value.suggested_filename.startswith("qr-codes_msn-223344_kiosk-torget_")
    path = tmp_path / "sheet.pdf"
    download.value.save_as(path)
    first_page = rasterise_first_page(path, tmp_path)
    decoded = {r.text for r in zxingcpp.read_barcodes(Image.open(first_page))}
    assert decoded == set(QrCode.objects.order_by("merchant_qr_id").values_list("qr_content", flat=True)[:12])
    page.goto(f"file://{first_page}")
    shot("pdf-page-1")


def rasterise_first_page(pdf_path, folder):
    subprocess.run(
        ["pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-png", str(pdf_path), str(folder / "p")], check=True
    )
    return next(folder.glob("p-*.png"))


def test_a_large_sheet_shows_its_progress_then_the_download_link(
    live_server, page, shot, acme, alice, sandbox, sandbox_unit, django_capture_on_commit_callbacks
):
    location = services.location_create(sales_unit=sandbox_unit, actor=alice, name="Automater Storgata")
    codes = services.qr_codes_bulk_create(location=location, actor=alice, count=3, description="Automat")
    for code in codes:
        services.qr_code_push(qr_code=code)
    sheet = QrSheet.objects.create(
        sales_unit=sandbox_unit,
        location=location,
        layout="labels",
        state=QrSheet.State.RENDERING,
        progress=40,
        code_count=3,
        filename="qr-codes_msn-223344_automater-storgata_2026-11-22.pdf",
    )
    log_in(page, live_server, acme, role=Role.VIEWER)
    page.goto(f"{live_server.url}/m/acme/qr-sheets/{sheet.pk}/")
    assert page.locator("progress").get_attribute("value") == "40"
    assert "Rendering… 40%" in page.get_by_test_id("sheet-state").inner_text()
    shot("sheet-progress")

    services.qr_sheet_render(sheet=QrSheet.objects.get(pk=sheet.pk))  # the PDF worker finishes
    link = page.get_by_role("button", name="Download qr-codes_msn-223344_automater-storgata_2026-11-22.pdf")
    link.wait_for()  # htmx polled the status
    shot("sheet-ready")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "qr-codes_msn-223344_automater-storgata_2026-11-22.pdf"
