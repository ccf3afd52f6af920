"""The customer's phone in the browser (``/_sandbox/phone``), the landing page behind a
redirect ``redirectUrl`` (``/_sandbox/landing``) and an overview page (``/_sandbox/``).

Plain HTML forms that POST and redirect back (works without JavaScript); a small script only
reloads the phone page when new payment requests arrive.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request

from ..errors import SandboxError
from ..models import Payment
from ..state import normalize_phone
from .common import current_state
from .qr import qr_wire

bp = Blueprint("phone", __name__, url_prefix="/_sandbox")


def money(amount: int, currency: str) -> str:
    """``49900, NOK`` -> ``499,00 kr`` (Norwegian style), ``1250, DKK`` -> ``12,50 DKK``."""
    whole, cents = divmod(amount, 100)
    grouped = f"{whole:,}".replace(",", "\u00a0")
    return f"{grouped},{cents:02d} {'kr' if currency == 'NOK' else currency}"


def _back(phone: str | None, message: str | None = None, error: str | None = None) -> Response:
    params = {k: v for k, v in (("phone", phone), ("msg", message), ("err", error)) if v}
    return redirect(f"/_sandbox/phone?{urlencode(params)}", code=303)


def _payment_view(payment: Payment) -> dict[str, object]:
    merchant = current_state().merchants.get(payment.msn)
    return {
        "msn": payment.msn,
        "reference": payment.reference,
        "merchant": merchant.name if merchant else payment.msn,
        "amount": money(payment.amount, payment.currency),
        "description": payment.payment_description or "",
        "state": payment.state,
        "flow": payment.user_flow,
        "present": payment.customer_interaction == "CUSTOMER_PRESENT",
        "lines": [line.get("name", "") for line in (payment.receipt or {}).get("orderLines", [])],
    }


@bp.get("/")
def overview() -> str:
    state = current_state()
    state.tick()
    with state.lock:
        merchants = list(state.merchants.values())
        payments = sorted(state.payments.values(), key=lambda p: p.created_at, reverse=True)[:50]
        webhooks = list(state.webhooks.values())
        pos = list(state.points_of_sale.values())
    qrs = [qr_wire(q) | {"kind": q.kind} for q in state.list_callback_qrs()]
    deliveries = list(reversed(state.deliveries()))[:50]
    return render_template(
        "overview.html",
        merchants=merchants,
        payments=[_payment_view(p) for p in payments],
        webhooks=webhooks,
        qrs=qrs,
        deliveries=deliveries,
        points_of_sale=pos,
    )


@bp.get("/phone")
def phone_page() -> str:
    state = current_state()
    raw = request.args.get("phone", "")
    phone, error = None, request.args.get("err")
    if raw:
        try:
            phone = normalize_phone(raw)
        except SandboxError as exc:
            error = exc.detail
    pending = [_payment_view(p) for p in state.pending_for_phone(phone)] if phone else []
    with state.lock:
        merchants = {m.msn: m.name for m in state.merchants.values()}
        recent = [
            _payment_view(p)
            for p in sorted(state.payments.values(), key=lambda p: p.created_at, reverse=True)
            if phone and p.state != "CREATED" and phone in (p.target_phone, p.approved_by)
        ][:10]
        pos = list(state.points_of_sale.values())
        phones = list(state.phones)
    qrs = [
        {
            "msn": q.msn,
            "id": q.merchant_qr_id,
            "location": q.location_description,
            "merchant": merchants.get(q.msn, q.msn),
            "kind": q.kind,
        }
        for q in state.list_callback_qrs()
    ]
    return render_template(
        "phone.html",
        phone=phone,
        raw_phone=raw,
        phones=phones,
        pending=pending,
        recent=recent,
        qrs=qrs,
        points_of_sale=pos,
        merchants=merchants,
        message=request.args.get("msg"),
        error=error,
    )


@bp.post("/phone/scan")
def phone_scan() -> Response:
    form = request.form
    try:
        token = current_state().scan(form.get("phone", ""), msn=form.get("msn"), merchant_qr_id=form.get("qrId"))
    except SandboxError as exc:
        return _back(form.get("phone"), error=exc.detail)
    state = current_state()
    sent = state.scans[-1]["webhooks"]
    note = "the merchant was notified" if sent else "but the merchant has no user.checked-in.v1 webhook"
    qr = state.qr_codes.get((token.msn, token.merchant_qr_id))
    where = qr.location_description if qr else token.merchant_qr_id
    return _back(token.phone, message=f"Checked in at {where}: {note}.")


@bp.post("/phone/approve")
def phone_approve() -> Response:
    form = request.form
    try:
        payment = current_state().approve(form["msn"], form["reference"], form.get("phone"))
    except SandboxError as exc:
        return _back(form.get("phone"), error=exc.detail)
    return _back(payment.approved_by, message=f"Paid {money(payment.amount, payment.currency)}.")


@bp.post("/phone/reject")
def phone_reject() -> Response:
    form = request.form
    try:
        current_state().reject(form["msn"], form["reference"], form.get("phone"))
    except SandboxError as exc:
        return _back(form.get("phone"), error=exc.detail)
    return _back(form.get("phone"), message="Payment request declined.")


@bp.post("/phone/pos-checkin")
def phone_pos_checkin() -> Response:
    form = request.form
    try:
        checkin = current_state().pos_checkin(form.get("posId", ""), form.get("phone", ""))
    except SandboxError as exc:
        return _back(form.get("phone"), error=exc.detail)
    return _back(checkin.phone, message="Checked in at the MobilePay point of sale.")


@bp.get("/landing")
def landing() -> Response | str:
    payment = current_state().payment_by_redirect_token(request.args.get("token", ""))
    if payment is None:
        return Response("Unknown or expired payment link", status=404, content_type="text/plain")
    return render_template(
        "landing.html",
        payment=_payment_view(payment),
        token=request.args["token"],
        phones=list(current_state().phones),
        error=request.args.get("err"),
    )


@bp.post("/landing")
def landing_action() -> Response | str:
    state = current_state()
    token = request.form.get("token", "")
    payment = state.payment_by_redirect_token(token)
    if payment is None:
        return Response("Unknown or expired payment link", status=404, content_type="text/plain")
    try:
        if request.form.get("action") == "approve":
            state.approve(payment.msn, payment.reference, request.form.get("phone", ""))
        else:
            state.reject(payment.msn, payment.reference)
    except SandboxError as exc:
        return redirect(f"/_sandbox/landing?{urlencode({'token': token, 'err': exc.detail})}", code=303)
    if payment.return_url:
        return redirect(payment.return_url, code=303)
    return render_template("landing.html", payment=_payment_view(payment), token=token, phones=[], error=None)
