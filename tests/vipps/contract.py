"""Contract checks for the ``vipps`` client: its requests (and our fake responses) against the
official OpenAPI files.

Specs are read from ``vipps_sandbox/specs/`` (verbatim copies kept by the sandbox) when present,
else from ``shared/vipps-api/specs/`` beside the repository. A missing spec is a test failure,
never a skip.

This is the one place that works around defects of the spec files. Patches are applied in memory:

1. ``servers`` (CONTRACTS §9): the QR and Webhooks specs keep their base path in ``servers``
   (``https://api.vipps.no/qr``), so their ``paths`` start at ``/v1/...`` while the wire path is
   ``/qr/v1/...``. Every spec gets one server, ``CONTRACT_HOST`` + that base path, and every
   request is re-pointed at ``CONTRACT_HOST`` (the client's own host does not matter).
2. ePayment ``Customer`` (CONTRACTS §9) is a ``oneOf`` whose branches require nothing, so any
   customer matches all three and is rejected. Each branch now requires its own property, which
   gives the intended rule: exactly one of ``phoneNumber``, ``personalQr``, ``customerToken``.
3. ePayment ``receipt`` (CONTRACTS §9) is an external ``$ref`` to Order Management 2.3.24 on
   GitHub; it is pointed at the local ``order-management-api-2.3.24.yaml``.
4. ePayment ``PaymentEvent`` requires ``paymentAction``, a property it does not define (the
   field is ``name``); ``name`` is required instead. Only matters for response checks.
5. Access token ``access_token`` is declared ``format: byte`` (base64), but the value is a JWT
   (base64url segments joined by dots), which strict base64 rejects; the format is dropped.
6. ePayment ``AdjustResponse`` (the 200 of capture/refund/cancel) is declared only as
   ``application/problem+json``; the API sends plain JSON (CONTRACTS §4.1), so
   ``application/json`` is accepted too. (openapi-core also needs a deserializer for
   ``application/problem+json``: see ``load``.)

Not covered by any spec, so not validated: the MobilePay PoS integrator token endpoint
(``/integrator-authentication/connect/token``), which is documented only in prose.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_DIRS = (
    REPO_ROOT / "vipps_sandbox" / "specs",
    REPO_ROOT.parent / "shared" / "vipps-api" / "specs",
    Path("/work/shared/vipps-api/specs"),
)
CONTRACT_HOST = "https://contract.invalid"

# wire-path prefix -> spec file
SPEC_FILES = {
    "/accesstoken/": "access-token-api.yaml",
    "/epayment/": "epayment-api.yaml",
    "/qr/": "qr-api.yaml",
    "/webhooks/": "webhooks-api.yaml",
    "/pos/": "mobilepay-pos-v10.yaml",
}
UNSPECIFIED_PATHS = ("/integrator-authentication/connect/token",)

_RECEIPT_REF = "order-management-api-2.3.24.yaml#/components/schemas/Receipt"


class ContractError(AssertionError):
    pass


def spec_dir() -> Path:
    for candidate in SPEC_DIRS:
        if all((candidate / name).is_file() for name in SPEC_FILES.values()):
            return candidate
    raise ContractError(f"no directory with the Vipps spec files among {SPEC_DIRS}")


def _patch(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    base_path = urlsplit(spec["servers"][0]["url"]).path.rstrip("/")
    spec["servers"] = [{"url": CONTRACT_HOST + base_path}]  # patch 1
    schemas = spec.get("components", {}).get("schemas", {})
    for branch in schemas.get("Customer", {}).get("oneOf", []):  # patch 2
        target = schemas[branch["$ref"].rsplit("/", 1)[1]]
        target["required"] = sorted(target["properties"])
    receipt = schemas.get("CreatePaymentRequest", {}).get("properties", {}).get("receipt")
    if receipt is not None and receipt.get("$ref", "").startswith("https://"):  # patch 3
        receipt["$ref"] = _RECEIPT_REF
    event = schemas.get("PaymentEvent")
    if event is not None and "paymentAction" in event.get("required", []):  # patch 4
        event["required"] = [("name" if r == "paymentAction" else r) for r in event["required"]]
    token = schemas.get("AuthorizationTokenResponse", {}).get("properties", {}).get("access_token")
    if token is not None:  # patch 5
        token.pop("format", None)
    adjust = spec.get("components", {}).get("responses", {}).get("AdjustResponse", {}).get("content")
    if adjust is not None and "application/json" not in adjust:  # patch 6
        adjust["application/json"] = adjust["application/problem+json"]
    return spec


@functools.cache
def load(spec_file: str) -> OpenAPI:
    path = spec_dir() / spec_file
    spec = _patch(yaml.safe_load(path.read_text(encoding="utf-8")))
    # openapi-core has no deserializer for problem+json, which the ePayment spec uses even for
    # the 200s of capture/refund/cancel; it is plain JSON. base_uri lets the relative receipt
    # $ref (patch 3) resolve to the sibling file.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(spec, config=config, base_uri=path.as_uri())


def spec_for_path(path: str) -> str | None:
    """The spec file for a wire path, or None for the documented unspecified endpoints."""
    if path in UNSPECIFIED_PATHS:
        return None
    for prefix, spec_file in SPEC_FILES.items():
        if path.startswith(prefix):
            return spec_file
    raise ContractError(f"no spec describes {path}")


def _rehosted(request: requests.PreparedRequest) -> requests.PreparedRequest:
    parts = urlsplit(request.url or "")
    host = urlsplit(CONTRACT_HOST)
    moved = request.copy()
    moved.url = urlunsplit((host.scheme, host.netloc, parts.path, parts.query, ""))
    return moved


def validate_request(request: requests.PreparedRequest) -> str | None:
    """Raise ``ContractError`` unless ``request`` is valid for its spec; return the spec file."""
    spec_file = spec_for_path(urlsplit(request.url or "").path)
    if spec_file is None:
        return None
    try:
        load(spec_file).validate_request(RequestsOpenAPIRequest(_rehosted(request)))
    except Exception as exc:  # openapi-core raises several unrelated exception types
        raise ContractError(f"{request.method} {request.url} violates {spec_file}: {_describe(exc)}") from exc
    return spec_file


def validate_response(response: requests.Response) -> None:
    """Raise ``ContractError`` unless a (fake) 2xx response matches the spec."""
    request = response.request
    spec_file = spec_for_path(urlsplit(request.url or "").path)
    if spec_file is None:
        return
    try:
        load(spec_file).validate_response(RequestsOpenAPIRequest(_rehosted(request)), RequestsOpenAPIResponse(response))
    except Exception as exc:
        raise ContractError(f"response to {request.method} {request.url}: {_describe(exc)}") from exc


def _describe(exc: BaseException) -> str:
    """openapi-core hides the useful message in the cause chain; collect it."""
    details: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        details.append(f"{type(current).__name__}: {current}")
        details += [str(getattr(e, "message", e)) for e in getattr(current, "schema_errors", ()) or ()]
        current = current.__cause__
    return "; ".join(details)
