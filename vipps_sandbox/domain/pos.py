"""MobilePay PoS v10 rules: callback aliases, points of sale, check-ins with their notification,
and ``GET …/checkin`` with ``pollDelayInMs`` (CONTRACTS §6)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from ..errors import SandboxError
from ..models import Merchant, PointOfSale, PosCheckIn
from .base import BEACON_ID_RE, BRAND_ID_RE, LOCATION_ID_RE, UUID_RE, StateBase, normalize_phone


class PosMixin(StateBase):
    # -- MobilePay PoS v10 ---------------------------------------------------------------
    def add_callback_alias(self, alias: str, url: str) -> None:
        """MobilePay's allow-listed notification URL, known by its CallbackAlias (≤36 chars)."""
        if not alias or len(alias) > 36:
            raise SandboxError(400, "The callback alias must be 1-36 characters", fields=[("alias", "1-36 chars")])
        if urlsplit(url).scheme not in ("http", "https"):
            raise SandboxError(400, "The notification URL must be http(s)", fields=[("url", "must be a URL")])
        with self.lock:
            self.callback_aliases[alias] = url

    def add_point_of_sale(
        self,
        msn: str,
        merchant_pos_id: str,
        name: str | None = None,
        pos_id: str | None = None,
        beacon_id: str | None = None,
        callback_alias: str | None = None,
        merchant_id: str | None = None,
        merchant_brand_id: str | None = None,
        merchant_location_id: str = "00001",
        poll_delay_ms: int | None = None,
    ) -> PointOfSale:
        with self.lock:
            self.merchant(msn)
            pos_id = (pos_id or str(uuid.uuid4())).lower()
            beacon_id = beacon_id or str(uuid.uuid4())
            merchant_brand_id = merchant_brand_id or f"POSDK{int(msn) % 100000:05d}"
            problems = []
            if not UUID_RE.match(pos_id):
                problems.append(("posId", "must be a GUID"))
            if not BEACON_ID_RE.match(beacon_id):
                problems.append(("beaconId", "must be a GUID or 15 digits"))
            if not merchant_pos_id or len(merchant_pos_id) > 36:
                problems.append(("merchantPosId", "1-36 characters"))
            if not BRAND_ID_RE.match(merchant_brand_id):
                problems.append(("merchantBrandId", "MPPOSXXXXX, POSDKXXXXX or POSFIXXXXX"))
            if not LOCATION_ID_RE.match(merchant_location_id):
                problems.append(("merchantLocationId", "exactly 5 characters"))
            if callback_alias is not None and callback_alias not in self.callback_aliases:
                problems.append(("callbackAlias", "unknown callback alias; register it first"))
            if problems:
                raise SandboxError(400, "Invalid point of sale", fields=problems)
            pos = PointOfSale(
                pos_id=pos_id,
                msn=msn,
                merchant_id=merchant_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"vipps-sandbox-merchant:{msn}")),
                merchant_brand_id=merchant_brand_id,
                merchant_location_id=merchant_location_id,
                merchant_pos_id=merchant_pos_id,
                name=name or merchant_pos_id,
                beacon_id=beacon_id,
                callback_alias=callback_alias,
                poll_delay_ms=self.config.pos_poll_delay_ms if poll_delay_ms is None else poll_delay_ms,
            )
            self.points_of_sale[pos.pos_id] = pos
            return pos

    def pos_checkin(self, pos_id: str, phone: str) -> PosCheckIn:
        """A MobilePay user checks in at a PoS: remember it and notify the callback alias's URL."""
        phone = normalize_phone(phone)
        with self.lock:
            pos = self.points_of_sale.get(pos_id.lower())
            if pos is None:
                raise SandboxError(404, f"No point of sale {pos_id}")
            now = self.now()
            pos.checkin = PosCheckIn(
                phone=phone,
                customer_token=secrets.token_hex(20),
                customer_receipt_token=secrets.token_hex(16),
                loyalty_ids=[],
                checked_in_at=now,
                expires_at=now + self.config.pos_checkin_ttl,
            )
            self.remember_phone(phone)
            if pos.callback_alias is not None:
                url = self.callback_aliases.get(pos.callback_alias)
                if url is not None:
                    self.dispatcher.enqueue_pos_notification(
                        pos.callback_alias,
                        url,
                        {
                            "MerchantId": pos.merchant_id,
                            "MerchantBrandId": pos.merchant_brand_id,
                            "MerchantLocationId": pos.merchant_location_id,
                            "MerchantPosId": pos.merchant_pos_id,
                            "PosId": pos.pos_id,
                        },
                        pos.msn,
                    )
            return pos.checkin

    def get_checkin(self, merchant: Merchant, pos_id: str) -> dict[str, Any]:
        if not UUID_RE.match(pos_id):
            raise SandboxError(400, "posid must be a GUID", code="1001")
        self.tick()
        with self.lock:
            pos = self.points_of_sale.get(pos_id.lower())
            if pos is None:
                raise SandboxError(404, "Point of sale not found")
            if pos.msn != merchant.msn:
                raise SandboxError(
                    403,
                    "Cannot query checkin on a point of sale created by a different integrator",
                    code="1002",
                )
            now = self.now()
            if pos.last_poll_at is not None and (now - pos.last_poll_at) * 1000 < pos.poll_delay_ms:
                pos.poll_violations += 1
            pos.last_poll_at = now
            pos.polls += 1
            checkin = pos.checkin
            if checkin is None:
                return {
                    "isUserCheckedIn": False,
                    "pollDelayInMs": pos.poll_delay_ms,
                    "loyaltyIds": None,
                    "customerToken": None,
                    "customerReceiptToken": None,
                }
            return {
                "isUserCheckedIn": True,
                "pollDelayInMs": pos.poll_delay_ms,
                "loyaltyIds": checkin.loyalty_ids,
                "customerToken": checkin.customer_token,
                "customerReceiptToken": checkin.customer_receipt_token,
            }
