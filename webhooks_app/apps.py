from django.apps import AppConfig


class WebhooksAppConfig(AppConfig):
    name = "webhooks_app"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from merchant_portal.core.health import register_quarantine_source
        from merchant_portal.tenancy.models import SalesUnit

        from .models import WebhookSubscription
        from .services import secrets_cache_clear, webhooks_quarantined_count

        register_quarantine_source("webhooks", webhooks_quarantined_count)

        # This process's cache of webhook secrets; other processes reload theirs on a signature miss.
        for model in (WebhookSubscription, SalesUnit):
            post_save.connect(secrets_cache_clear, sender=model, dispatch_uid=f"webhook-secrets-{model.__name__}")
            post_delete.connect(secrets_cache_clear, sender=model, dispatch_uid=f"webhook-secrets-d-{model.__name__}")
