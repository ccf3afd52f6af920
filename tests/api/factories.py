"""Objects of one merchant for API tests: one of each kind the API exposes."""

import uuid
from datetime import timedelta

from django.utils import timezone

from payments.models import CheckIn, Payment
from qrcodes.models import Location, QrCode, QrSheet
from tests.factories import SalesUnitFactory


def checkin_at(location: Location, *, minutes_left: int = 15, **fields) -> CheckIn:
    now = timezone.now()
    return CheckIn.objects.create(
        sales_unit=location.sales_unit,
        location=location,
        customer_token=f"token-{uuid.uuid4().hex}",
        token_digest=uuid.uuid4().hex,
        initiated_at=now,
        expires_at=now + timedelta(minutes=minutes_left),
        **fields,
    )


def objects_of(merchant, *, sales_unit=None) -> dict:
    """One object of each kind the API exposes, in `sales_unit` (default: the merchant's first)."""
    unit = sales_unit or merchant.sales_units.first() or SalesUnitFactory(merchant=merchant)
    location = Location.objects.create(sales_unit=unit, name=f"{merchant.slug} till")
    code = QrCode.objects.create(
        sales_unit=unit,
        location=location,
        merchant_qr_id=f"{merchant.slug}-till-{uuid.uuid4().hex[:6]}",
        location_description="Till",
        sync_state=QrCode.SyncState.SYNCED,
        qr_content=f"https://qr.vipps.no/c-{merchant.slug}",
    )
    sheet = QrSheet.objects.create(
        sales_unit=unit, location=location, state=QrSheet.State.DONE, pdf=b"%PDF-1.7\n", filename="sheet.pdf"
    )
    return {
        "sales-unit": unit,
        "location": location,
        "qr-code": code,
        "qr-sheet": sheet,
        "checkin": checkin_at(location),
        "payment": payment_at(location),
    }


def payment_at(location: Location, **fields) -> Payment:
    unit = location.sales_unit
    return Payment.objects.create(
        merchant=unit.merchant,
        sales_unit=unit,
        location=location,
        reference=f"{unit.msn}-api-{uuid.uuid4().hex[:8]}",
        idempotency_key=uuid.uuid4().hex,
        currency=unit.currency,
        amount=fields.pop("amount", 10_000),
        description="Coffee",
        **fields,
    )
