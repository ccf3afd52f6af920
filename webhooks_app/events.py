"""What an inbound payload is: its event type, MSN and deduplication key (CONTRACTS.md §3.5, §4.10, §5.2)."""

import codecs
import hashlib
import re
from dataclasses import dataclass
from typing import Any

CHECKED_IN = "user.checked-in.v1"
EPAYMENT_EVENTS = {
    "CREATED": "epayments.payment.created.v1",
    "ABORTED": "epayments.payment.aborted.v1",
    "EXPIRED": "epayments.payment.expired.v1",
    "CANCELLED": "epayments.payment.cancelled.v1",
    "CAPTURED": "epayments.payment.captured.v1",
    "REFUNDED": "epayments.payment.refunded.v1",
    "AUTHORIZED": "epayments.payment.authorized.v1",
    "TERMINATED": "epayments.payment.terminated.v1",
}
# What the portal registers per sales unit: check-ins alone (Vipps allows one such registration per MSN),
# and every ePayment event in a second registration.
REGISTRATION_GROUPS: tuple[tuple[str, ...], ...] = ((CHECKED_IN,), tuple(EPAYMENT_EVENTS.values()))
MOBILEPAY_POS_NOTIFICATION = "mobilepay.pos.notification"
UNKNOWN = "unknown"
KEY_MAX = 300


MSN_RE = re.compile(r"[0-9]{4,10}")  # as SalesUnit.msn
EVENT_NAME_RE = re.compile(r"[A-Z_]{1,40}")
# For bodies the strict decoder refuses: where the MSN is, to pick the secrets that verify the raw bytes.
_MSN_SNIFF = re.compile(r'"(?:msn|merchantSerialNumber)"\s*:\s*"?([0-9]{4,10})\b')


class PayloadError(ValueError):
    pass


def msn_of(payload: Any) -> str | None:
    """The MSN a decoded payload names; the check-in payload said merchantSerialNumber until early 2024."""
    if not isinstance(payload, dict):
        return None
    msn = payload.get("msn") or payload.get("merchantSerialNumber")
    if isinstance(msn, bool) or not isinstance(msn, str | int):
        return None
    msn = str(msn)
    return msn if MSN_RE.fullmatch(msn) else None


def msn_sniff(raw: bytes) -> str | None:
    """The MSN in a body that is not strict UTF-8 JSON (UTF-16, Latin-1, too deep, ...), found leniently. It only
    chooses which secrets to try: the signature over the raw bytes decides whether the body is Vipps'."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    elif raw[:2].count(0) == 1:  # UTF-16 without a byte-order mark: every ASCII character has a zero byte
        encodings = ["utf-16-le" if raw[1:2] == b"\0" else "utf-16-be"]
    else:
        encodings = ["utf-8-sig", "latin-1"]
    for encoding in encodings:
        match = _MSN_SNIFF.search(raw.decode(encoding, "replace"))
        if match:
            return match.group(1)
    return None


@dataclass(frozen=True)
class Classified:
    event_type: str
    msn: str
    dedupe_key: str


def _key(*parts: Any) -> str:
    key = "|".join(str(p) for p in parts)
    return key if len(key) <= KEY_MAX else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def classify(payload: Any, raw: bytes) -> Classified:
    if not isinstance(payload, dict):
        raise PayloadError("body is not a JSON object")
    msn = msn_of(payload)
    if msn is None:
        raise PayloadError("no msn (4 to 10 digits) in the payload")
    if "customerToken" in payload and "merchantQrId" in payload:
        if not all(isinstance(payload.get(k), str) and payload[k] for k in ("customerToken", "initiatedAt")):
            raise PayloadError("check-in without customerToken or initiatedAt as text")
        if not isinstance(payload["merchantQrId"], str | int) or isinstance(payload["merchantQrId"], bool):
            raise PayloadError("check-in with a merchantQrId that is not text")
        return Classified(CHECKED_IN, msn, _key(payload["merchantQrId"], payload["initiatedAt"]))
    name = payload.get("name")
    if isinstance(name, str) and "reference" in payload and "pspReference" in payload:
        # An unknown name becomes a type of its own only when it looks like one (the column holds 80).
        fallback = f"epayments.payment.{name.lower()}.v1" if EVENT_NAME_RE.fullmatch(name) else UNKNOWN
        event_type = EPAYMENT_EVENTS.get(name, fallback)
        return Classified(event_type, msn, _key(payload["reference"], name, payload["pspReference"]))
    # Signed by Vipps but of a kind this version does not know: kept, keyed by its content.
    return Classified(UNKNOWN, msn, "sha256:" + hashlib.sha256(raw).hexdigest())
