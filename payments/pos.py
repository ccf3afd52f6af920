"""The MobilePay PoS v10 client for a sales unit (legacy check-in lookup, CONTRACTS.md §6.2)."""

from django.conf import settings

from merchant_portal.tenancy.models import SalesUnit
from merchant_portal.tenancy.vipps import DjangoTokenCache
from vipps import MobilePayPosClient, PosConfig, PosCredentials


def pos_client_for(sales_unit: SalesUnit) -> MobilePayPosClient:
    # Integrator credentials when configured; otherwise the sales unit's keys (what the local sandbox accepts).
    return MobilePayPosClient(
        PosConfig(
            client_system_version=settings.VIPPS_SYSTEM_VERSION,
            base_url=settings.MOBILEPAY_POS_BASE_URL or settings.VIPPS_BASE_URL,
            connect_timeout=settings.VIPPS_CONNECT_TIMEOUT,
            read_timeout=settings.VIPPS_READ_TIMEOUT,
        ),
        PosCredentials(
            client_id=settings.MOBILEPAY_POS_CLIENT_ID or sales_unit.client_id,
            client_secret=settings.MOBILEPAY_POS_CLIENT_SECRET or sales_unit.client_secret,
        ),
        token_cache=DjangoTokenCache(),
    )
