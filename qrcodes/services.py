"""Locations, QR codes and sheets: local writes first, then Vipps through tasks (qrcodes/tasks.py).

A QR code row is what the merchant wants Vipps to have. Every change saves it as pending (or deleting), bumps
its `version` and enqueues a sync after commit; the sync makes Vipps match and marks the row synced only if
the version is unchanged, so a newer edit is never reported as synced. If Vipps is down the row keeps what
the user typed, shows the error, and the beat job sends it again later.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext

from merchant_portal.audit.services import log_action
from merchant_portal.tenancy.models import Merchant, SalesUnit
from merchant_portal.tenancy.vipps import WrongEnvironment, vipps_client_for
from vipps import VippsAPIError, VippsClient, VippsError

from . import pdf, selectors
from .images import CONTENT_TYPES, fetch_image
from .models import (
    LOCATION_DESCRIPTION_MAX,
    POS_ID_IN_USE,
    Location,
    QrCode,
    QrImage,
    QrSheet,
    Reconciliation,
    beacon_id_validator,
)

# A sync that has not finished by then is sent again by the beat job (lost message, dead worker).
SYNC_SAFETY_DELAY = timedelta(minutes=5)
MAX_RETRY_DELAY = timedelta(hours=1)
# A sync that fails inside the portal (a bug, a secret it cannot decrypt, data it cannot read) is retried like an
# outage, but only this many times; then the row is quarantined, so that it stops costing the other codes a
# worker every few minutes. Vipps' retryable answers (down, 5xx, 429) are not the row's fault and are retried
# for as long as they last.
QUARANTINE_AFTER = 5
SCREEN_PNG_SIZE = 400
IMPORTED_LOCATION_NAME = "Imported from Vipps"
BULK_MAX = 200


def _enqueue_sync(qr_code: QrCode) -> None:
    from .tasks import sync_qr_code

    sync_qr_code.delay_on_commit(qr_code.pk)


# Locations -----------------------------------------------------------------------------------------------


def _save_location(location: Location) -> None:
    """full_clean() normalises the PosId and refuses one in use; the constraint settles a race between two saves."""
    location.full_clean()
    try:
        with transaction.atomic():
            location.save()
    except IntegrityError as exc:
        if "uniq_location_pos_id" not in str(exc):
            raise
        raise ValidationError({"mobilepay_pos_id": POS_ID_IN_USE}, code="unique") from None


@transaction.atomic
def location_create(*, sales_unit: SalesUnit, actor, **fields) -> Location:
    location = Location(sales_unit=sales_unit, **fields)
    _save_location(location)
    log_action(merchant=sales_unit.merchant, actor=actor, action="location.created", target=location)
    return location


@transaction.atomic
def location_update(*, location: Location, actor, **fields) -> Location:
    if isinstance(fields.get("mobilepay_pos_id"), str):
        fields["mobilepay_pos_id"] = fields["mobilepay_pos_id"].strip().lower()
    changed = sorted(name for name, value in fields.items() if getattr(location, name) != value)
    for name in changed:
        setattr(location, name, fields[name])
    if changed:
        _save_location(location)
        log_action(
            merchant=location.sales_unit.merchant,
            actor=actor,
            action="location.updated",
            target=location,
            data={"changed": changed},
        )
    return location


@transaction.atomic
def location_delete(*, location: Location, actor) -> None:
    if location.qr_codes.exists():
        raise ValidationError(gettext("Delete this location's QR codes (or move them to another location) first."))
    log_action(merchant=location.sales_unit.merchant, actor=actor, action="location.deleted", target=location)
    location.delete()


# QR codes: local changes -----------------------------------------------------------------------------------


def _check_description(description: str, field: str = "location_description") -> None:
    if not description.strip() or len(description) > LOCATION_DESCRIPTION_MAX:
        raise ValidationError(
            {field: gettext("Write 1 to %(max)s characters (Vipps' limit).") % {"max": LOCATION_DESCRIPTION_MAX}}
        )


def _audit(qr_code: QrCode, actor, action: str, **data) -> None:
    data = {"merchant_qr_id": qr_code.merchant_qr_id, **data}
    log_action(merchant=qr_code.sales_unit.merchant, actor=actor, action=action, target=qr_code, data=data)


def _create(*, location: Location, actor, merchant_qr_id: str, kind: str, **fields) -> QrCode:
    qr_code = QrCode(
        sales_unit=location.sales_unit,
        location=location,
        merchant_qr_id=merchant_qr_id,
        kind=kind,
        next_sync_at=timezone.now() + SYNC_SAFETY_DELAY,
        **fields,
    )
    qr_code.full_clean()  # includes the unique merchantQrId per MSN
    qr_code.save()
    _audit(qr_code, actor, "qr_code.created", category=qr_code.category, kind=kind)
    _enqueue_sync(qr_code)
    return qr_code


@transaction.atomic
def qr_code_create(
    *,
    location: Location,
    actor,
    location_description: str,
    category: str = QrCode.Category.IN_STORE,
    merchant_qr_id: str = "",
) -> QrCode:
    _check_description(location_description)
    if not merchant_qr_id:
        [(merchant_qr_id, _)] = selectors.next_merchant_qr_ids(sales_unit=location.sales_unit, name=location.name)
    return _create(
        location=location,
        actor=actor,
        merchant_qr_id=merchant_qr_id,
        kind=QrCode.Kind.MERCHANT,
        location_description=location_description,
        category=category,
    )


@transaction.atomic
def qr_codes_bulk_create(
    *, location: Location, actor, count: int, description: str, category: str = QrCode.Category.IN_STORE
) -> list[QrCode]:
    """`count` codes for one location (a fleet of machines): ids and descriptions numbered alike."""
    if not 1 <= count <= BULK_MAX:
        raise ValidationError({"count": gettext("Create 1 to %(max)s codes at a time.") % {"max": BULK_MAX}})
    ids = selectors.next_merchant_qr_ids(sales_unit=location.sales_unit, name=location.name, count=count)
    longest = f"{description.strip()} {ids[-1][1]}"
    if len(longest) > LOCATION_DESCRIPTION_MAX:
        raise ValidationError(
            {
                "description": gettext(
                    "With its number, the last description would be “%(longest)s”, %(length)s characters; "
                    "Vipps allows %(max)s."
                )
                % {"longest": longest, "length": len(longest), "max": LOCATION_DESCRIPTION_MAX}
            }
        )
    return [
        _create(
            location=location,
            actor=actor,
            merchant_qr_id=merchant_qr_id,
            kind=QrCode.Kind.MERCHANT,
            location_description=f"{description.strip()} {number}",
            category=category,
        )
        for merchant_qr_id, number in ids
    ]


@transaction.atomic
def qr_code_map_beacon(*, location: Location, actor, beacon_id: str, location_description: str) -> QrCode:
    """Map a printed MobilePay PoS QR (its beaconId) to this MSN; Vipps then reports its scans as check-ins."""
    _check_description(location_description)
    try:
        beacon_id_validator(beacon_id)
    except ValidationError as exc:
        raise ValidationError({"beacon_id": exc.messages}) from None
    return _create(
        location=location,
        actor=actor,
        merchant_qr_id=beacon_id,
        kind=QrCode.Kind.MOBILEPAY,
        location_description=location_description,
    )


def _mark_for_sync(qr_code: QrCode, state: str) -> None:
    qr_code.sync_state = state
    qr_code.sync_error = ""
    qr_code.sync_attempts = 0
    qr_code.quarantined_at = None
    qr_code.next_sync_at = timezone.now() + SYNC_SAFETY_DELAY
    qr_code.version = F("version") + 1
    qr_code.save()
    qr_code.refresh_from_db()
    _enqueue_sync(qr_code)


@transaction.atomic
def qr_code_update(
    *, qr_code: QrCode, actor, location_description: str, category: str, location: Location | None = None
) -> QrCode:
    """Change what Vipps shows (description, category) and, locally only, where the code hangs."""
    _check_description(location_description)
    if location is not None and location.sales_unit_id != qr_code.sales_unit_id:
        raise ValidationError({"location": gettext("Choose a location of the same sales unit.")})
    if qr_code.sync_state == QrCode.SyncState.DELETING:
        raise ValidationError(gettext("This QR code is being deleted."))
    remote_changed = (location_description, category) != (qr_code.location_description, qr_code.category)
    qr_code.location_description, qr_code.category = location_description, category
    changed = ["location_description", "category"] if remote_changed else []
    if location is not None and location.pk != qr_code.location_id:
        qr_code.location = location
        changed.append("location")
    if not changed:
        return qr_code
    qr_code.full_clean()
    if remote_changed:
        _mark_for_sync(qr_code, QrCode.SyncState.PENDING)
    else:
        qr_code.save()
    _audit(qr_code, actor, "qr_code.updated", changed=changed, category=category)
    return qr_code


@transaction.atomic
def qr_code_delete(*, qr_code: QrCode, actor) -> None:
    """Delete at Vipps (a task), then here. Until then the row shows "being deleted"."""
    _mark_for_sync(qr_code, QrCode.SyncState.DELETING)
    _audit(qr_code, actor, "qr_code.delete_requested")


@transaction.atomic
def qr_code_retry(*, qr_code: QrCode, actor) -> None:
    state = QrCode.SyncState.DELETING if qr_code.sync_state == QrCode.SyncState.DELETING else QrCode.SyncState.PENDING
    _mark_for_sync(qr_code, state)
    _audit(qr_code, actor, "qr_code.sync_retried")


@transaction.atomic
def qr_code_accept_remote(*, qr_code: QrCode, actor) -> QrCode:
    """Keep what Vipps has (after a reconcile showed a difference) instead of sending ours."""
    return qr_code_update(
        qr_code=qr_code,
        actor=actor,
        location_description=qr_code.remote_description or qr_code.location_description,
        category=qr_code.remote_category or qr_code.category,
    )


# QR codes: talking to Vipps (called by tasks) --------------------------------------------------------------


def _client(sales_unit: SalesUnit) -> VippsClient:
    try:
        return vipps_client_for(sales_unit)
    except WrongEnvironment as exc:
        raise VippsError(str(exc)) from None  # not retryable: the keys are for another environment


def qr_code_push(*, qr_code: QrCode) -> None:
    """Make Vipps match the row: PUT it (or DELETE it), then cache Vipps' content and images."""
    client = _client(qr_code.sales_unit)
    version = qr_code.version
    if qr_code.sync_state == QrCode.SyncState.DELETING:
        try:
            client.delete_merchant_callback_qr(qr_code.merchant_qr_id)
        except VippsAPIError as exc:
            if exc.status != 404:  # already gone is what we want
                raise
        with transaction.atomic():
            deleted, _ = QrCode.objects.filter(pk=qr_code.pk, version=version).delete()
            if deleted:
                _audit(qr_code, None, "qr_code.deleted")
        return
    if qr_code.kind == QrCode.Kind.MOBILEPAY:
        client.put_mobilepay_qr(qr_code.merchant_qr_id, qr_code.location_description)
    else:
        client.put_merchant_callback_qr(qr_code.merchant_qr_id, qr_code.location_description, category=qr_code.category)
    remote, images = _official_images(qr_code, client)
    with transaction.atomic():
        updated = QrCode.objects.filter(pk=qr_code.pk, version=version).update(
            sync_state=QrCode.SyncState.SYNCED,
            sync_error="",
            sync_attempts=0,
            next_sync_at=None,
            quarantined_at=None,
            synced_at=timezone.now(),
            qr_content=remote.qr_content,
            remote_description=remote.location_description,
            remote_category=getattr(remote, "category", None),
            missing_at_vipps=False,
        )
        if updated:
            _store_images(qr_code, remote.qr_content, images)


