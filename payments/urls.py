from django.urls import path

from . import views

# Merchant pages of this app, mounted under /m/<merchant_slug>/ by merchant_portal.urls.
urlpatterns = [
    path("checkins/", views.CheckinLocationListView.as_view(), name="checkin_location_list"),
    path("checkins/locations/<int:pk>/", views.CheckinConsoleView.as_view(), name="checkin_console"),
    path("checkins/locations/<int:pk>/rows/", views.CheckinConsoleRowsView.as_view(), name="checkin_console_rows"),
    path("checkins/<int:pk>/exchange-phone/", views.CheckinExchangePhoneView.as_view(), name="checkin_exchange_phone"),
]
