"""System checks that catch dangerous production configuration (run by `manage.py check --deploy`)."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register(Tags.security, deploy=True)
def production_settings_check(app_configs, **kwargs):
    from merchant_portal.settings import DEV_FIELD_ENCRYPTION_KEY, DEV_SECRET_KEY

    errors = []
    if settings.SECRET_KEY == DEV_SECRET_KEY:
        errors.append(Error("SECRET_KEY is the development key.", hint="Set SECRET_KEY.", id="portal.E001"))
    if DEV_FIELD_ENCRYPTION_KEY in settings.FIELD_ENCRYPTION_KEYS:
        errors.append(
            Error(
                "FIELD_ENCRYPTION_KEY includes the development key.",
                hint="Set FIELD_ENCRYPTION_KEY to a Fernet key of your own.",
                id="portal.E002",
            )
        )
    if _is_local(settings.VIPPS_BASE_URL):
        errors.append(
            Error(
                "VIPPS_BASE_URL points at the local sandbox; production must talk to Vipps.",
                hint="Set VIPPS_BASE_URL=https://api.vipps.no (or https://apitest.vipps.no for the test environment).",
                id="portal.E003",
            )
        )
    if not settings.PUBLIC_URL_IS_HTTPS or _is_local(settings.PUBLIC_BASE_URL):
        errors.append(
            Error(
                "PUBLIC_BASE_URL must be the public https address of the portal; Vipps only calls https webhooks.",
                id="portal.E004",
            )
        )
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        errors.append(Error("DATABASE_URL is SQLite; production runs on PostgreSQL.", id="portal.E005"))
    if settings.CELERY_BROKER_URL.startswith(("filesystem://", "memory://")):
        errors.append(Error("CELERY_BROKER_URL is a local broker; production uses Redis.", id="portal.E006"))
    return errors


@register()
def vipps_settings_check(app_configs, **kwargs):
    """The Vipps-System-* headers and timeouts are validated by the client; say so at start-up, not mid-call."""
    from merchant_portal.tenancy.vipps import vipps_config
    from vipps import VippsError

    try:
        vipps_config()
    except (VippsError, ValueError) as exc:
        return [Error(f"Vipps settings are invalid: {exc}", hint="See VIPPS_* in README.md.", id="portal.E007")]
    return []
