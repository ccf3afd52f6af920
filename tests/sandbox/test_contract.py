"""The contract helper itself: it must accept valid traffic, reject invalid traffic, and apply
exactly the documented spec patches."""

from __future__ import annotations

import pytest

from vipps_sandbox import contract
from vipps_sandbox.contract import ContractError

EPAY_HEADERS = {
    "Authorization": "Bearer x",
    "Ocp-Apim-Subscription-Key": "k",
    "Merchant-Serial-Number": "123456",
    "Idempotency-Key": "key-1",
}
AMOUNT = {"currency": "NOK", "value": 1000}
AGGREGATE = {k: AMOUNT for k in ("authorizedAmount", "cancelledAmount", "capturedAmount", "refundedAmount")}


def create_body(**extra: object) -> dict[str, object]:
    return {
        "amount": AMOUNT,
        "paymentMethod": {"type": "WALLET"},
        "reference": "order-12345",
        "userFlow": "PUSH_MESSAGE",
    } | extra


def test_api_for_path_uses_wire_prefixes() -> None:
    assert contract.api_for_path("/qr/v1/merchant-callback/x?QrImageFormat=PNG") == "qr"
    assert contract.api_for_path("http://127.0.0.1:8100/webhooks/v1/webhooks") == "webhooks"
    assert contract.api_for_path("/accesstoken/get") == "access_token"
    assert contract.api_for_path("/pos/v10/pointofsales/x/checkin") == "pos"
    with pytest.raises(ContractError):
        contract.api_for_path("/nope")


@pytest.mark.parametrize(
    "customer",
    [
        {"phoneNumber": "4791234567"},
        {"customerToken": "abc"},
        {"personalQr": "https://qr.vipps.no/28/2/01/031/4791234567?v=1"},
    ],
)
def test_customer_one_of_accepts_exactly_one_property(customer: dict[str, str]) -> None:
    contract.validate_request("POST", "/epayment/v1/payments", EPAY_HEADERS, create_body(customer=customer))


@pytest.mark.parametrize(
    "customer", [{}, {"phoneNumber": "4791234567", "customerToken": "abc"}, {"phoneNumber": "+47 912"}]
)
def test_customer_one_of_rejects_none_two_or_invalid(customer: dict[str, str]) -> None:
    with pytest.raises(ContractError):
        contract.validate_request("POST", "/epayment/v1/payments", EPAY_HEADERS, create_body(customer=customer))


def test_receipt_ref_resolves_to_order_management_2_3_24() -> None:
    line = {
        "name": "Kaffe",
        "id": "1",
        "totalAmount": 1000,
        "totalAmountExcludingTax": 800,
        "totalTaxAmount": 200,
        "taxPercentage": 25,
    }
    receipt = {"orderLines": [line], "bottomLine": {"currency": "NOK"}}
    contract.validate_request("POST", "/epayment/v1/payments", EPAY_HEADERS, create_body(receipt=receipt))
    # taxPercentage is required in 2.3.24 (the newer file made it optional): proves the pinned file is used.
    del line["taxPercentage"]
    with pytest.raises(ContractError, match="taxPercentage"):
        contract.validate_request("POST", "/epayment/v1/payments", EPAY_HEADERS, create_body(receipt=receipt))


def test_missing_required_header_is_reported() -> None:
    headers = {k: v for k, v in EPAY_HEADERS.items() if k != "Idempotency-Key"}
    with pytest.raises(ContractError, match="Idempotency-Key"):
        contract.validate_request("POST", "/epayment/v1/payments", headers, create_body())


def test_adjust_response_accepts_plain_json_and_problem_json() -> None:
    body = {
        "amount": AMOUNT,
        "state": "AUTHORIZED",
        "aggregate": AGGREGATE,
        "pspReference": "1",
        "reference": "order-12345",
    }
    for content_type in ("application/json", "application/problem+json"):
        contract.validate_response(
            "POST", "/epayment/v1/payments/order-12345/capture", 200, {"Content-Type": content_type}, body
        )
    with pytest.raises(ContractError):
        contract.validate_response(
            "POST",
            "/epayment/v1/payments/order-12345/capture",
            200,
            {"Content-Type": "application/json"},
            body | {"state": "CAPTURED"},
        )


def test_event_log_requires_name_not_paymentaction() -> None:
    event = {
        "reference": "order-12345",
        "pspReference": "1",
        "name": "CREATED",
        "amount": AMOUNT,
        "timestamp": "2024-01-01T00:00:00Z",
        "idempotencyKey": None,
        "success": True,
    }
    contract.validate_response("GET", "/epayment/v1/payments/order-12345/events", 200, {}, [event], "application/json")
    del event["name"]
    with pytest.raises(ContractError, match="name"):
        contract.validate_response(
            "GET", "/epayment/v1/payments/order-12345/events", 200, {}, [event], "application/json"
        )


