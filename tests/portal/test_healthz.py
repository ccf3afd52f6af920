from datetime import timedelta

import pytest
from django.utils import timezone

from merchant_portal.celery import app as celery_app
from merchant_portal.core.models import Heartbeat
from merchant_portal.core.services import heartbeat_record
from merchant_portal.core.tasks import worker_heartbeat


def test_healthy_when_database_broker_and_a_recent_worker_heartbeat(client, db):
    worker_heartbeat.delay()  # eager in tests: what beat schedules and a worker runs
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["database"]["ok"] and body["broker"]["ok"] and body["worker"]["ok"]


def test_unhealthy_without_a_worker_heartbeat(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"] == {"ok": False, "detail": "no heartbeat yet"}


def test_unhealthy_when_the_heartbeat_is_stale(client, db, settings):
    heartbeat_record(name="worker", at=timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 5))
    response = client.get("/healthz")
    assert response.status_code == 503 and not response.json()["worker"]["ok"]


@pytest.fixture
def unreachable_broker(monkeypatch):
    connect = celery_app.connection_for_write
    # The discard port: nothing listens there.
    monkeypatch.setattr(celery_app, "connection_for_write", lambda: connect(url="redis://127.0.0.1:9/0"))


def test_unhealthy_when_the_broker_is_unreachable(client, db, unreachable_broker):
    Heartbeat.objects.create(name="worker", at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"]["ok"] is False and body["database"]["ok"] is True
