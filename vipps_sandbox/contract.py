"""Validate HTTP traffic against the Vipps MobilePay OpenAPI files.

This module is the single place that knows how the official OpenAPI files in
``vipps_sandbox/specs/`` (verbatim copies of ``shared/vipps-api/specs/``) are loaded and
which of their known defects are worked around. The sandbox (at runtime and in
``tests/sandbox/``) and the ``vipps`` HTTP client's tests (``tests/vipps/``, through the fake
transport in ``tests/vipps/fakes.py``) both use it, so its public API is kept small and stable:

``validate_request(method, path, headers=None, body=None, content_type=None)``
    Validate one request as it goes on the wire. ``path`` is the full wire path
    (``/qr/v1/merchant-callback/kasse-1?QrImageFormat=PNG``); a full URL is accepted too,
    its scheme and host are ignored. ``body`` may be bytes, str, or a JSON-able object.
``validate_response(method, path, status, headers=None, body=None, content_type=None)``
    Validate the response that the request ``method path`` got.
``validate_requests_response(response, check_request=True)``
    Convenience for a ``requests.Response``: validates ``response.request`` (unless
    ``check_request`` is false, e.g. for a deliberately invalid request) and the response.
``validate_webhook_payload(event_type, body)``
    Validate a webhook delivery body (ePayment ``WebhookEvent`` from the spec, and
    ``user.checked-in.v1`` against CONTRACTS.md §5.2, which no spec file describes).
``schema_errors(api, schema_name, instance)``
    ``(path, message)`` pairs for ``instance`` against one component schema (empty = valid).
``api_for_path(path)`` / ``load_api(api)`` / ``spec_dict(api)``
    Which API a wire path belongs to (``"access_token"``, ``"epayment"``, ``"qr"``,
    ``"webhooks"``, ``"pos"``), its ``openapi_core.OpenAPI`` object, and the patched spec.
``UNSPECIFIED_PATHS``
    Wire paths of real endpoints that no spec file describes: the MobilePay PoS integrator
    token endpoint (``/integrator-authentication/connect/token``), documented only in prose.
    ``api_for_path`` still rejects them; a caller that sends such requests skips them
    explicitly (and only them), so an unknown path is never silently let through.

Every failure raises ``ContractError`` (a subclass of ``AssertionError``, so pytest shows
it as a plain assertion failure); its ``errors`` attribute lists the individual problems.

Spec patches, applied in memory only (the files stay verbatim). Patches 1-3 are the quirks
listed in CONTRACTS.md §9, 4 is CONTRACTS §4.1 and 8 is §4.8; the others are documented here:

1. ``servers``: every spec's server is replaced by one ``https://api.vipps.no<base>`` where
   ``<base>`` is the original base path (``/qr`` for the QR API, ``/webhooks`` for the
   Webhooks API, empty for the rest), so the QR and Webhooks specs, whose ``paths`` start at
   ``/v1/...``, match the full wire paths ``/qr/v1/...`` and ``/webhooks/v1/...``. The PoS
   spec (host ``api.mobilepay.dk``) is moved onto the same synthetic host.
2. ePayment ``Customer`` is a ``oneOf`` whose branches require nothing, so every customer
   matches all three branches and is rejected. Each branch now requires its own property
   (``phoneNumber`` / ``personalQr`` / ``customerToken``): exactly one of them must be given.
3. ePayment ``receipt`` is an external ``$ref`` to Order Management 2.3.24 on GitHub. It is
   pointed at the local ``order-management-api-2.3.24.yaml``.
4. ePayment ``AdjustResponse`` (200 of capture/refund/cancel) is declared as
   ``application/problem+json``; in practice it is plain JSON (CONTRACTS §4.1), so
   ``application/json`` is accepted as well.
5. Media types declared with parameters (the access token's ``application/json;charset=UTF-8``)
   are also accepted under their bare type, so ``application/json; charset=utf-8`` matches:
   parameters are not significant for validation.
6. ePayment ``PaymentEvent`` lists ``paymentAction`` (the property's pre-1.0 name) as
   required while its properties call it ``name``; ``name`` is required instead.
7. Error statuses an operation does not declare (the ePayment spec declares no 401 at all,
   ``GET /payments/{reference}`` no 404; fault-injected 5xx; 429) are validated against the
   API's own error schema through added ``4XX``/``5XX`` responses: ePayment ``Problem`` and
   Webhooks ``ProblemDetails`` as ``application/problem+json``, QR ``QrErrorResponse`` (the
   exchange endpoints: their ``*ExchangeErrorResponse``) and PoS ``ErrorResponse`` as
   ``application/json``; access-token errors have no schema (any body). An undeclared 1xx–3xx
   status is still an error.
8. ePayment ``reference`` (the ``Reference`` schema and the ``{reference}`` path parameter) is
   ``^[a-zA-Z0-9-]{8,64}$``, as in the live API since v1.7.0 (January 2025, CONTRACTS §4.8);
   the 1.4.1 file says 8-50. References of at most 50 characters work with both. (The ``vipps``
   client still only sends 8-50, the limit valid for both; its own tests check that.)
9. Access token ``access_token`` is declared ``format: byte`` (strict base64) in both token
   response schemas, but the value is a JWT: base64url segments joined by dots, which strict
   base64 rejects (real tokens start ``eyJ0eXAiOiJKV1Qi...``, as the spec's own example does).
   The format is dropped; the property is still a required string.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from jsonschema.exceptions import best_match
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

__all__ = [
    "API_NAMES",
    "SPECS_DIR",
    "UNSPECIFIED_PATHS",
    "ContractError",
    "api_for_path",
    "load_api",
    "schema_errors",
    "spec_dict",
    "validate_request",
    "validate_requests_response",
    "validate_response",
    "validate_webhook_payload",
]

SPECS_DIR = Path(__file__).resolve().parent / "specs"

# The synthetic host every patched spec is served from (patch 1). Only the path matters.
_HOST = "https://api.vipps.no"

# (wire path prefix, api name, spec file, base path kept from the spec's `servers`)
_APIS: tuple[tuple[str, str, str, str], ...] = (
    ("/accesstoken/", "access_token", "access-token-api.yaml", ""),
    ("/epayment/", "epayment", "epayment-api.yaml", ""),
    ("/qr/", "qr", "qr-api.yaml", "/qr"),
    ("/webhooks/", "webhooks", "webhooks-api.yaml", "/webhooks"),
    ("/pos/", "pos", "mobilepay-pos-v10.yaml", ""),
)
API_NAMES: tuple[str, ...] = tuple(name for _, name, _, _ in _APIS)
# Real endpoints that no spec file describes (see the module docstring); never validated.
UNSPECIFIED_PATHS: tuple[str, ...] = ("/integrator-authentication/connect/token",)

LIVE_REFERENCE_PATTERN = "^[a-zA-Z0-9-]{8,64}$"

_RECEIPT_REMOTE_REF = (
    "https://raw.githubusercontent.com/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml"
    "#/components/schemas/Receipt"
)
_RECEIPT_LOCAL_REF = "order-management-api-2.3.24.yaml#/components/schemas/Receipt"

# Patch 7: per API, the (content type, schema) used for undeclared error statuses.
_ERROR_FALLBACK: dict[str, tuple[str, dict[str, Any]] | None] = {
    "access_token": None,
    "epayment": ("application/problem+json", {"$ref": "#/components/schemas/Problem"}),
    "qr": ("application/json", {"$ref": "#/components/schemas/QrErrorResponse"}),
    "webhooks": ("application/problem+json", {"$ref": "#/components/schemas/ProblemDetails"}),
    "pos": ("application/json", {"$ref": "#/components/schemas/ErrorResponse"}),
}
_QR_EXCHANGE_FALLBACK = {
    "exchangeQr": "#/components/schemas/QrExchangeErrorResponse",
    "exchangeCustomer": "#/components/schemas/CustomerExchangeErrorResponse",
}

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# user.checked-in.v1 is described by no spec file; this follows CONTRACTS.md §5.2 (the MSN
# was renamed from `merchantSerialNumber` to `msn`; at least one of them must be present).
_CHECKED_IN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["customerToken", "merchantQrId", "initiatedAt"],
    "properties": {
        "customerToken": {"type": "string", "minLength": 1},
        "merchantQrId": {"type": "string", "minLength": 1},
        "msn": {"type": "string", "pattern": r"^[0-9]{4,10}$"},
        "merchantSerialNumber": {"type": "string", "pattern": r"^[0-9]{4,10}$"},
        "initiatedAt": {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$",
        },
    },
    "anyOf": [{"required": ["msn"]}, {"required": ["merchantSerialNumber"]}],
}

EPAYMENT_EVENT_TYPES: dict[str, str] = {
    "epayments.payment.created.v1": "CREATED",
    "epayments.payment.aborted.v1": "ABORTED",
    "epayments.payment.expired.v1": "EXPIRED",
    "epayments.payment.cancelled.v1": "CANCELLED",
    "epayments.payment.captured.v1": "CAPTURED",
    "epayments.payment.refunded.v1": "REFUNDED",
    "epayments.payment.authorized.v1": "AUTHORIZED",
    "epayments.payment.terminated.v1": "TERMINATED",
}


class ContractError(AssertionError):
    """A request, response or payload that does not match the OpenAPI contract."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        self.errors = errors or [message]
        details = "\n".join(f"  - {e}" for e in self.errors if e != message)
        super().__init__(f"{message}\n{details}" if details else message)


