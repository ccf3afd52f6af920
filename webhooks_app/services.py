import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from merchant_portal.audit.services import log_action
from merchant_portal.core import jsonbody
from merchant_portal.core.jsonbody import BodyError
from merchant_portal.core.validators import GUID, control_character
from merchant_portal.tenancy.models import Merchant, SalesUnit
from vipps import VippsError
from vipps.masking import mask_json

from . import events as ev
from .dispatch import Discard, Park, handler_for
from .models import PosMerchantId, WebhookDelivery, WebhookEvent, WebhookSubscription, WebhookSync
from .signature import DateError, Freshness, SignatureError, verify

logger = logging.getLogger(__name__)

Status = WebhookEvent.Status
Outcome = WebhookDelivery.Outcome
RUNNABLE = (Status.PENDING, Status.QUEUED)
MAX_ATTEMPTS = 8  # processing an event: about an hour of backoff, then quarantined
FILE_ATTEMPTS = 3  # filing a delivery: only an unexpected error is retried at all
REJECTED_BODY_KEPT = 4096


def webhook_url() -> str:
    """The URL registered at Vipps, and the one whose host and path signatures are checked against."""
    return settings.PUBLIC_BASE_URL + reverse("vipps_webhook")


# Registration ------------------------------------------------------------------------------------------------


