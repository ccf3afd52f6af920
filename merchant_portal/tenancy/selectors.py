from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import Membership, SalesUnit


def membership_for_user(*, user: AbstractBaseUser, merchant_slug: str) -> Membership | None:
    return Membership.objects.select_related("merchant").filter(user=user, merchant__slug=merchant_slug).first()


def memberships_for_user(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    return Membership.objects.select_related("merchant").filter(user=user).order_by("merchant__name")


def members_for_merchant(*, merchant) -> QuerySet[Membership]:
    return Membership.objects.for_merchant(merchant).select_related("user").order_by("user__username")


def sales_units_for_merchant(*, merchant) -> QuerySet[SalesUnit]:
    return SalesUnit.objects.for_merchant(merchant).order_by("name")
