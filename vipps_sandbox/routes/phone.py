"""The customer's phone in the browser (``/_sandbox/phone``), the landing page behind a
redirect ``redirectUrl`` (``/_sandbox/landing``) and an overview page (``/_sandbox/``).

Plain HTML forms that POST and redirect back (works without JavaScript); a small script
(``static/phone.js``) only reloads the phone page when new payment requests arrive.

The phone "scans" a code the way a camera would: by its content (the ``qrContent`` a sheet printed, pasted as
text) or by a photo or screenshot of it. Images are decoded with zxing-cpp when it is installed: it is in
requirements-dev.txt (tests, ``make test``) but not in the runtime requirements, which must not carry a test
tool into production; without it the page says so and pasting the URL still works.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request
from PIL import Image, UnidentifiedImageError
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import SandboxError
from ..models import Payment
from ..state import normalize_phone
from .common import current_state
from .qr import qr_wire

try:
    import zxingcpp
except ImportError:  # pragma: no cover - present wherever the tests run
    zxingcpp = None

bp = Blueprint("phone", __name__, url_prefix="/_sandbox")

QR_PAGE_SIZE = 20
QR_CONTENT_MAX = 2048  # far above any Vipps or MobilePay QR URL; longer input is not a code of ours
IMAGE_MAX_BYTES = 8 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000
NO_DECODER = (
    "Reading a QR code from an image needs the zxing-cpp package (pip install zxing-cpp, in "
    "requirements-dev.txt). Paste the code's URL instead."
)


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


def _qr_matches(query: str, *values: str) -> bool:
    words = query.casefold().split()
    text = " ".join(values).casefold()
    return all(word in text for word in words)


@bp.get("/phone")
def phone_page() -> str:
    state = current_state()
    raw = request.args.get("phone", "")
    query = request.args.get("q", "").strip()[:100]
    phone, error = None, request.args.get("err")
    if raw:
        try:
            phone = normalize_phone(raw)
        except SandboxError as exc:
            error = exc.detail
    # Newest first: the one the customer is to act on is on top.
    pending = [_payment_view(p) for p in reversed(state.pending_for_phone(phone))] if phone else []
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
        for q in sorted(state.list_callback_qrs(), key=lambda q: q.created_at, reverse=True)
        if _qr_matches(query, q.location_description, q.merchant_qr_id, q.msn, merchants.get(q.msn, ""))
    ]
    return render_template(
        "phone.html",
        phone=phone,
        raw_phone=raw,
        phones=phones,
        pending=pending,
        recent=recent,
        qrs=qrs[:QR_PAGE_SIZE],
        qr_total=len(qrs),
        query=query,
        can_decode_images=zxingcpp is not None,
        points_of_sale=pos,
        merchants=merchants,
        message=request.args.get("msg"),
        error=error,
    )


def _checked_in(state, token) -> Response:
    sent = state.scans[-1]["webhooks"]
    note = "the merchant was notified" if sent else "but the merchant has no user.checked-in.v1 webhook"
    qr = state.qr_codes.get((token.msn, token.merchant_qr_id))
    where = qr.location_description if qr else token.merchant_qr_id
    return _back(token.phone, message=f"Checked in at {where}: {note}.")


def _scan_content(phone: str, content: str) -> Response:
    content = content.strip()
    if not content:
        return _back(phone, error="Paste the code's URL (its qrContent), e.g. https://qr.vipps.no/28/2/05/031/c-…")
    if len(content) > QR_CONTENT_MAX or not content.isprintable():
        return _back(phone, error="That is not the content of a QR code of this sandbox.")
    state = current_state()
    if state.find_qr_by_content(content) is None:
        return _back(phone, error="No QR code of this sandbox has that content (it may have been deleted).")
    try:
        token = state.scan(phone, qr_content=content)
    except SandboxError as exc:
        return _back(phone, error=exc.detail)
    return _checked_in(state, token)


def decode_qr_image(data: bytes) -> list[str]:
    """The texts of the QR codes in a PNG or JPEG image; ValueError with a reason a person can act on."""
    if zxingcpp is None:
        raise ValueError(NO_DECODER)
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise ValueError("Upload a PNG or JPEG image of the QR code.")
            if image.width * image.height > IMAGE_MAX_PIXELS:
                raise ValueError("The image is too large; crop it to the QR code.")
            image.load()
            results = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValueError("That file is not a PNG or JPEG image.") from None
    return [r.text for r in results if r.text]


@bp.post("/phone/scan-image")
def phone_scan_image() -> Response:
    # The number rides in the query string too, so that a refused upload still returns to the same phone.
    phone = request.args.get("phone", "")
    too_large = f"The image is larger than {IMAGE_MAX_BYTES // (1024 * 1024)} MB: crop it to the QR code."
    request.max_content_length = IMAGE_MAX_BYTES + 64 * 1024
    try:
        upload = request.files.get("image")
    except RequestEntityTooLarge:
        return _back(phone, error=too_large)
    if upload is None or not upload.filename:
        return _back(phone, error="Choose a photo or screenshot of the QR code.")
    data = upload.stream.read(IMAGE_MAX_BYTES + 1)
    if len(data) > IMAGE_MAX_BYTES:
        return _back(phone, error=too_large)
    try:
        texts = decode_qr_image(data)
    except ValueError as exc:
        return _back(phone, error=str(exc))
    if not texts:
        return _back(phone, error="No QR code found in the image: try a sharper, straighter picture.")
    known = [t for t in texts if current_state().find_qr_by_content(t) is not None]
    if len(set(known)) > 1:
        return _back(phone, error="The image shows more than one of this sandbox's QR codes: crop it to one.")
    if not known:
        return _back(phone, error=f"The QR code says {texts[0][:200]!r}, which is not a code of this sandbox.")
    return _scan_content(phone, known[0])


@bp.post("/phone/scan")
def phone_scan() -> Response:
    form = request.form
    if "qrContent" in form:
        return _scan_content(form.get("phone", ""), form["qrContent"])
    try:
        token = current_state().scan(form.get("phone", ""), msn=form.get("msn"), merchant_qr_id=form.get("qrId"))
    except SandboxError as exc:
        return _back(form.get("phone"), error=exc.detail)
    return _checked_in(current_state(), token)


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