def api_for_path(path: str) -> str:
    """Return the API name that owns a wire path (or full URL); ContractError if none."""
    wire_path = urlsplit(path).path if "://" in path else path.split("?", 1)[0]
    for prefix, name, _, _ in _APIS:
        if wire_path.startswith(prefix):
            return name
    raise ContractError(f"no Vipps API is served under {wire_path!r}")


def _file_for(api: str) -> tuple[Path, str]:
    for _, name, filename, base in _APIS:
        if name == api:
            return SPECS_DIR / filename, base
    raise ContractError(f"unknown API {api!r}; expected one of {API_NAMES}")


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        op
        for item in spec.get("paths", {}).values()
        for method, op in item.items()
        if method in _HTTP_METHODS and isinstance(op, dict)
    ]


def _patch(api: str, spec: dict[str, Any], base: str) -> dict[str, Any]:
    """Apply the documented patches (see the module docstring) to a loaded spec."""
    spec = copy.deepcopy(spec)
    # 1. One synthetic server per API, keeping the base path.
    spec["servers"] = [{"url": _HOST + base}]
    for item in spec.get("paths", {}).values():
        item.pop("servers", None)
        for method in _HTTP_METHODS:
            if isinstance(item.get(method), dict):
                item[method].pop("servers", None)

    schemas = spec.get("components", {}).get("schemas", {})
    if api == "epayment":
        # 2. Customer oneOf: exactly one of the three properties.
        for branch, prop in (
            ("CustomerPhoneNumber", "phoneNumber"),
            ("PersonalQrCode", "personalQr"),
            ("CustomerToken", "customerToken"),
        ):
            schemas[branch]["required"] = [prop]
        # 3. External receipt $ref -> local Order Management 2.3.24 file.
        receipt = schemas["CreatePaymentRequest"]["properties"]["receipt"]
        if receipt.get("$ref") == _RECEIPT_REMOTE_REF:
            receipt["$ref"] = _RECEIPT_LOCAL_REF
        # 4. AdjustResponse is plain JSON in practice.
        adjust = spec["components"]["responses"]["AdjustResponse"]["content"]
        adjust.setdefault("application/json", copy.deepcopy(adjust["application/problem+json"]))
        # 8. `reference` is 8-64 characters in the live API since v1.7.0 (spec file: 8-50).
        for reference in (
            schemas["Reference"],
            spec["components"]["parameters"]["Payment-Reference-ID"]["schema"],
        ):
            reference["pattern"] = LIVE_REFERENCE_PATTERN
            reference["maxLength"] = 64
        # 6. PaymentEvent requires `name`, not the stale `paymentAction`.
        required = schemas["PaymentEvent"]["required"]
        schemas["PaymentEvent"]["required"] = ["name" if r == "paymentAction" else r for r in required]

    if api == "access_token":
        # 9. The access token is a JWT, not strict base64.
        for schema in schemas.values():
            token = schema.get("properties", {}).get("access_token")
            if isinstance(token, dict) and token.get("format") == "byte":
                del token["format"]

    # 5. Media types with parameters also under their bare type.
    def alias_media_types(content: dict[str, Any]) -> None:
        for key in list(content):
            bare = key.split(";", 1)[0].strip().lower()
            if bare != key:
                content.setdefault(bare, content[key])

    for op in _operations(spec):
        if isinstance(op.get("requestBody", {}).get("content"), dict):
            alias_media_types(op["requestBody"]["content"])
        for response in op.get("responses", {}).values():
            if isinstance(response, dict) and isinstance(response.get("content"), dict):
                alias_media_types(response["content"])

    # 7. Undeclared error statuses fall back to the API's error schema.
    fallback = _ERROR_FALLBACK[api]
    for op in _operations(spec):
        responses = op.setdefault("responses", {})
        if fallback is None:
            content: dict[str, Any] | None = None
        else:
            media, schema = fallback
            if api == "qr" and op.get("operationId") in _QR_EXCHANGE_FALLBACK:
                schema = {"$ref": _QR_EXCHANGE_FALLBACK[op["operationId"]]}
            content = {media: {"schema": schema}}
        for status_range in ("4XX", "5XX"):
            if status_range not in responses and "default" not in responses:
                responses[status_range] = {"description": "Undeclared error (sandbox contract fallback)"}
                if content is not None:
                    responses[status_range]["content"] = copy.deepcopy(content)
    return spec


