"""``MobilePayPosClient``: the legacy MobilePay PoS v10 check-in lookup.

Why a separate client: PoS v10 (``mobilepay-pos-v10.yaml``, CONTRACTS §6) is a different platform
with different hosts and a different authentication scheme from the Vipps APIs:

* Hosts: ``https://api.mobilepay.dk`` (production) and ``https://api.sandbox.mobilepay.dk``.
* ``Authorization: Bearer <integrator token>``. The token comes from the Integrator Authentication
  API, ``POST {base_url}/integrator-authentication/connect/token`` (OAuth2 client credentials:
  HTTP Basic ``client_id:client_secret``, form ``grant_type=client_credentials`` and optionally
  ``merchant_vat``). That endpoint is not in the PoS spec; it is documented in the MobilePay
  developer docs (``docs/pos/authentication.md``), so its URL is configurable (``token_url``).
* ``X-MobilePay-Client-System-Version`` (required, ``Major.Minor.Build``) and
  ``X-MobilePay-Merchant-VAT-Number`` (e.g. ``DK12345678``) when calling on behalf of a merchant.
* No ``Ocp-Apim-Subscription-Key``, no ``Merchant-Serial-Number``, no ``Vipps-System-*``: the spec
  has none of them. (``x-ibm-client-id`` was removed from the spec in Oct 2022 and is not sent.)

Tokens are cached and refreshed once on 401 exactly as for Vipps. The product closed in 2024;
this exists for migrating PoS integrations (see ``VippsClient.put_mobilepay_qr``).
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field

import requests

from vipps.auth import AccessToken, TokenManager
from vipps.client import response_json
from vipps.config import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, check_timeouts, normalise_base_url
from vipps.errors import VippsValidationError
from vipps.models import PosCheckIn
from vipps.token_cache import InMemoryTokenCache, TokenCache, token_cache_key
from vipps.transport import OnCall, Transport

POS_PRODUCTION_BASE_URL = "https://api.mobilepay.dk"
POS_SANDBOX_BASE_URL = "https://api.sandbox.mobilepay.dk"

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_VAT_RE = re.compile(r"^(DK|FI)\d{8}$")


@dataclass(frozen=True)
class PosConfig:
    client_system_version: str
    base_url: str = POS_SANDBOX_BASE_URL
    merchant_vat_number: str | None = None
    token_url: str | None = None  # default: {base_url}/integrator-authentication/connect/token
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))
        if self.token_url is None:
            object.__setattr__(self, "token_url", f"{self.base_url}/integrator-authentication/connect/token")
        if not _VERSION_RE.match(self.client_system_version):
            raise VippsValidationError("client_system_version must be Major.Minor.Build")
        if self.merchant_vat_number is not None and not _VAT_RE.match(self.merchant_vat_number):
            raise VippsValidationError("merchant_vat_number must be DK or FI followed by 8 digits")
        check_timeouts(self.connect_timeout, self.read_timeout)


@dataclass(frozen=True)
class PosCredentials:
    client_id: str
    client_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"PosCredentials(client_id={self.client_id!r}, client_secret='***')"


class MobilePayPosClient:
    def __init__(
        self,
        config: PosConfig,
        credentials: PosCredentials,
        token_cache: TokenCache | None = None,
        session: requests.Session | None = None,
        on_call: OnCall | None = None,
    ) -> None:
        self.config = config
        self.credentials = credentials
        self._transport = Transport(
            session=session,
            base_url=config.base_url,
            timeout=(config.connect_timeout, config.read_timeout),
            on_call=on_call,
        )
        key = token_cache_key(
            "mobilepay-pos", credentials.client_id, config.merchant_vat_number or "", config.token_url or ""
        )
        self._tokens = TokenManager(token_cache or InMemoryTokenCache(), key, self.fetch_access_token)

    def fetch_access_token(self) -> AccessToken:
        form = {"grant_type": "client_credentials"}
        if self.config.merchant_vat_number:
            form["merchant_vat"] = self.config.merchant_vat_number
        pair = f"{self.credentials.client_id}:{self.credentials.client_secret}".encode()
        basic = "Basic " + base64.b64encode(pair).decode("ascii")
        assert self.config.token_url is not None
        response = self._transport.send(
            "fetch_pos_access_token",
            "POST",
            self.config.token_url.removeprefix(self.config.base_url) or self.config.token_url,
            headers={"Authorization": basic},
            form_body=form,
            url=self.config.token_url,
        )
        return AccessToken.from_json(response_json(response))

    def get_checkin(self, pos_id: str) -> PosCheckIn:
        """``GET /pos/v10/pointofsales/{posId}/checkin``: who (if anyone) is checked in at a PoS."""
        try:
            pos_uuid = str(uuid.UUID(str(pos_id)))
        except ValueError:
            raise VippsValidationError("pos_id must be a UUID") from None

        def send(token: str) -> requests.Response:
            headers = {
                "Authorization": f"Bearer {token}",
                "X-MobilePay-Client-System-Version": self.config.client_system_version,
            }
            if self.config.merchant_vat_number:
                headers["X-MobilePay-Merchant-VAT-Number"] = self.config.merchant_vat_number
            return self._transport.send(
                "get_pos_checkin", "GET", f"/pos/v10/pointofsales/{pos_uuid}/checkin", headers=headers
            )

        return PosCheckIn.from_json(response_json(self._tokens.call(send)))
