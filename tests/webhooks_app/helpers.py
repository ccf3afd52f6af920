"""Signed Vipps deliveries for tests (signed with the sandbox's signer, so the portal's verifier is checked
against an independent implementation) and small builders for the rows they need."""

import json
import secrets
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.test import Client
from django.urls import reverse

from qrcodes.models import Location, QrCode
from vipps_sandbox.signing import http_date, sign
from webhooks_app import events as ev
from webhooks_app.models import WebhookSubscription

SECRET = "090a478d-37ff-4e77-970e-d457aeb26a3a"


def hook_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("vipps_webhook")


def subscribe(unit, *, secret: str = SECRET, events=None, url: str | None = None) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        sales_unit=unit,
        vipps_id=str(uuid.uuid4()),
        url=url or hook_url(),
        events=list(events or [ev.CHECKED_IN, *ev.EPAYMENT_EVENTS.values()]),
        secret=secret,
    )


def location(unit, name: str = "Kiosk Torget", **fields) -> Location:
    return Location.objects.create(sales_unit=unit, name=name, **fields)


def qr_code(loc: Location, merchant_qr_id: str = "kiosk-1", description: str = "Till 1") -> QrCode:
    return QrCode.objects.create(
        sales_unit=loc.sales_unit, location=loc, merchant_qr_id=merchant_qr_id, location_description=description
    )


def checkin_payload(msn: str, qr_id: str = "kiosk-1", *, token: str | None = None, initiated=None, old_name=False):
    moment = initiated or datetime.now(UTC)
    return {
        "customerToken": token or secrets.token_urlsafe(32),
        "merchantQrId": qr_id,
        ("merchantSerialNumber" if old_name else "msn"): msn,
        "initiatedAt": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z",
    }


def epayment_payload(msn: str, name: str = "AUTHORIZED", reference: str = "acme-order-10042", psp: str | None = None):
    return {
        "msn": msn,
        "reference": reference,
        "pspReference": psp or str(uuid.uuid4().int)[:18],
        "name": name,
        "amount": {"currency": "NOK", "value": 49900},
        "timestamp": "2025-01-14T10:14:59.512Z",
        "idempotencyKey": str(uuid.uuid4()),
        "success": True,
    }


def signed_headers(body: bytes, *, secret: str = SECRET, url: str | None = None) -> dict[str, str]:
    signature = sign(secret, url or hook_url(), body, http_date())
    return {k: v for k, v in signature.headers().items() if k != "Host"}


def deliver(payload, *, secret: str = SECRET, url: str | None = None, client: Client | None = None, body=None, **extra):
    """POST a signed delivery through the real view; `body` overrides the bytes sent (after signing)."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
    headers = signed_headers(raw, secret=secret, url=url) | extra.pop("headers", {})
    return (client or Client()).post(
        reverse("vipps_webhook"),
        data=body if body is not None else raw,
        content_type="application/json",
        headers=headers,
    )
