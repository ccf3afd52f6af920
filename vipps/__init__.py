"""Framework-free client for the Vipps MobilePay APIs (Access token, ePayment, QR, Webhooks) and
the legacy MobilePay PoS v10 check-in lookup.

Usage::

    from vipps import Amount, CreatePaymentRequest, Credentials, Customer, VippsClient, VippsConfig

    client = VippsClient(
        VippsConfig(base_url=TEST_BASE_URL, system_name="merchant-portal", system_version="1.0.0"),
        Credentials(msn="123456", client_id="...", client_secret="...", subscription_key="..."),
        token_cache=my_shared_cache,          # anything with get(key) / set(key, value, ttl_seconds)
        on_call=store_call_record,            # receives a masked CallRecord after every exchange
    )
    created = client.create_payment(
        CreatePaymentRequest(
            amount=Amount("NOK", 49900),
            reference="shop1-order-10042",
            user_flow="PUSH_MESSAGE",
            customer=Customer(customer_token=token_from_webhook),
            customer_interaction="CUSTOMER_PRESENT",
            payment_description="Kiosk purchase",
        ),
        idempotency_key="payment-42-create",   # from our own database row; reuse it on retries
    )

Every method makes one attempt (and refreshes the access token once on 401). Failures raise
``VippsError`` subclasses that say whether a retry may help (``retryable``, ``retry_after``);
``call_with_retries`` is a ready-made retry loop. Nothing secret is logged (logger ``"vipps"``) or
passed to ``on_call``: see ``vipps.masking``.
"""

from vipps.auth import AccessToken
from vipps.client import VippsClient
from vipps.config import PRODUCTION_BASE_URL, TEST_BASE_URL, Credentials, VippsConfig
from vipps.errors import (
    ExtraDetail,
    VippsAPIError,
    VippsConnectError,
    VippsError,
    VippsReadTimeout,
    VippsResponseError,
    VippsTransportError,
    VippsValidationError,
)
from vipps.models import (
    Aggregate,
    Amount,
    CreatePaymentRequest,
    CreatePaymentResponse,
    Currency,
    Customer,
    CustomerExchangeResult,
    CustomerInteraction,
    MerchantCallbackQr,
    ModificationResult,
    OrderLine,
    Payment,
    PaymentEvent,
    PaymentMethodType,
    PosCheckIn,
    QrCategory,
    QrFormat,
    QrFormatType,
    QrImageFormat,
    Receipt,
    UnitInfo,
    UserFlow,
    Webhook,
    WebhookRegistration,
    validate_idempotency_key,
    validate_reference,
)
from vipps.pos import (
    POS_PRODUCTION_BASE_URL,
    POS_SANDBOX_BASE_URL,
    MobilePayPosClient,
    PosConfig,
    PosCredentials,
)
from vipps.retry import call_with_retries
from vipps.token_cache import InMemoryTokenCache, TokenCache
from vipps.transport import CallRecord

__all__ = [
    "AccessToken",
    "Aggregate",
    "Amount",
    "CallRecord",
    "CreatePaymentRequest",
    "CreatePaymentResponse",
    "Credentials",
    "Currency",
    "Customer",
    "CustomerExchangeResult",
    "CustomerInteraction",
    "ExtraDetail",
    "InMemoryTokenCache",
    "MerchantCallbackQr",
    "MobilePayPosClient",
    "ModificationResult",
    "OrderLine",
    "POS_PRODUCTION_BASE_URL",
    "POS_SANDBOX_BASE_URL",
    "PRODUCTION_BASE_URL",
    "Payment",
    "PaymentEvent",
    "PaymentMethodType",
    "PosCheckIn",
    "PosConfig",
    "PosCredentials",
    "QrCategory",
    "QrFormat",
    "QrFormatType",
    "QrImageFormat",
    "Receipt",
    "TEST_BASE_URL",
    "TokenCache",
    "UnitInfo",
    "UserFlow",
    "VippsAPIError",
    "VippsClient",
    "VippsConfig",
    "VippsConnectError",
    "VippsError",
    "VippsReadTimeout",
    "VippsResponseError",
    "VippsTransportError",
    "VippsValidationError",
    "Webhook",
    "WebhookRegistration",
    "call_with_retries",
    "validate_idempotency_key",
    "validate_reference",
]
