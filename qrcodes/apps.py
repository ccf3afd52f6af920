from django.apps import AppConfig


class QrCodesConfig(AppConfig):
    name = "qrcodes"
    verbose_name = "Locations and QR codes"

    def ready(self):
        from merchant_portal.core.health import register_quarantine_source

        from .selectors import qr_codes_quarantined_count

        register_quarantine_source("qr_codes", qr_codes_quarantined_count)
