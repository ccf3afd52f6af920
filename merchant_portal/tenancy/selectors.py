from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import QuerySet

from .models import Membership, SalesUnit, UserProfile, VippsCall


def membership_for_user(*, user: AbstractBaseUser, merchant_slug: str) -> Membership | None:
    return Membership.objects.select_related("merchant").filter(user=user, merchant__slug=merchant_slug).first()


def memberships_for_user(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    return Membership.objects.select_related("merchant").filter(user=user).order_by("merchant__name")


def members_for_merchant(*, merchant) -> QuerySet[Membership]:
    return Membership.objects.for_merchant(merchant).select_related("user").order_by("user__username")


def sales_units_for_merchant(*, merchant) -> QuerySet[SalesUnit]:
    return SalesUnit.objects.for_merchant(merchant).order_by("name")


def vipps_calls_for_sales_unit(
    *, sales_unit: SalesUnit, failed_only: bool = False, limit: int = 200
) -> list[VippsCall]:
    qs = VippsCall.objects.filter(sales_unit=sales_unit)
    if failed_only:
        qs = qs.filter(models.Q(status_code__isnull=True) | models.Q(status_code__gte=400))
    return list(qs.order_by("-started_at", "-id")[:limit])


def user_language(*, user) -> str:
    """The language the user picked, or "" to follow the browser."""
    return UserProfile.objects.filter(user=user).values_list("language", flat=True).first() or ""
