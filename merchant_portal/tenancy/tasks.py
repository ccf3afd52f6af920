from celery import shared_task

from .services import vipps_call_log_prune


@shared_task(ignore_result=True)
def prune_vipps_call_log() -> int:
    return vipps_call_log_prune()
