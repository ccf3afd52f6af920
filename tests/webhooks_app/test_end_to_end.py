"""Register at the sandbox, scan there, and the signed delivery to the running portal becomes a check-in."""

import pytest

from payments.models import CheckIn
from tests.webhooks_app.helpers import location, qr_code
from webhooks_app import services
from webhooks_app.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_scan_deliver_and_the_check_in_appears(live_server, sandbox, sandbox_unit, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    kiosk = qr_code(location(sandbox_unit), "kiosk-1")
    merchant = sandbox.state.merchant(sandbox_unit.msn)
    sandbox.state.put_callback_qr(merchant, "kiosk-1", {"locationDescription": "Till 1"})
    assert services.webhooks_sync(sales_unit=sandbox_unit).ok

    token = sandbox.state.scan("4791234567", msn=sandbox_unit.msn, merchant_qr_id="kiosk-1")
    assert sandbox.state.wait_for_deliveries(timeout=10)
    (delivery,) = sandbox.state.deliveries("webhook")
    assert delivery.status == "delivered" and delivery.attempts[0].status == 200
    assert WebhookDelivery.objects.get().outcome == "received"

    services.webhook_events_relay()
    assert WebhookDelivery.objects.get().outcome == "accepted"
    checkin = CheckIn.objects.get()
    assert (checkin.location, checkin.qr_code, checkin.customer_token) == (kiosk.location, kiosk, token.token)
    assert WebhookEvent.objects.get().status == "processed"
