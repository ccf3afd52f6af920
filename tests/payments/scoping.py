"""URL kwargs for the check-in views, built from objects of one merchant (see tests/scoping.py)."""

import uuid
from datetime import timedelta

from django.utils import timezone

from payments.models import CheckIn, Payment
from qrcodes.models import Location
from tests.factories import SalesUnitFactory


def url_kwargs(merchant) -> dict[str, dict]:
    unit = merchant.sales_units.first() or SalesUnitFactory(merchant=merchant)
    location = Location.objects.create(sales_unit=unit, name="Scoping till")
    now = timezone.now()
    checkin = CheckIn.objects.create(
        sales_unit=unit,
        location=location,
        customer_token="scoping-token",
        token_digest=uuid.uuid4().hex,
        initiated_at=now,
        expires_at=now + timedelta(minutes=15),
    )
    payment = Payment.objects.create(
        merchant=merchant,
        sales_unit=unit,
        location=location,
        reference=f"{unit.msn}-scoping-{uuid.uuid4().hex[:8]}",
        idempotency_key=uuid.uuid4().hex,
        currency=unit.currency,
        amount=10_000,
        description="Scoping",
    )
    return {
        "payment_list": {},
        "payment_export": {},
        "payment_create": {},
        "payment_detail": {"pk": payment.pk},
        "payment_capture": {"pk": payment.pk},
        "payment_refund": {"pk": payment.pk},
        "payment_cancel": {"pk": payment.pk},
        "payment_refresh": {"pk": payment.pk},
        "payment_retry": {"pk": payment.pk},
        "payment_rule_update": {"pk": location.pk},
        "checkin_location_list": {},
        "checkin_console": {"pk": location.pk},
        "checkin_console_rows": {"pk": location.pk},
        "checkin_exchange_phone": {"pk": checkin.pk},
    }
