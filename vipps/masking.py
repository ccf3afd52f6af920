"""Pure functions that remove secrets and personal data before anything is logged or stored.

* Secrets (``Authorization``, ``client_secret``, ``Ocp-Apim-Subscription-Key``, ``access_token``,
  ``customerToken``, a webhook ``secret`` ...) are replaced by ``MASK`` whatever their value.
* Phone numbers keep only enough digits to recognise them: ``4791234567`` -> ``47******67``.
  Values under a phone key (``phoneNumber``, ``msisdn``) are masked even when sent as JSON numbers,
  and any free-standing run of 8-15 digits in other strings is treated as an MSISDN, except under
  keys that are known to hold identifiers (``pspReference``, ``msn`` ...), which stay readable.

The portal reuses these for its call log and UI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

SECRET_KEYS = frozenset(
    {
        "authorization",
        "client_secret",
        "ocp-apim-subscription-key",
        "access_token",
        "customertoken",
        "customerreceipttoken",
        "secret",
        "token",
        "x-ibm-client-id",
        "cookie",
        "set-cookie",
    }
)
PHONE_KEYS = frozenset({"phonenumber", "msisdn"})
# Identifiers that may be long digit strings but carry no personal data.
IDENTIFIER_KEYS = frozenset(
    {
        "reference",
        "pspreference",
        "msn",
        "merchantserialnumber",
        "merchant-serial-number",
        "traceid",
        "correlationid",
        "idempotencykey",
        "idempotency-key",
        "expires_in",
        "ext_expires_in",
        "expires_on",
        "not_before",
        "timestamp",
        "id",
        "merchantqrid",
        "beaconid",
        "posid",
        "instance",
    }
)

# A run of 8-15 digits, optionally with a leading "+", not glued to other letters or digits.
_MSISDN_RE = re.compile(r"(?<![\w+])\+?(\d{8,15})(?!\w)")


def mask_phone(number: str | int) -> str:
    """Mask a phone number, keeping the country code (for 10+ digits) and the last 2 digits."""
    digits = str(number)
    prefix = "+" if digits.startswith("+") else ""
    digits = digits.lstrip("+")
    if len(digits) < 4:
        return MASK
    head = digits[:2] if len(digits) >= 10 else ""
    tail = digits[-2:]
    return prefix + head + "*" * (len(digits) - len(head) - len(tail)) + tail


def mask_text(text: str) -> str:
    """Mask every MSISDN-like digit run in free text."""
    return _MSISDN_RE.sub(lambda m: mask_phone(m.group(0)), text)


def _mask_value(key: str | None, value: Any) -> Any:
    lowered = key.lower() if key is not None else None
    if lowered in SECRET_KEYS:
        return MASK if value is not None else None
    if lowered in PHONE_KEYS and isinstance(value, (str, int)) and not isinstance(value, bool):
        return mask_phone(value)
    if isinstance(value, Mapping):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_value(key, v) for v in value]
    if isinstance(value, str) and lowered not in IDENTIFIER_KEYS:
        return mask_text(value)
    return value


def mask_json(data: Any) -> Any:
    """Return a masked deep copy of decoded JSON (dicts, lists, scalars)."""
    return _mask_value(None, data)


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Mask secret header values; ``Authorization: Bearer x`` keeps its scheme for readability."""
    masked: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "authorization":
            scheme = str(value).split(" ", 1)[0] if " " in str(value) else ""
            masked[name] = f"{scheme} {MASK}".strip()
        elif lowered in SECRET_KEYS:
            masked[name] = MASK
        else:
            masked[name] = mask_text(str(value)) if lowered not in IDENTIFIER_KEYS else str(value)
    return masked


_FORM_SECRET_RE = re.compile(r"(?i)\b(client_secret|access_token|secret|token)=[^&\s]*")


def mask_body(body: str | bytes | None) -> str | None:
    """Mask a raw body: JSON is masked by key, anything else as free text."""
    if body is None:
        return None
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return mask_text(_FORM_SECRET_RE.sub(lambda m: f"{m.group(1)}={MASK}", text))
    return json.dumps(mask_json(data), ensure_ascii=False)
