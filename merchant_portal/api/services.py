import hashlib
import json
import logging
import random
import secrets
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from merchant_portal.audit.services import log_action
from merchant_portal.tenancy.models import Merchant

from . import outbound
from .models import (
    KEY_SCHEME,
    TEST_EVENT,
    ApiKey,
    IdempotencyRecord,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)

logger = logging.getLogger(__name__)

# `last_used_at` is written at most this often per key, so reads do not turn into a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, merchant: Merchant, actor, name: str, access: str, sales_units=(), locations=()
) -> tuple[ApiKey, str]:
    """A new key and its plaintext, which is shown once and never stored."""
    if any(unit.merchant_id != merchant.pk for unit in sales_units) or any(
        location.sales_unit.merchant_id != merchant.pk for location in locations
    ):
        raise ValidationError("Choose sales units and locations of this merchant.")
    prefix = secrets.token_hex(4)
    token = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        merchant=merchant,
        name=name,
        prefix=prefix,
        key_hash=api_key_hash(token),
        access=access,
        limited=bool(sales_units or locations),
    )
    key.created_by = actor
    key.full_clean()
    key.save()
    key.sales_units.set(sales_units)
    key.locations.set(locations)
    log_action(
        merchant=merchant,
        actor=actor,
        action="api_key.created",
        target=key,
        data={
            "access": access,
            "sales_units": sorted(unit.pk for unit in sales_units),
            "locations": sorted(location.pk for location in locations),
        },
    )
    return key, token


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor) -> None:
    if ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        _deliveries_cancel(WebhookDelivery.objects.filter(endpoint__api_key=api_key), "The API key was revoked.")
        log_action(merchant=api_key.merchant, actor=actor, action="api_key.revoked", target=api_key)


def api_key_touch(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


def idempotency_records_purge(*, older_than: timedelta) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


# Outbound webhooks to POS vendors ---------------------------------------------------------------------------------
#
# No event is lost: `vendor_events_emit` writes one WebhookDelivery per matching endpoint in the transaction that
# changed the check-in or payment (an outbox), and a task is queued only once that commits. The task makes the
# first attempt at once; every later one is scheduled in the row (`next_attempt_at`) and made by the beat job
# `webhook_deliveries_drain`, so day-long retries never sit in the broker. One attempt at a time: it starts by
# taking a lease on the row with a compare-and-set, and its outcome is written only while it still holds that
# lease. A worker that dies between sending and recording leaves the row due with a lease that runs out, so the
# event is sent again, with the same `webhook-id`: at least once, and receivers deduplicate on the id.

# The Standard Webhooks example schedule: after the first attempt, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h
# and 24 h (about 3 days in all), each ±10 % so that retries of many failed deliveries spread out.
RETRY_SCHEDULE = tuple(
    timedelta(seconds=seconds) for seconds in (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
RETRY_JITTER = 0.1
# Longer than the connect and read timeouts together, so a live attempt is never taken over.
DELIVERY_LEASE = timedelta(seconds=60)
# After a rotation the old secret signs too for this long, so receivers can switch without losing events.
SECRET_ROTATION_OVERLAP = timedelta(hours=24)
DELIVERY_RETENTION = timedelta(days=30)


class Outcome:
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    GONE = "gone"
    CANCELLED = "cancelled"
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"  # not due, already settled, or another worker holds it


def retry_delay(*, attempts: int, retry_after: float | None = None) -> timedelta | None:
    """How long after the `attempts`-th failed attempt the next one is made; None when the schedule is over.
    A longer Retry-After from the receiver is honoured (up to the schedule's longest step)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    seconds = RETRY_SCHEDULE[attempts - 1].total_seconds() * random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)
    if retry_after:
        seconds = max(seconds, min(retry_after, RETRY_SCHEDULE[-1].total_seconds()))
    return timedelta(seconds=seconds)


def _url_for_log(url: str) -> str:
    """The endpoint without query string or credentials, which may carry a receiver's own token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _event_body(event_type: str, data: dict) -> str:
    envelope = {"type": event_type, "timestamp": _iso(timezone.now()), "data": data}
    # Compact and ASCII-only: the bytes sent are exactly the signed string, whatever the receiver's decoding.
    return json.dumps(envelope, separators=(",", ":"), cls=DjangoJSONEncoder)


def _event_data(instance) -> dict:
    """The REST API's representation of the object: the same fields (masked phone, no customerToken)."""
    from payments.models import CheckIn, Payment

    from .resources.checkins import CheckInSerializer
    from .resources.payments import PaymentSerializer

    if isinstance(instance, CheckIn):
        return dict(CheckInSerializer(instance).data)
    if isinstance(instance, Payment):
        return dict(PaymentSerializer(instance).data)
    raise TypeError(f"No webhook representation for {type(instance).__name__}.")


def _key_sees(api_key: ApiKey, *, sales_unit_id: int, location_id: int | None) -> bool:
    """The rule of `selectors.scope_for_key`, for one object: a key limited to sales units or locations hears
    only of those (a payment without a location is outside every location limit)."""
    unit_ids = {unit.pk for unit in api_key.sales_units.all()}
    location_ids = {location.pk for location in api_key.locations.all()}
    if unit_ids and sales_unit_id not in unit_ids:
        return False
    return not location_ids or location_id in location_ids


def _delivery_create(endpoint: WebhookEndpoint, event_type: str, body: str) -> WebhookDelivery:
    from .tasks import deliver_webhook

    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=f"msg_{secrets.token_hex(16)}",
        event_type=event_type,
        body=body,
        next_attempt_at=timezone.now(),
    )
    deliver_webhook.delay_on_commit(delivery.pk)
    return delivery


def vendor_events_emit(*, event_type: str, instance) -> list[WebhookDelivery]:
    """Queue `event_type` about a check-in or payment for every enabled endpoint of an active key that
    subscribed to it and may see the object. Call it inside the transaction that made the change."""
    if event_type not in WebhookEventType.values:
        raise ValueError(f"Unknown webhook event type {event_type!r}.")
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            enabled=True,
            api_key__revoked_at__isnull=True,
            api_key__merchant__sales_units=instance.sales_unit_id,
        )
        .select_related("api_key")
        .prefetch_related("api_key__sales_units", "api_key__locations")
        if endpoint.subscribes_to(event_type)
        and _key_sees(endpoint.api_key, sales_unit_id=instance.sales_unit_id, location_id=instance.location_id)
    ]
    if not endpoints:
        return []
    body = _event_body(event_type, _event_data(instance))
    return [_delivery_create(endpoint, event_type, body) for endpoint in endpoints]


