from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from merchant_portal.tenancy.models import Merchant
from qrcodes.models import Location

from .models import CheckIn


def locations_with_checkin_counts(*, merchant: Merchant) -> QuerySet[Location]:
    waiting = Q(checkins__status=CheckIn.Status.ACTIVE, checkins__expires_at__gt=timezone.now())
    return (
        Location.objects.for_merchant(merchant)
        .select_related("sales_unit")
        .annotate(waiting=Count("checkins", filter=waiting))
        .order_by("name")
    )


def checkins_waiting_at(*, location: Location) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(
        location=location, status=CheckIn.Status.ACTIVE, expires_at__gt=timezone.now()
    ).select_related("qr_code")


def checkins_recent_at(*, location: Location, limit: int = 10) -> list[CheckIn]:
    waiting = checkins_waiting_at(location=location).values("pk")
    return list(CheckIn.objects.filter(location=location).exclude(pk__in=waiting).select_related("qr_code")[:limit])
