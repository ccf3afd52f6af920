import hmac

from django.db.models import Prefetch, QuerySet

from merchant_portal.tenancy.models import Merchant
from qrcodes.models import Location

from .models import KEY_SCHEME, ApiKey, WebhookAttempt, WebhookDelivery, WebhookEndpoint


def api_key_for_token(*, token: str) -> ApiKey | None:
    """The active key this token belongs to, or None (unknown, malformed or revoked)."""
    from .services import api_key_hash

    scheme, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        return None
    # The prefix is unique: no ordering, no LIMIT 21 of get().
    key = next(iter(ApiKey.objects.select_related("merchant").filter(prefix=prefix, revoked_at__isnull=True)[:1]), None)
    if key is None or not hmac.compare_digest(key.key_hash, api_key_hash(token)):
        return None
    return key


def api_keys_for_merchant(*, merchant: Merchant) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.for_merchant(merchant)
        .select_related("created_by", "webhook")
        .prefetch_related("sales_units", Prefetch("locations", queryset=Location.objects.select_related("sales_unit")))
        .order_by("revoked_at", "-created_at")
    )


def scope_for_key(queryset: QuerySet, *, api_key: ApiKey, sales_unit_path: str, location_path: str | None) -> QuerySet:
    """Narrow a merchant's queryset to the key's sales units and locations (when the key is limited)."""
    unit_ids, location_ids = api_key.limits()
    if unit_ids:
        queryset = queryset.filter(**{f"{sales_unit_path}__in": sorted(unit_ids)})
    if location_ids:
        if location_path is None:
            # Rows not tied to a location (a sales unit itself) are visible only through the locations' units.
            from qrcodes.models import Location

            units = Location.objects.filter(pk__in=sorted(location_ids)).values("sales_unit")
            return queryset.filter(**{f"{sales_unit_path}__in": units})
        queryset = queryset.filter(**{f"{location_path}__in": sorted(location_ids)})
    return queryset


def webhook_endpoint_for_key(*, api_key: ApiKey) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(api_key=api_key).select_related("api_key").first()


def webhook_deliveries_for_endpoint(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id").defer("body")


def webhook_attempts_for_delivery(*, delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(delivery=delivery).order_by("-started_at", "-id")


def webhook_deliveries_quarantined_count() -> int:
    """For /healthz: deliveries given up because the portal itself failed on them, in the whole installation."""
    return WebhookDelivery.objects.filter(state=WebhookDelivery.State.QUARANTINED).count()
