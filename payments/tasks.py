"""Thin tasks: ids in, a service call, the retry policy. Each outcome is in the database; a retry that Celery
gives up on (or that a lost broker drops) is picked up again by the beat jobs below."""

from celery import shared_task

from . import services

MAX_RETRIES = 8


def _retry(task, outcome: services.Outcome) -> None:
    # Eager runs (tests, `CELERY_TASK_ALWAYS_EAGER`) leave the retry to the beat job instead of looping inline.
    if outcome.retry_in is not None and not task.request.is_eager and task.request.retries < task.max_retries:
        raise task.retry(countdown=outcome.retry_in)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_payment_request(self, payment_id: int) -> None:
    _retry(self, services.payment_request_send(payment_id=payment_id))


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def execute_payment_operation(self, operation_id: int) -> None:
    _retry(self, services.payment_operation_execute(operation_id=operation_id))


@shared_task(ignore_result=True)
def expire_checkins() -> None:
    services.checkins_expire()


@shared_task(ignore_result=True)
def reconcile_payments() -> None:
    services.payments_reconcile()


@shared_task(ignore_result=True)
def drain_payment_operations() -> None:
    services.payment_operations_drain()
