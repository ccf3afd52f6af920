from celery import shared_task
from celery.signals import worker_ready

from .services import heartbeat_record


@shared_task(acks_late=False, ignore_result=True)
def worker_heartbeat() -> None:
    heartbeat_record(name="worker")


@worker_ready.connect
def _heartbeat_on_start(**kwargs) -> None:
    # /healthz turns green as soon as a worker is up, not only after beat's first tick.
    heartbeat_record(name="worker")
