"""Plain records of the sandbox's state (no behaviour beyond small helpers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CURRENCIES = ("NOK", "DKK", "EUR")
# Smallest payment per currency (CONTRACTS §1.4, newer than the spec file).
MINIMUM_AMOUNT = {"NOK": 100, "DKK": 1, "EUR": 1}


@dataclass
class Merchant:
    """A sandbox sales unit and its API keys."""

    msn: str
    client_id: str
    client_secret: str
    subscription_keys: list[str]
    currency: str = "NOK"
    name: str = "Sandbox merchant"
    push_message_allowed: bool = True
    long_living_payments_allowed: bool = True
    partial_capture_allowed: bool = True

    def public(self) -> dict[str, Any]:
        return {
            "msn": self.msn,
            "name": self.name,
            "currency": self.currency,
            "clientId": self.client_id,
            "pushMessageAllowed": self.push_message_allowed,
            "longLivingPaymentsAllowed": self.long_living_payments_allowed,
            "partialCaptureAllowed": self.partial_capture_allowed,
        }


@dataclass
class AccessToken:
    token: str
    msn: str
    subscription_key: str
    issued_at: float
    expires_at: float


@dataclass
class CallbackQr:
    """A merchant callback QR, or a migrated MobilePay PoS QR (``kind == "mobilepay"``)."""

    msn: str
    merchant_qr_id: str
    location_description: str
    qr_content: str
    image_id: str
    kind: str = "merchant"
    category: str | None = None
    created_at: float = 0.0


@dataclass
class CustomerToken:
    token: str
    phone: str
    msn: str
    merchant_qr_id: str
    issued_at: float
    expires_at: float


@dataclass
class PaymentEvent:
    reference: str
    psp_reference: str
    name: str
    amount: int
    currency: str
    timestamp: str
    idempotency_key: str | None
    success: bool = True

    def wire(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "pspReference": self.psp_reference,
            "name": self.name,
            "amount": {"currency": self.currency, "value": self.amount},
            "timestamp": self.timestamp,
            "idempotencyKey": self.idempotency_key,
            "success": self.success,
        }


@dataclass
class Payment:
    msn: str
    reference: str
    amount: int
    currency: str
    user_flow: str
    payment_method: str
    psp_reference: str
    created_at: float
    expires_at: float
    customer: dict[str, Any] | None = None
    # The phone the payment request is addressed to (from phoneNumber, customerToken or personalQr).
    target_phone: str | None = None
    customer_interaction: str = "CUSTOMER_NOT_PRESENT"
    payment_description: str | None = None
    return_url: str | None = None
    redirect_token: str | None = None
    redirect_url: str | None = None
    metadata: dict[str, str] | None = None
    receipt: dict[str, Any] | None = None
    profile_scope: str | None = None
    state: str = "CREATED"
    authorized: int = 0
    captured: int = 0
    refunded: int = 0
    cancelled: int = 0
    approved_by: str | None = None
    profile_sub: str | None = None
    events: list[PaymentEvent] = field(default_factory=list)

    def money(self, value: int) -> dict[str, Any]:
        return {"currency": self.currency, "value": value}

    def aggregate(self) -> dict[str, Any]:
        return {
            "authorizedAmount": self.money(self.authorized),
            "cancelledAmount": self.money(self.cancelled),
            "capturedAmount": self.money(self.captured),
            "refundedAmount": self.money(self.refunded),
        }

    def wire(self) -> dict[str, Any]:
        """GetPaymentResponse."""
        body: dict[str, Any] = {
            "aggregate": self.aggregate(),
            "amount": self.money(self.amount),
            "state": self.state,
            "paymentMethod": {"type": self.payment_method},
            "profile": {"sub": self.profile_sub} if self.profile_sub else {},
            "pspReference": self.psp_reference,
            "reference": self.reference,
        }
        if self.redirect_url:
            body["redirectUrl"] = self.redirect_url
        if self.metadata is not None:
            body["metadata"] = self.metadata
        return body


@dataclass
class Webhook:
    id: str
    msn: str
    url: str
    events: list[str]
    secret: str
    created_at: float

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "events": list(self.events)}


@dataclass
class PosCheckIn:
    phone: str
    customer_token: str
    customer_receipt_token: str
    loyalty_ids: list[str] | None
    checked_in_at: float
    expires_at: float


@dataclass
class PointOfSale:
    """A legacy MobilePay PoS v10 point of sale (CONTRACTS §6)."""

    pos_id: str
    msn: str
    merchant_id: str
    merchant_brand_id: str
    merchant_location_id: str
    merchant_pos_id: str
    name: str
    beacon_id: str
    callback_alias: str | None = None
    poll_delay_ms: int = 1000
    checkin: PosCheckIn | None = None
    last_poll_at: float | None = None
    polls: int = 0
    # Polls that came sooner than pollDelayInMs after the previous one.
    poll_violations: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "posId": self.pos_id,
            "msn": self.msn,
            "merchantId": self.merchant_id,
            "merchantBrandId": self.merchant_brand_id,
            "merchantLocationId": self.merchant_location_id,
            "merchantPosId": self.merchant_pos_id,
            "name": self.name,
            "beaconId": self.beacon_id,
            "callbackAlias": self.callback_alias,
            "pollDelayInMs": self.poll_delay_ms,
            "polls": self.polls,
            "pollViolations": self.poll_violations,
            "checkedIn": self.checkin is not None,
        }


@dataclass
class IdempotencyRecord:
    operation: str
    reference: str
    fingerprint: str
    status: int
    body: bytes
    content_type: str