def qr_code_refresh_images(*, qr_code: QrCode) -> None:
    """Fetch the images again through GET (after a reconcile saw a new link or new content)."""
    remote, images = _official_images(qr_code, _client(qr_code.sales_unit))
    with transaction.atomic():
        QrCode.objects.filter(pk=qr_code.pk).update(qr_content=remote.qr_content)
        _store_images(qr_code, remote.qr_content, images)


def _official_images(qr_code: QrCode, client: VippsClient):
    """GET the code as SVG (print) and PNG (screen) and the images behind its links, reusing cached ones.

    An image is fetched again when Vipps gives another link or content. If a fetch fails, the link may have
    just been changed ("for security"), so the code is read again through GET for a fresh link, once.
    """
    cached = {image.format: image for image in QrImage.objects.filter(qr_code=qr_code)}
    images, remote = {}, None
    for image_format, size in ((QrImage.Format.SVG, None), (QrImage.Format.PNG, SCREEN_PNG_SIZE)):
        for attempt in (1, 2):
            remote = client.get_merchant_callback_qr(qr_code.merchant_qr_id, image_format=image_format, image_size=size)
            old = cached.get(image_format)
            if old and old.url == remote.qr_image_url and old.qr_content == remote.qr_content:
                images[image_format] = (remote.qr_image_url, bytes(old.content))
                break
            try:
                images[image_format] = (remote.qr_image_url, fetch_image(remote.qr_image_url, image_format))
                break
            except VippsError:
                if attempt == 2:
                    raise
    return remote, images


