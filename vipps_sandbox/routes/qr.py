"""QR API: merchant callback QR codes, the MobilePay beacon mapping and the customer exchange
(CONTRACTS §5), plus the public image endpoint behind ``qrImageUrl``."""

from __future__ import annotations

from flask import Blueprint, Response, request

from .. import images
from ..errors import SandboxError
from ..models import CallbackQr
from .common import base_url, current_state, empty_response, json_body, json_response, merchant, operation

bp = Blueprint("qr", __name__)


def _image_options() -> tuple[str, int | None]:
    """QrImageFormat/QrImageSize as the spec spells them; the guide's camelCase is accepted too."""
    fmt = request.args.get("QrImageFormat", request.args.get("qrImageFormat", "SVG"))
    raw_size = request.args.get("QrImageSize", request.args.get("qrImageSize"))
    fields = []
    if fmt not in ("PNG", "SVG"):
        fields.append(("QrImageFormat", "must be PNG or SVG"))
    size = None
    if raw_size is not None:
        try:
            size = int(raw_size)
        except ValueError:
            size = -1
        if not images.MIN_SIZE <= size <= images.MAX_SIZE:
            fields.append(("QrImageSize", f"must be an integer {images.MIN_SIZE}-{images.MAX_SIZE}"))
    if fields:
        raise SandboxError(400, "One or more validation errors occurred.", fields=fields)
    return fmt, size


def qr_wire(qr: CallbackQr, fmt: str = "SVG", size: int | None = None) -> dict[str, str]:
    if fmt == "PNG":
        url = f"{base_url()}/_sandbox/qr-image/{qr.image_id}.png?size={size or images.DEFAULT_PNG_SIZE}"
    else:
        url = f"{base_url()}/_sandbox/qr-image/{qr.image_id}.svg"
    return {
        "merchantSerialNumber": qr.msn,
        "merchantQrId": qr.merchant_qr_id,
        "locationDescription": qr.location_description,
        "qrImageUrl": url,
        "qrContent": qr.qr_content,
        # The sandbox's assumption: GET echoes the category set by PUT (unconfirmed for Vipps, CONTRACTS §8).
        "category": qr.category or "IN_STORE",
    }


@bp.put("/qr/v1/merchant-callback/<merchant_qr_id>")
@operation("qr", "PutMerchantCallbackQr", msn_required=True)
def put_callback_qr(merchant_qr_id: str) -> Response:
    current_state().put_callback_qr(merchant(), merchant_qr_id, json_body())
    return empty_response(200)


@bp.put("/qr/v1/merchant-callback/mobilepay/<beacon_id>")
@operation("qr", "PutMerchantCallbackMobilePayQr", msn_required=True)
def put_mobilepay_qr(beacon_id: str) -> Response:
    current_state().put_mobilepay_qr(merchant(), beacon_id, json_body())
    return empty_response(200)


@bp.get("/qr/v1/merchant-callback/<merchant_qr_id>")
@operation("qr", "GetMerchantCallbackById", msn_required=True)
def get_callback_qr(merchant_qr_id: str) -> Response:
    fmt, size = _image_options()
    try:
        qr = current_state().get_callback_qr(merchant(), merchant_qr_id)
    except SandboxError as error:
        if error.status == 404:
            return empty_response(404)  # declared without a body in the spec
        raise
    return json_response(qr_wire(qr, fmt, size))


@bp.get("/qr/v1/merchant-callback")
@operation("qr", "GetMerchantCallbackQrs", msn_required=True)
def list_callback_qrs() -> Response:
    fmt, size = _image_options()
    return json_response([qr_wire(qr, fmt, size) for qr in current_state().list_callback_qrs(merchant())])


@bp.delete("/qr/v1/merchant-callback/<merchant_qr_id>")
@operation("qr", "DeleteMerchantCallbackQr", msn_required=True)
def delete_callback_qr(merchant_qr_id: str) -> Response:
    current_state().delete_callback_qr(merchant(), merchant_qr_id)
    return empty_response(200)


@bp.post("/qr/v1/exchange/customer")
@operation("qr", "exchangeCustomer")
def exchange_customer() -> Response:
    try:
        body = json_body()
    except SandboxError as error:
        raise SandboxError(
            400,
            "The request body contains one or more invalid parameters.",
            title="Bad request",
            fields=error.fields,
        ) from None
    return json_response(current_state().exchange_customer(merchant(), body))


@bp.get("/_sandbox/qr-image/<image_id>.svg")
def qr_svg(image_id: str) -> Response:
    content = current_state().image_content(image_id)
    if content is None:
        return Response(b"QR code not found", status=404, content_type="text/plain")
    return Response(images.svg(content), content_type="image/svg+xml")


@bp.get("/_sandbox/qr-image/<image_id>.png")
def qr_png(image_id: str) -> Response:
    content = current_state().image_content(image_id)
    if content is None:
        return Response(b"QR code not found", status=404, content_type="text/plain")
    try:
        size = int(request.args.get("size", images.DEFAULT_PNG_SIZE))
        data = images.png(content, size)
    except ValueError:
        return Response(b"size must be an integer 100-2000", status=400, content_type="text/plain")
    return Response(data, content_type="image/png")
