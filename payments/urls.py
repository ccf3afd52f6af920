from django.urls import path

from . import views

# Merchant pages of this app, mounted under /m/<merchant_slug>/ by merchant_portal.urls.
urlpatterns = [
    path("checkins/", views.CheckinLocationListView.as_view(), name="checkin_location_list"),
    path("checkins/locations/<int:pk>/", views.CheckinConsoleView.as_view(), name="checkin_console"),
    path("checkins/locations/<int:pk>/rows/", views.CheckinConsoleRowsView.as_view(), name="checkin_console_rows"),
    path("checkins/<int:pk>/exchange-phone/", views.CheckinExchangePhoneView.as_view(), name="checkin_exchange_phone"),
    path("payments/", views.PaymentListView.as_view(), name="payment_list"),
    path("payments/export.csv", views.PaymentExportView.as_view(), name="payment_export"),
    path("payments/new/", views.PaymentCreateView.as_view(), name="payment_create"),
    path("payments/<int:pk>/", views.PaymentDetailView.as_view(), name="payment_detail"),
    path("payments/<int:pk>/capture/", views.PaymentCaptureView.as_view(), name="payment_capture"),
    path("payments/<int:pk>/refund/", views.PaymentRefundView.as_view(), name="payment_refund"),
    path("payments/<int:pk>/cancel/", views.PaymentCancelView.as_view(), name="payment_cancel"),
    path("payments/<int:pk>/refresh/", views.PaymentRefreshView.as_view(), name="payment_refresh"),
    path("payments/<int:pk>/retry/", views.PaymentRetryView.as_view(), name="payment_retry"),
    path("payments/rules/locations/<int:pk>/", views.PaymentRuleUpdateView.as_view(), name="payment_rule_update"),
]