def _store_images(qr_code: QrCode, qr_content: str, images: dict) -> None:
    for image_format, (url, content) in images.items():
        QrImage.objects.update_or_create(
            qr_code=qr_code, format=image_format, defaults={"url": url, "content": content, "qr_content": qr_content}
        )


def qr_code_record_failure(*, qr_code: QrCode, version: int, error: Exception) -> None:
    """The sync gave up for now: keep the row as typed, show the error, and plan the next try if it may help.
    Any exception is accepted: one that is not a VippsError counts towards quarantine (QUARANTINE_AFTER)."""
    internal = not isinstance(error, VippsError)
    attempts = qr_code.sync_attempts + 1
    quarantine = internal and attempts >= QUARANTINE_AFTER
    retryable = (internal or getattr(error, "retryable", False)) and not quarantine
    delay = min(timedelta(minutes=2**attempts), MAX_RETRY_DELAY) if retryable else None
    state = QrCode.SyncState.DELETING if qr_code.sync_state == QrCode.SyncState.DELETING else QrCode.SyncState.FAILED
    now = timezone.now()
    described = describe_error(error, qr_code)
    updated = QrCode.objects.filter(pk=qr_code.pk, version=version).update(
        sync_state=state,
        sync_error=described,
        sync_attempts=attempts,
        next_sync_at=now + delay if delay else None,
        quarantined_at=now if quarantine else None,
    )
    if updated and (attempts == 1 or quarantine):
        # The merchant is looked up apart: the row's sales unit may be what cannot be loaded (its secrets).
        log_action(
            merchant=Merchant.objects.get(sales_units=qr_code.sales_unit_id),
            action="qr_code.sync_quarantined" if quarantine else "qr_code.sync_failed",
            target=qr_code,
            data={"merchant_qr_id": qr_code.merchant_qr_id, "error": described[:200], "attempts": attempts},
        )