def _check_event_types(event_types) -> list[str]:
    chosen = [value for value in WebhookEventType.values if value in set(event_types)]
    if not chosen or len(chosen) != len(set(event_types)):
        raise ValidationError({"event_types": [_("Choose one or more of the listed events.")]})
    return chosen


def webhook_endpoint_save(*, api_key: ApiKey, actor, url: str, event_types) -> tuple[WebhookEndpoint, bool]:
    """Set up or change a key's webhook. Returns the endpoint and whether it is new (its secret is then shown)."""
    if not api_key.is_active:
        raise ValidationError(_("This API key is revoked."))
    problem = outbound.url_problem(url)
    if problem:
        raise ValidationError({"url": [problem]})
    chosen = _check_event_types(event_types)
    try:
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.select_for_update().filter(api_key=api_key).first()
            created = endpoint is None
            if created:
                endpoint = WebhookEndpoint(api_key=api_key, secret=outbound.secret_new())
            endpoint.url = url
            endpoint.event_types = chosen
            endpoint.save()
            log_action(
                merchant=api_key.merchant,
                actor=actor,
                action="api_key.webhook_created" if created else "api_key.webhook_updated",
                target=api_key,
                data={"url": _url_for_log(url), "event_types": chosen},
            )
    except IntegrityError:  # set up by a concurrent request (the key has one endpoint)
        raise ValidationError(_("The webhook was just set up by someone else; reload the page.")) from None
    return endpoint, created


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor) -> WebhookEndpoint:
    """A new signing secret; the old one keeps signing alongside it for SECRET_ROTATION_OVERLAP."""
    locked = WebhookEndpoint.objects.select_for_update().select_related("api_key__merchant").get(pk=endpoint.pk)
    locked.previous_secret = locked.secret
    locked.previous_secret_until = timezone.now() + SECRET_ROTATION_OVERLAP
    locked.secret = outbound.secret_new()
    locked.save(update_fields=["previous_secret", "previous_secret_until", "secret", "updated_at"])
    log_action(
        merchant=locked.api_key.merchant, actor=actor, action="api_key.webhook_secret_rotated", target=locked.api_key
    )
    return locked


def _deliveries_cancel(deliveries, reason: str) -> int:
    """Cancel waiting deliveries. One being sent right now is left to its attempt, which sees the change."""
    now = timezone.now()
    return (
        deliveries.filter(state=WebhookDelivery.State.PENDING)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(state=WebhookDelivery.State.CANCELLED, next_attempt_at=None, last_error=reason[:300])
    )


