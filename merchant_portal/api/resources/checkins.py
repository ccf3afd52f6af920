import time

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from payments.models import CheckIn
from payments.selectors import checkins_waiting_at
from qrcodes.models import Location

from ..base import MAX_ID, FlatReadMixin, ScopedViewMixin, query_bool, query_id, scoped
from ..fields import QueryIntegerField


class CheckInSerializer(FlatReadMixin, serializers.ModelSerializer):
    """A customer who scanned a QR code; pay them with `POST /api/v1/payments/` and `checkin`."""

    status = serializers.SerializerMethodField()
    merchant_qr_id = serializers.CharField(read_only=True)

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "sales_unit",
            "location",
            "source",
            "merchant_qr_id",
            "status",
            "phone_masked",
            "initiated_at",
            "expires_at",
        ]
        read_only_fields = fields

    def get_status(self, checkin) -> str:
        if checkin.status == CheckIn.Status.ACTIVE and checkin.expires_at <= timezone.now():
            return CheckIn.Status.EXPIRED
        return checkin.status


class NextCheckInQuery(serializers.Serializer):
    location = QueryIntegerField(min_value=1, max_value=MAX_ID, help_text="The location's id.")
    after = QueryIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_ID,
        help_text="The last check-in id the till has seen: only newer ones count.",
    )
    timeout = QueryIntegerField(
        required=False, min_value=0, max_value=3600, help_text="Seconds to wait (capped by the server, 25 by default)."
    )


@extend_schema_view(
    list=extend_schema(
        summary="List check-ins",
        tags=["Check-ins"],
        parameters=[
            OpenApiParameter("location", int, description="Only check-ins at this location."),
            OpenApiParameter("waiting", bool, description="Only those that can still be asked to pay."),
        ],
    ),
    retrieve=extend_schema(summary="Get a check-in", tags=["Check-ins"]),
    next=extend_schema(
        summary="Wait for the next check-in at a location (long poll)",
        description="Answers at once with the oldest waiting check-in newer than `after`, or waits up to "
        "`timeout` seconds for one; 204 when none came. Call again with `after` set to the id you got.",
        tags=["Check-ins"],
        parameters=[NextCheckInQuery],
        responses={200: CheckInSerializer, 204: OpenApiResponse(description="No check-in within the timeout.")},
    ),
)
class CheckInViewSet(ScopedViewMixin, viewsets.ReadOnlyModelViewSet):
    model = CheckIn
    serializer_class = CheckInSerializer

    def get_queryset(self):
        queryset = super().get_queryset().select_related("qr_code")
        if self.action != "list":
            return queryset
        location = query_id(self.request, "location")
        if location is not None:
            queryset = queryset.filter(location_id=location)
        if query_bool(self.request, "waiting"):
            queryset = queryset.filter(status=CheckIn.Status.ACTIVE, expires_at__gt=timezone.now())
        return queryset

    @action(detail=False, methods=["get"])
    def next(self, request, *args, **kwargs):
        query = NextCheckInQuery(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        # Like an id in the path: another merchant's location (or one outside the key's limits) is 404.
        locations = scoped(Location, api_key=self.api_key, sales_unit_path="sales_unit", location_path="pk")
        location = get_object_or_404(locations, pk=query.validated_data["location"])
        after = query.validated_data.get("after", 0)
        wait = min(query.validated_data.get("timeout", settings.API_LONG_POLL_SECONDS), settings.API_LONG_POLL_SECONDS)
        deadline = time.monotonic() + wait
        while True:
            # A fresh query each round: without a transaction around the request, each sees new commits.
            checkin = checkins_waiting_at(location=location).filter(pk__gt=after).order_by("pk").first()
            if checkin is not None:
                return Response(CheckInSerializer(checkin).data)
            if time.monotonic() >= deadline:
                return Response(status=status.HTTP_204_NO_CONTENT)
            time.sleep(min(settings.API_LONG_POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