def describe_error(error: Exception, qr_code: QrCode) -> str:
    if isinstance(error, VippsAPIError):
        said = " ".join(part for part in (error.title, error.detail) if part) or "no details"
        if error.status == 409 and qr_code.kind == QrCode.Kind.MOBILEPAY:
            return (
                f"Vipps refused the mapping (HTTP 409 Conflict): this beaconId is already in use, most likely "
                f"mapped to another merchant's sales unit, or this MSN has an ordinary QR code with the same id. "
                f"Check the beaconId printed under the MobilePay QR; if it is yours, ask Vipps MobilePay support "
                f"to release it. Vipps said: {said}"
            )
        retry = " The portal tries again automatically." if error.retryable else ""
        return f"Vipps answered HTTP {error.status}: {said}.{retry}"
    if not isinstance(error, VippsError):
        # Only the type: the message of an unexpected error may carry data that does not belong on a page.
        return f"The portal failed on this code ({type(error).__name__}); the details are in its log."
    if getattr(error, "retryable", False):
        return f"Could not reach Vipps ({error}). The portal tries again automatically; nothing you entered is lost."
    return str(error)


def qr_codes_claim_due(*, limit: int = 500) -> list[int]:
    """Rows whose sync is due (retry time reached, or a sync that never finished), longest waiting first:
    claimed by compare-and-set. Quarantined rows wait for Retry now."""
    now = timezone.now()
    due = (
        QrCode.objects.filter(
            sync_state__in=[QrCode.SyncState.PENDING, QrCode.SyncState.FAILED, QrCode.SyncState.DELETING],
            next_sync_at__lte=now,
            quarantined_at__isnull=True,
        )
        .order_by("next_sync_at", "pk")
        .values_list("pk", "next_sync_at")[:limit]
    )
    return [
        pk
        for pk, when in due
        if QrCode.objects.filter(pk=pk, next_sync_at=when).update(next_sync_at=now + SYNC_SAFETY_DELAY)
    ]


