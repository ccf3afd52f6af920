"""What an inbound payload is: its event type, MSN and deduplication key (CONTRACTS.md §3.5, §4.10, §5.2)."""

import hashlib
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


class PayloadError(ValueError):
    pass


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
    # The check-in payload said merchantSerialNumber until early 2024, msn since.
    msn = payload.get("msn") or payload.get("merchantSerialNumber")
    if not isinstance(msn, str | int) or not str(msn).strip():
        raise PayloadError("no msn in the payload")
    msn = str(msn)
    if "customerToken" in payload and "merchantQrId" in payload:
        if not payload.get("initiatedAt"):
            raise PayloadError("check-in without initiatedAt")
        return Classified(CHECKED_IN, msn, _key(payload["merchantQrId"], payload["initiatedAt"]))
    name = payload.get("name")
    if isinstance(name, str) and "reference" in payload and "pspReference" in payload:
        event_type = EPAYMENT_EVENTS.get(name, f"epayments.payment.{name.lower()}.v1")
        return Classified(event_type, msn, _key(payload["reference"], name, payload["pspReference"]))
    # Signed by Vipps but of a kind this version does not know: kept, keyed by its content.
    return Classified(UNKNOWN, msn, "sha256:" + hashlib.sha256(raw).hexdigest())
