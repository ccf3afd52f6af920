"""A real worker consumes a real task from the configured broker (file system by default, Redis in the
second run of `make test`), enqueued only after the transaction commits."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from merchant_portal.celery import app as celery_app
from merchant_portal.core.models import Heartbeat
from merchant_portal.core.tasks import worker_heartbeat
from tests.conftest import wait_until


@pytest.fixture
def real_worker(transactional_db):
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
        yield


@pytest.mark.broker
def test_a_task_enqueued_on_commit_is_run_by_a_worker(real_worker):
    with transaction.atomic():
        worker_heartbeat.delay_on_commit()
        assert not Heartbeat.objects.exists()  # nothing is published before the commit
    assert wait_until(lambda: Heartbeat.objects.filter(name="worker").exists(), timeout=20)


@pytest.mark.broker
def test_a_rolled_back_transaction_enqueues_nothing(real_worker):
    import time

    try:
        with transaction.atomic():
            worker_heartbeat.delay_on_commit()
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    time.sleep(1.5)
    assert not Heartbeat.objects.exists()
