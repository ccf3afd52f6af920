"""The broker is a transport, not a store: with it down, every delivery is still stored and answered, and every
event is processed by a real worker once it is back."""

import kombu
import pytest
from celery.contrib.testing.worker import start_worker
from kombu.exceptions import OperationalError

from merchant_portal.celery import app as celery_app
from payments.models import CheckIn
from tests.conftest import wait_until
from tests.webhooks_app.helpers import checkin_payload, deliver, location, qr_code, subscribe
from webhooks_app import services
from webhooks_app.models import WebhookEvent

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_a_broker_outage_during_ingest_delays_processing_but_loses_nothing(acme_unit, monkeypatch):
    subscribe(acme_unit)
    kiosk = qr_code(location(acme_unit))
    celery_app.conf.task_always_eager = False

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    monkeypatch.setattr(kombu.Producer, "publish", broker_down)
    statuses = [deliver(checkin_payload(acme_unit.msn, kiosk.merchant_qr_id)).status_code for _ in range(10)]
    assert statuses == [200] * 10
    with pytest.raises(OperationalError):
        services.webhook_events_relay()
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"pending"}

    monkeypatch.undo()  # the broker is back
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
        assert services.webhook_events_relay() == 10
        assert wait_until(lambda: CheckIn.objects.count() == 10)
        assert wait_until(lambda: not WebhookEvent.objects.exclude(status="processed").exists())
    assert CheckIn.objects.count() == 10