# Reconcile -------------------------------------------------------------------------------------------------


@transaction.atomic
def reconciliation_start(*, sales_unit: SalesUnit, actor) -> Reconciliation:
    from .tasks import reconcile_sales_unit

    run = Reconciliation.objects.create(sales_unit=sales_unit)
    log_action(merchant=sales_unit.merchant, actor=actor, action="qr_codes.reconcile_requested", target=sales_unit)
    reconcile_sales_unit.delay_on_commit(sales_unit.pk, run.pk)
    return run


def qr_codes_reconcile(*, sales_unit: SalesUnit, run: Reconciliation) -> Reconciliation:
    """Compare with Vipps' list: import codes only Vipps has, flag codes Vipps lacks, note differences.

    Raises VippsError when Vipps cannot be asked; the task retries, then records the run as failed.
    """
    from .tasks import refresh_qr_code_images

    remote = {qr.merchant_qr_id: qr for qr in _client(sales_unit).list_merchant_callback_qrs(image_format="SVG")}
    local = {qr.merchant_qr_id: qr for qr in QrCode.objects.filter(sales_unit=sales_unit)}
    svg_urls = dict(
        QrImage.objects.filter(qr_code__sales_unit=sales_unit, format=QrImage.Format.SVG).values_list(
            "qr_code_id", "url"
        )
    )
    refresh, imported, missing = [], 0, 0
    for qr_id, found in remote.items():
        code = local.get(qr_id)
        if code is None:
            code = _import(sales_unit, found)
            imported += code is not None
        elif code.sync_state != QrCode.SyncState.DELETING:
            QrCode.objects.filter(pk=code.pk).update(
                remote_description=found.location_description,
                remote_category=getattr(found, "category", None),
                missing_at_vipps=False,
            )
            if code.sync_state == QrCode.SyncState.SYNCED and found.qr_content != code.qr_content:
                # Vipps has another code under this id now (deleted and made again elsewhere).
                QrCode.objects.filter(pk=code.pk).update(qr_content=found.qr_content)
        if code is not None and (svg_urls.get(code.pk) != found.qr_image_url or found.qr_content != code.qr_content):
            refresh.append(code.pk)
    for qr_id, code in local.items():
        # Codes never confirmed by Vipps are still on their way; only once-synced ones can go missing.
        if qr_id not in remote and code.synced_at and code.sync_state != QrCode.SyncState.DELETING:
            missing += QrCode.objects.filter(pk=code.pk).update(missing_at_vipps=True)
    differing = sum(1 for code in QrCode.objects.filter(sales_unit=sales_unit) if code.differences)
    Reconciliation.objects.filter(pk=run.pk).update(
        state=Reconciliation.State.DONE,
        imported=imported,
        missing=missing,
        differing=differing,
        error="",
        finished_at=timezone.now(),
    )
    for pk in refresh:
        transaction.on_commit(lambda pk=pk: refresh_qr_code_images.delay(pk))
    if imported or missing:
        log_action(
            merchant=sales_unit.merchant,
            action="qr_codes.reconciled",
            target=sales_unit,
            data={"imported": imported, "missing": missing, "differing": differing},
        )
    run.refresh_from_db()
    return run


def _import(sales_unit: SalesUnit, found) -> QrCode | None:
    location, _ = Location.objects.get_or_create(sales_unit=sales_unit, name=IMPORTED_LOCATION_NAME)
    try:
        with transaction.atomic():
            return QrCode.objects.create(
                sales_unit=sales_unit,
                location=location,
                merchant_qr_id=found.merchant_qr_id,
                location_description=found.location_description[:LOCATION_DESCRIPTION_MAX],
                category=getattr(found, "category", None) or QrCode.Category.IN_STORE,
                sync_state=QrCode.SyncState.SYNCED,
                synced_at=timezone.now(),
                qr_content=found.qr_content,
                remote_description=found.location_description,
                remote_category=getattr(found, "category", None),
                imported=True,
            )
    except IntegrityError:  # created here meanwhile
        return None


