"""QR API: merchant callback QR codes, MobilePay beacon mapping, customer exchange, images."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import requests
import zxingcpp
from PIL import Image

from vipps_sandbox.server import SandboxServer

from .conftest import MSN, PHONE, Api

QR_PATH = "/qr/v1/merchant-callback"


def put_qr(api: Api, qr_id: str, location: str = "Kasse 1", expected: int = 200, **extra: object) -> None:
    api.put(f"{QR_PATH}/{qr_id}", expected, json={"locationDescription": location} | extra)


def test_put_get_list_delete(api: Api) -> None:
    put_qr(api, "kasse-1", "Kasse 1", category="VENDING")
    put_qr(api, "kasse-2", "Kasse 2")
    one = api.get(f"{QR_PATH}/kasse-1").json()
    assert one["merchantSerialNumber"] == MSN
    assert one["merchantQrId"] == "kasse-1"
    assert one["locationDescription"] == "Kasse 1"
    assert one["qrContent"].startswith("https://qr.vipps.no/")
    assert one["qrImageUrl"].endswith(".svg")  # SVG is the default
    listed = api.get(QR_PATH).json()
    assert [q["merchantQrId"] for q in listed] == ["kasse-1", "kasse-2"]
    response = api.delete(f"{QR_PATH}/kasse-1", 200)
    assert response.content == b""
    assert [q["merchantQrId"] for q in api.get(QR_PATH).json()] == ["kasse-2"]
    api.get(f"{QR_PATH}/kasse-1", 404)
    api.delete(f"{QR_PATH}/kasse-1", 404)


def test_put_again_updates_location_but_not_the_code(api: Api) -> None:
    put_qr(api, "kiosk", "Kiosk")
    before = api.get(f"{QR_PATH}/kiosk").json()
    put_qr(api, "kiosk", "Kiosk ved inngangen")
    after = api.get(f"{QR_PATH}/kiosk").json()
    assert after["locationDescription"] == "Kiosk ved inngangen"
    assert after["qrContent"] == before["qrContent"]
    assert after["qrImageUrl"] == before["qrImageUrl"]


def test_qr_codes_are_per_msn(api: Api, other_api: Api) -> None:
    put_qr(api, "kasse-1")
    assert other_api.get(QR_PATH).json() == []
    other_api.get(f"{QR_PATH}/kasse-1", 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"locationDescription": "x" * 37}, "locationDescription"),
        ({}, "locationDescription"),
        ({"locationDescription": ""}, "locationDescription"),
        ({"locationDescription": "Kasse", "category": "CASINO"}, "category"),
    ],
)
def test_put_validation(api: Api, body: dict[str, str], field: str) -> None:
    response = api.put(f"{QR_PATH}/kasse-1", 400, json=body, check_request=False)
    problem = response.json()
    assert {"title", "detail", "instance"} <= problem.keys()
    assert field in [p["name"] for p in problem["invalidParams"]]


def test_location_of_exactly_36_characters_is_fine(api: Api) -> None:
    put_qr(api, "kasse-1", "x" * 36)


def test_category_values_from_the_docs(api: Api) -> None:
    for category in ("IN_STORE", "VENDING", "AGE_CHECK"):
        put_qr(api, f"qr-{category.lower().replace('_', '-')}", "Kasse", category=category)


def test_msn_header_is_required(api: Api) -> None:
    headers = api.headers
    del headers["Merchant-Serial-Number"]
    response = requests.get(api.server.url + QR_PATH, headers=headers, timeout=5)
    assert response.status_code == 400
    from vipps_sandbox import contract

    contract.validate_requests_response(response, check_request=False)


def test_invalid_merchant_qr_id(api: Api) -> None:
    api.put(f"{QR_PATH}/has%20space", 400, json={"locationDescription": "Kasse"})


@pytest.mark.parametrize("query", ["QrImageFormat=PNG&QrImageSize=300", "qrImageFormat=PNG&qrImageSize=300"])
def test_png_format_and_size(api: Api, query: str) -> None:
    put_qr(api, "kasse-1")
    qr = api.get(f"{QR_PATH}/kasse-1?{query}", check_request=query.startswith("Qr")).json()
    assert ".png" in qr["qrImageUrl"] and "size=300" in qr["qrImageUrl"]
    image = requests.get(qr["qrImageUrl"], timeout=5)
    assert image.headers["Content-Type"] == "image/png"
    picture = Image.open(io.BytesIO(image.content))
    assert picture.size == (300, 300)
    assert decode(picture) == qr["qrContent"]


@pytest.mark.parametrize("query", ["QrImageSize=99", "QrImageSize=2001", "QrImageFormat=GIF"])
def test_invalid_image_options(api: Api, query: str) -> None:
    put_qr(api, "kasse-1")
    api.get(f"{QR_PATH}/kasse-1?{query}", 400, check_request=False)
    api.get(f"{QR_PATH}?{query}", 400, check_request=False)


@pytest.mark.parametrize("size", [100, 2000])
def test_png_size_limits_decode(api: Api, size: int) -> None:
    put_qr(api, "kasse-1")
    qr = api.get(f"{QR_PATH}/kasse-1?QrImageFormat=PNG&QrImageSize={size}").json()
    picture = Image.open(io.BytesIO(requests.get(qr["qrImageUrl"], timeout=5).content))
    assert picture.size == (size, size)
    assert decode(picture) == qr["qrContent"]


def test_svg_image_decodes_to_qr_content(api: Api) -> None:
    put_qr(api, "kasse-1")
    qr = api.get(f"{QR_PATH}/kasse-1").json()
    response = requests.get(qr["qrImageUrl"], timeout=5)
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert decode(rasterize_svg(response.content)) == qr["qrContent"]


def test_image_of_deleted_qr_is_gone(api: Api) -> None:
    put_qr(api, "kasse-1")
    url = api.get(f"{QR_PATH}/kasse-1").json()["qrImageUrl"]
    api.delete(f"{QR_PATH}/kasse-1")
    assert requests.get(url, timeout=5).status_code == 404


# -- MobilePay beacon mapping -----------------------------------------------------------------
BEACON = "a7b69d37-6753-4e94-afc3-ef5dab04b7f4"


def test_mobilepay_beacon_put(api: Api) -> None:
    api.put(f"{QR_PATH}/mobilepay/{BEACON}", 200, json={"locationDescription": "Kasse 1"})
    api.put(f"{QR_PATH}/mobilepay/{BEACON}", 200, json={"locationDescription": "Kasse 1b"})  # update
    qr = api.get(f"{QR_PATH}/{BEACON}").json()
    assert qr["merchantQrId"] == BEACON
    assert qr["locationDescription"] == "Kasse 1b"
    api.put(f"{QR_PATH}/mobilepay/123456789012345", 200, json={"locationDescription": "Kasse 2"})


def test_mobilepay_beacon_conflicts(api: Api, other_api: Api) -> None:
    api.put(f"{QR_PATH}/mobilepay/{BEACON}", 200, json={"locationDescription": "Kasse 1"})
    other_api.put(f"{QR_PATH}/mobilepay/{BEACON}", 409, json={"locationDescription": "Kasse 1"})
    put_qr(api, "b1482233-17a1-434d-bcd1-6ea38b15eddb")
    api.put(f"{QR_PATH}/mobilepay/b1482233-17a1-434d-bcd1-6ea38b15eddb", 409, json={"locationDescription": "K"})
    # ...and the regular endpoint cannot take over a migrated beacon.
    api.put(f"{QR_PATH}/{BEACON}", 400, json={"locationDescription": "Kasse"})


def test_mobilepay_beacon_validation(api: Api) -> None:
    api.put(f"{QR_PATH}/mobilepay/not-a-beacon", 400, json={"locationDescription": "Kasse"})
    api.put(f"{QR_PATH}/mobilepay/{BEACON}", 400, json={"locationDescription": "x" * 37}, check_request=False)


# -- customer exchange ------------------------------------------------------------------------
def test_exchange_customer_token(api: Api, sandbox: SandboxServer) -> None:
    put_qr(api, "kasse-1")
    token = sandbox.state.scan(PHONE, MSN, "kasse-1")
    body = api.post(
        "/qr/v1/exchange/customer",
        200,
        json={"customer": {"customerToken": token.token}, "requestedData": ["MSISDN"]},
    ).json()
    assert body == {"msisdn": PHONE, "timestamp": int(token.issued_at)}


def test_exchange_accepts_missing_requested_data(api: Api, sandbox: SandboxServer) -> None:
    # Seed document 003: "There is currently only one option, so this field is optional."
    put_qr(api, "kasse-1")
    token = sandbox.state.scan(PHONE, MSN, "kasse-1")
    body = api.post(
        "/qr/v1/exchange/customer",
        200,
        json={"customer": {"customerToken": token.token}},
        check_request=False,
    ).json()
    assert body["msisdn"] == PHONE


def test_exchange_errors(api: Api, other_api: Api, sandbox: SandboxServer) -> None:
    put_qr(api, "kasse-1")
    token = sandbox.state.scan(PHONE, MSN, "kasse-1").token
    exchange = "/qr/v1/exchange/customer"
    api.post(exchange, 400, json={"customer": {"customerToken": "nope"}, "requestedData": ["MSISDN"]})
    api.post(exchange, 400, json={"requestedData": ["MSISDN"]}, check_request=False)
    api.post(
        exchange,
        400,
        json={"customer": {"customerToken": token}, "requestedData": ["EMAIL"]},
        check_request=False,
    )
    # A token only works for the merchant whose QR was scanned.
    other_api.post(exchange, 400, json={"customer": {"customerToken": token}, "requestedData": ["MSISDN"]})
    sandbox.state.advance(15 * 60 + 1)  # customer tokens live 15 minutes
    response = api.post(exchange, 400, json={"customer": {"customerToken": token}, "requestedData": ["MSISDN"]})
    assert "expired" in response.json()["detail"]


# -- helpers ----------------------------------------------------------------------------------
def decode(picture: Image.Image) -> str:
    results = zxingcpp.read_barcodes(picture.convert("L"))
    assert len(results) == 1, results
    return str(results[0].text)


def rasterize_svg(svg: bytes, scale: int = 8) -> Image.Image:
    """Draw segno's SVG (one path of `M`/`m` moves and `h` runs, one module high) as pixels,
    to prove the SVG itself encodes the content."""
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    width = int(root.get("width", "0")) // 10
    dark = [p for p in root.iterfind(".//svg:path", ns) if p.get("stroke")]
    assert len(dark) == 1
    picture = Image.new("L", (width * scale, width * scale), 255)
    x = y = 0.0
    for command, a, b in re.findall(r"([MmHh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?", dark[0].get("d", "")):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            end = x + float(a) if command == "h" else float(a)
            row = int(y)
            for column in range(int(min(x, end)), int(max(x, end))):
                picture.paste(0, (column * scale, row * scale, (column + 1) * scale, (row + 1) * scale))
            x = end
    return picture
