"""Verification of Vipps webhook signatures (CONTRACTS.md §3.4), independent of the sandbox's signer.

    contentHash  = Base64(SHA256(raw body))                       == header x-ms-content-sha256
    stringToSign = "POST\\n" + pathAndQuery + "\\n" + x-ms-date + ";" + host + ";" + contentHash
    Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=
                   Base64(HMAC_SHA256(key=UTF-8 bytes of the secret, msg=stringToSign))

Host and pathAndQuery come from the URL we registered, not from the request: a proxy may rewrite both.
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"
T = TypeVar("T")


class SignatureError(ValueError):
    pass


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


def verify(*, url: str, body: bytes, headers: Mapping[str, str], candidates: Iterable[tuple[T, str]]) -> T:
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
            return key
    raise SignatureError("signature does not match any secret registered for this URL")