@dataclass
class SyncPlan:
    keep: dict[str, tuple[str, ...]] = field(default_factory=dict)  # vipps id -> the group it serves
    delete: list[str] = field(default_factory=list)  # ours at Vipps: duplicates, stale URL or events, lost secret
    forget: list[str] = field(default_factory=list)  # ours here, gone at Vipps (it removes unresponsive ones)
    register: list[tuple[str, ...]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # why a group cannot be registered


def webhooks_plan(*, remote: list, ours: set[str], url: str) -> SyncPlan:
    """What to do so that exactly one registration of ours serves each group at `url` (pure; no I/O)."""
    plan = SyncPlan()
    served: set[tuple[str, ...]] = set()
    for hook in remote:
        group = next((g for g in ev.REGISTRATION_GROUPS if set(g) == set(hook.events)), None)
        if hook.url == url and hook.id in ours and group is not None and group not in served:
            plan.keep[hook.id] = group
            served.add(group)
        elif hook.url == url or hook.id in ours:
            # At our URL without a secret we know, or ours at an old URL: we cannot verify what it sends.
            plan.delete.append(hook.id)
        else:
            plan.foreign.append(hook.id)
    remote_ids = {hook.id for hook in remote}
    plan.forget = sorted(ours - remote_ids)
    for group in ev.REGISTRATION_GROUPS:
        if group in served:
            continue
        holder = next((h for h in remote if h.id in plan.foreign and ev.CHECKED_IN in h.events), None)
        if ev.CHECKED_IN in group and holder is not None:
            plan.blocked.append(
                f"Another system holds the one {ev.CHECKED_IN} registration this MSN may have ({holder.url}); "
                "delete it there before the portal can receive check-ins."
            )
        else:
            plan.register.append(group)
    return plan


@dataclass
class SyncReport:
    ok: bool
    message: str
    retryable: bool = False
    changed: bool = False


def _sync_lock_key(sales_unit: SalesUnit) -> str:
    return f"webhooks-sync:{sales_unit.pk}"


def webhooks_sync(*, sales_unit: SalesUnit, actor=None) -> SyncReport:
    """Register what the portal needs at Vipps for this sales unit and repair what drifted (self-heal)."""
    from merchant_portal.tenancy.vipps import WrongEnvironment, vipps_client_for

    # A cache lock rather than a row lock: the Vipps calls must not hold a database transaction open.
    if not cache.add(_sync_lock_key(sales_unit), 1, timeout=120):
        return SyncReport(False, "A registration check for this sales unit is already running.", retryable=True)
    url = webhook_url()
    done: list[str] = []
    try:
        client = vipps_client_for(sales_unit)
        ours = {s.vipps_id: s for s in WebhookSubscription.objects.filter(sales_unit=sales_unit)}
        plan = webhooks_plan(remote=client.list_webhooks(), ours=set(ours), url=url)
        for vipps_id in plan.delete:
            client.delete_webhook(vipps_id)
            WebhookSubscription.objects.filter(vipps_id=vipps_id).delete()
            done.append(f"deleted {vipps_id}")
        if plan.forget:
            WebhookSubscription.objects.filter(sales_unit=sales_unit, vipps_id__in=plan.forget).delete()
            done.append(f"{len(plan.forget)} removed by Vipps")
        for group in plan.register:
            registration = client.register_webhook(url, list(group))
            # Vipps shows the secret this once: store it before anything else can fail.
            WebhookSubscription.objects.create(
                sales_unit=sales_unit, vipps_id=registration.id, url=url, events=list(group), secret=registration.secret
            )
            done.append(f"registered {'user.checked-in' if ev.CHECKED_IN in group else 'ePayment events'}")
        ok = not plan.blocked
        message = " ".join(plan.blocked) or ("Registrations repaired: " + "; ".join(done) if done else "Up to date.")
        report = SyncReport(ok, message, changed=bool(done))
    except WrongEnvironment as exc:
        report = SyncReport(False, str(exc))
    except VippsError as exc:
        report = SyncReport(False, f"Vipps: {exc}", retryable=exc.retryable, changed=bool(done))
    finally:
        cache.delete(_sync_lock_key(sales_unit))
    WebhookSync.objects.update_or_create(
        sales_unit=sales_unit, defaults={"checked_at": timezone.now(), "ok": report.ok, "message": report.message}
    )
    if report.changed or actor is not None:
        log_action(
            merchant=sales_unit.merchant,
            actor=actor,
            action="webhooks.synced",
            target=sales_unit,
            data={"ok": report.ok, "changes": done},
        )
    return report


# Ingest ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    status: int
    outcome: str
    reason: str = ""


REASON_MAX = 200  # WebhookDelivery.reason


def _loggable_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # No JSON column of PostgreSQL can hold NUL; a real server refuses such headers, a test client does not.
    return {str(k): str(v).replace("\x00", "\ufffd") for k, v in headers.items()}


def _reject(*, source: str, status: int, reason: str, body: bytes, headers: Mapping, remote_addr, sales_unit_id=None):
    reason = reason[:REASON_MAX]
    WebhookDelivery.objects.create(
        source=source,
        remote_addr=remote_addr,
        headers=_loggable_headers(headers),
        body=body[:REJECTED_BODY_KEPT].decode("utf-8", "replace"),
        outcome=Outcome.REJECTED,
        reason=reason,
        sales_unit_id=sales_unit_id,
    )
    logger.warning("inbound %s rejected (%s): %s", source, status, reason)
    return Receipt(status, Outcome.REJECTED, reason)


def _store(*, source: str, sales_unit_id: int, classified: ev.Classified, body: bytes, headers, remote_addr):
    # One INSERT, committed on its own: the cheapest durable write. Deduplication happens in the relay.
    # The body was decoded strictly at the door, so it is UTF-8.
    WebhookDelivery.objects.create(
        source=source,
        remote_addr=remote_addr,
        headers=_loggable_headers(headers),
        body=body.decode("utf-8"),
        outcome=Outcome.RECEIVED,
        sales_unit_id=sales_unit_id,
        event_type=classified.event_type,
        dedupe_key=classified.dedupe_key,
    )
    return Receipt(200, Outcome.RECEIVED)


def _store_quarantined(*, source: str, sales_unit_id: int, reason: str, body: bytes, headers, remote_addr):
    """A delivery Vipps signed that this version cannot read: kept (200, or Vipps would hold back that payment's
    later events), never filed on its own, shown in the event log, and filed by a replay after a fix."""
    try:
        text, encoding = body.decode("utf-8"), WebhookDelivery.BodyEncoding.TEXT
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(body).decode("ascii"), WebhookDelivery.BodyEncoding.BASE64
    reason = reason[:REASON_MAX]
    WebhookDelivery.objects.create(
        source=source,
        remote_addr=remote_addr,
        headers=_loggable_headers(headers),
        body=text,
        body_encoding=encoding,
        outcome=Outcome.QUARANTINED,
        reason=reason,
        sales_unit_id=sales_unit_id,
    )
    logger.warning("inbound %s quarantined: %s", source, reason)
    return Receipt(200, Outcome.QUARANTINED, reason)


SECRETS_TTL = 30.0
_secrets_cache: dict[tuple[str, str], tuple[float, list[tuple[int, str]]]] = {}


def secrets_cache_clear(**kwargs) -> None:
    _secrets_cache.clear()


def _secrets_for(msn: str, url: str, *, fresh: bool = False) -> list[tuple[int, str]]:
    """(sales unit id, secret) of every registration of this MSN at this URL, cached in the process for a few
    seconds; a signature that matches none of the cached secrets is checked again with fresh ones."""
    key = (msn, url)
    cached = _secrets_cache.get(key)
    if cached and not fresh and cached[0] > time.monotonic():
        return cached[1]
    found = list(
        WebhookSubscription.objects.filter(sales_unit__msn=msn, url=url).values_list("sales_unit_id", "secret")
    )
    if found:
        _secrets_cache[key] = (time.monotonic() + SECRETS_TTL, found)
    return found


def _freshness() -> Freshness:
    return Freshness(
        now=timezone.now(),
        max_age=timedelta(hours=settings.WEBHOOK_MAX_AGE_HOURS),
        skew=timedelta(seconds=settings.WEBHOOK_CLOCK_SKEW_SECONDS),
    )


def _only(sales_unit_ids) -> int | None:
    """The sales unit a refused hit is shown to: only when its MSN names exactly one. An MSN is unique per Vipps
    environment, so two merchants' units (test and production) can share it, and neither may see the other's."""
    ids = set(sales_unit_ids)
    return ids.pop() if len(ids) == 1 else None


def webhook_delivery_receive(*, body: bytes, headers: Mapping[str, str], remote_addr: str | None) -> Receipt:
    """Verify and store one Vipps delivery. Only database work: processing is picked up from the stored row.

    The MSN picks the secrets to verify with, and it is inside the body. A body the strict decoder refuses is
    searched leniently for it; if a secret of that MSN signed the raw bytes, the delivery is Vipps' and is kept
    quarantined (200) with the reason, otherwise it is refused like any unsigned hit."""
    source = WebhookDelivery.Source.VIPPS
    hit = {"source": source, "body": body, "headers": headers, "remote_addr": remote_addr}
    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        return _reject(status=413, reason=f"body over {settings.WEBHOOK_MAX_BODY_BYTES} bytes", **hit)
    if not all(headers.get(h) for h in ("x-ms-date", "x-ms-content-sha256", "authorization")):
        return _reject(status=401, reason="missing x-ms-date, x-ms-content-sha256 or Authorization header", **hit)
    classified, problem = None, ""
    try:
        payload = jsonbody.loads(body)
        msn = ev.msn_of(payload)
        classified = ev.classify(payload, body)
    except BodyError as exc:
        problem, msn = str(exc), ev.msn_sniff(body)
    except ev.PayloadError as exc:
        problem = str(exc)
    if msn is None:
        return _reject(status=400, reason=problem or "no msn in the payload", **hit)
    url = webhook_url()
    candidates = _secrets_for(msn, url)
    if not candidates:
        known = list(SalesUnit.objects.filter(msn=msn).values_list("pk", flat=True)[:2])
        reason = "no registration of this MSN at this URL" if known else "unknown MSN"
        return _reject(status=401 if known else 400, reason=reason, sales_unit_id=_only(known), **hit)
    freshness = _freshness()
    try:
        try:
            sales_unit_id = verify(url=url, body=body, headers=headers, candidates=candidates, freshness=freshness)
        except DateError:
            raise
        except SignatureError:
            candidates = _secrets_for(msn, url, fresh=True) or candidates  # a secret just registered
            sales_unit_id = verify(url=url, body=body, headers=headers, candidates=candidates, freshness=freshness)
    except SignatureError as exc:
        return _reject(status=401, reason=str(exc), sales_unit_id=_only({unit for unit, _ in candidates}), **hit)
    if classified is None:
        return _store_quarantined(sales_unit_id=sales_unit_id, reason=problem, **hit)
    return _store(sales_unit_id=sales_unit_id, classified=classified, **hit)


# Matched in full (re.fullmatch: `$` would let a trailing newline through). MerchantPosId is the integrator's own
# text: any characters but control characters, which no till name needs and which break logs and CSV exports.
POS_FIELDS = {
    "MerchantId": (re.compile(GUID), "a GUID"),
    "MerchantBrandId": (re.compile(r"(MPPOS|POSDK|POSFI)[A-Za-z0-9]{5}"), "MPPOSXXXXX, POSDKXXXXX or POSFIXXXXX"),
    "MerchantLocationId": (re.compile(r"[A-Za-z0-9]{5}"), "exactly 5 letters or digits"),
    "MerchantPosId": (re.compile(r".{1,36}", re.DOTALL), "1 to 36 characters, without control characters"),
    "PosId": (re.compile(GUID), "a GUID"),
}


def _pos_merchant_matches(*, sales_unit_id: int, merchant_id: str) -> bool:
    """A notification must name the MobilePay MerchantId the sales unit is known by, once it is known. It is
    learnt only from a notification that MobilePay confirmed (pos_merchant_id_learn): the endpoint is
    unauthenticated, so a forged first notification must not be able to lock the real one out."""
    known = PosMerchantId.objects.filter(sales_unit_id=sales_unit_id).values_list("merchant_id", flat=True).first()
    return known is None or known == merchant_id.lower()


def pos_merchant_id_learn(*, sales_unit_id: int, merchant_id: str) -> bool:
    """Record the MerchantId of a notification whose check-in MobilePay confirmed (its check-in lookup, made with
    our own credentials, found a customer at that PosId). False when another one is already known."""
    merchant_id = merchant_id.lower()
    try:
        with transaction.atomic():
            PosMerchantId.objects.get_or_create(sales_unit_id=sales_unit_id, defaults={"merchant_id": merchant_id})
    except IntegrityError:  # a concurrent first confirmation
        pass
    return PosMerchantId.objects.filter(sales_unit_id=sales_unit_id, merchant_id=merchant_id).exists()


def pos_notification_receive(*, body: bytes, headers: Mapping[str, str], remote_addr: str | None) -> Receipt:
    """A MobilePay PoS v10 notification: someone checked in at PosId; a task asks MobilePay who (CONTRACTS §6.1)."""
    from qrcodes.models import Location

    source = WebhookDelivery.Source.MOBILEPAY_POS
    hit = {"source": source, "body": body, "headers": headers, "remote_addr": remote_addr}
    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        return _reject(status=413, reason=f"body over {settings.WEBHOOK_MAX_BODY_BYTES} bytes", **hit)
    try:
        payload = jsonbody.loads(body)
    except BodyError as exc:
        return _reject(status=400, reason=str(exc), **hit)
    if not isinstance(payload, dict):
        return _reject(status=400, reason="body is not a JSON object", **hit)
    problems = [
        f"{name} must be {rule}"
        for name, (pattern, rule) in POS_FIELDS.items()
        if not isinstance(payload.get(name), str)
        or not pattern.fullmatch(payload[name])
        or control_character(payload[name]) is not None
    ]
    if problems:
        return _reject(status=400, reason="; ".join(problems), **hit)
    pos_id = payload["PosId"].lower()
    locations = list(
        Location.objects.filter(mobilepay_pos_id__iexact=pos_id).values_list("sales_unit_id", flat=True)[:2]
    )
    if not locations:
        return _reject(status=404, reason="no location is mapped to this PosId", **hit)
    if len(locations) > 1:
        # Never pick one: the check-in (and its customer token) would land with whichever merchant sorts first.
        return _reject(status=409, reason="this PosId is mapped to more than one location; nothing was routed", **hit)
    (sales_unit_id,) = locations
    if not _pos_merchant_matches(sales_unit_id=sales_unit_id, merchant_id=payload["MerchantId"]):
        return _reject(
            status=409,
            reason="MerchantId is not the MobilePay merchant this PosId belongs to",
            sales_unit_id=sales_unit_id,
            **hit,
        )
    # The notification carries no id of its own: each one is kept, and the check-in it leads to is deduplicated.
    classified = ev.Classified(ev.MOBILEPAY_POS_NOTIFICATION, "", f"{pos_id}|{uuid.uuid4()}")
    return _store(sales_unit_id=sales_unit_id, classified=classified, **hit)


# Processing (outbox relay, worker, sweeper) ------------------------------------------------------------------


def _retry_delay(attempts: int, limit: int = MAX_ATTEMPTS) -> timedelta | None:
    """The backoff after `attempts` failures, or None once the item is to be quarantined."""
    if attempts >= limit:
        return None
    return timedelta(seconds=min(3600, 15 * 2**attempts))


def _settle(event: WebhookEvent, status: str, detail: str, retry_in: timedelta | None) -> None:
    now = timezone.now()
    WebhookEvent.objects.filter(pk=event.pk, status__in=RUNNABLE).update(
        status=status,
        attempts=F("attempts") + 1,
        detail=detail[:2000],
        next_attempt_at=now + retry_in if retry_in is not None else None,
    )


def webhook_event_process(*, event_id: int) -> str | None:
    """Apply one stored event once. Safe to call any number of times, concurrently: the status is re-checked
    under a row lock in the transaction that applies the event and marks it processed."""
    event = WebhookEvent.objects.select_related("sales_unit").filter(pk=event_id, status__in=RUNNABLE).first()
    if event is None:
        return None
    handler = handler_for(event.event_type)
    if handler is None:
        _settle(event, Status.HELD, "No handler for this event type in this version; kept for replay.", None)
        return Status.HELD
    try:
        prepared = handler.prepare(event) if handler.prepare else None
        with transaction.atomic():
            locked = WebhookEvent.objects.select_for_update().filter(pk=event.pk, status__in=RUNNABLE).first()
            if locked is None:
                return None
            locked.sales_unit = event.sales_unit
            handler.apply(locked, prepared)
            WebhookEvent.objects.filter(pk=event.pk).update(
                status=Status.PROCESSED,
                processed_at=timezone.now(),
                attempts=F("attempts") + 1,
                detail="",
                next_attempt_at=None,
            )
        return Status.PROCESSED
    except Park as exc:
        _settle(event, Status.PARKED, exc.reason, timedelta(seconds=exc.retry_in))
        return Status.PARKED
    except Discard as exc:
        _settle(event, Status.FAILED, str(exc), None)
        return Status.FAILED
    except Exception as exc:
        logger.exception("processing webhook event %s failed", event.pk)
        retry_in = _retry_delay(event.attempts + 1)
        status = Status.FAILED if retry_in is not None else Status.QUARANTINED
        _settle(event, status, f"{type(exc).__name__}: {exc}", retry_in)
        return status


def _due() -> Q:
    return Q(status=Status.PENDING) | Q(status__in=[Status.PARKED, Status.FAILED], next_attempt_at__lte=timezone.now())


def _raw_body(delivery: WebhookDelivery) -> bytes:
    if delivery.body_encoding == WebhookDelivery.BodyEncoding.BASE64:
        return base64.b64decode(delivery.body)
    return delivery.body.encode("utf-8")


def _file_one(delivery: WebhookDelivery) -> None:
    """File one delivery as an event (or as a duplicate of one). Raises BodyError or PayloadError when the
    stored body can never become an event in this version."""
    payload = jsonbody.loads(_raw_body(delivery))
    if not delivery.event_type:  # kept quarantined at the door: classified only now, once it can be read
        classified = ev.classify(payload, _raw_body(delivery))
        msn = SalesUnit.objects.filter(pk=delivery.sales_unit_id).values_list("msn", flat=True).first()
        if classified.msn != msn:
            raise ev.PayloadError("the msn in the body is not the one whose secret signed it")
        delivery.event_type, delivery.dedupe_key = classified.event_type, classified.dedupe_key
    # Handlers read the event's body with json.loads: give them plain JSON text, without a byte-order mark.
    if delivery.body_encoding == WebhookDelivery.BodyEncoding.BASE64:
        body = json.dumps(payload, ensure_ascii=False)
    else:
        body = delivery.body.removeprefix("\ufeff")
    fields = {
        "sales_unit_id": delivery.sales_unit_id,
        "event_type": delivery.event_type,
        "dedupe_key": delivery.dedupe_key,
    }
    try:
        with transaction.atomic():
            delivery.event = WebhookEvent.objects.create(**fields, payload=mask_json(payload), body=body)
        delivery.outcome = Outcome.ACCEPTED
    except IntegrityError:
        delivery.event = WebhookEvent.objects.get(**fields)
        delivery.outcome = Outcome.DUPLICATE
    delivery.save(update_fields=["event", "outcome", "event_type", "dedupe_key"])


def webhook_deliveries_file(*, limit: int = 1000) -> int:
    """Turn received deliveries into events; the unique constraint makes a repeated event a duplicate.

    Each delivery is filed in a savepoint of its own: one that fails is rolled back alone, counted, backed off
    and, when it can never be read (or failed FILE_ATTEMPTS times), quarantined. The rest of the batch, and
    every later batch, goes on."""
    now = timezone.now()
    with transaction.atomic():
        deliveries = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), outcome=Outcome.RECEIVED)
            .order_by("pk")[:limit]
        )
        for delivery in deliveries:
            try:
                with transaction.atomic():
                    _file_one(delivery)
                continue
            except (BodyError, ev.PayloadError) as exc:
                retry_in, reason = None, str(exc)  # the same bytes fail the same way: no point retrying
            except Exception as exc:
                logger.exception("filing webhook delivery %s failed", delivery.pk)
                retry_in, reason = _retry_delay(delivery.attempts + 1, FILE_ATTEMPTS), f"{type(exc).__name__}: {exc}"
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                outcome=Outcome.RECEIVED if retry_in is not None else Outcome.QUARANTINED,
                attempts=F("attempts") + 1,
                reason=reason[:REASON_MAX],
                next_attempt_at=now + retry_in if retry_in is not None else None,
            )
            if retry_in is None:
                logger.warning("webhook delivery %s quarantined: %s", delivery.pk, reason)
    return len(deliveries)


