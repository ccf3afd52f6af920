from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "merchant_portal.api"
    label = "api"
    verbose_name = "REST API for POS vendors"

    def ready(self):
        from merchant_portal.core.health import register_quarantine_source

        from . import schema  # noqa: F401  (registers the OpenAPI extension for API-key authentication)
        from .selectors import webhook_deliveries_quarantined_count

        register_quarantine_source("vendor_webhooks", webhook_deliveries_quarantined_count)
