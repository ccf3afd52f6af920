"""ePayment API: create, get, events, capture, refund, cancel, test approve; the state machine,
the aggregates, the documented errors and idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from vipps_sandbox.server import SandboxServer

from .conftest import MSN, OTHER_PHONE, PHONE, Api, error_code

PAYMENTS = "/epayment/v1/payments"


def get(api: Api, reference: str) -> dict:
    return api.get(f"{PAYMENTS}/{reference}").json()


def amounts(payment: dict) -> tuple[int, int, int, int]:
    agg = payment["aggregate"]
    return (
        agg["authorizedAmount"]["value"],
        agg["capturedAmount"]["value"],
        agg["refundedAmount"]["value"],
        agg["cancelledAmount"]["value"],
    )


def event_names(api: Api, reference: str) -> list[str]:
    return [e["name"] for e in api.get(f"{PAYMENTS}/{reference}/events").json()]


# -- create ----------------------------------------------------------------------------------
def test_create_push_message_with_phone_number(api: Api, sandbox: SandboxServer) -> None:
    body = api.create_payment("order-10001", 49900, customerInteraction="CUSTOMER_PRESENT").json()
    assert body == {"reference": "order-10001"}  # no redirectUrl for PUSH_MESSAGE
    payment = get(api, "order-10001")
    assert payment["state"] == "CREATED"
    assert payment["amount"] == {"currency": "NOK", "value": 49900}
    assert payment["paymentMethod"] == {"type": "WALLET"}
    assert amounts(payment) == (0, 0, 0, 0)
    assert [p.reference for p in sandbox.state.pending_for_phone(PHONE)] == ["order-10001"]
    assert sandbox.state.pending_for_phone(OTHER_PHONE) == []


def test_create_push_message_with_customer_token(api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    token = sandbox.state.scan(OTHER_PHONE, MSN, "kasse-1").token
    api.create_payment("order-10002", customer={"customerToken": token}, customerInteraction="CUSTOMER_PRESENT")
    assert [p.reference for p in sandbox.state.pending_for_phone(OTHER_PHONE)] == ["order-10002"]


def test_create_with_expired_or_foreign_customer_token(api: Api, other_api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    token = sandbox.state.scan(PHONE, MSN, "kasse-1").token
    response = other_api.create_payment("order-10003", currency="DKK", customer={"customerToken": token}, expected=400)
    assert error_code(response) == "4050"
    sandbox.state.advance(901)
    response = api.create_payment("order-10003", customer={"customerToken": token}, expected=400)
    assert error_code(response) == "4050"


def test_create_with_personal_qr(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-10004", customer={"personalQr": f"https://qr.vipps.no/28/2/01/031/{OTHER_PHONE}?v=1"})
    assert [p.reference for p in sandbox.state.pending_for_phone(OTHER_PHONE)] == ["order-10004"]


def test_create_web_redirect_and_landing_page(api: Api, sandbox: SandboxServer) -> None:
    body = api.create_payment(
        "order-10005",
        userFlow="WEB_REDIRECT",
        customer=None,
        returnUrl="https://shop.example.no/return?order=10005",
    ).json()
    assert body["redirectUrl"].startswith(sandbox.url + "/_sandbox/landing?token=")
    page = requests.get(body["redirectUrl"], timeout=5)
    assert page.status_code == 200 and "499,00 kr" in page.text
    assert get(api, "order-10005")["redirectUrl"] == body["redirectUrl"]


def test_create_qr_flow_returns_an_image_of_the_landing_page(api: Api) -> None:
    import io

    from PIL import Image

    from .test_qr import decode

    body = api.create_payment(
        "order-10006", userFlow="QR", customer=None, qrFormat={"format": "IMAGE/PNG", "size": 400}
    ).json()
    image = Image.open(io.BytesIO(requests.get(body["redirectUrl"], timeout=5).content))
    assert image.size == (400, 400)
    assert "/_sandbox/landing?token=" in decode(image)
    target = api.create_payment(
        "order-10007", userFlow="QR", customer=None, qrFormat={"format": "TEXT/TARGETURL"}
    ).json()
    assert "/_sandbox/landing?token=" in target["redirectUrl"]


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"reference": "short"}, 400, None, "reference"),
        ({"reference": "has spaces in it"}, 400, None, "reference"),
        ({"reference": "a" * 65}, 400, None, "reference"),
        # Schema failures of the phone and the amount carry their codes (CONTRACTS §4.7).
        ({"customer": {"phoneNumber": "+4791234567"}}, 400, "4070", "customer.phoneNumber"),
        ({"customer": {"phoneNumber": 4791234567}}, 400, "4070", "customer.phoneNumber"),
        ({"customer": {"phoneNumber": PHONE, "customerToken": "x"}}, 400, None, "customer"),
        ({"customer": None}, 400, "4140", "customer"),  # PUSH_MESSAGE needs a customer
        ({"currency": "DKK"}, 400, "5040", None),  # not the merchant's market
        ({"value": 50}, 400, "6010", None),  # below NOK 1.00
        ({"value": 65_000_001}, 400, "4040", "amount.value"),
        ({"value": -1}, 400, "4040", "amount.value"),
        ({"value": "100"}, 400, "4040", "amount.value"),
        ({"currency": "SEK"}, 400, "4040", "amount.currency"),
        ({"userFlow": "WEB_REDIRECT", "customer": None}, 400, "4140", "returnUrl"),
        ({"userFlow": "WEB_REDIRECT", "returnUrl": "http://shop.example.no/r"}, 400, "4090", "returnUrl"),
        ({"paymentDescription": "ab"}, 400, None, "paymentDescription"),
        ({"metadata": {f"k{i}": "v" for i in range(6)}}, 400, None, "metadata"),
        ({"metadata": {"k" * 101: "v"}}, 400, "4120", None),
        ({"userFlow": "SMOKE_SIGNAL"}, 400, None, "userFlow"),
    ],
)
def test_create_validation(api: Api, fields: dict, status: int, code: str | None, field: str | None) -> None:
    fields = dict(fields)
    reference = fields.pop("reference", "order-20000")
    value = fields.pop("value", 49900)
    response = api.call(
        "POST",
        PAYMENTS,
        status,
        check_request=False,
        headers={"Idempotency-Key": "v1"},
        json=_body(reference, value, **fields),
    )
    problem = response.json()
    assert problem["status"] == status and problem["traceId"]
    assert error_code(response) == code
    if field:
        assert field in [d["name"] for d in problem["extraDetails"]], problem


def _body(reference: str, value: int, **fields: object) -> dict:
    body = {
        "amount": {"currency": fields.pop("currency", "NOK"), "value": value},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": fields.pop("userFlow", "PUSH_MESSAGE"),
        "customer": fields.pop("customer", {"phoneNumber": PHONE}),
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def test_reference_of_64_characters_is_accepted_like_the_live_api(api: Api) -> None:
    reference = "r" * 64  # spec 1.4.1 says 50; the live API allows 64 since v1.7.0
    api.call("POST", PAYMENTS, 201, headers={"Idempotency-Key": "long"}, json=_body(reference, 1000))
    assert get(api, reference)["reference"] == reference


def test_create_needs_idempotency_key_and_msn(api: Api) -> None:
    api.call("POST", PAYMENTS, 400, check_request=False, json=_body("order-20001", 1000))
    headers = api.headers | {"Idempotency-Key": "k"}
    del headers["Merchant-Serial-Number"]
    response = requests.post(api.server.url + PAYMENTS, headers=headers, json=_body("order-20001", 1000), timeout=5)
    assert response.status_code == 400


def test_duplicate_reference_is_409(api: Api) -> None:
    api.create_payment("order-20002", key="first")
    response = api.create_payment("order-20002", key="second", expected=409)
    assert error_code(response) == "4150"


def test_references_are_unique_per_msn_only(api: Api, other_api: Api) -> None:
    api.create_payment("order-20003")
    other_api.create_payment("order-20003", currency="DKK", value=100)


def test_push_message_not_allowed_for_the_sales_unit(api: Api, sandbox: SandboxServer) -> None:
    sandbox.state.merchants[MSN].push_message_allowed = False
    response = api.create_payment("order-20004", expected=403)
    assert error_code(response) == "5080"


def test_long_living_payment(api: Api, sandbox: SandboxServer) -> None:
    receipt = {
        "orderLines": [
            {
                "name": "Kaffe",
                "id": "1",
                "totalAmount": 49900,
                "totalAmountExcludingTax": 39920,
                "totalTaxAmount": 9980,
                "taxPercentage": 25,
            }
        ],
        "bottomLine": {"currency": "NOK"},
    }
    soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        error_code(api.create_payment("order-20005", expiresAt=soon, receipt=receipt, key="a", expected=400)) == "6120"
    )
    assert error_code(api.create_payment("order-20005", expiresAt=later, key="b", expected=400)) == "6130"
    api.create_payment("order-20005", expiresAt=later, receipt=receipt, key="ok")
    sandbox.state.advance(3000)  # past the normal 10 minutes, still alive
    assert get(api, "order-20005")["state"] == "CREATED"


def test_get_unknown_payment_is_404(api: Api) -> None:
    response = api.get(f"{PAYMENTS}/order-99999", 404)
    assert error_code(response) == "5090"
    api.get(f"{PAYMENTS}/order-99999/events", 404)


# -- state machine ---------------------------------------------------------------------------
def test_approve_authorizes(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-30001", 49900)
    sandbox.state.approve(MSN, "order-30001", PHONE)
    payment = get(api, "order-30001")
    assert payment["state"] == "AUTHORIZED"
    assert amounts(payment) == (49900, 0, 0, 0)
    assert event_names(api, "order-30001") == ["CREATED", "AUTHORIZED"]


def test_reject_aborts(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-30002")
    sandbox.state.reject(MSN, "order-30002")
    assert get(api, "order-30002")["state"] == "ABORTED"
    assert event_names(api, "order-30002") == ["CREATED", "ABORTED"]
    with pytest.raises(Exception, match="cannot be approved"):
        sandbox.state.approve(MSN, "order-30002", PHONE)


def test_unanswered_payment_expires_after_ten_minutes(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-30003")
    sandbox.state.advance(599)
    assert get(api, "order-30003")["state"] == "CREATED"
    sandbox.state.advance(2)
    assert get(api, "order-30003")["state"] == "EXPIRED"
    assert event_names(api, "order-30003") == ["CREATED", "EXPIRED"]
    assert sandbox.state.pending_for_phone(PHONE) == []


def test_cancel_before_authorization_terminates(api: Api) -> None:
    api.create_payment("order-30004")
    body = api.adjust("order-30004", "cancel").json()
    assert body["state"] == "TERMINATED"
    assert event_names(api, "order-30004") == ["CREATED", "TERMINATED"]
    assert error_code(api.adjust("order-30004", "cancel", expected=400)) == "6190"


def test_approve_by_another_phone_is_refused(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-30005")
    with pytest.raises(Exception, match="another phone"):
        sandbox.state.approve(MSN, "order-30005", OTHER_PHONE)
    assert get(api, "order-30005")["state"] == "CREATED"


# -- capture / refund / cancel and aggregates ---------------------------------------------
def test_partial_captures_refund_and_cancel_aggregates(api: Api) -> None:
    # Six modifying calls on one reference: past the 5/minute limit (tested on its own).
    api.server.state.config.epayment_rate_limit = None
    api.authorized_payment("order-40001", 10000)
    first = api.adjust("order-40001", "capture", 3000).json()
    assert first["state"] == "AUTHORIZED"  # there is no CAPTURED state (§4.4)
    assert amounts(first) == (10000, 3000, 0, 0)
    assert first["amount"] == {"currency": "NOK", "value": 10000}
    assert amounts(api.adjust("order-40001", "capture", 2000).json()) == (10000, 5000, 0, 0)
    assert amounts(api.adjust("order-40001", "refund", 1500).json()) == (10000, 5000, 1500, 0)
    cancelled = api.adjust("order-40001", "cancel").json()
    assert cancelled["state"] == "AUTHORIZED"
    assert amounts(cancelled) == (10000, 5000, 1500, 5000)  # the rest of the reservation is released
    assert amounts(api.adjust("order-40001", "refund", 3500).json()) == (10000, 5000, 5000, 5000)
    assert amounts(get(api, "order-40001")) == (10000, 5000, 5000, 5000)
    events = api.get(f"{PAYMENTS}/order-40001/events").json()
    assert [(e["name"], e["amount"]["value"]) for e in events] == [
        ("CREATED", 10000),
        ("AUTHORIZED", 10000),
        ("CAPTURED", 3000),
        ("CAPTURED", 2000),
        ("REFUNDED", 1500),
        ("CANCELLED", 5000),
        ("REFUNDED", 3500),
    ]
    assert len({e["pspReference"] for e in events}) == len(events)  # each event has its own
    assert events[0]["pspReference"] == get(api, "order-40001")["pspReference"]
    assert all(e["success"] for e in events)


def test_capture_above_authorized(api: Api) -> None:
    api.authorized_payment("order-40002", 10000)
    api.adjust("order-40002", "capture", 6000)
    response = api.adjust("order-40002", "capture", 4001, expected=400)
    assert error_code(response) == "6090"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert amounts(get(api, "order-40002")) == (10000, 6000, 0, 0)


def test_capture_before_authorization(api: Api) -> None:
    api.create_payment("order-40003", 10000)
    response = api.adjust("order-40003", "capture", 1000, expected=400)
    assert error_code(response) == "6080"
    assert response.json()["title"] == "Cannot capture before reservation"


def test_refund_above_captured(api: Api) -> None:
    api.authorized_payment("order-40004", 10000)
    assert error_code(api.adjust("order-40004", "refund", 1, expected=400)) == "6150"
    api.adjust("order-40004", "capture", 4000)
    api.adjust("order-40004", "refund", 4000)
    assert error_code(api.adjust("order-40004", "refund", 1, expected=400)) == "6150"


def test_refund_before_authorization(api: Api) -> None:
    api.create_payment("order-40005", 10000)
    assert error_code(api.adjust("order-40005", "refund", 100, expected=400)) == "6020"


def test_cancel_after_full_capture(api: Api) -> None:
    api.authorized_payment("order-40006", 10000)
    api.adjust("order-40006", "capture", 10000)
    response = api.adjust("order-40006", "cancel", expected=400)
    assert error_code(response) == "6040"
    assert amounts(get(api, "order-40006")) == (10000, 10000, 0, 0)


def test_capture_after_cancel(api: Api) -> None:
    api.authorized_payment("order-40007", 10000)
    api.adjust("order-40007", "cancel")
    assert error_code(api.adjust("order-40007", "capture", 100, expected=400)) == "6070"
    assert error_code(api.adjust("order-40007", "cancel", expected=400)) == "6190"


def test_cancel_transaction_only_refuses_authorized(api: Api) -> None:
    api.authorized_payment("order-40008", 10000)
    response = api.post(
        f"{PAYMENTS}/order-40008/cancel",
        400,
        json={"cancelTransactionOnly": True},
        headers={"Idempotency-Key": "cto"},
        check_request=False,
    )
    assert error_code(response) == "6060"


def test_capture_of_aborted_payment(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-40009", 10000)
    sandbox.state.reject(MSN, "order-40009")
    assert error_code(api.adjust("order-40009", "capture", 100, expected=400)) == "6200"


def test_modification_amount_validation(api: Api) -> None:
    api.authorized_payment("order-40010", 10000)
    response = api.post(
        f"{PAYMENTS}/order-40010/capture",
        400,
        headers={"Idempotency-Key": "cur"},
        json={"modificationAmount": {"currency": "DKK", "value": 100}},
    )
    assert error_code(response) == "4040"
    api.post(
        f"{PAYMENTS}/order-40010/capture",
        400,
        headers={"Idempotency-Key": "none"},
        json={},
        check_request=False,
    )
    api.post(
        f"{PAYMENTS}/order-40010/capture",
        400,
        headers={"Idempotency-Key": "zero"},
        json={"modificationAmount": {"currency": "NOK", "value": 0}},
    )
    api.post(
        f"{PAYMENTS}/order-40010/capture",
        400,
        json={"modificationAmount": {"currency": "NOK", "value": 1}},
        check_request=False,
    )  # no Idempotency-Key
    assert error_code(api.adjust("order-99999", "capture", 100, expected=404)) == "5090"


def test_partial_capture_can_be_disallowed(api: Api, sandbox: SandboxServer) -> None:
    sandbox.state.merchants[MSN].partial_capture_allowed = False
    api.authorized_payment("order-40011", 10000)
    assert error_code(api.adjust("order-40011", "capture", 5000, expected=400)) == "6140"
    api.adjust("order-40011", "capture", 10000)


# -- idempotency -----------------------------------------------------------------------------
def test_capture_replay_returns_the_first_response(api: Api) -> None:
    api.authorized_payment("order-50001", 10000)
    first = api.adjust("order-50001", "capture", 2500, key="cap-1")
    again = api.adjust("order-50001", "capture", 2500, key="cap-1")
    assert again.json() == first.json()
    assert amounts(get(api, "order-50001")) == (10000, 2500, 0, 0)  # captured once
    assert event_names(api, "order-50001").count("CAPTURED") == 1


def test_same_key_other_body_is_409(api: Api) -> None:
    api.server.state.config.epayment_rate_limit = None  # six calls on one reference
    api.authorized_payment("order-50002", 10000)
    api.adjust("order-50002", "capture", 2500, key="cap-2")
    assert error_code(api.adjust("order-50002", "capture", 3000, key="cap-2", expected=409)) == "4010"
    api.adjust("order-50002", "refund", 500, key="ref-2")
    assert error_code(api.adjust("order-50002", "refund", 600, key="ref-2", expected=409)) == "4150"
    # A key already used for another operation.
    assert error_code(api.adjust("order-50002", "refund", 2500, key="cap-2", expected=409)) == "4020"
    assert amounts(get(api, "order-50002")) == (10000, 2500, 500, 0)


def test_create_replay_and_conflict(api: Api) -> None:
    first = api.create_payment("order-50003", 1000, key="create-key")
    assert api.create_payment("order-50003", 1000, key="create-key").json() == first.json()
    assert event_names(api, "order-50003") == ["CREATED"]
    assert error_code(api.create_payment("order-50003", 2000, key="create-key", expected=409)) == "4020"


def test_errors_are_replayed_for_the_same_key(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-50004", 10000)
    api.adjust("order-50004", "capture", 1000, key="early", expected=400)
    sandbox.state.approve(MSN, "order-50004", PHONE)
    # "A 4xx stays 4xx for that key": the retry does not capture now that it could.
    assert error_code(api.adjust("order-50004", "capture", 1000, key="early", expected=400)) == "6080"
    api.adjust("order-50004", "capture", 1000, key="fresh")


def test_idempotency_keys_are_scoped_per_msn(api: Api, other_api: Api) -> None:
    api.create_payment("order-50005", key="shared-key")
    other_api.create_payment("order-50005", currency="DKK", value=100, key="shared-key")


def test_idempotency_key_longer_than_50_is_rejected(api: Api) -> None:
    api.authorized_payment("order-50006", 10000)
    api.adjust("order-50006", "capture", 100, key="k" * 51, expected=400, check_request=False)


# -- test approve endpoint -------------------------------------------------------------------
def test_force_approve_with_customer(api: Api) -> None:
    api.create_payment("order-60001", 10000)
    response = api.post(
        "/epayment/v1/test/payments/order-60001/approve", 200, json={"customer": {"phoneNumber": PHONE}}
    )
    assert response.content == b""
    assert get(api, "order-60001")["state"] == "AUTHORIZED"
    assert (
        error_code(
            api.post(
                "/epayment/v1/test/payments/order-60001/approve",
                400,
                json={"customer": {"phoneNumber": PHONE}},
            )
        )
        == "6230"
    )


def test_force_approve_with_redirect_token(api: Api) -> None:
    redirect = api.create_payment(
        "order-60002", userFlow="WEB_REDIRECT", customer=None, returnUrl="https://shop.example.no/r"
    ).json()["redirectUrl"]
    token = redirect.split("token=")[1]
    api.post("/epayment/v1/test/payments/order-60002/approve", 400, json={"token": "wrong"})
    api.post("/epayment/v1/test/payments/order-60002/approve", 200, json={"token": token})
    assert get(api, "order-60002")["state"] == "AUTHORIZED"


def test_force_approve_errors(api: Api) -> None:
    api.create_payment("order-60003", 10000)
    api.post("/epayment/v1/test/payments/order-60003/approve", 400, json={"customer": {"phoneNumber": OTHER_PHONE}})
    api.post("/epayment/v1/test/payments/order-99999/approve", 404, json={"customer": {"phoneNumber": PHONE}})


def test_profile_sub_after_authorization(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-60004", profile={"scope": "name phoneNumber"})
    assert get(api, "order-60004")["profile"] == {}
    sandbox.state.approve(MSN, "order-60004", PHONE)
    assert get(api, "order-60004")["profile"]["sub"]


def test_metadata_is_returned(api: Api) -> None:
    api.create_payment("order-60005", metadata={"orderId": "10005", "till": "2"})
    assert get(api, "order-60005")["metadata"] == {"orderId": "10005", "till": "2"}