def reconciliation_record_failure(*, run_id: int, error: Exception) -> None:
    if not isinstance(error, VippsError):
        error = f"The portal failed on this comparison ({type(error).__name__}); the details are in its log."
    Reconciliation.objects.filter(pk=run_id).update(
        state=Reconciliation.State.FAILED, error=str(error)[:1000], finished_at=timezone.now()
    )


# Sheets ----------------------------------------------------------------------------------------------------


def _sheet_filename(sales_unit: SalesUnit, location: Location | None) -> str:
    where = slugify(location.name) if location else "all-locations"
    return f"qr-codes_msn-{sales_unit.msn}_{where or 'location'}_{timezone.localdate():%Y-%m-%d}.pdf"


def qr_sheet_request(*, sales_unit: SalesUnit, location: Location | None, layout: str, actor) -> QrSheet:
    """A sheet of the codes Vipps has confirmed. Small ones (images cached) are rendered at once, the rest by
    a task on the PDF queue."""
    from .tasks import render_qr_sheet

    codes = selectors.qr_codes_for_sheet(sales_unit=sales_unit, location=location)
    count = codes.count()
    if not count:
        raise ValidationError(gettext("There are no synced QR codes to print here yet."))
    with transaction.atomic():
        sheet = QrSheet.objects.create(
            sales_unit=sales_unit,
            location=location,
            layout=layout,
            code_count=count,
            filename=_sheet_filename(sales_unit, location),
            # The actor may be an API key (audited as such below); the sheet records only a person.
            created_by=actor if isinstance(actor, AbstractBaseUser) else None,
        )
        log_action(
            merchant=sales_unit.merchant,
            actor=actor,
            action="qr_sheet.requested",
            target=sheet,
            data={"codes": count, "layout": layout},
        )
        inline = count <= settings.QR_SHEET_INLINE_MAX_CODES and len(selectors.svg_images_for(codes)) == count
        if not inline:
            # The worker prints the sheet's texts in the language of whoever asked for it.
            render_qr_sheet.delay_on_commit(sheet.pk, language=translation.get_language())
    if inline:
        qr_sheet_render(sheet=sheet)
        sheet.refresh_from_db()
    return sheet


def qr_sheet_render(*, sheet: QrSheet) -> None:
    """Render the sheet from cached images; images not cached yet are first fetched through GET."""
    if (
        not QrSheet.objects.filter(pk=sheet.pk)
        .exclude(state=QrSheet.State.DONE)
        .update(state=QrSheet.State.RENDERING, progress=0)
    ):
        return
    codes = selectors.qr_codes_for_sheet(sales_unit=sheet.sales_unit, location=sheet.location)
    images = selectors.svg_images_for(codes)
    for code in codes:
        if code.pk not in images:
            qr_code_refresh_images(qr_code=code)
    images = selectors.svg_images_for(codes)
    cells = [
        pdf.SheetCell(
            image=bytes(images[code.pk].content),
            image_type=CONTENT_TYPES["SVG"],
            location_description=code.location_description,
            merchant_qr_id=code.merchant_qr_id,
            msn=sheet.sales_unit.msn,
        )
        for code in codes
        if code.pk in images
    ]
    last = [0]

    def progress(percent: int) -> None:
        if percent >= last[0] + 2:
            last[0] = percent
            QrSheet.objects.filter(pk=sheet.pk).update(progress=min(percent, 99))

    document = pdf.render_sheet(cells, pdf.LAYOUTS[sheet.layout], title=sheet.filename, on_progress=progress)
    QrSheet.objects.filter(pk=sheet.pk).update(
        state=QrSheet.State.DONE, progress=100, pdf=document, code_count=len(cells), finished_at=timezone.now()
    )


def qr_sheet_record_failure(*, sheet_id: int, error: Exception) -> None:
    QrSheet.objects.filter(pk=sheet_id).update(
        state=QrSheet.State.FAILED, error=str(error)[:1000], finished_at=timezone.now()
    )


def qr_sheets_purge(*, older_than: timedelta) -> int:
    deleted, _ = QrSheet.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
