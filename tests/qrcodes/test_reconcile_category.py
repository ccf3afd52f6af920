"""Reconcile shows a category changed at Vipps (when Vipps' GET reports the category)."""

import pytest

from qrcodes import services
from qrcodes.models import Reconciliation
from tests.webhooks_app.helpers import location, qr_code


@pytest.mark.django_db
def test_reconcile_flags_a_category_changed_at_vipps(sandbox, sandbox_unit):
    code = qr_code(location(sandbox_unit), "till-1", "Till 1")
    merchant = sandbox.state.merchant(sandbox_unit.msn)
    sandbox.state.put_callback_qr(merchant, "till-1", {"locationDescription": "Till 1", "category": "VENDING"})
    code.sync_state = code.SyncState.SYNCED
    code.save()
    run = Reconciliation.objects.create(sales_unit=sandbox_unit)
    services.qr_codes_reconcile(sales_unit=sandbox_unit, run=run)
    code.refresh_from_db()
    assert code.remote_category == "VENDING" and code.category == "IN_STORE"
    run.refresh_from_db()
    assert run.differing == 1
