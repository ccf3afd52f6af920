"""Sample API bodies (shaped after the spec examples) and one call per client operation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vipps import Amount, CreatePaymentRequest, Customer, VippsClient

REFERENCE = "acme-shop-123-order123abc"
PHONE = "4791234567"
CUSTOMER_TOKEN = "wbA8ceVmAJbCAPLsO8M0XtQ-CUSTOMER-TOKEN-P4="
WEBHOOK_SECRET = "090a478d-37ff-4e77-970e-d457aeb26a3a-WEBHOOK-SECRET"
WEBHOOK_ID = "7d4c3a2b-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
QR_ID = "27072f82-c4b6-49cd-9838-10f21d87496e"
BEACON_ID = "123456789012345"


def amount(value: int = 49900) -> dict[str, Any]:
    return {"currency": "NOK", "value": value}


AGGREGATE = {
    "authorizedAmount": amount(49900),
    "cancelledAmount": amount(0),
    "capturedAmount": amount(10000),
    "refundedAmount": amount(0),
}

PAYMENT = {
    "aggregate": AGGREGATE,
    "amount": amount(49900),
    "state": "AUTHORIZED",
    "paymentMethod": {"type": "WALLET"},
    "profile": {},
    "pspReference": "7686f7788898767977",
    "reference": REFERENCE,
    "metadata": {"orderId": "42"},
}

EVENTS = [
    {
        "reference": REFERENCE,
        "pspReference": "1234567891",
        "name": "CREATED",
        "amount": amount(),
        "timestamp": "2023-10-06T10:45:40.3061965Z",
        "idempotencyKey": "payment-42-create",
        "success": True,
    },
    {
        "reference": REFERENCE,
        "pspReference": "1234567892",
        "name": "AUTHORIZED",
        "amount": amount(),
        "timestamp": "2023-10-06T10:46:01Z",
        "idempotencyKey": None,
        "success": True,
    },
]

MODIFICATION = {
    "amount": amount(49900),
    "state": "AUTHORIZED",
    "aggregate": AGGREGATE,
    "pspReference": "7686f7788898767978",
    "reference": REFERENCE,
}

QR = {
    "merchantSerialNumber": "123456",
    "merchantQrId": QR_ID,
    "locationDescription": "Kasse 1",
    "qrImageUrl": "https://qr.vipps.no/generate/qr.png?id=abc",
    "qrContent": "https://qr.vipps.no/28/2/01/031/abc",
}


def push_payment(customer: Customer | None = None) -> CreatePaymentRequest:
    return CreatePaymentRequest(
        amount=Amount("NOK", 49900),
        reference=REFERENCE,
        user_flow="PUSH_MESSAGE",
        customer=customer or Customer(customer_token=CUSTOMER_TOKEN),
        customer_interaction="CUSTOMER_PRESENT",
        payment_description="Kiosk purchase",
    )


@dataclass(frozen=True)
class Operation:
    """One client call, with the route the fake must answer and what the answer is."""

    name: str
    method: str
    path: str
    call: Callable[[VippsClient], Any]
    status: int = 200
    body: Any = None
    content_type: str = "application/json"
    idempotent_key: str | None = None


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "put_merchant_callback_qr",
        "PUT",
        f"/qr/v1/merchant-callback/{QR_ID}",
        lambda c: c.put_merchant_callback_qr(QR_ID, "Kasse 1", category="VENDING"),
    ),
    Operation(
        "get_merchant_callback_qr",
        "GET",
        f"/qr/v1/merchant-callback/{QR_ID}",
        lambda c: c.get_merchant_callback_qr(QR_ID, image_format="PNG", image_size=500),
        body=QR,
    ),
    Operation(
        "list_merchant_callback_qrs",
        "GET",
        "/qr/v1/merchant-callback",
        lambda c: c.list_merchant_callback_qrs(),
        body=[QR, {**QR, "merchantQrId": "kasse-2", "locationDescription": "Kasse 2"}],
    ),
    Operation(
        "delete_merchant_callback_qr",
        "DELETE",
        f"/qr/v1/merchant-callback/{QR_ID}",
        lambda c: c.delete_merchant_callback_qr(QR_ID),
    ),
    Operation(
        "put_mobilepay_qr",
        "PUT",
        f"/qr/v1/merchant-callback/mobilepay/{BEACON_ID}",
        lambda c: c.put_mobilepay_qr(BEACON_ID, "Kasse 1"),
    ),
    Operation(
        "exchange_customer_token",
        "POST",
        "/qr/v1/exchange/customer",
        lambda c: c.exchange_customer_token(CUSTOMER_TOKEN),
        body={"msisdn": PHONE, "timestamp": 1634025600},
    ),
    Operation(
        "register_webhook",
        "POST",
        "/webhooks/v1/webhooks",
        lambda c: c.register_webhook("https://portal.example.no/vipps/webhooks/", ["user.checked-in.v1"]),
        status=201,
        body={"id": WEBHOOK_ID, "secret": WEBHOOK_SECRET},
    ),
    Operation(
        "list_webhooks",
        "GET",
        "/webhooks/v1/webhooks",
        lambda c: c.list_webhooks(),
        body={
            "webhooks": [
                {
                    "id": WEBHOOK_ID,
                    "url": "https://portal.example.no/vipps/webhooks/",
                    "events": ["epayments.payment.authorized.v1", "epayments.payment.captured.v1"],
                }
            ]
        },
    ),
    Operation(
        "delete_webhook",
        "DELETE",
        f"/webhooks/v1/webhooks/{WEBHOOK_ID}",
        lambda c: c.delete_webhook(WEBHOOK_ID),
        status=204,
    ),
    Operation(
        "create_payment",
        "POST",
        "/epayment/v1/payments",
        lambda c: c.create_payment(push_payment(), idempotency_key="payment-42-create"),
        status=201,
        body={"reference": REFERENCE},
        idempotent_key="payment-42-create",
    ),
    Operation(
        "get_payment",
        "GET",
        f"/epayment/v1/payments/{REFERENCE}",
        lambda c: c.get_payment(REFERENCE),
        body=PAYMENT,
    ),
    Operation(
        "get_payment_events",
        "GET",
        f"/epayment/v1/payments/{REFERENCE}/events",
        lambda c: c.get_payment_events(REFERENCE),
        body=EVENTS,
    ),
    Operation(
        "capture_payment",
        "POST",
        f"/epayment/v1/payments/{REFERENCE}/capture",
        lambda c: c.capture_payment(REFERENCE, Amount("NOK", 10000), idempotency_key="payment-42-capture-1"),
        body=MODIFICATION,
        content_type="application/problem+json",  # as the spec declares it (CONTRACTS §4.1)
        idempotent_key="payment-42-capture-1",
    ),
    Operation(
        "refund_payment",
        "POST",
        f"/epayment/v1/payments/{REFERENCE}/refund",
        lambda c: c.refund_payment(REFERENCE, Amount("NOK", 5000), idempotency_key="payment-42-refund-1"),
        body=MODIFICATION,
        content_type="application/problem+json",
        idempotent_key="payment-42-refund-1",
    ),
    Operation(
        "cancel_payment",
        "POST",
        f"/epayment/v1/payments/{REFERENCE}/cancel",
        lambda c: c.cancel_payment(REFERENCE, idempotency_key="payment-42-cancel"),
        body=MODIFICATION,
        content_type="application/problem+json",
        idempotent_key="payment-42-cancel",
    ),
    Operation(
        "force_approve",
        "POST",
        f"/epayment/v1/test/payments/{REFERENCE}/approve",
        lambda c: c.force_approve(REFERENCE, customer=Customer(phone_number=PHONE)),
    ),
)


def add_route(fake: Any, op: Operation, **overrides: Any) -> None:
    fake.add(
        op.method,
        op.path,
        status=overrides.pop("status", op.status),
        body=overrides.pop("body", op.body),
        content_type=op.content_type,
        **overrides,
    )