@transaction.atomic
def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, actor, reason: str) -> bool:
    """Stop sending. Deliveries still waiting are cancelled (a resend can bring each back)."""
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_reason=reason[:200], disabled_at=timezone.now()
    ):
        return False
    _deliveries_cancel(endpoint.deliveries.all(), "The webhook was disabled.")
    api_key = ApiKey.objects.select_related("merchant").get(pk=endpoint.api_key_id)
    log_action(
        merchant=api_key.merchant,
        actor=actor,
        action="api_key.webhook_disabled",
        target=api_key,
        data={"reason": reason},
    )
    return True


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint, actor) -> bool:
    if not endpoint.api_key.is_active:
        raise ValidationError(_("This API key is revoked."))
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=False).update(
        enabled=True, disabled_reason="", disabled_at=None
    ):
        return False
    log_action(
        merchant=endpoint.api_key.merchant, actor=actor, action="api_key.webhook_enabled", target=endpoint.api_key
    )
    return True


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor) -> None:
    api_key = endpoint.api_key
    log_action(
        merchant=api_key.merchant,
        actor=actor,
        action="api_key.webhook_deleted",
        target=api_key,
        data={"url": _url_for_log(endpoint.url)},
    )
    endpoint.delete()


def _check_sendable(endpoint: WebhookEndpoint) -> None:
    if not endpoint.api_key.is_active:
        raise ValidationError(_("This API key is revoked."))
    if not endpoint.enabled:
        raise ValidationError(_("The webhook is disabled: enable it first."))


@transaction.atomic
def webhook_test_send(*, endpoint: WebhookEndpoint, actor) -> WebhookDelivery:
    """A `webhook.test` event, delivered (and retried) like any other."""
    _check_sendable(endpoint)
    api_key = endpoint.api_key
    data = {"api_key": {"name": api_key.name, "prefix": api_key.prefix}, "merchant": api_key.merchant.slug}
    delivery = _delivery_create(endpoint, TEST_EVENT, _event_body(TEST_EVENT, data))
    log_action(
        merchant=api_key.merchant,
        actor=actor,
        action="api_key.webhook_test_sent",
        target=api_key,
        data={"webhook_id": delivery.message_id},
    )
    return delivery


@transaction.atomic
def webhook_delivery_resend(*, delivery: WebhookDelivery, actor) -> None:
    """Send a delivery again, now, with a fresh retry schedule and the same body and `webhook-id` (it is the
    same event: a receiver that already has it may ignore it)."""
    from .tasks import deliver_webhook

    endpoint = delivery.endpoint
    _check_sendable(endpoint)
    now = timezone.now()
    if (
        not WebhookDelivery.objects.filter(pk=delivery.pk)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(
            state=WebhookDelivery.State.PENDING,
            attempts=0,
            next_attempt_at=now,
            delivered_at=None,
            leased_until=None,
            lease_token="",
        )
    ):
        raise ValidationError(_("This delivery is being sent right now; try again in a minute."))
    log_action(
        merchant=endpoint.api_key.merchant,
        actor=actor,
        action="api_key.webhook_resent",
        target=endpoint.api_key,
        data={"webhook_id": delivery.message_id, "event_type": delivery.event_type},
    )
    deliver_webhook.delay_on_commit(delivery.pk)


def _signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    keys = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        keys.append(endpoint.previous_secret)
    return keys


def webhook_delivery_attempt(*, delivery_id: int) -> str:
    """Make one attempt of a due delivery, if no one else is making one. Safe to call any number of times,
    concurrently, and after a crash (see the comment above RETRY_SCHEDULE)."""
    now = timezone.now()
    token = secrets.token_hex(16)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + DELIVERY_LEASE, lease_token=token, attempts=F("attempts") + 1)
    )
    if not claimed:
        return Outcome.SKIPPED
    try:
        return _attempt_make(delivery_id, token=token, started_at=now)
    except Exception as exc:
        # A bug, a secret that no longer decrypts, a stored URL or body that cannot be sent: this row's problem,
        # so it is recorded on the row and retried on the schedule, never raised into the drain or the task.
        logger.exception("webhook delivery %s: the attempt failed inside the portal", delivery_id)
        return _attempt_failed_inside(
            delivery_id,
            token=token,
            started_at=now,
            reason=f"The portal failed on this delivery ({type(exc).__name__}); the details are in its log.",
        )


def _attempt_make(delivery_id: int, *, token: str, started_at: datetime) -> str:
    now = started_at
    attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
    if attempts > MAX_ATTEMPTS:
        # Only attempts that never recorded an outcome get here (a worker killed each time, e.g. out of memory).
        return _attempt_failed_inside(
            delivery_id,
            token=token,
            started_at=now,
            reason="Earlier attempts stopped before their outcome was recorded.",
        )
    delivery = WebhookDelivery.objects.select_related("endpoint__api_key__merchant").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled or not endpoint.api_key.is_active:
        WebhookDelivery.objects.filter(pk=delivery_id, lease_token=token).update(
            state=WebhookDelivery.State.CANCELLED,
            attempts=F("attempts") - 1,  # nothing was sent
            next_attempt_at=None,
            leased_until=None,
            lease_token="",
            last_error="The webhook was disabled.",
        )
        return Outcome.CANCELLED
    headers = outbound.signed_headers(
        secrets_=_signing_secrets(endpoint, now), message_id=delivery.message_id, body=delivery.body
    )
    answer = outbound.post(url=endpoint.url, body=delivery.body, headers=headers)
    outcome = _attempt_record(delivery, token=token, started_at=now, answer=answer)
    logger.info(
        "webhook %s (%s) attempt %d: %s %s",
        delivery.message_id,
        delivery.event_type,
        delivery.attempts,
        answer.status_code or answer.error,
        outcome,
    )
    return outcome


