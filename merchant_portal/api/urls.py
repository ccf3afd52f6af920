"""Mounted at /api/: the versioned resources under v1/, the OpenAPI schema and the docs page."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import docs
from .resources.checkins import CheckInViewSet
from .resources.locations import LocationViewSet, SalesUnitViewSet
from .resources.payments import PaymentViewSet
from .resources.qr_codes import QrCodeViewSet, QrSheetViewSet

app_name = "api"

router = SimpleRouter()
router.register("sales-units", SalesUnitViewSet, basename="sales-unit")
router.register("locations", LocationViewSet, basename="location")
router.register("qr-codes", QrCodeViewSet, basename="qr-code")
router.register("qr-sheets", QrSheetViewSet, basename="qr-sheet")
router.register("checkins", CheckInViewSet, basename="checkin")
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs.api_docs, name="docs"),
    re_path(r"^.*$", docs.not_found, name="not_found"),
]
