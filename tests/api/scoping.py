"""URL kwargs for the API-key pages, built from objects of one merchant (see tests/scoping.py)."""

from merchant_portal.api.models import ApiKey, WebhookDelivery, WebhookEventType
from merchant_portal.api.services import api_key_create, webhook_endpoint_save


def url_kwargs(merchant) -> dict[str, dict]:
    key, _ = api_key_create(merchant=merchant, actor=None, name="Scoping", access=ApiKey.Access.READ_ONLY)
    hooked, _ = api_key_create(merchant=merchant, actor=None, name="With webhook", access=ApiKey.Access.READ_ONLY)
    endpoint, _ = webhook_endpoint_save(
        api_key=hooked, actor=None, url="https://pos.example.com/hooks", event_types=WebhookEventType.values
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, message_id=f"msg_scoping_{merchant.slug}", event_type="webhook.test", body="{}"
    )
    # Removing a webhook deletes its deliveries: it gets a key of its own, so the other pages still find theirs.
    doomed, _ = api_key_create(merchant=merchant, actor=None, name="Webhook to remove", access=ApiKey.Access.READ_ONLY)
    webhook_endpoint_save(
        api_key=doomed, actor=None, url="https://pos.example.com/old", event_types=WebhookEventType.values
    )
    hooked_kwargs = {"pk": hooked.pk}
    return {
        "api_key_list": {},
        "api_key_create": {},
        "api_key_revoke": {"pk": key.pk},
        "api_key_webhook": hooked_kwargs,
        "api_key_webhook_edit": hooked_kwargs,
        "api_key_webhook_rotate": hooked_kwargs,
        "api_key_webhook_enable": hooked_kwargs,
        "api_key_webhook_disable": hooked_kwargs,
        "api_key_webhook_test": hooked_kwargs,
        "api_key_webhook_delete": {"pk": doomed.pk},
        "api_key_webhook_delivery": {"pk": delivery.pk},
        "api_key_webhook_resend": {"pk": delivery.pk},
    }
