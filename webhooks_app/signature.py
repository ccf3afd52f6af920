"""Verification of Vipps webhook signatures (CONTRACTS.md §3.4), independent of the sandbox's signer.

    contentHash  = Base64(SHA256(raw body))                       == header x-ms-content-sha256
    stringToSign = "POST\\n" + pathAndQuery + "\\n" + x-ms-date + ";" + host + ";" + contentHash
    Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=
                   Base64(HMAC_SHA256(key=UTF-8 bytes of the secret, msg=stringToSign))

Host and pathAndQuery come from the URL we registered, not from the request: a proxy may rewrite both.
x-ms-date is part of the signed string, so once the signature matches, the date is the sender's and its
freshness is checked as part of verification: a captured delivery cannot be replayed after the horizon.
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from django.utils.http import parse_http_date

SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"
T = TypeVar("T")


class SignatureError(ValueError):
    pass


class DateError(SignatureError):
    """Signed by a secret of ours, but x-ms-date is unreadable or outside the accepted window."""


def url_host_and_path(url: str) -> tuple[str, str]:
    """The URL authority (port only when not the scheme's default, like .NET's Uri.Authority) and path?query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    return host, f"{path}?{parts.query}" if parts.query else path


def body_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def expected_authorization(*, secret: str, url: str, body_hash_b64: str, x_ms_date: str) -> str:
    host, path_and_query = url_host_and_path(url)
    message = f"POST\n{path_and_query}\n{x_ms_date};{host};{body_hash_b64}"
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={base64.b64encode(digest).decode('ascii')}"


@dataclass(frozen=True)
class Freshness:
    now: datetime
    max_age: timedelta
    skew: timedelta


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 1440} days" if minutes >= 2880 else f"{minutes} minutes"


def check_date(x_ms_date: str, freshness: Freshness) -> None:
    """Refuse an x-ms-date that is not an HTTP date (RFC 1123, as Vipps sends it), too old, or in the future."""
    try:
        sent = datetime.fromtimestamp(parse_http_date(x_ms_date), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise DateError("x-ms-date is not an RFC 1123 date (like 'Thu, 30 Mar 2023 08:12:20 GMT')") from None
    age = freshness.now - sent
    if age > freshness.max_age:
        raise DateError(
            f"x-ms-date is {_minutes(age)} old; deliveries signed more than "
            f"{_minutes(freshness.max_age)} ago are refused"
        )
    if -age > freshness.skew:
        raise DateError(
            f"x-ms-date is {_minutes(-age)} in the future; check the sender's clock "
            f"(up to {int(freshness.skew.total_seconds())} s of difference is allowed)"
        )


def verify(
    *,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    candidates: Iterable[tuple[T, str]],
    freshness: Freshness | None = None,
) -> T:
    """Return the key of the first (key, secret) candidate whose secret signed this delivery.

    Several candidates are tried because a URL can have more than one registration (secret rotation).
    Raises SignatureError with a reason a sender can act on.
    """
    date = headers.get("x-ms-date")
    claimed_hash = headers.get("x-ms-content-sha256")
    authorization = headers.get("authorization")
    if not (date and claimed_hash and authorization):
        raise SignatureError("missing x-ms-date, x-ms-content-sha256 or Authorization header")
    actual_hash = body_hash(body)
    if not hmac.compare_digest(claimed_hash.encode(), actual_hash.encode()):
        raise SignatureError("x-ms-content-sha256 does not match the body")
    for key, secret in candidates:
        expected = expected_authorization(secret=secret, url=url, body_hash_b64=actual_hash, x_ms_date=date)
        if hmac.compare_digest(expected.encode(), authorization.encode()):
            if freshness is not None:
                check_date(date, freshness)
            return key
    raise SignatureError("signature does not match any secret registered for this URL")
