from django.urls import path

from . import views

# Merchant pages of this app, mounted under /m/<merchant_slug>/ by merchant_portal.urls.
urlpatterns = [
    path("locations/", views.LocationListView.as_view(), name="location_list"),
    path("locations/new/", views.LocationCreateView.as_view(), name="location_create"),
    path("locations/<int:pk>/", views.LocationDetailView.as_view(), name="location_detail"),
    path("locations/<int:pk>/edit/", views.LocationUpdateView.as_view(), name="location_update"),
    path("locations/<int:pk>/delete/", views.LocationDeleteView.as_view(), name="location_delete"),
    path("locations/<int:pk>/qr-codes/new/", views.QrCodeCreateView.as_view(), name="qr_code_create"),
    path("locations/<int:pk>/qr-codes/bulk/", views.QrCodeBulkCreateView.as_view(), name="qr_code_bulk_create"),
    path("locations/<int:pk>/qr-codes/mobilepay/", views.QrCodeMapBeaconView.as_view(), name="qr_code_map_beacon"),
    path("locations/<int:pk>/sheet/", views.LocationSheetView.as_view(), name="qr_sheet_for_location"),
    path("qr-codes/<int:pk>/", views.QrCodeDetailView.as_view(), name="qr_code_detail"),
    path("qr-codes/<int:pk>/edit/", views.QrCodeUpdateView.as_view(), name="qr_code_update"),
    path("qr-codes/<int:pk>/delete/", views.QrCodeDeleteView.as_view(), name="qr_code_delete"),
    path("qr-codes/<int:pk>/retry/", views.QrCodeRetryView.as_view(), name="qr_code_retry"),
    path("qr-codes/<int:pk>/keep-vipps/", views.QrCodeAcceptRemoteView.as_view(), name="qr_code_accept_remote"),
    path("qr-codes/<int:pk>/image.png", views.QrCodeImageView.as_view(), name="qr_code_image"),
    path("qr-codes/sales-units/<int:pk>/sheet/", views.SalesUnitSheetView.as_view(), name="qr_sheet_for_sales_unit"),
    path("qr-codes/sales-units/<int:pk>/reconcile/", views.ReconcileView.as_view(), name="qr_reconcile"),
    path("qr-codes/sales-units/<int:pk>/reconcile/run/", views.ReconcileStartView.as_view(), name="qr_reconcile_start"),
    path("qr-sheets/<int:pk>/", views.QrSheetDetailView.as_view(), name="qr_sheet_detail"),
    path("qr-sheets/<int:pk>/download/", views.QrSheetDownloadView.as_view(), name="qr_sheet_download"),
]