def test_undeclared_error_status_falls_back_to_the_apis_error_schema() -> None:
    problem = {"type": "about:blank", "title": "Unauthorized", "status": 401, "traceId": "t"}
    contract.validate_response(
        "GET", "/epayment/v1/payments/order-12345", 401, {"Content-Type": "application/problem+json"}, problem
    )
    with pytest.raises(ContractError):
        contract.validate_response(
            "GET",
            "/epayment/v1/payments/order-12345",
            401,
            {"Content-Type": "application/problem+json"},
            {"message": "no"},
        )
    # An undeclared success status is never accepted.
    with pytest.raises(ContractError, match="200|status"):
        contract.validate_response(
            "POST",
            "/webhooks/v1/webhooks",
            200,
            {"Content-Type": "application/json"},
            {"id": "4b7c2c8e-1111-4a4a-9a9a-123456789012", "secret": "s"},
        )


def test_webhooks_problem_details_allows_no_extra_members() -> None:
    ok = {
        "title": "Bad Request",
        "status": 400,
        "detail": "x",
        "extraDetails": [{"name": "url", "reason": "r"}],
    }
    contract.validate_response("POST", "/webhooks/v1/webhooks", 400, {"Content-Type": "application/problem+json"}, ok)
    with pytest.raises(ContractError):
        contract.validate_response(
            "POST",
            "/webhooks/v1/webhooks",
            400,
            {"Content-Type": "application/problem+json"},
            ok | {"code": "x"},
        )


def test_servers_base_paths_and_query_parameters() -> None:
    headers = {
        "Authorization": "Bearer x",
        "Ocp-Apim-Subscription-Key": "k",
        "Merchant-Serial-Number": "123456",
    }
    contract.validate_request("GET", "/qr/v1/merchant-callback?QrImageFormat=PNG&QrImageSize=100", headers)
    with pytest.raises(ContractError, match="2001|maximum"):
        contract.validate_request("GET", "/qr/v1/merchant-callback?QrImageSize=2001", headers)
    with pytest.raises(ContractError):  # the spec's path without the /qr base is not on the wire
        contract.validate_request("GET", "/v1/merchant-callback", headers)


def test_media_type_parameters_are_not_significant() -> None:
    body = {
        "token_type": "Bearer",
        "expires_in": "3600",
        "ext_expires_in": "0",
        "expires_on": "1",
        "not_before": "1",
        "resource": "r",
        "access_token": "QUJD",
    }
    for content_type in ("application/json;charset=UTF-8", "application/json; charset=utf-8"):
        contract.validate_response("POST", "/accesstoken/get", 200, {"Content-Type": content_type}, body)
    with pytest.raises(ContractError):  # the spec types expires_in as a string
        contract.validate_response(
            "POST", "/accesstoken/get", 200, {"Content-Type": "application/json"}, body | {"expires_in": 3600}
        )


def test_webhook_payload_validation() -> None:
    event = {
        "msn": "123456",
        "reference": "order-12345",
        "pspReference": "1",
        "name": "CAPTURED",
        "amount": AMOUNT,
        "timestamp": "2025-01-14T10:14:59.512Z",
        "idempotencyKey": "k",
        "success": True,
    }
    contract.validate_webhook_payload("epayments.payment.captured.v1", event)
    with pytest.raises(ContractError, match="does not match event type"):
        contract.validate_webhook_payload("epayments.payment.refunded.v1", event)
    checked_in = {
        "customerToken": "t",
        "merchantQrId": "q",
        "merchantSerialNumber": "123456",
        "initiatedAt": "2023-10-06T10:45:40.3061965Z",
    }
    contract.validate_webhook_payload("user.checked-in.v1", checked_in)
    with pytest.raises(ContractError):
        contract.validate_webhook_payload(
            "user.checked-in.v1", {k: v for k, v in checked_in.items() if k != "merchantSerialNumber"}
        )
    with pytest.raises(ContractError):
        contract.validate_webhook_payload("unknown.v1", {})


def test_schema_errors_names_the_field() -> None:
    errors = contract.schema_errors("epayment", "CreatePaymentRequest", create_body(customer={"phoneNumber": "12"}))
    assert errors and errors[0][0] == "customer.phoneNumber", errors
    assert contract.schema_errors("epayment", "CreatePaymentRequest", create_body()) == []


def test_reference_follows_the_live_8_to_64_rule() -> None:
    contract.validate_request("POST", "/epayment/v1/payments", EPAY_HEADERS, create_body(reference="r" * 64))
    contract.validate_request("GET", "/epayment/v1/payments/" + "r" * 64, EPAY_HEADERS)
    for bad in ("r" * 65, "r" * 7, "has_underscore"):
        with pytest.raises(ContractError):
            contract.validate_request("POST", "/epayment/v1/payments", EPAY_HEADERS, create_body(reference=bad))


def test_contract_module_imports_no_web_framework() -> None:
    # The client's contract tests import it; it must not drag in Flask or the sandbox server.
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, vipps_sandbox.contract\nprint('flask' in sys.modules, 'vipps_sandbox.server' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.split() == ["False", "False"]
