from django.urls import path

from . import views

# Merchant pages of this app, mounted under /m/<merchant_slug>/ by merchant_portal.urls.
urlpatterns = [
    path("webhooks/", views.WebhookListView.as_view(), name="webhook_list"),
    path("webhooks/sales-units/<int:pk>/", views.WebhookDetailView.as_view(), name="webhook_detail"),
    path("webhooks/sales-units/<int:pk>/sync/", views.WebhookSyncView.as_view(), name="webhook_sync"),
    path("webhooks/events/", views.WebhookEventListView.as_view(), name="webhook_event_list"),
    path("webhooks/events/<int:pk>/", views.WebhookEventDetailView.as_view(), name="webhook_event_detail"),
    path("webhooks/events/<int:pk>/replay/", views.WebhookEventReplayView.as_view(), name="webhook_event_replay"),
    path(
        "webhooks/deliveries/<int:pk>/replay/",
        views.WebhookDeliveryReplayView.as_view(),
        name="webhook_delivery_replay",
    ),
    path(
        "webhooks/events/replay-failed/",
        views.WebhookEventReplayFailedView.as_view(),
        name="webhook_event_replay_failed",
    ),
]