def webhook_events_relay(*, limit: int = 500) -> int:
    """File received deliveries, then publish a processing task for every due event. The claim is committed
    first, so a worker never waits for this transaction; if the broker is down, the rows not yet published are
    made due again and the next run retries: processing is delayed, nothing is lost."""
    from .tasks import process_webhook_event

    try:
        webhook_deliveries_file()
    except Exception:  # e.g. the database briefly gone: events already filed are still published
        logger.exception("filing webhook deliveries failed")
    with transaction.atomic():
        pks = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(_due())
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        WebhookEvent.objects.filter(pk__in=pks).update(status=Status.QUEUED, queued_at=timezone.now())
    for published, pk in enumerate(pks):
        try:
            process_webhook_event.delay(pk)
        except Exception:
            # The broker, not the row: every row would fail alike, so none is counted against.
            WebhookEvent.objects.filter(pk__in=pks[published:], status=Status.QUEUED).update(status=Status.PENDING)
            raise
    return len(pks)


def webhook_events_sweep(*, stale_after: timedelta = timedelta(minutes=2)) -> int:
    """Queued events whose task never ran (a broker that lost it, a worker killed with it) are made due again.
    A second task for an event still in a queue is harmless: processing re-checks the status. Each sweep counts
    as an attempt, so an event that kills its worker every time ends quarantined instead of looping."""
    stale = WebhookEvent.objects.filter(status=Status.QUEUED, queued_at__lt=timezone.now() - stale_after)
    quarantined = stale.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        status=Status.QUARANTINED,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
        detail="Its processing never finished (a lost task or a worker that died with it), too many times.",
    )
    count = stale.update(status=Status.PENDING, attempts=F("attempts") + 1)
    if count or quarantined:
        logger.warning("re-queued %d webhook events whose task did not run; quarantined %d", count, quarantined)
    return count


