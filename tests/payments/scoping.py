"""URL kwargs for the check-in views, built from objects of one merchant (see tests/scoping.py)."""

import uuid
from datetime import timedelta

from django.utils import timezone

from payments.models import CheckIn
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
    return {
        "checkin_location_list": {},
        "checkin_console": {"pk": location.pk},
        "checkin_console_rows": {"pk": location.pk},
        "checkin_exchange_phone": {"pk": checkin.pk},
    }
