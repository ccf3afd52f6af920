from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from merchant_portal.tenancy.models import SalesUnit
from qrcodes import services
from qrcodes.models import Location

from ..base import FlatReadMixin, ScopedRelatedField, ScopedViewMixin
from ..exceptions import Conflict
from ..fields import StrictModelSerializer


class SalesUnitSerializer(FlatReadMixin, serializers.ModelSerializer):
    class Meta:
        model = SalesUnit
        fields = ["id", "name", "msn", "market", "currency", "environment"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List sales units", tags=["Sales units"]),
    retrieve=extend_schema(summary="Get a sales unit", tags=["Sales units"]),
)
class SalesUnitViewSet(ScopedViewMixin, viewsets.ReadOnlyModelViewSet):
    """The merchant's Vipps MobilePay sales units (MSNs), read-only: credentials stay in the portal."""

    model = SalesUnit
    serializer_class = SalesUnitSerializer
    sales_unit_path = "pk"
    location_path = None


class LocationSerializer(FlatReadMixin, StrictModelSerializer):
    sales_unit = ScopedRelatedField(model=SalesUnit, sales_unit_path="pk", location_path=None)

    class Meta:
        model = Location
        fields = ["id", "sales_unit", "name", "address", "mobilepay_pos_id", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class LocationUpdateSerializer(LocationSerializer):
    sales_unit = serializers.PrimaryKeyRelatedField(read_only=True)


LOCATION_EXAMPLE = OpenApiExample(
    "A vending machine",
    value={"sales_unit": 1, "name": "Vending machine 7", "address": "Storgata 1, Oslo", "mobilepay_pos_id": ""},
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="List locations", tags=["Locations"]),
    retrieve=extend_schema(summary="Get a location", tags=["Locations"]),
    create=extend_schema(summary="Create a location", tags=["Locations"], examples=[LOCATION_EXAMPLE]),
    update=extend_schema(summary="Replace a location", tags=["Locations"]),
    partial_update=extend_schema(summary="Change a location", tags=["Locations"]),
    destroy=extend_schema(summary="Delete a location without QR codes", tags=["Locations"]),
)
class LocationViewSet(ScopedViewMixin, viewsets.ModelViewSet):
    """Shops, tills and vending machines of a sales unit, where QR codes hang and customers check in."""

    model = Location
    sales_unit_path = "sales_unit"
    location_path = "pk"

    def get_serializer_class(self):
        return LocationUpdateSerializer if self.action in ("update", "partial_update") else LocationSerializer

    def create(self, request, *args, **kwargs):
        if self.api_key.limits()[1]:
            raise PermissionDenied("This key is limited to some locations; it cannot create others.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        location = services.location_create(sales_unit=data.pop("sales_unit"), actor=self.api_key, **data)
        return Response(LocationSerializer(location, context=self.get_serializer_context()).data, status=201)

    def update(self, request, *args, **kwargs):
        location = self.get_object()
        serializer = self.get_serializer(location, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        location = services.location_update(location=location, actor=self.api_key, **serializer.validated_data)
        return Response(LocationSerializer(location, context=self.get_serializer_context()).data)

    def destroy(self, request, *args, **kwargs):
        try:
            services.location_delete(location=self.get_object(), actor=self.api_key)
        except ValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