@functools.cache
def spec_dict(api: str) -> dict[str, Any]:
    """The patched spec of ``api`` as a dict (do not mutate it)."""
    path, base = _file_for(api)
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return _patch(api, raw, base)


@functools.cache
def load_api(api: str) -> OpenAPI:
    """The ``openapi_core.OpenAPI`` object of an API, built from the patched spec (cached)."""
    path, _ = _file_for(api)
    # base_uri makes the relative receipt $ref (patch 3) resolve to the local file.
    # RFC 7807 bodies are JSON too; openapi-core only knows `application/json` out of the box.
    config = Config(extra_media_type_deserializers={"application/problem+json": _json_loads})
    return OpenAPI.from_dict(spec_dict(api), base_uri=path.as_uri(), config=config)


def _json_loads(value: bytes | str, **_: Any) -> Any:
    return json.loads(value)


def _encode_body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _split(path: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(path)
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return parts.path, query


def _mock_request(
    method: str,
    path: str,
    headers: Mapping[str, Any] | None,
    body: Any,
    content_type: str | None,
) -> MockRequest:
    from werkzeug.datastructures import MultiDict

    wire_path, query = _split(path)
    headers = {str(k): str(v) for k, v in (headers or {}).items()}
    data = _encode_body(body)
    if content_type is None:
        content_type = _header(headers, "Content-Type") or ("application/json" if data else "")
    request = MockRequest(_HOST, method.lower(), wire_path, headers=headers, data=data, content_type=content_type)
    # MockRequest flattens query args to one value per key; keep repeated keys intact.
    request.parameters.query = MultiDict([(k, v) for k, vs in query.items() for v in vs])
    return request


def _errors_of(exc: BaseException) -> list[str]:
    """Flatten openapi-core's nested exception chain into readable messages."""
    found: list[str] = [f"{type(exc).__name__}: {exc}"]
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for attr in ("schema_errors", "errors"):
            for sub in getattr(current, attr, None) or ():
                if isinstance(sub, BaseException):
                    message = getattr(sub, "message", None) or str(sub)
                    location = "/".join(str(p) for p in getattr(sub, "absolute_path", ()) or ())
                    found.append(f"{location or '<root>'}: {message}" if location else message)
                    stack.append(sub)
        if current.__cause__ is not None:
            found.append(f"{type(current.__cause__).__name__}: {current.__cause__}")
            stack.append(current.__cause__)
    # Keep order, drop duplicates.
    return list(dict.fromkeys(found))


def validate_request(
    method: str,
    path: str,
    headers: Mapping[str, Any] | None = None,
    body: Any = None,
    content_type: str | None = None,
) -> None:
    """Validate a request against its API's spec; raise ContractError when it does not match."""
    api = api_for_path(path)
    request = _mock_request(method, path, headers, body, content_type)
    try:
        load_api(api).validate_request(request)
    except Exception as exc:  # openapi-core raises a family of unrelated exception types
        raise ContractError(f"{method.upper()} {path}: request does not match the {api} spec", _errors_of(exc)) from exc


def validate_response(
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, Any] | None = None,
    body: Any = None,
    content_type: str | None = None,
) -> None:
    """Validate the response to ``method path``; raise ContractError when it does not match."""
    api = api_for_path(path)
    request = _mock_request(method, path, None, None, "")
    headers = {str(k): str(v) for k, v in (headers or {}).items()}
    data = _encode_body(body)
    if content_type is None:
        content_type = _header(headers, "Content-Type") or ""
    response = MockResponse(data, status_code=int(status), headers=headers, content_type=content_type)
    try:
        load_api(api).validate_response(request, response)
    except Exception as exc:
        raise ContractError(
            f"{method.upper()} {path} -> {status}: response does not match the {api} spec", _errors_of(exc)
        ) from exc


