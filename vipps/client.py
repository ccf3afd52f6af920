"""``VippsClient``: Access token, QR, Webhooks and ePayment APIs for one sales unit.

Every call sends ``Authorization: Bearer``, ``Ocp-Apim-Subscription-Key``,
``Merchant-Serial-Number`` (required by ePayment and QR merchant-callback, recommended by Vipps
everywhere else) and the four ``Vipps-System-*`` headers, with connect/read timeouts.

One method call is one attempt (plus one token refresh on 401). Retrying is the caller's job, with
the same idempotency key: see ``vipps.retry.call_with_retries``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import requests

from vipps.auth import AccessToken, TokenManager
from vipps.config import Credentials, VippsConfig
from vipps.errors import VippsResponseError, VippsValidationError
from vipps.models import (
    LOCATION_DESCRIPTION_MAX_LENGTH,
    Amount,
    CreatePaymentRequest,
    CreatePaymentResponse,
    Customer,
    CustomerExchangeResult,
    MerchantCallbackQr,
    ModificationResult,
    Payment,
    PaymentEvent,
    QrImageFormat,
    Webhook,
    WebhookRegistration,
    validate_idempotency_key,
    validate_non_empty,
    validate_reference,
)
from vipps.token_cache import InMemoryTokenCache, TokenCache, token_cache_key
from vipps.transport import OnCall, Transport


def response_json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise VippsResponseError(f"expected JSON, got {response.headers.get('Content-Type')!r}") from None


def _seg(value: str) -> str:
    """A path segment, percent-encoded so an id can never change the path."""
    return quote(value, safe="")


def _location(description: str) -> str:
    if not isinstance(description, str) or not 1 <= len(description) <= LOCATION_DESCRIPTION_MAX_LENGTH:
        raise VippsValidationError(f"location_description must be 1-{LOCATION_DESCRIPTION_MAX_LENGTH} characters")
    return description


def _qr_image_params(image_format: str | None, image_size: int | None) -> dict[str, Any]:
    # The spec file spells these QrImageFormat/QrImageSize, the product documentation (seed document 003, which
    # wins where sources disagree) qrImageFormat/qrImageSize; Vipps' API binds query names case-insensitively.
    if image_size is not None and (isinstance(image_size, bool) or not 100 <= image_size <= 2000):
        raise VippsValidationError("image_size must be 100-2000")
    fmt = None
    if image_format is not None:
        try:
            fmt = QrImageFormat(image_format).value
        except ValueError:
            raise VippsValidationError("image_format must be PNG or SVG") from None
    return {"qrImageFormat": fmt, "qrImageSize": image_size}


class VippsClient:
    def __init__(
        self,
        config: VippsConfig,
        credentials: Credentials,
        token_cache: TokenCache | None = None,
        session: requests.Session | None = None,
        on_call: OnCall | None = None,
    ) -> None:
        self.config = config
        self.credentials = credentials
        self._transport = Transport(session=session, base_url=config.base_url, timeout=config.timeout, on_call=on_call)
        # The key identifies the sales unit and environment; it never contains the secret.
        key = token_cache_key("accesstoken", credentials.msn, credentials.client_id, config.base_url)
        self._tokens = TokenManager(token_cache or InMemoryTokenCache(), key, self.fetch_access_token)

    def __repr__(self) -> str:
        return f"VippsClient(base_url={self.config.base_url!r}, msn={self.credentials.msn!r})"

    # --- plumbing -----------------------------------------------------------------------------

    def _common_headers(self) -> dict[str, str]:
        return {
            "Ocp-Apim-Subscription-Key": self.credentials.subscription_key,
            "Merchant-Serial-Number": self.credentials.msn,
            **self.config.system_headers(),
        }

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        if idempotency_key is not None:
            validate_idempotency_key(idempotency_key)

        def send(token: str) -> requests.Response:
            headers = {"Authorization": f"Bearer {token}", **self._common_headers()}
            if idempotency_key is not None:
                headers["Idempotency-Key"] = idempotency_key
            return self._transport.send(
                operation,
                method,
                path,
                headers=headers,
                json_body=json_body,
                params=params,
                idempotency_key=idempotency_key,
                msn=self.credentials.msn,
            )

        return self._tokens.call(send)

    # --- Access token -------------------------------------------------------------------------

    def fetch_access_token(self) -> AccessToken:
        """``POST /accesstoken/get`` (empty body), bypassing the cache. Prefer ``access_token()``."""
        headers = {
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
            **self._common_headers(),
        }
        response = self._transport.send(
            "fetch_access_token", "POST", "/accesstoken/get", headers=headers, msn=self.credentials.msn
        )
        return AccessToken.from_json(response_json(response))

    def access_token(self) -> str:
        """A valid bearer token, from the cache when possible."""
        return self._tokens.token()

    # --- QR: merchant callback ----------------------------------------------------------------

    def put_merchant_callback_qr(
        self, merchant_qr_id: str, location_description: str, *, category: str | None = None
    ) -> None:
        """Create or update a merchant callback QR. Returns nothing: call ``get_merchant_callback_qr``.

        ``category`` (``QrCategory``: IN_STORE, VENDING, AGE_CHECK) is newer than the spec file
        and is only sent when given.
        """
        validate_non_empty(merchant_qr_id, "merchant_qr_id")
        body: dict[str, Any] = {"locationDescription": _location(location_description)}
        if category is not None:
            body["category"] = validate_non_empty(category, "category")
        self._call(
            "put_merchant_callback_qr",
            "PUT",
            f"/qr/v1/merchant-callback/{_seg(merchant_qr_id)}",
            json_body=body,
        )

    def get_merchant_callback_qr(
        self, merchant_qr_id: str, *, image_format: str | None = None, image_size: int | None = None
    ) -> MerchantCallbackQr:
        validate_non_empty(merchant_qr_id, "merchant_qr_id")
        response = self._call(
            "get_merchant_callback_qr",
            "GET",
            f"/qr/v1/merchant-callback/{_seg(merchant_qr_id)}",
            params=_qr_image_params(image_format, image_size),
        )
        return MerchantCallbackQr.from_json(response_json(response))

    def list_merchant_callback_qrs(
        self, *, image_format: str | None = None, image_size: int | None = None
    ) -> list[MerchantCallbackQr]:
        response = self._call(
            "list_merchant_callback_qrs",
            "GET",
            "/qr/v1/merchant-callback",
            params=_qr_image_params(image_format, image_size),
        )
        data = response_json(response)
        if not isinstance(data, list):
            raise VippsResponseError("expected a JSON array of merchant callback QRs")
        return [MerchantCallbackQr.from_json(item) for item in data]

    def delete_merchant_callback_qr(self, merchant_qr_id: str) -> None:
        validate_non_empty(merchant_qr_id, "merchant_qr_id")
        self._call("delete_merchant_callback_qr", "DELETE", f"/qr/v1/merchant-callback/{_seg(merchant_qr_id)}")

    def put_mobilepay_qr(self, beacon_id: str, location_description: str) -> None:
        """Map an existing printed MobilePay PoS QR (``beaconId``) to this MSN.

        Scans then arrive as ``user.checked-in.v1`` with ``merchantQrId`` equal to the beaconId.
        """
        validate_non_empty(beacon_id, "beacon_id")
        self._call(
            "put_mobilepay_qr",
            "PUT",
            f"/qr/v1/merchant-callback/mobilepay/{_seg(beacon_id)}",
            json_body={"locationDescription": _location(location_description)},
        )

    def exchange_customer_token(self, customer_token: str) -> CustomerExchangeResult:
        """``POST /qr/v1/exchange/customer``: the customer's MSISDN for a check-in ``customerToken``."""
        validate_non_empty(customer_token, "customer_token")
        response = self._call(
            "exchange_customer_token",
            "POST",
            "/qr/v1/exchange/customer",
            json_body={"customer": {"customerToken": customer_token}, "requestedData": ["MSISDN"]},
        )
        return CustomerExchangeResult.from_json(response_json(response))

    # --- Webhooks -----------------------------------------------------------------------------

    def register_webhook(self, url: str, events: Sequence[str]) -> WebhookRegistration:
        """Register ``url`` for ``events``. The returned ``secret`` is never shown again."""
        validate_non_empty(url, "url")
        if isinstance(events, str) or not events or not all(isinstance(e, str) and e for e in events):
            raise VippsValidationError("events must be a non-empty list of event type names")
        body = {"url": url, "events": list(events)}
        response = self._call("register_webhook", "POST", "/webhooks/v1/webhooks", json_body=body)
        return WebhookRegistration.from_json(response_json(response))

    def list_webhooks(self) -> list[Webhook]:
        response = self._call("list_webhooks", "GET", "/webhooks/v1/webhooks")
        data = response_json(response)
        if not isinstance(data, dict) or not isinstance(data.get("webhooks"), list):
            raise VippsResponseError("expected {webhooks: [...]}")
        return [Webhook.from_json(item) for item in data["webhooks"]]

    def delete_webhook(self, webhook_id: str) -> None:
        try:
            uuid.UUID(str(webhook_id))
        except ValueError:
            raise VippsValidationError("webhook_id must be a UUID") from None
        self._call("delete_webhook", "DELETE", f"/webhooks/v1/webhooks/{_seg(webhook_id)}")

    # --- ePayment -----------------------------------------------------------------------------

    def create_payment(self, request: CreatePaymentRequest, *, idempotency_key: str) -> CreatePaymentResponse:
        response = self._call(
            "create_payment",
            "POST",
            "/epayment/v1/payments",
            json_body=request.to_json(),
            idempotency_key=idempotency_key,
        )
        return CreatePaymentResponse.from_json(response_json(response))

    def get_payment(self, reference: str) -> Payment:
        response = self._call("get_payment", "GET", f"/epayment/v1/payments/{_seg(validate_reference(reference))}")
        return Payment.from_json(response_json(response))

    def get_payment_events(self, reference: str) -> list[PaymentEvent]:
        """The event log: the authoritative history of the payment."""
        response = self._call(
            "get_payment_events", "GET", f"/epayment/v1/payments/{_seg(validate_reference(reference))}/events"
        )
        data = response_json(response)
        if not isinstance(data, list):
            raise VippsResponseError("expected a JSON array of payment events")
        return [PaymentEvent.from_json(item) for item in data]

    def _modify(self, action: str, reference: str, body: Any, idempotency_key: str) -> ModificationResult:
        response = self._call(
            f"{action}_payment",
            "POST",
            f"/epayment/v1/payments/{_seg(validate_reference(reference))}/{action}",
            json_body=body,
            idempotency_key=idempotency_key,
        )
        # The spec declares these 200s as application/problem+json; the body is the same JSON.
        return ModificationResult.from_json(response_json(response))

    def capture_payment(self, reference: str, amount: Amount, *, idempotency_key: str) -> ModificationResult:
        return self._modify("capture", reference, {"modificationAmount": amount.to_json()}, idempotency_key)

    def refund_payment(self, reference: str, amount: Amount, *, idempotency_key: str) -> ModificationResult:
        return self._modify("refund", reference, {"modificationAmount": amount.to_json()}, idempotency_key)

    def cancel_payment(
        self, reference: str, *, idempotency_key: str, cancel_transaction_only: bool = False
    ) -> ModificationResult:
        """Cancel (before authorisation: TERMINATED) or release the remaining reservation.

        ``cancel_transaction_only=True`` (newer than spec 1.4.1) only cancels a payment that is not
        yet authorised; it is sent only when set.
        """
        body = {"cancelTransactionOnly": True} if cancel_transaction_only else None
        return self._modify("cancel", reference, body, idempotency_key)

    def force_approve(self, reference: str, *, customer: Customer | None = None, token: str | None = None) -> None:
        """Test environment only: approve a payment without the app, as ``customer`` or with the
        ``token`` from the create response's ``redirectUrl``."""
        if self.config.is_production:
            raise VippsValidationError("force_approve is only available in the test environment")
        if (customer is None) == (token is None):
            raise VippsValidationError("force_approve needs exactly one of customer or token")
        body = {"customer": customer.to_json()} if customer is not None else {"token": token}
        self._call(
            "force_approve",
            "POST",
            f"/epayment/v1/test/payments/{_seg(validate_reference(reference))}/approve",
            json_body=body,
        )
