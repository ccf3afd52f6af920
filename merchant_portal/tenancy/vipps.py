"""The portal's side of the `vipps` client: configuration from settings, a shared token cache, one client
per sales unit.

VIPPS_BASE_URL says which Vipps the portal talks to (the local sandbox by default, the test environment or
production). A sales unit's keys belong to one of those environments; using them against another is refused
here with a clear message instead of an opaque 401 from Vipps.
"""

import ipaddress
import logging
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from merchant_portal.core.crypto import decrypt, encrypt
from vipps import CallRecord, Credentials, VippsClient, VippsConfig

from .models import Environment, SalesUnit, VippsCall

logger = logging.getLogger(__name__)

_KNOWN_HOSTS = {"api.vipps.no": Environment.PRODUCTION, "apitest.vipps.no": Environment.TEST}


class WrongEnvironment(ValueError):
    pass


class DjangoTokenCache:
    """Access tokens shared by every web and worker process through Django's cache, encrypted there."""

    def get(self, key: str) -> str | None:
        value = cache.get(key)
        return decrypt(value) if value else None

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        if ttl_seconds > 0:
            cache.set(key, encrypt(value), ttl_seconds)


def portal_environment() -> str | None:
    """Which Vipps environment VIPPS_BASE_URL is, or None for an address we cannot tell (e.g. a proxy)."""
    host = urlsplit(settings.VIPPS_BASE_URL).hostname or ""
    if host in _KNOWN_HOSTS:
        return _KNOWN_HOSTS[host]
    try:
        if host == "localhost" or ipaddress.ip_address(host).is_loopback:
            return Environment.SANDBOX
    except ValueError:
        pass
    return None


def vipps_config() -> VippsConfig:
    return VippsConfig(
        base_url=settings.VIPPS_BASE_URL,
        system_name=settings.VIPPS_SYSTEM_NAME,
        system_version=settings.VIPPS_SYSTEM_VERSION,
        plugin_name=settings.VIPPS_SYSTEM_PLUGIN_NAME,
        plugin_version=settings.VIPPS_SYSTEM_PLUGIN_VERSION,
        connect_timeout=settings.VIPPS_CONNECT_TIMEOUT,
        read_timeout=settings.VIPPS_READ_TIMEOUT,
    )


def environment_mismatch(sales_unit: SalesUnit) -> str | None:
    """Why this sales unit's keys cannot be used against VIPPS_BASE_URL, or None if they can."""
    current = portal_environment()
    if current is None or current == sales_unit.environment:
        return None
    return _("This sales unit has %(keys)s keys, but the portal talks to %(portal)s (%(url)s).") % {
        "keys": Environment(sales_unit.environment).label,
        "portal": Environment(current).label,
        "url": settings.VIPPS_BASE_URL,
    }


_EPAYMENT_REFERENCE = re.compile(r"^/epayment/v1/payments/([^/]+)")


def vipps_call_record(*, sales_unit: SalesUnit, record: CallRecord) -> VippsCall:
    """Store one exchange in the outbound call log (the record is already masked by the client)."""
    match = _EPAYMENT_REFERENCE.match(record.path)
    attempt = 1
    if record.idempotency_key:
        attempt += VippsCall.objects.filter(
            sales_unit=sales_unit, idempotency_key=record.idempotency_key, operation=record.operation
        ).count()
    return VippsCall.objects.create(
        sales_unit=sales_unit,
        started_at=record.started_at,
        operation=record.operation[:60],
        method=record.method,
        path=record.path[:300],
        reference=match.group(1)[:64] if match else "",
        status_code=record.status_code,
        duration_ms=max(0, round(record.duration_ms)),
        idempotency_key=record.idempotency_key or "",
        attempt=attempt,
        request_headers=record.request_headers,
        request_body=record.request_body or "",
        response_body=record.response_body or "",
        error=record.error or "",
    )


def vipps_client_for(sales_unit: SalesUnit, *, on_call=None, session=None) -> VippsClient:
    """A client for the sales unit's keys. Every exchange goes to the outbound call log, then to `on_call`."""
    problem = environment_mismatch(sales_unit)
    if problem:
        raise WrongEnvironment(problem)

    def record(call: CallRecord) -> None:
        try:
            with transaction.atomic():  # a savepoint: a failed insert must not break the caller's transaction
                vipps_call_record(sales_unit=sales_unit, record=call)
        except Exception:
            # The log must never turn a successful call into a failure (or hide a failed one).
            logger.exception("could not store the Vipps call log entry")
        if on_call is not None:
            on_call(call)

    return VippsClient(
        vipps_config(),
        Credentials(
            msn=sales_unit.msn,
            client_id=sales_unit.client_id,
            client_secret=sales_unit.client_secret,
            subscription_key=sales_unit.subscription_key,
        ),
        token_cache=DjangoTokenCache(),
        session=session,
        on_call=record,
    )
