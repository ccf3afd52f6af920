"""PDF sheets: every printed code scans and matches its qrContent in every layout and language; texts, no network."""

import socket
import subprocess

import pytest
import zxingcpp
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image

from qrcodes import pdf, selectors, services
from qrcodes.models import QrCode, QrSheet

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline_retries")]


def decode_pdf(document: bytes, tmp_path, dpi: int = 150) -> list[list[str]]:
    """Rasterise each page with pdftoppm and decode every QR code on it (zxing-cpp).

    zxing-cpp now and then also reports a tiny phantom code (seen once: the text "3") assembled from modules of
    neighbouring codes; only decodes that are URLs, as every qrContent is, count as codes on the sheet."""
    (tmp_path / "sheet.pdf").write_bytes(document)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(tmp_path / "sheet.pdf"), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    return [
        [
            r.text
            for r in zxingcpp.read_barcodes(Image.open(page), formats=zxingcpp.BarcodeFormat.QRCode)
            if r.text.startswith(("https://", "http://"))
        ]
        for page in pages
    ]


def pdf_text(document: bytes, tmp_path) -> str:
    (tmp_path / "text.pdf").write_bytes(document)
    return subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "text.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def fleet(run_tasks, location, alice, at_vipps):
    codes = run_tasks(
        services.qr_codes_bulk_create,
        location=location,
        actor=alice,
        count=14,
        description="Automat",
        category="VENDING",
    )
    return QrCode.objects.filter(pk__in=[c.pk for c in codes]).order_by("merchant_qr_id")


def sheet_cells(codes) -> list[pdf.SheetCell]:
    images = selectors.svg_images_for(QrCode.objects.filter(pk__in=[c.pk for c in codes]))
    return [
        pdf.SheetCell(bytes(images[c.pk].content), "image/svg+xml", c.location_description, c.merchant_qr_id, "223344")
        for c in codes
    ]


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
def test_every_code_of_every_layout_scans_as_its_qr_content_in_every_language(language, fleet, tmp_path):
    """A page and one code more of each layout (labels: one full page), so every position of a page is printed and
    read back. In nb, da and fi a localised length ("left: 67,5mm") once put every code of a page on the first."""
    codes = list(fleet)
    with translation.override(language):
        scan_line = gettext("Scan with Vipps or MobilePay")
        for key, layout in pdf.LAYOUTS.items():
            printed = codes[: layout.per_page + 1]
            document = pdf.render_sheet(sheet_cells(printed), layout)
            folder = tmp_path / key
            folder.mkdir()
            decoded = decode_pdf(document, folder)
            expected = [code.qr_content for code in printed]
            pages = [expected[n : n + layout.per_page] for n in range(0, len(expected), layout.per_page)]
            assert [sorted(found) for found in decoded] == [sorted(page) for page in pages], (key, language)
            assert pdf_text(document, folder).count(scan_line) == len(printed), (key, language)
    assert all(content.startswith("https://qr.vipps.no/") for content in expected)


def test_a_sheet_asked_for_in_norwegian_prints_every_code_where_it_belongs(fleet, location, alice, tmp_path):
    with translation.override("nb"):
        sheet = services.qr_sheet_request(
            sales_unit=location.sales_unit, location=location, layout="labels", actor=alice
        )
    assert sheet.state == QrSheet.State.DONE and sheet.code_count == 14
    [found] = decode_pdf(bytes(sheet.pdf), tmp_path)
    assert sorted(found) == sorted(code.qr_content for code in fleet)
    assert pdf_text(bytes(sheet.pdf), tmp_path).count("Skann med Vipps eller MobilePay") == 14


def test_each_code_carries_its_description_id_msn_and_the_scan_line(fleet, location, alice, tmp_path):
    sheet = services.qr_sheet_request(sales_unit=location.sales_unit, location=location, layout="12", actor=alice)
    text = pdf_text(bytes(sheet.pdf), tmp_path)
    for code in fleet:
        assert code.location_description in text and code.merchant_qr_id in text
    assert text.count("MSN 223344") == 14 and text.count("Scan with Vipps or MobilePay") == 14
    assert sheet.filename.startswith("qr-codes_msn-223344_kiosk-torget_") and sheet.filename.endswith(".pdf")


def test_codes_are_printed_at_least_3_cm_wide_in_every_layout():
    for layout in pdf.LAYOUTS.values():
        assert layout.image >= 30
        assert layout.image + layout.image_top <= layout.cell_height
        for x, y in layout.positions():
            assert 0 < x < x + layout.cell_width < pdf.A4_WIDTH and 0 < y < y + layout.cell_height < pdf.A4_HEIGHT


def test_cut_marks_sit_on_the_cell_edges_outside_the_cells():
    layout = pdf.LAYOUTS["12"]
    svg = layout.cut_marks_svg().decode()
    x, y = layout.positions()[0]
    assert f"M{x - 4:.2f} {y:.2f}h3" in svg and f"M{x:.2f} {y - 4:.2f}v3" in svg
    assert svg.count("h3") == svg.count("v3") == 4 * layout.per_page
    assert not pdf.LAYOUTS["labels"].cut_marks


