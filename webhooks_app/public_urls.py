from django.urls import path

from . import views

# Endpoints that Vipps and MobilePay call (no login; authenticated by signature), mounted under /hooks/.
urlpatterns = [
    path("vipps/", views.vipps_webhook, name="vipps_webhook"),
    path("mobilepay/pos/", views.mobilepay_pos_notification, name="mobilepay_pos_notification"),
]
