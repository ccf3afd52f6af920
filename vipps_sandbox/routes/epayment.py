"""ePayment API v1 (CONTRACTS §4): create, get, events, capture, refund, cancel, test approve.

create, capture, cancel and refund are rate limited per MSN + reference (CONTRACTS §4.11,
``SandboxConfig.epayment_rate_limit``): past the limit they answer 429 with ``Retry-After``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from ..errors import SandboxError, render
from ..state import REFERENCE_RE
from .common import base_url, current_state, empty_response, json_body, json_response, merchant, operation

bp = Blueprint("epayment", __name__)

ADJUST_CONTENT_TYPE = "application/json"  # the spec says problem+json; plain JSON in practice (§4.1)


def _check_reference(reference: str) -> None:
    if not REFERENCE_RE.match(reference):
        raise SandboxError(
            400,
            f"The reference must match {REFERENCE_RE.pattern}",
            fields=[("reference", f"must match {REFERENCE_RE.pattern}")],
        )


def _idempotency_key(required: bool = True) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None or not key.strip():
        if required:
            raise SandboxError(400, "The Idempotency-Key header is required", fields=[("Idempotency-Key", "required")])
        return None
    if len(key) > 50:
        raise SandboxError(
            400,
            "The Idempotency-Key header is longer than 50 characters",
            fields=[("Idempotency-Key", "maxLength 50")],
        )
    return key


def _rate_limit(reference: str) -> None:
    """Count a modifying call against the MSN + reference limit (429 when over it)."""
    current_state().check_rate_limit(merchant().msn, reference)


def _idempotent(operation_id: str, reference: str, key: str | None, status: int, action: Callable[[], Any]) -> Response:
    """Run ``action`` under the Idempotency-Key rules; errors are remembered like successes."""
    state = current_state()
    content_type = "application/problem+json" if operation_id != "createPayment" else "application/json"
    success_type = ADJUST_CONTENT_TYPE if operation_id != "createPayment" else "application/json"

    def run() -> tuple[int, bytes, str]:
        try:
            return status, json.dumps(action()).encode("utf-8"), success_type
        except SandboxError as error:
            rendered = render("epayment", error, request.path, operation_id)
            return rendered.status_code, rendered.get_data(), rendered.content_type or content_type

    if key is None:
        code, data, ctype = run()
    else:
        code, data, ctype = state.idempotent(
            merchant().msn, key, operation_id, reference, request.get_data(cache=True), run
        )
    return Response(data, status=code, content_type=ctype)


@bp.post("/epayment/v1/payments")
@operation("epayment", "createPayment", msn_required=True)
def create_payment() -> Response:
    raw = request.get_data(cache=True)
    try:
        reference = str(json.loads(raw).get("reference", ""))
    except (ValueError, AttributeError):
        reference = ""
    # Counted per reference: calls without one all share the "" bucket, as at Vipps (§4.8).
    _rate_limit(reference)
    key = _idempotency_key()
    return _idempotent(
        "createPayment",
        reference,
        key,
        201,
        lambda: current_state().create_payment(merchant(), json_body(), key, base_url()),
    )


@bp.get("/epayment/v1/payments/<reference>")
@operation("epayment", "getPayment", msn_required=True)
def get_payment(reference: str) -> Response:
    _check_reference(reference)
    state = current_state()
    with state.lock:  # a consistent snapshot while other threads capture or refund
        body = state.payment(merchant().msn, reference).wire()
    return json_response(body)


@bp.get("/epayment/v1/payments/<reference>/events")
@operation("epayment", "getPaymentEventLog", msn_required=True)
def get_events(reference: str) -> Response:
    _check_reference(reference)
    state = current_state()
    with state.lock:
        events = [event.wire() for event in state.payment(merchant().msn, reference).events]
    return json_response(events)


def _modify(operation_id: str, reference: str, apply: Callable[[str | None], Any]) -> Response:
    """Capture, refund and cancel: rate limit, reference check, then an idempotent 200."""
    _rate_limit(reference)
    _check_reference(reference)
    key = _idempotency_key()
    return _idempotent(operation_id, reference, key, 200, lambda: apply(key))


@bp.post("/epayment/v1/payments/<reference>/capture")
@operation("epayment", "capturePayment", msn_required=True)
def capture(reference: str) -> Response:
    return _modify(
        "capturePayment", reference, lambda key: current_state().capture(merchant(), reference, json_body(), key)
    )


@bp.post("/epayment/v1/payments/<reference>/refund")
@operation("epayment", "refundPayment", msn_required=True)
def refund(reference: str) -> Response:
    return _modify(
        "refundPayment", reference, lambda key: current_state().refund(merchant(), reference, json_body(), key)
    )


@bp.post("/epayment/v1/payments/<reference>/cancel")
@operation("epayment", "cancelPayment", msn_required=True)
def cancel(reference: str) -> Response:
    # The Idempotency-Key is required by spec 1.4.1 (the live docs only "recommend" it, CONTRACTS §4.1): the
    # sandbox follows the spec, so a client that omits it finds out here rather than in production.
    return _modify(
        "cancelPayment",
        reference,
        lambda key: current_state().cancel(merchant(), reference, json_body(required=False), key),
    )


@bp.post("/epayment/v1/test/payments/<reference>/approve")
@operation("epayment", "forceApprove", msn_required=True)
def force_approve(reference: str) -> Response:
    _check_reference(reference)
    current_state().force_approve(merchant(), reference, json_body(required=False))
    return empty_response(200)
