from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "merchant_portal.tenancy"
    label = "tenancy"
    verbose_name = "Merchants and members"

    def ready(self):
        from . import signals  # noqa: F401  (connects the login signal)
