from celery import shared_task

from .services import heartbeat_record


@shared_task(acks_late=False, ignore_result=True)
def worker_heartbeat() -> None:
    heartbeat_record(name="worker")