def _attempt_failed_inside(delivery_id: int, *, token: str, started_at: datetime, reason: str) -> str:
    """Record an attempt that failed in the portal itself; retry it on the schedule like a receiver's failure,
    and quarantine the delivery when the schedule is over (a Resend brings it back)."""
    State = WebhookDelivery.State
    now = timezone.now()
    with transaction.atomic():
        mine = WebhookDelivery.objects.filter(pk=delivery_id, state=State.PENDING, lease_token=token)
        attempts = mine.values_list("attempts", flat=True).first()
        if attempts is None:  # the lease ran out and another attempt took the row over
            return Outcome.SKIPPED
        WebhookAttempt.objects.create(
            delivery_id=delivery_id,
            started_at=started_at,
            duration_ms=max(0, int((now - started_at).total_seconds() * 1000)),
            error=reason[:300],
        )
        common = {"leased_until": None, "lease_token": "", "last_status_code": None}
        delay = retry_delay(attempts=attempts) if attempts <= MAX_ATTEMPTS else None
        if delay is None:
            quarantined = f"Quarantined after {attempts} attempts. {reason}"
            mine.update(state=State.QUARANTINED, next_attempt_at=None, last_error=quarantined[:300], **common)
            return Outcome.QUARANTINED
        mine.update(next_attempt_at=now + delay, last_error=reason[:300], **common)
        return Outcome.RETRY


def _attempt_record(delivery: WebhookDelivery, *, token: str, started_at: datetime, answer: outbound.Answer) -> str:
    """Write the attempt and, while this attempt still holds the lease, the delivery's new state."""
    State = WebhookDelivery.State
    now = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            started_at=started_at,
            duration_ms=answer.duration_ms,
            status_code=answer.status_code,
            response_excerpt=answer.excerpt,
            error=answer.error[:300],
        )
        mine = WebhookDelivery.objects.filter(pk=delivery.pk, state=State.PENDING, lease_token=token)
        common = {"leased_until": None, "lease_token": "", "last_status_code": answer.status_code}
        if answer.ok:
            mine.update(state=State.DELIVERED, delivered_at=now, next_attempt_at=None, last_error="", **common)
            return Outcome.DELIVERED
        if answer.gone:
            # Standard Webhooks: 410 means the receiver wants no more webhooks from us.
            reason = f"The endpoint answered 410 Gone at {_iso(now)}."
            if mine.update(state=State.FAILED, next_attempt_at=None, last_error=reason, **common):
                webhook_endpoint_disable(endpoint=delivery.endpoint, actor=None, reason=reason)
            return Outcome.GONE
        delay = retry_delay(attempts=delivery.attempts, retry_after=answer.retry_after)
        if delay is None:
            gave_up = f"Gave up after {delivery.attempts} attempts. {answer.error}".strip()
            mine.update(state=State.FAILED, next_attempt_at=None, last_error=gave_up[:300], **common)
            return Outcome.FAILED
        mine.update(next_attempt_at=now + delay, last_error=answer.error[:300], **common)
        return Outcome.RETRY


def webhook_deliveries_drain(*, limit: int = 100, budget_seconds: float = 60.0) -> int:
    """The beat job: attempt the deliveries that are due (retries, and first attempts whose task was lost),
    oldest first, for at most `budget_seconds`. Each is claimed by `webhook_delivery_attempt`'s compare-and-set,
    so overlapping runs and the tasks never attempt one delivery twice at once. Returns the attempts made."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    deadline = time.monotonic() + budget_seconds
    made = 0
    for pk in due:
        if time.monotonic() > deadline:
            break
        try:
            if webhook_delivery_attempt(delivery_id=pk) != Outcome.SKIPPED:
                made += 1
        except Exception:  # one broken row must not stop the others; its lease runs out and it is tried again
            logger.exception("webhook delivery %s: attempt failed", pk)
    return made


def webhook_deliveries_prune(*, older_than: timedelta = DELIVERY_RETENTION) -> int:
    """Delete settled deliveries (delivered, failed, cancelled) and their attempts after the retention period."""
    deleted, _counts = (
        WebhookDelivery.objects.filter(created_at__lt=timezone.now() - older_than)
        .exclude(state=WebhookDelivery.State.PENDING)
        .delete()
    )
    return deleted
