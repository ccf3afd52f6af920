import pytest

from qrcodes.models import Location
from vipps_sandbox.models import Merchant as SandboxMerchant


@pytest.fixture
def location(acme_unit):
    return Location.objects.create(sales_unit=acme_unit, name="Kiosk Torget", address="Torget 1, Oslo")


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Call a service and run what it enqueued after commit (tasks run eagerly in tests)."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


@pytest.fixture
def at_vipps(sandbox, sandbox_unit):
    """The sandbox's view of acme's MSN: {merchantQrId: CallbackQr}."""

    class AtVipps:
        merchant: SandboxMerchant = sandbox.state.merchant(sandbox_unit.msn)

        def codes(self) -> dict:
            return {qr.merchant_qr_id: qr for qr in sandbox.state.list_callback_qrs(self.merchant)}

        def put(self, merchant_qr_id: str, description: str, **extra) -> None:
            sandbox.state.put_callback_qr(self.merchant, merchant_qr_id, {"locationDescription": description, **extra})

        def delete(self, merchant_qr_id: str) -> None:
            sandbox.state.delete_callback_qr(self.merchant, merchant_qr_id)

    return AtVipps()


@pytest.fixture
def inline_retries():
    """Eager tasks retry inline, as a worker would (later); with propagation on, Celery would raise Retry instead."""
    from merchant_portal.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True