def validate_requests_response(response: Any, check_request: bool = True) -> None:
    """Validate a ``requests.Response`` (and, unless told not to, the request that produced it)."""
    prepared = response.request
    url = prepared.url
    if check_request:
        validate_request(prepared.method, url, dict(prepared.headers), prepared.body)
    validate_response(
        prepared.method,
        url,
        response.status_code,
        dict(response.headers),
        response.content,
        response.headers.get("Content-Type", ""),
    )


@functools.cache
def _registry() -> Registry:
    # Every spec document under its file URI, so relative refs between them (the receipt,
    # patch 3) resolve; the ePayment document is the patched one.
    registry: Registry = Registry()
    for _, api, filename, _ in _APIS:
        registry = registry.with_resource(
            (SPECS_DIR / filename).as_uri(),
            Resource.from_contents(spec_dict(api), default_specification=DRAFT4),
        )
    order_management = SPECS_DIR / "order-management-api-2.3.24.yaml"
    with order_management.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return registry.with_resource(order_management.as_uri(), Resource.from_contents(raw, default_specification=DRAFT4))


def schema_errors(api: str, schema_name: str, instance: Any) -> list[tuple[str, str]]:
    """Validate ``instance`` against ``components/schemas/<schema_name>`` of an API's patched spec.

    Returns ``(json path, message)`` pairs, empty when valid. The sandbox uses this to check
    request bodies exactly as the spec describes them.
    """
    path, _ = _file_for(api)
    validator = OAS30Validator({"$ref": f"{path.as_uri()}#/components/schemas/{schema_name}"}, registry=_registry())
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    result = []
    for error in errors:
        # A failed oneOf says little by itself; its best sub-error names the field (but a
        # oneOf that matched several branches has no sub-errors and keeps its own message).
        if error.validator in ("oneOf", "anyOf") and error.context:
            # Prefer what is wrong with a given property over branches that merely lack theirs.
            present = [e for e in error.context if e.validator != "required"]
            error = best_match(present or error.context)
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            # Name the missing property itself, not the object that lacks it.
            missing = re.match(r"^'(.+)' is a required property$", error.message)
            if missing:
                path.append(missing.group(1))
        result.append((".".join(path) or "body", error.message))
    return result


def validate_webhook_payload(event_type: str, body: Any) -> None:
    """Validate a webhook delivery body for ``event_type``; raise ContractError if invalid."""
    payload = json.loads(_encode_body(body)) if isinstance(body, bytes | str) else body
    if event_type == "user.checked-in.v1":
        errors = [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in OAS30Validator(_CHECKED_IN_SCHEMA).iter_errors(payload)
        ]
    elif event_type in EPAYMENT_EVENT_TYPES:
        errors = [f"{where}: {message}" for where, message in schema_errors("epayment", "WebhookEvent", payload)]
        expected = EPAYMENT_EVENT_TYPES[event_type]
        if isinstance(payload, dict) and payload.get("name") != expected:
            errors.append(f"name: {payload.get('name')!r} does not match event type {event_type} ({expected})")
    else:
        raise ContractError(f"no schema known for webhook event type {event_type!r}")
    if errors:
        raise ContractError(f"{event_type} payload does not match its contract", errors)
