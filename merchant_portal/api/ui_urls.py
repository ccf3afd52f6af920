from django.urls import path

from . import views

# Mounted under /m/<merchant_slug>/ by merchant_portal.urls: the owners' pages for API keys.
urlpatterns = [
    path("api-keys/", views.ApiKeyListView.as_view(), name="api_key_list"),
    path("api-keys/new/", views.ApiKeyCreateView.as_view(), name="api_key_create"),
    path("api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
]
