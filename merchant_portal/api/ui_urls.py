from django.urls import path

from . import views

# Mounted under /m/<merchant_slug>/ by merchant_portal.urls: the owners' pages for API keys and their webhooks.
urlpatterns = [
    path("api-keys/", views.ApiKeyListView.as_view(), name="api_key_list"),
    path("api-keys/new/", views.ApiKeyCreateView.as_view(), name="api_key_create"),
    path("api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
    path("api-keys/<int:pk>/webhook/", views.ApiKeyWebhookView.as_view(), name="api_key_webhook"),
    path("api-keys/<int:pk>/webhook/edit/", views.ApiKeyWebhookEditView.as_view(), name="api_key_webhook_edit"),
    path("api-keys/<int:pk>/webhook/rotate/", views.ApiKeyWebhookRotateView.as_view(), name="api_key_webhook_rotate"),
    path("api-keys/<int:pk>/webhook/enable/", views.ApiKeyWebhookEnableView.as_view(), name="api_key_webhook_enable"),
    path(
        "api-keys/<int:pk>/webhook/disable/", views.ApiKeyWebhookDisableView.as_view(), name="api_key_webhook_disable"
    ),
    path("api-keys/<int:pk>/webhook/test/", views.ApiKeyWebhookTestView.as_view(), name="api_key_webhook_test"),
    path("api-keys/<int:pk>/webhook/delete/", views.ApiKeyWebhookDeleteView.as_view(), name="api_key_webhook_delete"),
    path(
        "api-keys/webhook-deliveries/<int:pk>/",
        views.WebhookDeliveryView.as_view(),
        name="api_key_webhook_delivery",
    ),
    path(
        "api-keys/webhook-deliveries/<int:pk>/resend/",
        views.WebhookDeliveryResendView.as_view(),
        name="api_key_webhook_resend",
    ),
]
