"""The customer phone page, the landing page and the JSON control API."""

from __future__ import annotations

import requests

from vipps_sandbox.server import SandboxServer

from .conftest import MSN, OTHER_PHONE, PHONE, Api, Receiver


def ctl(sandbox: SandboxServer, method: str, path: str, expected: int = 200, **kwargs) -> requests.Response:
    response = requests.request(method, f"{sandbox.url}/_sandbox/api{path}", timeout=5, **kwargs)
    assert response.status_code == expected, response.text
    return response


def form(sandbox: SandboxServer, path: str, data: dict[str, str]) -> requests.Response:
    response = requests.post(sandbox.url + path, data=data, allow_redirects=False, timeout=5)
    assert response.status_code == 303, response.text
    return response


# -- phone page ------------------------------------------------------------------------------
def test_phone_page_renders_qr_codes_and_pending_requests(api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse ved døra"})
    api.create_payment("order-90001", 49900, paymentDescription="To kaffe")
    page = requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": "+47 912 34 567"}, timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert 'name="viewport"' in html and 'href="/static/sandbox.css"' in html
    css = requests.get(f"{sandbox.url}/static/sandbox.css", timeout=5)
    assert css.status_code == 200 and "max-width: 420px" in css.text
    assert f'id="phone-number">{PHONE}<' in html  # "+47 912 34 567" normalised
    assert "Kasse ved døra" in html
    assert 'data-reference="order-90001"' in html and "499,00 kr" in html and "To kaffe" in html
    other = requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": OTHER_PHONE}, timeout=5).text
    assert "order-90001" not in other and 'id="no-pending"' in other


def test_phone_page_without_or_with_bad_number(sandbox: SandboxServer) -> None:
    assert requests.get(f"{sandbox.url}/_sandbox/phone", timeout=5).status_code == 200
    bad = requests.get(f"{sandbox.url}/_sandbox/phone", params={"phone": "123"}, timeout=5)
    assert bad.status_code == 200 and "not a phone number" in bad.text


def test_scan_from_the_phone_sends_checked_in(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    api.post("/webhooks/v1/webhooks", 201, json={"url": receiver.url + "/qr", "events": ["user.checked-in.v1"]})
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    response = form(sandbox, "/_sandbox/phone/scan", {"phone": PHONE, "msn": MSN, "qrId": "kasse-1"})
    assert "Checked+in+at+Kasse+1" in response.headers["Location"]
    (item,) = receiver.wait_for(1)
    token = item.json()["customerToken"]
    assert sandbox.state.customer_tokens[token].phone == PHONE
    # The merchant pushes a payment to that token; the phone shows it and pays it.
    api.create_payment("order-90002", 2500, customer={"customerToken": token}, customerInteraction="CUSTOMER_PRESENT")
    page = requests.get(sandbox.url + response.headers["Location"], timeout=5).text
    assert 'data-reference="order-90002"' in page and "25,00 kr" in page
    form(sandbox, "/_sandbox/phone/approve", {"phone": PHONE, "msn": MSN, "reference": "order-90002"})
    assert api.get("/epayment/v1/payments/order-90002").json()["state"] == "AUTHORIZED"


def test_scan_of_deleted_qr_shows_an_error(api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    api.delete("/qr/v1/merchant-callback/kasse-1")
    response = form(sandbox, "/_sandbox/phone/scan", {"phone": PHONE, "msn": MSN, "qrId": "kasse-1"})
    assert "err=" in response.headers["Location"]
    page = requests.get(sandbox.url + response.headers["Location"], timeout=5).text
    assert "QR code not found" in page


def test_reject_from_the_phone(api: Api, sandbox: SandboxServer) -> None:
    api.create_payment("order-90003")
    form(sandbox, "/_sandbox/phone/reject", {"phone": PHONE, "msn": MSN, "reference": "order-90003"})
    assert api.get("/epayment/v1/payments/order-90003").json()["state"] == "ABORTED"
    response = form(sandbox, "/_sandbox/phone/approve", {"phone": PHONE, "msn": MSN, "reference": "order-90003"})
    assert "err=" in response.headers["Location"]


def test_pos_checkin_from_the_phone(sandbox: SandboxServer) -> None:
    pos = ctl(sandbox, "POST", "/pos", 201, json={"msn": MSN, "merchantPosId": "Kasse 3"}).json()
    form(sandbox, "/_sandbox/phone/pos-checkin", {"phone": PHONE, "posId": pos["posId"]})
    assert sandbox.state.points_of_sale[pos["posId"]].checkin.phone == PHONE


def test_landing_page_approves_and_returns_to_the_merchant(api: Api, sandbox: SandboxServer) -> None:
    redirect = api.create_payment(
        "order-90004",
        userFlow="WEB_REDIRECT",
        customer=None,
        returnUrl="https://shop.example.no/return?order=90004",
    ).json()["redirectUrl"]
    token = redirect.split("token=")[1]
    assert "Pay" in requests.get(redirect, timeout=5).text
    bad = requests.post(
        f"{sandbox.url}/_sandbox/landing",
        data={"token": token, "action": "approve", "phone": "1"},
        allow_redirects=False,
        timeout=5,
    )
    assert bad.status_code == 303 and "err=" in bad.headers["Location"]
    response = requests.post(
        f"{sandbox.url}/_sandbox/landing",
        data={"token": token, "action": "approve", "phone": OTHER_PHONE},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "https://shop.example.no/return?order=90004"
    payment = sandbox.state.payment(MSN, "order-90004")
    assert payment.state == "AUTHORIZED" and payment.approved_by == OTHER_PHONE
    assert requests.get(f"{sandbox.url}/_sandbox/landing?token=nope", timeout=5).status_code == 404


def test_overview_page(api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    api.create_payment("order-90005")
    page = requests.get(sandbox.url + "/", timeout=5)
    assert page.status_code == 200 and "Kiosken AS" in page.text and "order-90005" in page.text


# -- JSON control API ------------------------------------------------------------------------
def test_register_merchant_and_use_its_keys(sandbox: SandboxServer) -> None:
    created = ctl(
        sandbox,
        "POST",
        "/merchants",
        201,
        json={
            "msn": "777777",
            "clientId": "cid-7",
            "clientSecret": "cs-7",
            "subscriptionKey": "sk-7",
            "currency": "EUR",
            "name": "Café EUR",
        },
    ).json()
    assert created["msn"] == "777777" and created["currency"] == "EUR" and "clientSecret" not in created
    token = requests.post(
        f"{sandbox.url}/accesstoken/get",
        timeout=5,
        headers={"client_id": "cid-7", "client_secret": "cs-7", "Ocp-Apim-Subscription-Key": "sk-7"},
    )
    assert token.status_code == 200
    assert "777777" in [m["msn"] for m in ctl(sandbox, "GET", "/merchants").json()]
    ctl(
        sandbox,
        "POST",
        "/merchants",
        400,
        json={"msn": "12", "clientId": "x", "clientSecret": "y", "subscriptionKey": "z", "currency": "SEK"},
    )
    ctl(
        sandbox,
        "POST",
        "/merchants",
        409,
        json={"msn": "888888", "clientId": "cid-7", "clientSecret": "y", "subscriptionKey": "z"},
    )
    ctl(sandbox, "POST", "/merchants", 400, json={"msn": "888888", "nonsense": 1})


def test_scan_pending_approve_reject_expire_via_api(api: Api, sandbox: SandboxServer) -> None:
    api.put("/qr/v1/merchant-callback/kasse-1", json={"locationDescription": "Kasse 1"})
    qr_codes = ctl(sandbox, "GET", "/qr-codes").json()
    assert qr_codes[0]["merchantQrId"] == "kasse-1"
    scanned = ctl(
        sandbox, "POST", "/scan", 201, json={"phoneNumber": PHONE, "qrContent": qr_codes[0]["qrContent"]}
    ).json()
    assert scanned["msn"] == MSN and scanned["webhookDeliveries"] == 0
    for n, reference in enumerate(("order-91001", "order-91002", "order-91003")):
        api.create_payment(reference, 1000 + n, customer={"customerToken": scanned["customerToken"]})
    pending = ctl(sandbox, "GET", f"/phones/{PHONE}/pending").json()
    assert [p["reference"] for p in pending] == ["order-91001", "order-91002", "order-91003"]
    assert pending[0]["merchantName"] == "Kiosken AS" and pending[0]["amount"]["value"] == 1000
    assert (
        ctl(sandbox, "POST", f"/payments/{MSN}/order-91001/approve", json={"phoneNumber": PHONE}).json()["state"]
        == "AUTHORIZED"
    )
    assert ctl(sandbox, "POST", f"/payments/{MSN}/order-91002/reject").json()["state"] == "ABORTED"
    assert ctl(sandbox, "POST", f"/payments/{MSN}/order-91003/expire").json()["state"] == "EXPIRED"
    assert ctl(sandbox, "GET", f"/phones/{PHONE}/pending").json() == []
    assert ctl(sandbox, "POST", f"/payments/{MSN}/order-91003/approve", 400).json()["code"] == "10010"
    ctl(sandbox, "GET", f"/payments/{MSN}/order-99999", 404)
    states = [p["state"] for p in ctl(sandbox, "GET", f"/payments?msn={MSN}").json()]
    assert states == ["AUTHORIZED", "ABORTED", "EXPIRED"]
    ctl(sandbox, "POST", "/scan", 404, json={"phoneNumber": PHONE, "msn": MSN, "merchantQrId": "nope"})
    ctl(sandbox, "POST", "/scan", 400, json={"phoneNumber": "12", "msn": MSN, "merchantQrId": "kasse-1"})


def test_deliveries_webhooks_clock_and_reset(api: Api, receiver: Receiver, sandbox: SandboxServer) -> None:
    api.post(
        "/webhooks/v1/webhooks",
        201,
        json={"url": receiver.url + "/h", "events": ["epayments.payment.created.v1"]},
    )
    hooks = ctl(sandbox, "GET", "/webhooks").json()
    assert hooks[0]["secret"] and hooks[0]["msn"] == MSN
    api.create_payment("order-92001")
    assert ctl(sandbox, "POST", "/deliveries/wait", json={"timeout": 2}).json() == {"idle": True}
    (delivery,) = ctl(sandbox, "GET", "/deliveries?status=delivered").json()
    assert delivery["eventType"] == "epayments.payment.created.v1"
    assert delivery["payload"]["reference"] == "order-92001"
    assert delivery["attempts"][0]["status"] == 200
    ctl(sandbox, "POST", "/clock/advance", json={"seconds": 601})
    assert api.get("/epayment/v1/payments/order-92001").json()["state"] == "EXPIRED"
    summary = ctl(sandbox, "GET", "/state").json()
    assert summary["payments"] == 1 and summary["webhooks"] == 1
    ctl(sandbox, "POST", "/reset")
    summary = ctl(sandbox, "GET", "/state").json()
    assert summary["payments"] == 0 and summary["webhooks"] == 0 and len(summary["merchants"]) == 2
    assert ctl(sandbox, "GET", "/health").json() == {"ok": True}


def test_unknown_api_path_gets_the_apis_error_shape(api: Api) -> None:
    response = requests.get(api.server.url + "/epayment/v1/nothing/here/at/all", headers=api.headers, timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