def webhook_event_replay(*, event: WebhookEvent, actor) -> None:
    # attempts starts again: a replay follows a fix, and the event deserves its full number of tries.
    WebhookEvent.objects.filter(pk=event.pk).update(status=Status.PENDING, next_attempt_at=None, detail="", attempts=0)
    log_action(
        merchant=event.sales_unit.merchant,
        actor=actor,
        action="webhook_event.replayed",
        target=event,
        data={"event_type": event.event_type, "was": event.status},
    )


def _deliveries_refile(deliveries) -> int:
    return deliveries.filter(outcome=Outcome.QUARANTINED).update(
        outcome=Outcome.RECEIVED, attempts=0, next_attempt_at=None, reason=""
    )


def webhook_delivery_replay(*, delivery: WebhookDelivery, actor) -> None:
    """File a quarantined delivery again (after a fix); the relay picks it up on its next pass."""
    _deliveries_refile(WebhookDelivery.objects.filter(pk=delivery.pk))
    log_action(
        merchant=delivery.sales_unit.merchant,
        actor=actor,
        action="webhook_delivery.replayed",
        target=delivery,
        data={"was": delivery.outcome, "reason": delivery.reason},
    )


def webhook_events_replay(
    *,
    merchant: Merchant | None,
    since: datetime,
    actor,
    statuses: tuple[str, ...] = (Status.FAILED, Status.QUARANTINED),
) -> int:
    """Replay every event in `statuses` received since `since` (one merchant, or all for the command line);
    with the quarantined status, quarantined deliveries are filed again too."""
    events = WebhookEvent.objects.filter(status__in=statuses, received_at__gte=since)
    deliveries = WebhookDelivery.objects.filter(received_at__gte=since)
    if merchant is not None:
        events = events.for_merchant(merchant)
        deliveries = deliveries.for_merchant(merchant)
    count = events.update(status=Status.PENDING, next_attempt_at=None, detail="", attempts=0)
    if Status.QUARANTINED in statuses:
        count += _deliveries_refile(deliveries)
    if merchant is not None:
        log_action(
            merchant=merchant,
            actor=actor,
            action="webhook_events.replayed",
            data={"since": since.isoformat(), "statuses": list(statuses), "count": count},
        )
    return count


def webhook_data_prune(*, days: int | None = None) -> tuple[int, int]:
    """Delete deliveries and settled events older than the retention period."""
    cutoff = timezone.now() - timedelta(days=days if days is not None else settings.WEBHOOK_RETENTION_DAYS)
    deliveries, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).exclude(outcome=Outcome.RECEIVED).delete()
    settled = [Status.PROCESSED, Status.FAILED, Status.HELD, Status.QUARANTINED]
    events, _ = WebhookEvent.objects.filter(received_at__lt=cutoff, status__in=settled).delete()
    return deliveries, events


def webhooks_quarantined_count() -> int:
    """Quarantined events and deliveries of every merchant (for /healthz)."""
    return (
        WebhookEvent.objects.filter(status=Status.QUARANTINED).count()
        + WebhookDelivery.objects.filter(outcome=Outcome.QUARANTINED).count()
    )
