"""Domain errors and the per-API wire shape of error bodies.

The state layer raises ``SandboxError`` without knowing which API is answering; the routes
turn it into that API's documented error body:

* ePayment: RFC 7807 ``Problem`` (``application/problem+json``) with the domain code as
  ``extraDetails: [{"name": "ErrorCode", "reason": "6080"}]`` (CONTRACTS §4.7).
* Webhooks: ``ProblemDetails`` (``application/problem+json``, no extra properties allowed).
* QR: ``QrErrorResponse`` ``{type?, title, detail, instance, invalidParams?}`` (``application/json``);
  the exchange endpoints use ``{title, status, detail, extraDetails}``.
* PoS v10: ``ErrorResponse`` ``{code, message, correlationId}``.
* Access token: the spec defines no error body; a small JSON object is sent.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Response

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class SandboxError(Exception):
    """A failed API call: HTTP status, optional Vipps error code and field-level details."""

    status: int
    detail: str
    title: str | None = None
    code: str | None = None
    # (field name, reason) pairs, e.g. from schema validation.
    fields: list[tuple[str, str]] = field(default_factory=list)
    # Extra body members for special cases (e.g. the QR 409 `id`).
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)
        if self.title is None:
            self.title = _TITLES.get(self.status, "Error")


def trace_id() -> str:
    """A W3C traceparent-like id, the form Vipps uses for `traceId`."""
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00"


def _response(body: Any, status: int, content_type: str) -> Response:
    data = b"" if body is None else json.dumps(body).encode("utf-8")
    return Response(data, status=status, content_type=content_type)


def render(api: str, error: SandboxError, instance: str, operation: str | None = None) -> Response:
    """The error body of ``api`` for ``error`` (``instance`` is the request path)."""
    status = error.status
    if api == "epayment":
        extra_details = [{"name": name, "reason": reason} for name, reason in error.fields]
        if error.code:
            extra_details.append({"name": "ErrorCode", "reason": error.code})
        body: dict[str, Any] = {
            "type": f"https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/errors#{status}",
            "title": error.title,
            "detail": error.detail,
            "instance": instance,
            "status": status,
            "traceId": trace_id(),
        }
        if extra_details:
            body["extraDetails"] = extra_details
        return _response(body | error.extra, status, PROBLEM_JSON)
    if api == "webhooks":
        body = {
            "type": f"https://developer.vippsmobilepay.com/docs/APIs/webhooks-api#{status}",
            "title": error.title,
            "status": status,
            "detail": error.detail,
            "instance": instance,
            "traceId": trace_id(),
            "extraDetails": [{"name": n, "reason": r} for n, r in error.fields] or None,
        }
        return _response(body, status, PROBLEM_JSON)
    if api == "qr":
        if operation in ("exchangeCustomer", "exchangeQr"):
            body = {"title": error.title, "status": status, "detail": error.detail}
            if error.fields:
                body["extraDetails"] = [{"name": n, "reason": r} for n, r in error.fields]
            return _response(body, status, JSON)
        body = {
            "type": f"https://developer.vippsmobilepay.com/docs/APIs/qr-api#{status}",
            "title": error.title,
            "detail": error.detail,
            "instance": instance,
        }
        if error.fields:
            body["invalidParams"] = [{"name": n, "reason": r} for n, r in error.fields]
        return _response(body | error.extra, status, JSON)
    if api == "pos":
        if status in (401, 404):
            # The PoS spec declares these without a body.
            return Response(b"", status=status)
        body = {
            "code": error.code or str(status),
            "message": error.detail,
            "correlationId": str(uuid.uuid4()),
        }
        return _response(body, status, JSON)
    # access token (no schema) and sandbox-internal APIs
    body = {"error": error.title, "error_description": error.detail, "status": status}
    if error.code:
        body["code"] = error.code
    if error.fields:
        body["fields"] = [{"name": n, "reason": r} for n, r in error.fields]
    return _response(body | error.extra, status, JSON)
