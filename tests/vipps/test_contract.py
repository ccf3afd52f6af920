"""Contract tests: every request the client sends is valid for the OpenAPI files.

The fake transport validates each request (and each 2xx answer) as it passes, with
``vipps_sandbox.contract`` (the one module that patches the spec files); these tests make sure
that happened for every operation, and that the validator, with its spec patches, still rejects
requests that break the specs.
"""

from __future__ import annotations

import pytest
import requests

from tests.vipps.conftest import MSN
from tests.vipps.fakes import ACCESS_TOKEN, check_request, token_body
from tests.vipps.samples import OPERATIONS, PHONE, REFERENCE, Operation, add_route
from vipps import Customer
from vipps_sandbox import contract

API_OF = {
    "/qr/": "qr",
    "/webhooks/": "webhooks",
    "/epayment/": "epayment",
}


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_every_operation_is_validated_against_its_spec(client, fake, op: Operation):
    add_route(fake, op)
    op.call(client)

    assert fake.validated_apis == ["access_token", API_OF["/" + op.path.split("/")[1] + "/"]]


def test_all_client_operations_are_covered():
    from vipps import VippsClient

    public = {name for name in dir(VippsClient) if not name.startswith("_") and callable(getattr(VippsClient, name))}
    assert public - {"fetch_access_token", "access_token"} == {op.name for op in OPERATIONS}


def test_specs_are_found():
    # A missing spec file is a failure, never a skip.
    assert (contract.SPECS_DIR / "order-management-api-2.3.24.yaml").is_file()
    for api in contract.API_NAMES:
        assert contract.load_api(api) is not None


def prepared(method: str, path: str, headers: dict[str, str] | None = None, json=None):
    base = {
        "Authorization": "Bearer t",
        "Ocp-Apim-Subscription-Key": "k",
        "Merchant-Serial-Number": MSN,
        "Idempotency-Key": "key-1",
    }
    base.update(headers or {})
    base = {k: v for k, v in base.items() if v is not None}
    return requests.Request(method, f"https://apitest.vipps.no{path}", headers=base, json=json).prepare()


def payment(**overrides):
    body = {
        "amount": {"currency": "NOK", "value": 1000},
        "paymentMethod": {"type": "WALLET"},
        "reference": REFERENCE,
        "userFlow": "PUSH_MESSAGE",
        "customer": {"phoneNumber": PHONE},
    }
    body.update(overrides)
    return body


RECEIPT = {
    "orderLines": [
        {
            "name": "Coffee",
            "id": "1",
            "totalAmount": 1000,
            "totalAmountExcludingTax": 800,
            "totalTaxAmount": 200,
            "taxPercentage": 25,
        }
    ],
    "bottomLine": {"currency": "NOK"},
}


@pytest.mark.parametrize(
    "customer",
    [{"phoneNumber": PHONE}, {"customerToken": "abc"}, {"personalQr": "https://qr.vipps.no/28/2/01/031/x"}],
)
def test_customer_oneof_patch_accepts_each_single_identifier(customer):
    request = prepared("POST", "/epayment/v1/payments", json=payment(customer=customer))
    assert check_request(request) == "epayment"


@pytest.mark.parametrize(
    "customer", [{}, {"phoneNumber": PHONE, "customerToken": "abc"}, {"phoneNumber": "+4791234567"}]
)
def test_customer_oneof_patch_still_rejects_invalid_customers(customer):
    with pytest.raises(contract.ContractError):
        check_request(prepared("POST", "/epayment/v1/payments", json=payment(customer=customer)))


def test_receipt_is_resolved_from_the_local_order_management_spec():
    assert check_request(prepared("POST", "/epayment/v1/payments", json=payment(receipt=RECEIPT))) == "epayment"
    line = dict(RECEIPT["orderLines"][0])
    del line["taxPercentage"]  # required in Order Management 2.3.24
    with pytest.raises(contract.ContractError, match="taxPercentage"):
        check_request(
            prepared("POST", "/epayment/v1/payments", json=payment(receipt={**RECEIPT, "orderLines": [line]}))
        )


