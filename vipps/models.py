"""Typed request inputs (with ``to_json()``) and typed results (with ``from_json()``).

Limits are the ones in the spec files (ePayment 1.4.1, QR 1.0, Webhooks v1, Order Management
2.3.24 for ``receipt``); where the live API is known to be more lenient the stricter spec rule is
kept, so requests are valid for both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from vipps.errors import VippsResponseError, VippsValidationError
from vipps.masking import mask_phone

AMOUNT_MAX = 65_000_000
IDEMPOTENCY_KEY_MAX_LENGTH = 50
# Spec 1.4.1; the live API accepts 8-64 since v1.7.0, but the spec's limit is valid for both.
REFERENCE_RE = re.compile(r"^[a-zA-Z0-9-]{8,50}$")
PHONE_RE = re.compile(r"^\d{10,15}$")
# Printable ASCII without spaces: the key travels in an HTTP header.
IDEMPOTENCY_KEY_RE = re.compile(rf"^[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$")
LOCATION_DESCRIPTION_MAX_LENGTH = 36
METADATA_MAX_PAIRS, METADATA_KEY_MAX, METADATA_VALUE_MAX = 5, 100, 500


class Currency(StrEnum):
    NOK = "NOK"
    DKK = "DKK"
    EUR = "EUR"


class UserFlow(StrEnum):
    PUSH_MESSAGE = "PUSH_MESSAGE"
    NATIVE_REDIRECT = "NATIVE_REDIRECT"
    WEB_REDIRECT = "WEB_REDIRECT"
    QR = "QR"


class PaymentMethodType(StrEnum):
    WALLET = "WALLET"
    CARD = "CARD"


class CustomerInteraction(StrEnum):
    CUSTOMER_PRESENT = "CUSTOMER_PRESENT"
    CUSTOMER_NOT_PRESENT = "CUSTOMER_NOT_PRESENT"


class QrImageFormat(StrEnum):
    PNG = "PNG"
    SVG = "SVG"


class QrFormatType(StrEnum):
    TEXT_TARGETURL = "TEXT/TARGETURL"
    SVG = "IMAGE/SVG+XML"
    PNG = "IMAGE/PNG"


class QrCategory(StrEnum):
    """Merchant callback QR ``category`` (newer than the spec file; see CONTRACTS §5.1)."""

    IN_STORE = "IN_STORE"
    VENDING = "VENDING"
    AGE_CHECK = "AGE_CHECK"


# --- validation helpers ---------------------------------------------------------------------


def _enum(enum: type[StrEnum], value: str, name: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise VippsValidationError(f"{name} must be one of {allowed}") from None


def _length(value: str | None, name: str, lo: int, hi: int) -> None:
    if value is not None and (not isinstance(value, str) or not lo <= len(value) <= hi):
        raise VippsValidationError(f"{name} must be a string of {lo}-{hi} characters")


def validate_reference(reference: str) -> str:
    if not isinstance(reference, str) or not REFERENCE_RE.match(reference):
        raise VippsValidationError("reference must match ^[a-zA-Z0-9-]{8,50}$")
    return reference


def validate_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not IDEMPOTENCY_KEY_RE.match(key):
        raise VippsValidationError(f"idempotency key must be 1-{IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters")
    return key


def validate_non_empty(value: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise VippsValidationError(f"{name} must be a non-empty string")
    return value


def _require(data: Any, *keys: str) -> None:
    if not isinstance(data, dict):
        raise VippsResponseError(f"expected a JSON object, got {type(data).__name__}")
    missing = [k for k in keys if k not in data]
    if missing:
        raise VippsResponseError(f"response is missing {', '.join(missing)}")


def _datetime(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise VippsResponseError(f"invalid date-time {value!r}") from None


# --- shared ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Amount:
    """An amount in minor units: ``Amount("NOK", 49900)`` is NOK 499.00."""

    currency: str
    value: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", _enum(Currency, self.currency, "currency"))
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise VippsValidationError("amount value must be an int in minor units")
        if not 0 <= self.value <= AMOUNT_MAX:
            raise VippsValidationError(f"amount value must be 0-{AMOUNT_MAX}")

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.currency, "value": self.value}

    @classmethod
    def from_json(cls, data: Any) -> Amount:
        _require(data, "currency", "value")
        try:
            return cls(currency=data["currency"], value=data["value"])
        except VippsValidationError as exc:
            raise VippsResponseError(f"invalid amount: {exc}") from None


# --- ePayment requests ----------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    """Exactly one of ``phone_number`` (MSISDN, e.g. ``4791234567``), ``customer_token`` (from a
    ``user.checked-in.v1`` webhook) or ``personal_qr`` (full content of a scanned personal QR)."""

    phone_number: str | None = field(default=None, repr=False)
    customer_token: str | None = field(default=None, repr=False)
    personal_qr: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        given = [v for v in (self.phone_number, self.customer_token, self.personal_qr) if v is not None]
        if len(given) != 1:
            raise VippsValidationError("customer needs exactly one of phone_number, customer_token, personal_qr")
        if self.phone_number is not None and (
            not isinstance(self.phone_number, str) or not PHONE_RE.match(self.phone_number)
        ):
            raise VippsValidationError("phone_number must be 10-15 digits, country code first, no '+'")
        if self.customer_token is not None and (not isinstance(self.customer_token, str) or not self.customer_token):
            raise VippsValidationError("customer_token must be a non-empty string")
        _length(self.personal_qr, "personal_qr", 5, 255)

    def __repr__(self) -> str:
        if self.phone_number is not None:
            return f"Customer(phone_number={mask_phone(self.phone_number)!r})"
        return "Customer(customer_token='***')" if self.customer_token else "Customer(personal_qr='***')"

    def to_json(self) -> dict[str, str]:
        if self.phone_number is not None:
            return {"phoneNumber": self.phone_number}
        if self.customer_token is not None:
            return {"customerToken": self.customer_token}
        assert self.personal_qr is not None
        return {"personalQr": self.personal_qr}


@dataclass(frozen=True)
class QrFormat:
    format: str = QrFormatType.SVG
    size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", _enum(QrFormatType, self.format, "qr format"))
        if self.size is not None and not 100 <= self.size <= 2000:
            raise VippsValidationError("qr size must be 100-2000")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": self.format}
        if self.size is not None:
            data["size"] = self.size
        return data


@dataclass(frozen=True)
class UnitInfo:
    quantity: str
    unit_price: int | None = None
    quantity_unit: str | None = None  # PCS, KG, KM, MINUTE, LITRE, KWH

    def __post_init__(self) -> None:
        if not re.match(r"^\d+([.]\d{1,8})?$", self.quantity) or len(self.quantity) > 10:
            raise VippsValidationError("quantity must be a decimal string of at most 10 characters")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"unitPrice": self.unit_price, "quantity": self.quantity}
        if self.quantity_unit is not None:
            data["quantityUnit"] = self.quantity_unit
        return data


@dataclass(frozen=True)
class OrderLine:
    """Order Management 2.3.24 ``OrderLine`` (amounts in minor units, ``tax_percentage`` 0-100)."""

    name: str
    id: str
    total_amount: int
    total_amount_excluding_tax: int
    total_tax_amount: int
    tax_percentage: int
    unit_info: UnitInfo | None = None
    discount: int | None = None
    product_url: str | None = None
    is_return: bool | None = None
    is_shipping: bool | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.tax_percentage <= 100:
            raise VippsValidationError("tax_percentage must be 0-100")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "id": self.id,
            "totalAmount": self.total_amount,
            "totalAmountExcludingTax": self.total_amount_excluding_tax,
            "totalTaxAmount": self.total_tax_amount,
            "taxPercentage": self.tax_percentage,
        }
        optional = {
            "unitInfo": self.unit_info.to_json() if self.unit_info else None,
            "discount": self.discount,
            "productUrl": self.product_url,
            "isReturn": self.is_return,
            "isShipping": self.is_shipping,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data


@dataclass(frozen=True)
class Receipt:
    order_lines: Sequence[OrderLine]
    currency: str
    receipt_number: str | None = None
    pos_id: str | None = None
    tip_amount: int | None = None

    def __post_init__(self) -> None:
        if not self.order_lines:
            raise VippsValidationError("a receipt needs at least one order line")
        object.__setattr__(self, "currency", _enum(Currency, self.currency, "currency"))

    def to_json(self) -> dict[str, Any]:
        bottom: dict[str, Any] = {"currency": self.currency}
        optional = {"receiptNumber": self.receipt_number, "posId": self.pos_id, "tipAmount": self.tip_amount}
        bottom.update({k: v for k, v in optional.items() if v is not None})
        return {"orderLines": [line.to_json() for line in self.order_lines], "bottomLine": bottom}


@dataclass(frozen=True)
class CreatePaymentRequest:
    """``POST /epayment/v1/payments`` body.

    For a physical point of sale (merchant callback QR + ``customer_token``) send
    ``customer_interaction=CUSTOMER_PRESENT``; ``PUSH_MESSAGE`` needs a ``customer``.
    """

    amount: Amount
    reference: str
    user_flow: str
    payment_method: str = PaymentMethodType.WALLET
    customer: Customer | None = None
    customer_interaction: str | None = None
    return_url: str | None = None
    payment_description: str | None = None
    expires_at: datetime | None = None
    qr_format: QrFormat | None = None
    receipt: Receipt | None = None
    receipt_url: str | None = None
    metadata: Mapping[str, str] | None = None
    profile_scope: str | None = None

    def __post_init__(self) -> None:
        validate_reference(self.reference)
        object.__setattr__(self, "user_flow", _enum(UserFlow, self.user_flow, "user_flow"))
        object.__setattr__(self, "payment_method", _enum(PaymentMethodType, self.payment_method, "payment_method"))
        if self.customer_interaction is not None:
            object.__setattr__(
                self,
                "customer_interaction",
                _enum(CustomerInteraction, self.customer_interaction, "customer_interaction"),
            )
        if self.user_flow == UserFlow.PUSH_MESSAGE and self.customer is None:
            raise VippsValidationError("userFlow PUSH_MESSAGE needs a customer")
        if self.user_flow == UserFlow.WEB_REDIRECT and not self.return_url:
            raise VippsValidationError("userFlow WEB_REDIRECT needs a return_url")
        if self.payment_method == PaymentMethodType.CARD and self.user_flow != UserFlow.WEB_REDIRECT:
            raise VippsValidationError("payment method CARD only works with userFlow WEB_REDIRECT")
        if self.qr_format is not None and self.user_flow != UserFlow.QR:
            raise VippsValidationError("qr_format is only allowed with userFlow QR")
        if self.expires_at is not None:
            if self.user_flow not in (UserFlow.PUSH_MESSAGE, UserFlow.QR):
                raise VippsValidationError("expires_at is only allowed with PUSH_MESSAGE or QR")
            if self.receipt is None:
                raise VippsValidationError("expires_at needs a receipt")
            if self.expires_at.tzinfo is None:
                raise VippsValidationError("expires_at must be timezone-aware")
        _length(self.payment_description, "payment_description", 3, 100)
        if self.metadata is not None:
            if len(self.metadata) > METADATA_MAX_PAIRS:
                raise VippsValidationError(f"metadata allows at most {METADATA_MAX_PAIRS} pairs")
            for key, value in self.metadata.items():
                _length(key, "metadata key", 1, METADATA_KEY_MAX)
                _length(value, "metadata value", 0, METADATA_VALUE_MAX)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "amount": self.amount.to_json(),
            "paymentMethod": {"type": self.payment_method},
            "reference": self.reference,
            "userFlow": self.user_flow,
        }
        optional: dict[str, Any] = {
            "customer": self.customer.to_json() if self.customer else None,
            "customerInteraction": self.customer_interaction,
            "returnUrl": self.return_url,
            "paymentDescription": self.payment_description,
            "expiresAt": self.expires_at.isoformat() if self.expires_at else None,
            "qrFormat": self.qr_format.to_json() if self.qr_format else None,
            "receipt": self.receipt.to_json() if self.receipt else None,
            "receiptUrl": self.receipt_url,
            "metadata": dict(self.metadata) if self.metadata is not None else None,
            "profile": {"scope": self.profile_scope} if self.profile_scope else None,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data


# --- ePayment results -----------------------------------------------------------------------


@dataclass(frozen=True)
class CreatePaymentResponse:
    reference: str
    redirect_url: str | None = None  # absent for PUSH_MESSAGE

    @classmethod
    def from_json(cls, data: Any) -> CreatePaymentResponse:
        _require(data, "reference")
        return cls(reference=data["reference"], redirect_url=data.get("redirectUrl"))


@dataclass(frozen=True)
class Aggregate:
    authorized: Amount
    cancelled: Amount
    captured: Amount
    refunded: Amount

    @classmethod
    def from_json(cls, data: Any) -> Aggregate:
        _require(data, "authorizedAmount", "cancelledAmount", "capturedAmount", "refundedAmount")
        return cls(
            authorized=Amount.from_json(data["authorizedAmount"]),
            cancelled=Amount.from_json(data["cancelledAmount"]),
            captured=Amount.from_json(data["capturedAmount"]),
            refunded=Amount.from_json(data["refundedAmount"]),
        )


@dataclass(frozen=True)
class Payment:
    """``GET /epayment/v1/payments/{reference}``. ``state`` stays ``AUTHORIZED`` after captures,
    refunds and cancels: read ``aggregate`` for what has moved."""

    reference: str
    psp_reference: str
    state: str
    amount: Amount
    aggregate: Aggregate
    payment_method_type: str
    card_bin: str | None = None
    profile_sub: str | None = None
    redirect_url: str | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def from_json(cls, data: Any) -> Payment:
        _require(data, "reference", "pspReference", "state", "amount", "aggregate", "paymentMethod")
        method = data["paymentMethod"] or {}
        return cls(
            reference=data["reference"],
            psp_reference=str(data["pspReference"]),
            state=data["state"],
            amount=Amount.from_json(data["amount"]),
            aggregate=Aggregate.from_json(data["aggregate"]),
            payment_method_type=method.get("type", ""),
            card_bin=method.get("cardBin"),
            profile_sub=(data.get("profile") or {}).get("sub"),
            redirect_url=data.get("redirectUrl"),
            metadata=data.get("metadata"),
        )


@dataclass(frozen=True)
class PaymentEvent:
    reference: str
    psp_reference: str
    name: str
    amount: Amount
    timestamp: datetime
    success: bool
    idempotency_key: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> PaymentEvent:
        _require(data, "reference", "pspReference", "name", "amount", "timestamp", "success")
        return cls(
            reference=data["reference"],
            psp_reference=str(data["pspReference"]),
            name=data["name"],
            amount=Amount.from_json(data["amount"]),
            timestamp=_datetime(data["timestamp"]),
            success=bool(data["success"]),
            idempotency_key=data.get("idempotencyKey"),
        )


@dataclass(frozen=True)
class ModificationResult:
    """Result of capture, refund and cancel."""

    reference: str
    psp_reference: str
    state: str
    amount: Amount
    aggregate: Aggregate

    @classmethod
    def from_json(cls, data: Any) -> ModificationResult:
        _require(data, "reference", "pspReference", "state", "amount", "aggregate")
        return cls(
            reference=data["reference"],
            psp_reference=str(data["pspReference"]),
            state=data["state"],
            amount=Amount.from_json(data["amount"]),
            aggregate=Aggregate.from_json(data["aggregate"]),
        )


# --- QR -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MerchantCallbackQr:
    merchant_serial_number: str
    merchant_qr_id: str
    location_description: str
    qr_image_url: str
    qr_content: str
    # Newer than the spec file, and whether GET returns it is unconfirmed (CONTRACTS §8): None when absent.
    category: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> MerchantCallbackQr:
        _require(data, "merchantQrId", "qrImageUrl", "qrContent")
        return cls(
            merchant_serial_number=str(data.get("merchantSerialNumber", "")),
            merchant_qr_id=data["merchantQrId"],
            location_description=data.get("locationDescription", ""),
            qr_image_url=data["qrImageUrl"],
            qr_content=data["qrContent"],
            category=data.get("category"),
        )


@dataclass(frozen=True)
class CustomerExchangeResult:
    msisdn: str = field(repr=False)
    timestamp: int | None = None  # UTC seconds when the QR was scanned

    def __repr__(self) -> str:
        return f"CustomerExchangeResult(msisdn={mask_phone(self.msisdn)!r}, timestamp={self.timestamp!r})"

    @classmethod
    def from_json(cls, data: Any) -> CustomerExchangeResult:
        _require(data, "msisdn")
        timestamp = data.get("timestamp")
        return cls(msisdn=str(data["msisdn"]), timestamp=int(timestamp) if timestamp is not None else None)


# --- Webhooks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookRegistration:
    """Register response. The ``secret`` is only ever returned here: store it now."""

    id: str
    secret: str = field(repr=False)

    @classmethod
    def from_json(cls, data: Any) -> WebhookRegistration:
        _require(data, "id", "secret")
        return cls(id=str(data["id"]), secret=data["secret"])


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    events: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Any) -> Webhook:
        _require(data, "id", "url", "events")
        return cls(id=str(data["id"]), url=data["url"], events=tuple(data["events"]))


# --- MobilePay PoS v10 ----------------------------------------------------------------------


@dataclass(frozen=True)
class PosCheckIn:
    """``GET /pos/v10/pointofsales/{posId}/checkin``. Wait at least ``poll_delay_ms`` before
    polling again. ``loyalty_ids`` is None when not looked up yet, ``()`` when not a member."""

    is_user_checked_in: bool
    poll_delay_ms: int
    loyalty_ids: tuple[str, ...] | None = None
    customer_token: str | None = field(default=None, repr=False)
    customer_receipt_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> PosCheckIn:
        _require(data, "isUserCheckedIn", "pollDelayInMs")
        loyalty = data.get("loyaltyIds")
        return cls(
            is_user_checked_in=bool(data["isUserCheckedIn"]),
            poll_delay_ms=int(data["pollDelayInMs"]),
            loyalty_ids=tuple(loyalty) if loyalty is not None else None,
            customer_token=data.get("customerToken"),
            customer_receipt_token=data.get("customerReceiptToken"),
        )
