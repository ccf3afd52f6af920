"""The scriptable JSON control API under ``/_sandbox/api/`` (tests, demos, the phone page).

Unauthenticated on purpose: the sandbox only listens on loopback and is never production.
Errors are ``{"error", "error_description", "status", ...}`` JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from ..errors import SandboxError, render
from ..models import Payment
from ..seed import merchant_kwargs, pos_kwargs
from .common import base_url, current_state, json_body, json_response
from .qr import qr_wire

bp = Blueprint("control", __name__, url_prefix="/_sandbox/api")


@bp.errorhandler(SandboxError)
def _error(error: SandboxError) -> Response:
    return render("control", error, request.path)


@bp.errorhandler(ValueError)
@bp.errorhandler(KeyError)
@bp.errorhandler(TypeError)
def _bad_input(error: Exception) -> Response:
    return render("control", SandboxError(400, f"Invalid input: {error}"), request.path)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def payment_summary(payment: Payment) -> dict[str, Any]:
    state = current_state()
    merchant = state.merchants.get(payment.msn)
    return {
        "msn": payment.msn,
        "merchantName": merchant.name if merchant else None,
        "reference": payment.reference,
        "pspReference": payment.psp_reference,
        "amount": payment.money(payment.amount),
        "state": payment.state,
        "aggregate": payment.aggregate(),
        "userFlow": payment.user_flow,
        "targetPhone": payment.target_phone,
        "approvedBy": payment.approved_by,
        "customerInteraction": payment.customer_interaction,
        "paymentDescription": payment.payment_description,
        "receipt": payment.receipt,
        "createdAt": _iso(payment.created_at),
        "expiresAt": _iso(payment.expires_at),
        "events": [event.wire() for event in payment.events],
    }


def _phone_arg(body: dict[str, Any] | None) -> str | None:
    if not body:
        return None
    return body.get("phoneNumber", body.get("phone"))


@bp.get("/health")
def health() -> Response:
    return json_response({"ok": True})


@bp.get("/state")
def summary() -> Response:
    state = current_state()
    with state.lock:
        return json_response(
            {
                "merchants": [m.public() for m in state.merchants.values()],
                "qrCodes": len(state.qr_codes),
                "payments": len(state.payments),
                "webhooks": len(state.webhooks),
                "pointsOfSale": len(state.points_of_sale),
                "phones": list(state.phones),
                "deliveries": len(state.deliveries()),
            }
        )


@bp.post("/merchants")
def register_merchant() -> Response:
    merchant = current_state().register_merchant(**merchant_kwargs(json_body()))
    return json_response(merchant.public(), 201)


@bp.get("/merchants")
def list_merchants() -> Response:
    state = current_state()
    with state.lock:
        return json_response([m.public() for m in state.merchants.values()])


@bp.get("/qr-codes")
def list_qr_codes() -> Response:
    return json_response(
        [qr_wire(qr) | {"kind": qr.kind, "category": qr.category} for qr in current_state().list_callback_qrs()]
    )


@bp.post("/scan")
def scan() -> Response:
    body = json_body()
    token = current_state().scan(
        _phone_arg(body) or "",
        msn=body.get("msn"),
        merchant_qr_id=body.get("merchantQrId"),
        qr_content=body.get("qrContent"),
    )
    return json_response(
        {
            "customerToken": token.token,
            "phoneNumber": token.phone,
            "msn": token.msn,
            "merchantQrId": token.merchant_qr_id,
            "expiresAt": _iso(token.expires_at),
            "webhookDeliveries": current_state().scans[-1]["webhooks"],
        },
        201,
    )


@bp.get("/phones")
def phones() -> Response:
    return json_response(list(current_state().phones))


@bp.get("/phones/<phone>/pending")
def pending(phone: str) -> Response:
    return json_response([payment_summary(p) for p in current_state().pending_for_phone(phone)])


@bp.get("/payments")
def list_payments() -> Response:
    state = current_state()
    state.tick()
    with state.lock:
        payments = [
            p
            for p in state.payments.values()
            if request.args.get("msn") in (None, p.msn) and request.args.get("state") in (None, p.state)
        ]
        return json_response([payment_summary(p) for p in sorted(payments, key=lambda p: p.created_at)])


@bp.get("/payments/<msn>/<reference>")
def get_payment(msn: str, reference: str) -> Response:
    state = current_state()
    with state.lock:
        return json_response(payment_summary(state.payment(msn, reference)))


@bp.post("/payments/<msn>/<reference>/approve")
def approve(msn: str, reference: str) -> Response:
    payment = current_state().approve(msn, reference, _phone_arg(json_body(required=False)))
    return json_response(payment_summary(payment))


@bp.post("/payments/<msn>/<reference>/reject")
def reject(msn: str, reference: str) -> Response:
    payment = current_state().reject(msn, reference, _phone_arg(json_body(required=False)))
    return json_response(payment_summary(payment))


@bp.post("/payments/<msn>/<reference>/expire")
def expire(msn: str, reference: str) -> Response:
    return json_response(payment_summary(current_state().expire(msn, reference)))


@bp.get("/webhooks")
def list_webhooks() -> Response:
    state = current_state()
    with state.lock:
        # Secrets included: this is the sandbox's back office, for tests and demos.
        return json_response([w.wire() | {"msn": w.msn, "secret": w.secret} for w in state.webhooks.values()])


@bp.get("/deliveries")
def deliveries() -> Response:
    found = current_state().deliveries(request.args.get("kind"))
    status = request.args.get("status")
    return json_response([d.public() for d in found if status in (None, d.status)])


@bp.post("/deliveries/wait")
def wait_deliveries() -> Response:
    body = json_body(required=False) or {}
    idle = current_state().wait_for_deliveries(float(body.get("timeout", 5.0)))
    return json_response({"idle": idle})


@bp.get("/faults")
def get_faults() -> Response:
    return json_response(current_state().faults.to_dict())


@bp.post("/faults")
def set_faults() -> Response:
    faults = current_state().faults
    faults.configure(json_body())
    return json_response(faults.to_dict())


@bp.delete("/faults")
def clear_faults() -> Response:
    faults = current_state().faults
    faults.clear()
    return json_response(faults.to_dict())


@bp.post("/callback-aliases")
def add_callback_alias() -> Response:
    body = json_body()
    current_state().add_callback_alias(body["alias"], body["url"])
    return json_response({"alias": body["alias"], "url": body["url"]}, 201)


@bp.get("/callback-aliases")
def list_callback_aliases() -> Response:
    return json_response([{"alias": a, "url": u} for a, u in current_state().callback_aliases.items()])


@bp.post("/pos")
def add_pos() -> Response:
    pos = current_state().add_point_of_sale(**pos_kwargs(json_body()))
    return json_response(pos.public(), 201)


@bp.get("/pos")
def list_pos() -> Response:
    state = current_state()
    with state.lock:
        return json_response([p.public() for p in state.points_of_sale.values()])


@bp.post("/pos/<pos_id>/checkin")
def pos_checkin(pos_id: str) -> Response:
    checkin = current_state().pos_checkin(pos_id, _phone_arg(json_body()) or "")
    return json_response(
        {
            "posId": pos_id.lower(),
            "phoneNumber": checkin.phone,
            "customerToken": checkin.customer_token,
            "customerReceiptToken": checkin.customer_receipt_token,
            "expiresAt": _iso(checkin.expires_at),
        },
        201,
    )


@bp.post("/clock/advance")
def advance_clock() -> Response:
    body = json_body()
    current_state().advance(float(body["seconds"]))
    return json_response({"offset": current_state().clock_offset})


@bp.post("/reset")
def reset() -> Response:
    current_state().reset()
    return json_response({"ok": True, "baseUrl": base_url()})
