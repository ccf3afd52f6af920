"""URL kwargs for the tenancy and audit views, built from objects of one merchant (see tests/scoping.py)."""

from merchant_portal.tenancy.roles import Role
from tests.factories import MembershipFactory, SalesUnitFactory


def url_kwargs(merchant) -> dict[str, dict]:
    unit = merchant.sales_units.first() or SalesUnitFactory(merchant=merchant)
    membership = MembershipFactory(merchant=merchant, role=Role.VIEWER)
    by_unit = {"pk": unit.pk}
    return {
        "dashboard": {},
        "dashboard_live": {},
        "sales_unit_list": {},
        "sales_unit_create": {},
        "sales_unit_detail": by_unit,
        "sales_unit_update": by_unit,
        "sales_unit_delete": by_unit,
        "sales_unit_test_connection": by_unit,
        "sales_unit_calls": by_unit,
        "member_list": {},
        "member_add": {},
        "member_edit": {"pk": membership.pk},
        "audit_log": {},
    }
