"""Request shape and typed result of every operation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.vipps.samples import (
    BEACON_ID,
    CUSTOMER_TOKEN,
    EVENTS,
    MODIFICATION,
    OPERATIONS,
    PAYMENT,
    PHONE,
    QR,
    QR_ID,
    REFERENCE,
    WEBHOOK_ID,
    WEBHOOK_SECRET,
    add_route,
)
from tests.vipps.samples import amount as amount_json
from vipps import (
    Aggregate,
    Amount,
    CreatePaymentRequest,
    CreatePaymentResponse,
    Customer,
    CustomerExchangeResult,
    MerchantCallbackQr,
    ModificationResult,
    OrderLine,
    Payment,
    PaymentEvent,
    QrFormat,
    Receipt,
    UnitInfo,
    Webhook,
    WebhookRegistration,
)

OPS = {op.name: op for op in OPERATIONS}


def run(client, fake, name, **overrides):
    op = OPS[name]
    add_route(fake, op, **overrides)
    result = op.call(client)
    (sent,) = fake.api_calls()
    return result, sent


# --- QR -------------------------------------------------------------------------------------


def test_put_merchant_callback_qr(client, fake):
    result, sent = run(client, fake, "put_merchant_callback_qr")
    assert result is None
    assert sent.json == {"locationDescription": "Kasse 1", "category": "VENDING"}
    assert sent.headers["Content-Type"] == "application/json"


def test_put_merchant_callback_qr_without_category_sends_only_the_location(client, fake):
    fake.add("PUT", "/qr/v1/merchant-callback/kiosk-1")
    client.put_merchant_callback_qr("kiosk-1", "Kiosk")
    assert fake.api_calls()[0].json == {"locationDescription": "Kiosk"}


def test_merchant_qr_id_is_percent_encoded_into_one_path_segment(client, fake):
    fake.add("DELETE", "/qr/v1/merchant-callback/a%2F..%2Fb")
    client.delete_merchant_callback_qr("a/../b")
    assert fake.api_calls()[0].request.url.endswith("/qr/v1/merchant-callback/a%2F..%2Fb")


def test_get_merchant_callback_qr(client, fake):
    result, sent = run(client, fake, "get_merchant_callback_qr")
    assert sent.query == "qrImageFormat=PNG&qrImageSize=500"
    assert result == MerchantCallbackQr(
        merchant_serial_number="123456",
        merchant_qr_id=QR_ID,
        location_description="Kasse 1",
        qr_image_url=QR["qrImageUrl"],
        qr_content=QR["qrContent"],
    )


def test_list_merchant_callback_qrs_without_image_options_sends_no_query(client, fake):
    result, sent = run(client, fake, "list_merchant_callback_qrs")
    assert sent.query == ""
    assert [q.merchant_qr_id for q in result] == [QR_ID, "kasse-2"]
    assert all(isinstance(q, MerchantCallbackQr) for q in result)


def test_delete_merchant_callback_qr(client, fake):
    result, sent = run(client, fake, "delete_merchant_callback_qr")
    assert result is None
    assert not sent.request.body


def test_put_mobilepay_qr(client, fake):
    result, sent = run(client, fake, "put_mobilepay_qr")
    assert result is None
    assert sent.path == f"/qr/v1/merchant-callback/mobilepay/{BEACON_ID}"
    assert sent.json == {"locationDescription": "Kasse 1"}


def test_exchange_customer_token(client, fake):
    result, sent = run(client, fake, "exchange_customer_token")
    assert sent.json == {"customer": {"customerToken": CUSTOMER_TOKEN}, "requestedData": ["MSISDN"]}
    assert result == CustomerExchangeResult(msisdn=PHONE, timestamp=1634025600)
    assert PHONE not in repr(result)


# --- Webhooks -------------------------------------------------------------------------------


def test_register_webhook(client, fake):
    result, sent = run(client, fake, "register_webhook")
    assert sent.json == {"url": "https://portal.example.no/vipps/webhooks/", "events": ["user.checked-in.v1"]}
    assert result == WebhookRegistration(id=WEBHOOK_ID, secret=WEBHOOK_SECRET)
    assert WEBHOOK_SECRET not in repr(result)


def test_list_webhooks(client, fake):
    result, _ = run(client, fake, "list_webhooks")
    assert result == [
        Webhook(
            id=WEBHOOK_ID,
            url="https://portal.example.no/vipps/webhooks/",
            events=("epayments.payment.authorized.v1", "epayments.payment.captured.v1"),
        )
    ]


def test_delete_webhook(client, fake):
    result, sent = run(client, fake, "delete_webhook")
    assert result is None
    assert sent.path == f"/webhooks/v1/webhooks/{WEBHOOK_ID}"


# --- ePayment -------------------------------------------------------------------------------


def test_create_payment_push_message_with_customer_token(client, fake):
    result, sent = run(client, fake, "create_payment")
    assert sent.json == {
        "amount": {"currency": "NOK", "value": 49900},
        "paymentMethod": {"type": "WALLET"},
        "reference": REFERENCE,
        "userFlow": "PUSH_MESSAGE",
        "customer": {"customerToken": CUSTOMER_TOKEN},
        "customerInteraction": "CUSTOMER_PRESENT",
        "paymentDescription": "Kiosk purchase",
    }
    assert sent.headers["Idempotency-Key"] == "payment-42-create"
    assert result == CreatePaymentResponse(reference=REFERENCE, redirect_url=None)


def test_create_payment_push_message_with_phone_number_and_receipt(client, fake):
    fake.add("POST", "/epayment/v1/payments", status=201, body={"reference": REFERENCE})
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    request = CreatePaymentRequest(
        amount=Amount("NOK", 300000),
        reference=REFERENCE,
        user_flow="PUSH_MESSAGE",
        customer=Customer(phone_number=PHONE),
        expires_at=expires,
        receipt=Receipt(
            order_lines=[
                OrderLine("Accident insurance", "12345", 150000, 112500, 37500, 25),
                OrderLine(
                    "Coffee",
                    "c-1",
                    150000,
                    112500,
                    37500,
                    25,
                    unit_info=UnitInfo(quantity="2", unit_price=75000, quantity_unit="PCS"),
                ),
            ],
            currency="NOK",
            receipt_number="0527013501",
        ),
        metadata={"orderId": "42"},
    )
    client.create_payment(request, idempotency_key="order-42")

    body = fake.api_calls()[0].json
    assert body["customer"] == {"phoneNumber": PHONE}
    assert body["expiresAt"] == "2030-01-02T03:04:05+00:00"
    assert body["receipt"]["bottomLine"] == {"currency": "NOK", "receiptNumber": "0527013501"}
    assert body["receipt"]["orderLines"][0] == {
        "name": "Accident insurance",
        "id": "12345",
        "totalAmount": 150000,
        "totalAmountExcludingTax": 112500,
        "totalTaxAmount": 37500,
        "taxPercentage": 25,
    }
    assert body["receipt"]["orderLines"][1]["unitInfo"] == {
        "unitPrice": 75000,
        "quantity": "2",
        "quantityUnit": "PCS",
    }
    assert body["metadata"] == {"orderId": "42"}


def test_create_payment_web_redirect_and_qr_return_redirect_url(client, fake):
    fake.add(
        "POST",
        "/epayment/v1/payments",
        status=201,
        times=2,
        body={"reference": REFERENCE, "redirectUrl": "https://landing.vipps.no?token=abc123"},
    )
    web = CreatePaymentRequest(
        amount=Amount("NOK", 1000),
        reference=REFERENCE,
        user_flow="WEB_REDIRECT",
        return_url="https://shop.example.no/return?o=42",
        profile_scope="name phoneNumber",
    )
    qr = CreatePaymentRequest(
        amount=Amount("NOK", 1000),
        reference=REFERENCE,
        user_flow="QR",
        qr_format=QrFormat("IMAGE/PNG", 400),
    )
    assert client.create_payment(web, idempotency_key="k1").redirect_url == "https://landing.vipps.no?token=abc123"
    client.create_payment(qr, idempotency_key="k2")

    first, second = (s.json for s in fake.api_calls())
    assert first["returnUrl"] == "https://shop.example.no/return?o=42"
    assert first["profile"] == {"scope": "name phoneNumber"}
    assert second["qrFormat"] == {"format": "IMAGE/PNG", "size": 400}


# samples.AGGREGATE, parsed (the payment and the modification results share it).
EXPECTED_AGGREGATE = Aggregate(
    authorized=Amount("NOK", 49900),
    cancelled=Amount("NOK", 0),
    captured=Amount("NOK", 10000),
    refunded=Amount("NOK", 0),
)


def test_get_payment(client, fake):
    result, sent = run(client, fake, "get_payment")
    assert sent.request.method == "GET" and not sent.request.body
    assert result == Payment(
        reference=REFERENCE,
        psp_reference="7686f7788898767977",
        state="AUTHORIZED",
        amount=Amount("NOK", 49900),
        aggregate=EXPECTED_AGGREGATE,
        payment_method_type="WALLET",
        metadata={"orderId": "42"},
    )


def test_get_payment_events(client, fake):
    result, _ = run(client, fake, "get_payment_events")
    assert result == [
        PaymentEvent(
            reference=REFERENCE,
            psp_reference="1234567891",
            name="CREATED",
            amount=Amount("NOK", 49900),
            timestamp=datetime(2023, 10, 6, 10, 45, 40, 306196, tzinfo=UTC),
            success=True,
            idempotency_key="payment-42-create",
        ),
        PaymentEvent(
            reference=REFERENCE,
            psp_reference="1234567892",
            name="AUTHORIZED",
            amount=Amount("NOK", 49900),
            timestamp=datetime(2023, 10, 6, 10, 46, 1, tzinfo=UTC),
            success=True,
            idempotency_key=None,
        ),
    ]
    assert result[1].timestamp - result[0].timestamp < timedelta(minutes=1)
    assert len(EVENTS) == 2


EXPECTED_MODIFICATION = ModificationResult(
    reference=REFERENCE,
    psp_reference="7686f7788898767978",
    state="AUTHORIZED",
    amount=Amount("NOK", 49900),
    aggregate=EXPECTED_AGGREGATE,
)


@pytest.mark.parametrize(
    ("name", "body", "key"),
    [
        ("capture_payment", {"modificationAmount": amount_json(10000)}, "payment-42-capture-1"),
        ("refund_payment", {"modificationAmount": amount_json(5000)}, "payment-42-refund-1"),
        ("cancel_payment", None, "payment-42-cancel"),
    ],
)
def test_modifications_parse_problem_json_200_as_result(client, fake, name, body, key):
    result, sent = run(client, fake, name)
    assert sent.json == body
    assert sent.headers["Idempotency-Key"] == key
    assert result == EXPECTED_MODIFICATION
    assert MODIFICATION["pspReference"] == result.psp_reference


def test_cancel_transaction_only_is_sent_only_when_asked(client, fake):
    fake.add("POST", f"/epayment/v1/payments/{REFERENCE}/cancel", body=MODIFICATION)
    client.cancel_payment(REFERENCE, idempotency_key="c-1", cancel_transaction_only=True)
    assert fake.api_calls()[0].json == {"cancelTransactionOnly": True}


def test_force_approve_with_customer(client, fake):
    result, sent = run(client, fake, "force_approve")
    assert result is None
    assert sent.json == {"customer": {"phoneNumber": PHONE}}
    assert "Idempotency-Key" not in sent.headers


def test_force_approve_with_token(client, fake):
    fake.add("POST", f"/epayment/v1/test/payments/{REFERENCE}/approve")
    client.force_approve(REFERENCE, token="eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1Ni")
    assert fake.api_calls()[0].json == {"token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1Ni"}


def test_payment_parsing_accepts_numeric_psp_reference_and_profile_sub(client, fake):
    body = {
        **PAYMENT,
        "profile": {"sub": "c06c4afe-d9e1-4c5d-939a-177d752a0944"},
        "paymentMethod": {"type": "CARD", "cardBin": "540185"},
    }
    fake.add("GET", f"/epayment/v1/payments/{REFERENCE}", body=body)
    payment = client.get_payment(REFERENCE)
    assert (payment.profile_sub, payment.payment_method_type, payment.card_bin) == (
        "c06c4afe-d9e1-4c5d-939a-177d752a0944",
        "CARD",
        "540185",
    )
