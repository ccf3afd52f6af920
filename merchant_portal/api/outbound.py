"""The HTTP side of outbound webhooks to POS vendors (Standard Webhooks): secrets, signatures, URL rules, one
request. No database here; `services.py` decides what to send and records what happened.

Spec: https://www.standardwebhooks.com/ . Signing uses the official `standardwebhooks` library.
"""

import base64
import ipaddress
import re
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from vipps.masking import mask_body, mask_text

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 random bytes
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
EXCERPT_BYTES = 1024  # of a response body: enough to show why it failed, and never a large download
USER_AGENT = "vipps-merchant-portal-webhooks/1"
# Control characters of a response have no place in the log, and PostgreSQL cannot store NUL at all.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(*, secrets_: list[str], message_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret, space separated."""
    moment = datetime.fromtimestamp(timestamp, UTC)  # the library reads the datetime as UTC
    return " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets_)


def signed_headers(*, secrets_: list[str], message_id: str, body: str, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secrets_=secrets_, message_id=message_id, timestamp=timestamp, body=body),
    }


# URLs ----------------------------------------------------------------------------------------------------------


def development_install() -> bool:
    """Whether this portal is a development install: DEBUG, or talking to the local Vipps sandbox (the same test
    `check --deploy` uses to refuse production settings). Only there may a webhook go over plain http or to
    this machine."""
    from merchant_portal.tenancy.models import Environment
    from merchant_portal.tenancy.vipps import portal_environment

    return bool(settings.DEBUG) or portal_environment() == Environment.SANDBOX


def _public_address(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_global
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why the portal will not send webhooks to this URL, or None. In production: https, and not to a loopback,
    private or link-local address (the workers must not be a way into the portal's own network)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        return _("Enter an https:// address.")
    if parts.username or parts.password:
        return _("Leave user name and password out of the address; the signature proves the sender.")
    if development_install():
        return None
    if parts.scheme != "https":
        return _("The address must start with https://.")
    if host == "localhost" or host.endswith(".localhost"):
        return _("The address must be reachable on the internet, not this machine.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: checked again when it is resolved, before each request
    if not _public_address(host):
        return _("The address must be reachable on the internet, not a private or local network.")
    return None


def _resolves_to_private_address(url: str) -> bool:
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        return False  # the request itself then fails with a connection error, which is what gets recorded
    return any(not _public_address(info[4][0]) for info in infos)


# One request ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no HTTP answer (timeout, connection refused, TLS, refused address)
    duration_ms: int
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None  # seconds, from a Retry-After header

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _excerpt(raw: bytes) -> str:
    """The start of a response, masked, as the delivery log shows it. Whatever the receiver sent, this answers."""
    try:
        text = mask_body(raw) or ""
    except RecursionError:  # nested deeper than the JSON parser goes: masked as plain text instead
        text = mask_text(raw.decode("utf-8", errors="replace"))
    return _CONTROL_CHARACTERS.sub("\ufffd", text)[:300]


def post(*, url: str, body: str, headers: dict) -> Answer:
    """One POST with short timeouts and no redirects (a 3xx is a failure: the URL should be updated). Errors are
    described in a few words of our own, never with the exception's text, which can carry the URL."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    # Checked again before each request: the rules or the name's addresses may have changed since it was saved.
    problem = url_problem(url)
    if problem is None and not development_install() and _resolves_to_private_address(url):
        problem = "The address resolves to a private or local network."
    if problem:
        return Answer(None, elapsed(), error=f"Not sent: {problem}")
    try:
        response = requests.post(
            url,
            data=body.encode(),
            headers=headers,
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
        )
    except requests.exceptions.ConnectTimeout:
        error = f"No connection within {CONNECT_TIMEOUT:g} s."
    except requests.exceptions.ReadTimeout:
        error = f"No answer within {READ_TIMEOUT:g} s."
    except requests.exceptions.SSLError:
        error = "TLS failed (certificate or protocol)."
    except requests.exceptions.ConnectionError:
        error = "Could not connect (refused, reset or unknown host)."
    except requests.exceptions.RequestException as exc:
        error = f"Request failed ({type(exc).__name__})."
    else:
        # The status is the answer; the body is only read for an excerpt, and a slow or broken body does not
        # change the outcome.
        try:
            raw = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
        except Exception:
            raw = b""
        finally:
            response.close()
        return Answer(
            response.status_code,
            elapsed(),
            excerpt=_excerpt(raw),
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    return Answer(None, elapsed(), error=error)
