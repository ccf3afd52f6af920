"""URL kwargs for the locations and QR code views, built from objects of one merchant (see tests/scoping.py)."""

from qrcodes.models import Location, QrCode, QrImage, QrSheet
from tests.factories import SalesUnitFactory

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def url_kwargs(merchant) -> dict[str, dict]:
    unit = merchant.sales_units.first() or SalesUnitFactory(merchant=merchant)
    location = Location.objects.create(sales_unit=unit, name=f"{merchant.slug} shop")
    code = QrCode.objects.create(
        sales_unit=unit,
        location=location,
        merchant_qr_id=f"{merchant.slug}-shop-001",
        location_description="Shop",
        sync_state=QrCode.SyncState.SYNCED,
        qr_content=f"https://qr.vipps.no/28/2/05/031/c-{merchant.slug}",
    )
    QrImage.objects.create(
        qr_code=code, format=QrImage.Format.PNG, url="https://qr.example/x.png", content=PNG_SIGNATURE, qr_content=""
    )
    sheet = QrSheet.objects.create(
        sales_unit=unit, location=location, state=QrSheet.State.DONE, pdf=b"%PDF-1.7\n", filename="sheet.pdf"
    )
    by_location, by_code, by_unit = {"pk": location.pk}, {"pk": code.pk}, {"pk": unit.pk}
    return {
        "location_list": {},
        "location_create": {},
        "location_detail": by_location,
        "location_update": by_location,
        "location_delete": by_location,
        "qr_code_create": by_location,
        "qr_code_bulk_create": by_location,
        "qr_code_map_beacon": by_location,
        "qr_sheet_for_location": by_location,
        "qr_code_detail": by_code,
        "qr_code_update": by_code,
        "qr_code_delete": by_code,
        "qr_code_retry": by_code,
        "qr_code_accept_remote": by_code,
        "qr_code_image": by_code,
        "qr_sheet_for_sales_unit": by_unit,
        "qr_reconcile": by_unit,
        "qr_reconcile_start": by_unit,
        "qr_sheet_detail": {"pk": sheet.pk},
        "qr_sheet_download": {"pk": sheet.pk},
    }
