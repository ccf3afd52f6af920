"""The sandbox phone scans what was printed (a pasted qrContent or an uploaded image of the code), lists the QR
codes newest first and searchable, and puts the newest payment request on top. Nothing a visitor sends makes it
answer 5xx or check in at a code it did not name."""

from __future__ import annotations

import io
import re
from html import unescape

import requests
import segno
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from vipps_sandbox import images
from vipps_sandbox.routes import phone as phone_routes
from vipps_sandbox.server import SandboxServer

from .conftest import MSN, PHONE, Api, Receiver

HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def qr_content(api: Api, qr_id: str) -> str:
    return api.get(f"/qr/v1/merchant-callback/{qr_id}").json()["qrContent"]


def post(sandbox: SandboxServer, path: str, **kwargs) -> requests.Response:
    response = requests.post(sandbox.url + path, allow_redirects=False, timeout=10, **kwargs)
    assert response.status_code == 303, (response.status_code, response.text)
    return response


def follow(sandbox: SandboxServer, response: requests.Response) -> str:
    return unescape(requests.get(sandbox.url + response.headers["Location"], timeout=5).text)


def png_of(content: str, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(images.png(content, 400))).convert("RGB").save(buffer, format=fmt)
    return buffer.getvalue()


# -- scan by pasting the code's URL ---------------------------------------------------------------------------
def test_pasting_a_printed_codes_url_checks_in_there(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    api.post("/webhooks/v1/webhooks", 201, json={"url": receiver.url + "/qr", "events": ["user.checked-in.v1"]})
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    api.put("/qr/v1/merchant-callback/kasse-2", json={"locationDescription": "Kasse 2"})
    response = post(
        sandbox, "/_sandbox/phone/scan", data={"phone": PHONE, "qrContent": f" {qr_content(api, 'kasse-2')} "}
    )
    assert "Checked in at Kasse 2: the merchant was notified." in follow(sandbox, response)
    (item,) = receiver.wait_for(1)
    assert item.json()["merchantQrId"] == "kasse-2"


def test_pasting_something_else_says_why_and_checks_in_nowhere(api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    for content, reason in (
        ("", "Paste the code's URL"),
        ("https://qr.vipps.no/28/2/05/031/c-nope", "No QR code of this sandbox has that content"),
        ("x" * 5000, "not the content of a QR code"),
    ):
        page = follow(sandbox, post(sandbox, "/_sandbox/phone/scan", data={"phone": PHONE, "qrContent": content}))
        assert reason in page
    bad_phone = post(sandbox, "/_sandbox/phone/scan", data={"phone": "12", "qrContent": qr_content(api, "kasse-1")})
    assert "err=" in bad_phone.headers["Location"]
    assert sandbox.state.scans == []


@HYPOTHESIS
@given(content=st.text(max_size=300), phone=st.text(max_size=20) | st.just(PHONE))
def test_any_pasted_text_is_refused_or_scans_exactly_that_code(api: Api, sandbox: SandboxServer, content, phone):
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    before = len(sandbox.state.scans)
    response = requests.post(
        sandbox.url + "/_sandbox/phone/scan",
        data={"phone": phone, "qrContent": content},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303
    if content.strip() == qr_content(api, "kasse-1") and "msg=" in response.headers["Location"]:
        assert len(sandbox.state.scans) == before + 1
    else:
        assert len(sandbox.state.scans) == before


# -- scan by uploading an image -------------------------------------------------------------------------------
def test_uploading_a_photo_of_the_code_checks_in_there(api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    api.put("/qr/v1/merchant-callback/kasse-2", json={"locationDescription": "Kasse 2"})
    for fmt, qr_id in (("PNG", "kasse-1"), ("JPEG", "kasse-2")):
        picture = png_of(qr_content(api, qr_id), fmt)
        response = post(
            sandbox,
            f"/_sandbox/phone/scan-image?phone={PHONE}",
            files={"image": (f"code.{fmt.lower()}", picture, f"image/{fmt.lower()}")},
        )
        assert f"Checked in at Kasse {qr_id[-1]}" in follow(sandbox, response)
    assert [s["merchantQrId"] for s in sandbox.state.scans] == ["kasse-1", "kasse-2"]


def test_an_upload_that_is_not_one_of_our_codes_says_why(api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    gif = io.BytesIO()
    Image.new("L", (20, 20), 255).save(gif, format="GIF")
    foreign = io.BytesIO()
    segno.make("https://example.com/not-vipps").save(foreign, kind="png", scale=6)
    cases = (
        ({}, "Choose a photo or screenshot"),
        ({"image": ("x.png", b"not an image", "image/png")}, "not a PNG or JPEG image"),
        ({"image": ("x.gif", gif.getvalue(), "image/gif")}, "Upload a PNG or JPEG"),
        ({"image": ("x.png", blank.getvalue(), "image/png")}, "No QR code found in the image"),
        ({"image": ("x.png", foreign.getvalue(), "image/png")}, "not a code of this sandbox"),
        ({"image": ("big.png", b"\0" * (phone_routes.IMAGE_MAX_BYTES + 1), "image/png")}, "larger than"),
    )
    for files, reason in cases:
        response = post(sandbox, f"/_sandbox/phone/scan-image?phone={PHONE}", files=files or {"x": ("", b"")})
        assert f"phone={PHONE}" in response.headers["Location"]
        assert reason in follow(sandbox, response), reason
    assert sandbox.state.scans == []


def test_without_a_decoder_the_page_says_so_and_pasting_still_works(api: Api, sandbox: SandboxServer, monkeypatch):
    monkeypatch.setattr(phone_routes, "zxingcpp", None)
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    page = requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": PHONE}, timeout=5).text
    assert 'id="no-decoder"' in page and "zxing-cpp" in page
    upload = post(
        sandbox,
        f"/_sandbox/phone/scan-image?phone={PHONE}",
        files={"image": ("code.png", png_of(qr_content(api, "kasse-1")), "image/png")},
    )
    assert "needs the zxing-cpp package" in follow(sandbox, upload)
    pasted = post(sandbox, "/_sandbox/phone/scan", data={"phone": PHONE, "qrContent": qr_content(api, "kasse-1")})
    assert "Checked in at Kasse 1" in follow(sandbox, pasted)


@HYPOTHESIS
@given(data=st.binary(max_size=2048))
def test_any_uploaded_bytes_are_refused_with_a_reason(sandbox: SandboxServer, data):
    response = requests.post(
        f"{sandbox.url}/_sandbox/phone/scan-image?phone={PHONE}",
        files={"image": ("x.png", data, "image/png")},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303 and "err=" in response.headers["Location"]
    assert sandbox.state.scans == []


# -- the list of codes and the pending requests ---------------------------------------------------------------
def test_codes_are_listed_newest_first_searchable_and_capped(api: Api, sandbox: SandboxServer) -> None:
    for n in range(1, 26):
        api.put(f"/qr/v1/merchant-callback/till-{n:03d}", json={"locationDescription": f"Till {n} Torget"})
        sandbox.state.advance(1)
    api.put("/qr/v1/merchant-callback/door", json={"locationDescription": "Front door"})
    page = unescape(requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": PHONE}, timeout=5).text)
    listed = re.findall(r'name="qrId" value="([^"]+)"', page)
    assert listed[:3] == ["door", "till-025", "till-024"] and len(listed) == phone_routes.QR_PAGE_SIZE
    assert "Newest 20 of 26 codes" in page
    found = unescape(
        requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": PHONE, "q": "torget till-00"}, timeout=5).text
    )
    assert re.findall(r'name="qrId" value="([^"]+)"', found) == [f"till-{n:03d}" for n in range(9, 0, -1)]
    assert "9 codes matching “torget till-00”" in found
    by_merchant = requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": PHONE, "q": "kiosken"}, timeout=5)
    assert len(re.findall(r'name="qrId"', by_merchant.text)) == phone_routes.QR_PAGE_SIZE
    none = requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": PHONE, "q": "<b>nowhere"}, timeout=5)
    assert "No QR code matches" in none.text and "<b>nowhere" not in none.text


def test_the_newest_request_is_on_top_with_pay_and_decline(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-10001", 1000, paymentDescription="First")
    sandbox.state.advance(1)
    api.create_payment("order-10002", 2500, paymentDescription="Second")
    page = requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": PHONE}, timeout=5).text
    newest = page[page.index('data-testid="newest-request"') :]
    newest = newest[: newest.index("older request")]
    assert "order-10002" in newest and "Second" in newest and "order-10001" not in newest
    assert ">Pay 25,00 kr<" in newest and ">Decline<" in newest
    assert "1 older request" in page and 'data-reference="order-10001"' in page
    post(sandbox, "/_sandbox/phone/approve", data={"phone": PHONE, "msn": MSN, "reference": "order-10002"})
    assert api.get("/epayment/v1/payments/order-10002").json()["state"] == "AUTHORIZED"


def test_the_phone_page_has_no_inline_script_or_style(api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    api.create_payment("order-10001", 1000)
    page = requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": PHONE}, timeout=5).text
    assert "<style" not in page and "style=" not in page and re.search(r"<script(?![^>]*\ssrc=)", page) is None
    assert requests.get(f"{sandbox.url}/static/phone.js", timeout=5).status_code == 200
