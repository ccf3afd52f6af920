from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "merchant_portal.api"
    label = "api"
    verbose_name = "REST API for POS vendors"

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI extension for API-key authentication)
