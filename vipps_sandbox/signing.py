"""Webhook request signing, exactly as CONTRACTS.md §3.4 (Vipps' HMAC-SHA256 scheme).

Pure functions, no I/O: the delivery thread signs with them and tests reproduce Vipps'
official test vector with them.

    contentHash  = Base64(SHA256(body))
    stringToSign = "POST\\n" + pathAndQuery + "\\n" + x_ms_date + ";" + host + ";" + contentHash
    signature    = Base64(HMAC_SHA256(key=UTF8(secret), msg=UTF8(stringToSign)))
    Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<signature>

The secret's UTF-8 text is the key: it is NOT base64-decoded (that is Azure's variant).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"


@dataclass(frozen=True)
class WebhookSignature:
    """Everything a signed delivery needs; ``headers()`` gives the HTTP headers."""

    x_ms_date: str
    host: str
    path_and_query: str
    content_hash: str
    string_to_sign: str
    signature: str

    @property
    def authorization(self) -> str:
        return f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={self.signature}"

    def headers(self) -> dict[str, str]:
        return {
            "Host": self.host,
            "x-ms-date": self.x_ms_date,
            "x-ms-content-sha256": self.content_hash,
            "Authorization": self.authorization,
        }


def content_hash(body: bytes) -> str:
    """Base64 (standard, padded) of the SHA-256 of the raw body bytes."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def http_date(moment: datetime | None = None) -> str:
    """An RFC 1123 date as Vipps sends it in ``x-ms-date`` (``Thu, 30 Mar 2023 08:38:32 GMT``)."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


def url_parts(url: str) -> tuple[str, str]:
    """(host, pathAndQuery) of a registered webhook URL.

    ``host`` is the URL authority, with the port only when the URL names one (C#'s
    ``Uri.Authority`` drops default ports; so does ``requests`` when it sets ``Host``).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port != default_port:
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    return host, f"{path}?{parts.query}" if parts.query else path


def string_to_sign(path_and_query: str, x_ms_date: str, host: str, hashed_body: str) -> str:
    return f"POST\n{path_and_query}\n{x_ms_date};{host};{hashed_body}"


def sign(secret: str, url: str, body: bytes, x_ms_date: str) -> WebhookSignature:
    """Sign a webhook delivery of ``body`` to the registered ``url`` at ``x_ms_date``."""
    host, path_and_query = url_parts(url)
    hashed = content_hash(body)
    to_sign = string_to_sign(path_and_query, x_ms_date, host, hashed)
    digest = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).digest()
    return WebhookSignature(
        x_ms_date=x_ms_date,
        host=host,
        path_and_query=path_and_query,
        content_hash=hashed,
        string_to_sign=to_sign,
        signature=base64.b64encode(digest).decode("ascii"),
    )


def verify(secret: str, url: str, body: bytes, headers: dict[str, str]) -> bool:
    """Check a received delivery (handy for test receivers); header names are case-insensitive."""
    lowered = {k.lower(): v for k, v in headers.items()}
    date = lowered.get("x-ms-date")
    if date is None:
        return False
    expected = sign(secret, url, body, date)
    return hmac.compare_digest(lowered.get("x-ms-content-sha256", ""), expected.content_hash) and (
        hmac.compare_digest(lowered.get("authorization", ""), expected.authorization)
    )