def test_the_client_sends_specified_receipts_too(client, fake):
    """Guard against the typed Receipt drifting from Order Management 2.3.24."""
    from tests.vipps.samples import push_payment
    from vipps import OrderLine, Receipt

    fake.add("POST", "/epayment/v1/payments", status=201, body={"reference": REFERENCE})
    request = push_payment(Customer(phone_number=PHONE))
    request = type(request)(
        **{
            **request.__dict__,
            "receipt": Receipt(
                [OrderLine("Coffee", "1", 1000, 800, 200, 25, discount=0, is_return=False)],
                "NOK",
                pos_id="kasse-1",
            ),
        }
    )
    client.create_payment(request, idempotency_key="r-1")
    assert fake.validated_apis[-1] == "epayment"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/epayment/v1/payments/acme-shop-123-order123abc", {"Merchant-Serial-Number": None}),
        ("/epayment/v1/payments/acme-shop-123-order123abc", {"Merchant-Serial-Number": "12"}),
        ("/epayment/v1/payments/acme-shop-123-order123abc", {"Ocp-Apim-Subscription-Key": None}),
        ("/epayment/v1/payments/acme-shop-123-order123abc", {"Authorization": None}),
        ("/epayment/v1/payments/short", {}),
        ("/epayment/v1/payments/" + "r" * 65, {}),  # 8-64 (live API, CONTRACTS §4.8)
        ("/epayment/v1/payments/has_underscore", {}),
        ("/qr/v1/merchant-callback/kiosk", {"Merchant-Serial-Number": None}),
        ("/qr/v1/merchant-callback/kiosk?QrImageSize=5000", {}),
        ("/webhooks/v1/webhooks", {"Vipps-System-Name": "x" * 31}),
        ("/webhooks/v1/webhooks/not-a-uuid", {}),
        ("/qr/v1/no-such-endpoint", {}),
    ],
)
def test_validator_rejects_spec_violations(path, headers):
    method = "DELETE" if path.startswith("/webhooks/v1/webhooks/") else "GET"
    with pytest.raises(contract.ContractError):
        check_request(prepared(method, path, headers))


def test_servers_patch_maps_wire_paths_onto_base_paths():
    # /qr/v1/... on the wire is /v1/... in qr-api.yaml; /webhooks/v1/... likewise.
    assert check_request(prepared("GET", "/qr/v1/merchant-callback")) == "qr"
    assert check_request(prepared("GET", "/webhooks/v1/webhooks")) == "webhooks"
    with pytest.raises(contract.ContractError):
        check_request(prepared("GET", "/v1/merchant-callback"))


def test_post_bodies_are_checked():
    with pytest.raises(contract.ContractError):
        check_request(prepared("POST", "/webhooks/v1/webhooks", json={"url": "https://x.example"}))
    with pytest.raises(contract.ContractError):
        check_request(
            prepared(
                "POST",
                f"/epayment/v1/payments/{REFERENCE}/capture",
                json={"modificationAmount": {"currency": "SEK", "value": 1}},
            )
        )
    with pytest.raises(contract.ContractError):
        check_request(prepared("PUT", "/qr/v1/merchant-callback/k", json={"locationDescription": "x" * 37}))


def test_unknown_paths_are_errors_not_silently_skipped():
    with pytest.raises(contract.ContractError):
        contract.api_for_path("/recurring/v3/agreements")
    with pytest.raises(contract.ContractError):
        check_request(prepared("GET", "/recurring/v3/agreements"))
    # Only the documented spec-less endpoint is skipped, and only by name.
    assert contract.UNSPECIFIED_PATHS == ("/integrator-authentication/connect/token",)
    token_request = requests.Request(
        "POST", "https://apitest.vipps.no/integrator-authentication/connect/token", data={"grant_type": "x"}
    ).prepare()
    assert check_request(token_request) is None
    with pytest.raises(contract.ContractError):
        contract.api_for_path("/integrator-authentication/connect/token")


def test_access_token_is_a_jwt_not_strict_base64():
    # Patch 9: the spec says `format: byte`, which a JWT (dotted base64url) fails.
    url = "https://apitest.vipps.no/accesstoken/get"
    headers = {"Content-Type": "application/json;charset=UTF-8"}
    assert "." in ACCESS_TOKEN
    contract.validate_response("POST", url, 200, headers, token_body())
    # The rest of the schema still holds: a string, present, and string-typed siblings.
    for bad in ({"access_token": 12345}, {"expires_in": 3599}):
        with pytest.raises(contract.ContractError):
            contract.validate_response("POST", url, 200, headers, token_body() | bad)
    body = token_body()
    del body["access_token"]
    with pytest.raises(contract.ContractError):
        contract.validate_response("POST", url, 200, headers, body)
