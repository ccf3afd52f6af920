"""Roles and what each may do. The server enforces these; templates only hide what a role cannot use."""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    CASHIER = "cashier", _("Cashier")
    VIEWER = "viewer", _("Viewer")


class Perm(StrEnum):
    VIEW = "view"
    REQUEST_PAYMENTS = "request_payments"
    REFUND_PAYMENTS = "refund_payments"
    MANAGE_LOCATIONS = "manage_locations"
    MANAGE_QR_CODES = "manage_qr_codes"
    MANAGE_WEBHOOKS = "manage_webhooks"
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_CREDENTIALS = "manage_credentials"


_VIEWER = frozenset({Perm.VIEW})
_CASHIER = _VIEWER | {Perm.REQUEST_PAYMENTS}
_MANAGER = _CASHIER | {
    Perm.REFUND_PAYMENTS,
    Perm.MANAGE_LOCATIONS,
    Perm.MANAGE_QR_CODES,
    Perm.MANAGE_WEBHOOKS,
    Perm.VIEW_AUDIT_LOG,
}
_OWNER = _MANAGER | {Perm.MANAGE_MEMBERS, Perm.MANAGE_CREDENTIALS}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.VIEWER: _VIEWER,
    Role.CASHIER: _CASHIER,
    Role.MANAGER: _MANAGER,
    Role.OWNER: _OWNER,
}


def role_has_perm(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())
