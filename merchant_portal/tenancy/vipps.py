"""The portal's side of the `vipps` client: configuration from settings, a shared token cache, one client
per sales unit.

VIPPS_BASE_URL says which Vipps the portal talks to (the local sandbox by default, the test environment or
production). A sales unit's keys belong to one of those environments; using them against another is refused
here with a clear message instead of an opaque 401 from Vipps.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from merchant_portal.core.crypto import decrypt, encrypt
from vipps import Credentials, VippsClient, VippsConfig

from .models import Environment, SalesUnit

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
    return (
        f"This sales unit has {Environment(sales_unit.environment).label} keys, but the portal talks to "
        f"{Environment(current).label} ({settings.VIPPS_BASE_URL})."
    )


def vipps_client_for(sales_unit: SalesUnit, *, on_call=None, session=None) -> VippsClient:
    problem = environment_mismatch(sales_unit)
    if problem:
        raise WrongEnvironment(problem)
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
        on_call=on_call,
    )
