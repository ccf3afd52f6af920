from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def expire_checkins() -> None:
    services.checkins_expire()
