"""Thin tasks: load the row, call a service, own the retry policy. Short retries here; longer ones are rows
with `next_sync_at` that the beat job (`sync_due_qr_codes`) sends again."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import translation

from merchant_portal.tenancy.models import SalesUnit
from vipps import VippsError

from . import services
from .models import QrCode, QrSheet, Reconciliation

logger = logging.getLogger(__name__)

MAX_RETRIES = 3


def _retry_delay(exc: VippsError, retries: int) -> float:
    return exc.retry_after if exc.retry_after is not None else 5 * 2**retries


def _short_retry(task, exc: VippsError) -> None:
    """Retry a retryable error a few times within a minute or so; return when that is used up."""
    if exc.retryable and task.request.retries < MAX_RETRIES:
        raise task.retry(exc=exc, countdown=_retry_delay(exc, task.request.retries))


@shared_task(bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def sync_qr_code(self, qr_code_id: int) -> None:
    # The sales unit is loaded inside the `try`: its secrets may be what fails (a key rotation gone wrong).
    qr_code = QrCode.objects.filter(pk=qr_code_id).first()
    if qr_code is None or qr_code.sync_state == QrCode.SyncState.SYNCED or qr_code.quarantined_at:
        return
    try:
        services.qr_code_push(qr_code=qr_code)
    except VippsError as exc:
        _short_retry(self, exc)
        services.qr_code_record_failure(qr_code=qr_code, version=qr_code.version, error=exc)
    except Exception as exc:  # whatever it is, it is this row's: record it, back off, quarantine in the end
        logger.exception("QR code %s: sync failed inside the portal", qr_code_id)
        services.qr_code_record_failure(qr_code=qr_code, version=qr_code.version, error=exc)


@shared_task(ignore_result=True)
def sync_due_qr_codes() -> None:
    for pk in services.qr_codes_claim_due():
        sync_qr_code.delay(pk)


@shared_task(bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def refresh_qr_code_images(self, qr_code_id: int) -> None:
    qr_code = QrCode.objects.select_related("sales_unit").filter(pk=qr_code_id).first()
    if qr_code is None or qr_code.sync_state != QrCode.SyncState.SYNCED:
        return  # a pending sync fetches the images itself
    try:
        services.qr_code_refresh_images(qr_code=qr_code)
    except VippsError as exc:
        _short_retry(self, exc)  # then the next reconcile tries again


@shared_task(bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def reconcile_sales_unit(self, sales_unit_id: int, run_id: int) -> None:
    run = Reconciliation.objects.filter(pk=run_id, state=Reconciliation.State.RUNNING).first()
    if run is None:
        return
    try:
        sales_unit = SalesUnit.objects.select_related("merchant").filter(pk=sales_unit_id).first()
        if sales_unit is None:
            return
        services.qr_codes_reconcile(sales_unit=sales_unit, run=run)
    except VippsError as exc:
        _short_retry(self, exc)
        services.reconciliation_record_failure(run_id=run.pk, error=exc)
    except Exception as exc:  # the run must not stay "running" for ever
        logger.exception("reconcile of sales unit %s failed inside the portal", sales_unit_id)
        services.reconciliation_record_failure(run_id=run.pk, error=exc)


@shared_task(ignore_result=True)
def reconcile_all_sales_units() -> None:
    from merchant_portal.tenancy.vipps import environment_mismatch

    # Only what the check needs: one sales unit whose secrets cannot be decrypted must not stop the others.
    for sales_unit in SalesUnit.objects.only("pk", "environment"):
        if environment_mismatch(sales_unit) is None:
            run = Reconciliation.objects.create(sales_unit=sales_unit)
            reconcile_sales_unit.delay(sales_unit.pk, run.pk)


@shared_task(
    bind=True,
    max_retries=MAX_RETRIES,
    ignore_result=True,
    soft_time_limit=settings.CELERY_PDF_TASK_TIME_LIMIT - 60,
    time_limit=settings.CELERY_PDF_TASK_TIME_LIMIT,
)
def render_qr_sheet(self, sheet_id: int, language: str | None = None) -> None:
    sheet = QrSheet.objects.select_related("sales_unit", "location").defer("pdf").filter(pk=sheet_id).first()
    if sheet is None:
        return
    try:
        with translation.override(language or settings.LANGUAGE_CODE):
            services.qr_sheet_render(sheet=sheet)
    except VippsError as exc:  # images could not be fetched from Vipps
        _short_retry(self, exc)
        services.qr_sheet_record_failure(sheet_id=sheet_id, error=exc)
    except Exception as exc:
        services.qr_sheet_record_failure(sheet_id=sheet_id, error=exc)
        raise


@shared_task(ignore_result=True)
def purge_old_qr_sheets() -> None:
    services.qr_sheets_purge(older_than=timedelta(hours=settings.QR_SHEET_KEEP_HOURS))