def test_the_renderer_never_fetches_over_the_network_and_fails_rather_than_print_a_blank():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        f'<image href="http://127.0.0.1:{port}/logo.png" width="10" height="10"/></svg>'
    ).encode()
    cell = pdf.SheetCell(svg, "image/svg+xml", "Kiosk", "kiosk-001", "223344")
    with pytest.raises(pdf.SheetError):
        pdf.render_sheet([cell], pdf.LAYOUTS["12"])
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody called
    listener.close()
    fetcher = pdf.offline_fetcher([cell], pdf.LAYOUTS["12"])
    for url in ("https://qr.vipps.no/x.svg", "file:///etc/passwd", f"http://127.0.0.1:{port}/"):
        with pytest.raises(ValueError, match="does not fetch"):
            fetcher.fetch(url)


def test_an_image_embedded_in_the_official_svg_is_drawn():
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        f'<image href="data:image/png;base64,{pixel}" width="10" height="10"/></svg>'
    ).encode()
    cell = pdf.SheetCell(svg, "image/svg+xml", "Kiosk", "kiosk-001", "223344")
    assert pdf.render_sheet([cell], pdf.LAYOUTS["12"]).startswith(b"%PDF")


def test_small_sheets_from_cached_images_make_no_call_to_vipps(fleet, location, alice, sandbox):
    sandbox.faults.fail(503)  # Vipps down: the sheet comes from the cache
    sheet = services.qr_sheet_request(sales_unit=location.sales_unit, location=None, layout="12", actor=alice)
    assert sheet.state == QrSheet.State.DONE and bytes(sheet.pdf).startswith(b"%PDF")


def test_a_large_sheet_is_rendered_by_the_pdf_task_with_progress(
    fleet, location, alice, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.QR_SHEET_INLINE_MAX_CODES = 5
    seen = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sheet = services.qr_sheet_request(sales_unit=location.sales_unit, location=location, layout="1", actor=alice)
    assert sheet.state == QrSheet.State.QUEUED and len(callbacks) == 1

    original = services.pdf.render_sheet

    def recording(cells, layout, **kwargs):
        report = kwargs["on_progress"]

        def on_progress(percent):
            report(percent)
            seen.append(QrSheet.objects.get(pk=sheet.pk).progress)

        return original(cells, layout, **{**kwargs, "on_progress": on_progress})

    monkeypatch.setattr(services.pdf, "render_sheet", recording)
    callbacks[0]()
    sheet.refresh_from_db()
    assert sheet.state == QrSheet.State.DONE and sheet.progress == 100 and bytes(sheet.pdf).startswith(b"%PDF")
    assert seen == sorted(seen) and seen[0] >= 35 and 90 <= seen[-1] <= 99 and len(set(seen)) > 5


def test_the_render_task_is_routed_to_the_pdf_queue():
    from merchant_portal.celery import app

    route = app.amqp.router.route({}, "qrcodes.tasks.render_qr_sheet")
    assert route["queue"].name == "pdf"


def test_images_missing_from_the_cache_are_fetched_through_get_before_rendering(fleet, location, alice, run_tasks):
    fleet.first().images.all().delete()
    sheet = run_tasks(
        services.qr_sheet_request, sales_unit=location.sales_unit, location=location, layout="12", actor=alice
    )
    sheet.refresh_from_db()
    assert sheet.state == QrSheet.State.DONE and sheet.code_count == 14
    assert fleet.first().images.filter(format="SVG").exists()


def test_pending_failed_and_missing_codes_are_left_off(fleet, location, alice):
    first, second, third = fleet[:3]
    QrCode.objects.filter(pk=first.pk).update(sync_state=QrCode.SyncState.PENDING)
    QrCode.objects.filter(pk=second.pk).update(sync_state=QrCode.SyncState.FAILED)
    QrCode.objects.filter(pk=third.pk).update(missing_at_vipps=True)
    sheet = services.qr_sheet_request(sales_unit=location.sales_unit, location=location, layout="12", actor=alice)
    assert sheet.code_count == 11


def test_old_sheets_are_purged(fleet, location, alice):
    from datetime import timedelta

    from django.utils import timezone

    sheet = services.qr_sheet_request(sales_unit=location.sales_unit, location=location, layout="12", actor=alice)
    QrSheet.objects.filter(pk=sheet.pk).update(created_at=timezone.now() - timedelta(hours=25))
    services.qr_sheet_request(sales_unit=location.sales_unit, location=location, layout="12", actor=alice)
    assert services.qr_sheets_purge(older_than=timedelta(hours=24)) == 1 and QrSheet.objects.count() == 1


def test_a_sheet_asked_for_by_an_api_key_is_audited_as_the_key(fleet, location, sandbox):
    from merchant_portal.audit.models import AuditEntry

    class Key:
        audit_label = "API key Till vendor (vmp_1234abcd)"

    sheet = services.qr_sheet_request(sales_unit=location.sales_unit, location=location, layout="12", actor=Key())
    assert sheet.created_by is None
    assert AuditEntry.objects.get(action="qr_sheet.requested").actor_label == Key.audit_label
