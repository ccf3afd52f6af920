"""Client configuration and credentials for one Vipps MobilePay sales unit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vipps.errors import VippsValidationError

PRODUCTION_BASE_URL = "https://api.vipps.no"
TEST_BASE_URL = "https://apitest.vipps.no"

#: Limit on each ``Vipps-System-*`` header value (every spec: ``maxLength: 30``).
SYSTEM_HEADER_MAX_LENGTH = 30

# The ePayment 1.4.1 spec says 4-6 digits, the current docs 4-10: accept the wider rule.
_MSN_RE = re.compile(r"^[0-9]{4,10}$")

DEFAULT_CONNECT_TIMEOUT = 3.05
DEFAULT_READ_TIMEOUT = 10.0


def _check_system_value(name: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise VippsValidationError(f"{name} must be a non-empty string")
    if len(value) > SYSTEM_HEADER_MAX_LENGTH:
        raise VippsValidationError(f"{name} must be at most {SYSTEM_HEADER_MAX_LENGTH} characters")


def check_timeouts(connect_timeout: float, read_timeout: float) -> None:
    if connect_timeout <= 0 or read_timeout <= 0:
        raise VippsValidationError("timeouts must be positive")


def normalise_base_url(base_url: str) -> str:
    if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
        raise VippsValidationError("base_url must be an http(s) URL")
    return base_url.rstrip("/")


@dataclass(frozen=True)
class VippsConfig:
    """Where to call and how to identify our system (the ``Vipps-System-*`` headers).

    ``plugin_name``/``plugin_version`` default to the system values, as Vipps asks when the
    plugin headers mean nothing for the integrator.
    """

    base_url: str
    system_name: str
    system_version: str
    plugin_name: str | None = None
    plugin_version: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))
        if self.plugin_name is None:
            object.__setattr__(self, "plugin_name", self.system_name)
        if self.plugin_version is None:
            object.__setattr__(self, "plugin_version", self.system_version)
        for header, value in self.system_headers().items():
            _check_system_value(header, value)
        check_timeouts(self.connect_timeout, self.read_timeout)

    @property
    def is_production(self) -> bool:
        return self.base_url == PRODUCTION_BASE_URL

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def system_headers(self) -> dict[str, str]:
        return {
            "Vipps-System-Name": self.system_name,
            "Vipps-System-Version": self.system_version,
            "Vipps-System-Plugin-Name": self.plugin_name or "",
            "Vipps-System-Plugin-Version": self.plugin_version or "",
        }


def _mask_tail(value: str) -> str:
    return f"***{value[-4:]}" if len(value) > 8 else "***"


@dataclass(frozen=True)
class Credentials:
    """API keys of one sales unit. ``repr()`` never shows the secret or the subscription key."""

    msn: str
    client_id: str
    client_secret: str = field(repr=False)
    subscription_key: str = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.msn, str) or not _MSN_RE.match(self.msn):
            raise VippsValidationError("msn must be 4-10 digits")
        for name in ("client_id", "client_secret", "subscription_key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise VippsValidationError(f"{name} must be a non-empty string")

    def __repr__(self) -> str:
        return (
            f"Credentials(msn={self.msn!r}, client_id={_mask_tail(self.client_id)!r}, "
            "client_secret='***', subscription_key='***')"
        )

    __str__ = __repr__
