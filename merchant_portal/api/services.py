import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from merchant_portal.audit.services import log_action
from merchant_portal.tenancy.models import Merchant

from .models import KEY_SCHEME, ApiKey, IdempotencyRecord

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
    key = ApiKey(merchant=merchant, name=name, prefix=prefix, key_hash=api_key_hash(token), access=access)
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
        log_action(merchant=api_key.merchant, actor=actor, action="api_key.revoked", target=api_key)


def api_key_touch(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


def idempotency_records_purge(*, older_than: timedelta) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
