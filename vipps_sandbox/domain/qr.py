"""QR API rules: merchant callback QR codes, the MobilePay beacon mapping, scans (which issue
customer tokens and send ``user.checked-in.v1``) and the customer exchange (CONTRACTS §5)."""

from __future__ import annotations

import secrets
from typing import Any

from ..errors import SandboxError
from ..models import CallbackQr, CustomerToken, Merchant
from .base import (
    BEACON_ID_RE,
    CHECKED_IN,
    LOCATION_DESCRIPTION_MAX,
    MERCHANT_QR_ID_RE,
    QR_CATEGORIES,
    StateBase,
    _iso,
    _iso7,
    _token,
    normalize_phone,
)


class QrMixin(StateBase):
    # -- QR codes ------------------------------------------------------------------------
    def _validate_location(self, body: Any) -> tuple[str, str | None]:
        if not isinstance(body, dict):
            raise SandboxError(
                400, "The request body must be a JSON object", fields=[("body", "must be a JSON object")]
            )
        location = body.get("locationDescription")
        fields: list[tuple[str, str]] = []
        if not isinstance(location, str) or not location.strip():
            fields.append(("locationDescription", "The LocationDescription field is required."))
        elif len(location) > LOCATION_DESCRIPTION_MAX:
            fields.append(
                (
                    "locationDescription",
                    f"The field LocationDescription must be a string with a maximum length of "
                    f"{LOCATION_DESCRIPTION_MAX}.",
                )
            )
        category = body.get("category")
        if category is not None and category not in QR_CATEGORIES:
            fields.append(("category", f"must be one of {', '.join(QR_CATEGORIES)}"))
        if fields:
            raise SandboxError(400, "One or more validation errors occurred.", fields=fields)
        return location, category

    def put_callback_qr(self, merchant: Merchant, merchant_qr_id: str, body: Any) -> tuple[CallbackQr, bool]:
        """Create or update; returns (qr, created). The image never changes on update."""
        if not MERCHANT_QR_ID_RE.match(merchant_qr_id):
            raise SandboxError(
                400,
                "Invalid merchantQrId",
                fields=[("merchantQrId", "1-128 characters of A-Z, a-z, 0-9, '-' and '_'")],
            )
        location, category = self._validate_location(body)
        with self.lock:
            existing = self.qr_codes.get((merchant.msn, merchant_qr_id))
            if existing is not None and existing.kind == "mobilepay":
                raise SandboxError(
                    400,
                    f"{merchant_qr_id} is a migrated MobilePay QR; use the mobilepay endpoint",
                    fields=[("merchantQrId", "used by a MobilePay QR")],
                )
            if existing is not None:
                existing.location_description = location
                if "category" in body:
                    existing.category = category
                return existing, False
            image_id = secrets.token_urlsafe(16)
            qr = CallbackQr(
                msn=merchant.msn,
                merchant_qr_id=merchant_qr_id,
                location_description=location,
                qr_content=f"https://qr.vipps.no/28/2/05/031/c-{image_id}",
                image_id=image_id,
                category=category or "IN_STORE",
                created_at=self.now(),
            )
            self.qr_codes[(merchant.msn, merchant_qr_id)] = qr
            self.images[image_id] = qr.qr_content
            return qr, True

    def put_mobilepay_qr(self, merchant: Merchant, beacon_id: str, body: Any) -> tuple[CallbackQr, bool]:
        """Map an existing MobilePay PoS beaconId to the MSN (no new QR is drawn)."""
        if not BEACON_ID_RE.match(beacon_id):
            raise SandboxError(400, "Invalid beaconId", fields=[("beaconId", "must be a GUID or 15 digits")])
        location, _ = self._validate_location(body)
        with self.lock:
            for (msn, qr_id), qr in self.qr_codes.items():
                if qr.kind == "mobilepay" and qr_id.lower() == beacon_id.lower() and msn != merchant.msn:
                    raise SandboxError(
                        409, "The beaconId is already mapped to another merchant", extra={"id": beacon_id}
                    )
            for pos in self.points_of_sale.values():
                if pos.beacon_id.lower() == beacon_id.lower() and pos.msn != merchant.msn:
                    raise SandboxError(
                        409,
                        "The beaconId belongs to a point of sale of another merchant",
                        extra={"id": beacon_id},
                    )
            existing = self.qr_codes.get((merchant.msn, beacon_id))
            if existing is not None and existing.kind != "mobilepay":
                raise SandboxError(409, "A merchant callback QR with this id already exists", extra={"id": beacon_id})
            if existing is not None:
                existing.location_description = location
                return existing, False
            image_id = secrets.token_urlsafe(16)
            qr = CallbackQr(
                msn=merchant.msn,
                merchant_qr_id=beacon_id,
                location_description=location,
                # The printed MobilePay PoS QR carries the beacon id.
                qr_content=f"https://mobilepay.dk/box?id={beacon_id}&source=QR",
                image_id=image_id,
                kind="mobilepay",
                created_at=self.now(),
            )
            self.qr_codes[(merchant.msn, beacon_id)] = qr
            self.images[image_id] = qr.qr_content
            return qr, True

    def get_callback_qr(self, merchant: Merchant, merchant_qr_id: str) -> CallbackQr:
        with self.lock:
            qr = self.qr_codes.get((merchant.msn, merchant_qr_id))
            if qr is None:
                raise SandboxError(404, f"No QR with merchantQrId {merchant_qr_id} for MSN {merchant.msn}")
            return qr

    def list_callback_qrs(self, merchant: Merchant | None = None) -> list[CallbackQr]:
        with self.lock:
            qrs = [q for q in self.qr_codes.values() if merchant is None or q.msn == merchant.msn]
        return sorted(qrs, key=lambda q: (q.msn, q.created_at))

    def delete_callback_qr(self, merchant: Merchant, merchant_qr_id: str) -> None:
        with self.lock:
            qr = self.get_callback_qr(merchant, merchant_qr_id)
            del self.qr_codes[(qr.msn, qr.merchant_qr_id)]
            self.images.pop(qr.image_id, None)

    def rotate_image_url(self, merchant: Merchant, merchant_qr_id: str) -> CallbackQr:
        """Vipps may change a code's ``qrImageUrl`` "due to security concerns": the same code gets a new
        image link and the old link stops working."""
        with self.lock:
            qr = self.get_callback_qr(merchant, merchant_qr_id)
            self.images.pop(qr.image_id, None)
            qr.image_id = secrets.token_urlsafe(16)
            self.images[qr.image_id] = qr.qr_content
            return qr

    def image_content(self, image_id: str) -> str | None:
        with self.lock:
            return self.images.get(image_id)

    # -- scanning and customer tokens ---------------------------------------------------
    def find_qr_by_content(self, qr_content: str) -> CallbackQr | None:
        with self.lock:
            return next((q for q in self.qr_codes.values() if q.qr_content == qr_content), None)

    def scan(
        self,
        phone: str,
        msn: str | None = None,
        merchant_qr_id: str | None = None,
        qr_content: str | None = None,
    ) -> CustomerToken:
        """The customer scans a merchant callback QR: issue a customerToken (15 min) for that
        phone and send ``user.checked-in.v1`` to the MSN's webhook."""
        phone = normalize_phone(phone)
        with self.lock:
            if qr_content:
                qr = self.find_qr_by_content(qr_content)
            else:
                qr = self.qr_codes.get((str(msn), str(merchant_qr_id)))
            if qr is None:
                raise SandboxError(404, "QR code not found (it may have been deleted)")
            now = self.now()
            token = CustomerToken(
                token=_token(48),
                phone=phone,
                msn=qr.msn,
                merchant_qr_id=qr.merchant_qr_id,
                issued_at=now,
                expires_at=now + self.config.customer_token_ttl,
            )
            self.customer_tokens[token.token] = token
            self.remember_phone(phone)
            payload = {
                "customerToken": token.token,
                "merchantQrId": qr.merchant_qr_id,
                # Current Vipps sends only `msn` (the pre-2024 name was `merchantSerialNumber`); sending both would
                # let a parser that reads only the old name pass here and fail against Vipps.
                "msn": qr.msn,
                "initiatedAt": _iso7(now),
            }
            deliveries = self.emit(qr.msn, CHECKED_IN, payload, ordering_key=f"checkin:{token.token}")
            self.scans.append(
                {
                    "phone": phone,
                    "msn": qr.msn,
                    "merchantQrId": qr.merchant_qr_id,
                    "customerToken": token.token,
                    "at": _iso(now),
                    "webhooks": len(deliveries),
                }
            )
            return token

    def exchange_customer(self, merchant: Merchant, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("customer"), dict):
            raise SandboxError(
                400,
                "The request body contains one or more invalid parameters.",
                title="Bad request",
                fields=[("customer", "Customer object is required.")],
            )
        requested = body.get("requestedData", ["MSISDN"])
        if not isinstance(requested, list) or any(item != "MSISDN" for item in requested):
            raise SandboxError(
                400,
                "The request body contains one or more invalid parameters.",
                title="Bad request",
                fields=[("requestedData", "Only MSISDN is supported.")],
            )
        value = body["customer"].get("customerToken")
        if not isinstance(value, str) or not value:
            raise SandboxError(
                400,
                "The request body contains one or more invalid parameters.",
                title="Bad request",
                fields=[("customer.customerToken", "The customerToken is required.")],
            )
        with self.lock:
            try:
                token = self._customer_token(merchant.msn, value)
            except SandboxError as exc:
                raise SandboxError(
                    400,
                    exc.detail,
                    title="Bad request",
                    fields=[("customer.customerToken", exc.fields[0][1])],
                ) from None
            return {"msisdn": token.phone, "timestamp": int(token.issued_at)}
