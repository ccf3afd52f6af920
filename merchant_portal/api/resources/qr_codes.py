from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from merchant_portal.tenancy.models import SalesUnit
from qrcodes import services
from qrcodes.models import Location, QrCode, QrSheet

from ..base import FlatReadMixin, ScopedRelatedField, ScopedViewMixin, query_id
from ..exceptions import PROBLEM_CONTENT_TYPE, Conflict
from ..fields import StrictCharField, StrictChoiceField, StrictModelSerializer
from ..schema import Problem


def _location_field(**kwargs):
    return ScopedRelatedField(model=Location, sales_unit_path="sales_unit", location_path="pk", **kwargs)


class QrCodeSerializer(FlatReadMixin, StrictModelSerializer):
    location = _location_field()
    merchant_qr_id = StrictCharField(
        required=False, max_length=64, help_text="Leave out for a readable id made from the location's name."
    )

    class Meta:
        model = QrCode
        fields = [
            "id",
            "location",
            "sales_unit",
            "merchant_qr_id",
            "kind",
            "location_description",
            "category",
            "sync_state",
            "sync_error",
            "synced_at",
            "qr_content",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            f for f in fields if f not in ("location", "merchant_qr_id", "location_description", "category")
        ]


class QrCodeUpdateSerializer(QrCodeSerializer):
    location = _location_field(required=False)
    merchant_qr_id = serializers.CharField(read_only=True)


QR_EXAMPLE = OpenApiExample(
    "A code on a vending machine",
    value={"location": 1, "location_description": "Machine 7, by the door", "category": "VENDING"},
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="List QR codes",
        tags=["QR codes"],
        parameters=[OpenApiParameter("location", int, description="Only the codes of this location.")],
    ),
    retrieve=extend_schema(summary="Get a QR code", tags=["QR codes"]),
    create=extend_schema(summary="Create a QR code", tags=["QR codes"], examples=[QR_EXAMPLE]),
    update=extend_schema(summary="Replace a QR code's description and category", tags=["QR codes"]),
    partial_update=extend_schema(summary="Change a QR code", tags=["QR codes"]),
    destroy=extend_schema(
        summary="Delete a QR code",
        tags=["QR codes"],
        responses={202: OpenApiResponse(QrCodeSerializer, description="Deletion at Vipps requested.")},
    ),
)
class QrCodeViewSet(ScopedViewMixin, viewsets.ModelViewSet):
    """Vipps merchant callback QR codes. Saved here at once (`sync_state: pending`), then synced to Vipps."""

    model = QrCode

    def get_serializer_class(self):
        return QrCodeUpdateSerializer if self.action in ("update", "partial_update") else QrCodeSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        location = query_id(self.request, "location")
        if location is not None:
            queryset = queryset.filter(location_id=location)
        return queryset

    def _data(self, qr_code: QrCode) -> dict:
        return QrCodeSerializer(qr_code, context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        qr_code = services.qr_code_create(actor=self.api_key, **serializer.validated_data)
        return Response(self._data(qr_code), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        qr_code = self.get_object()
        serializer = self.get_serializer(qr_code, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        qr_code = services.qr_code_update(
            qr_code=qr_code,
            actor=self.api_key,
            location_description=data.get("location_description", qr_code.location_description),
            category=data.get("category", qr_code.category),
            location=data.get("location"),
        )
        return Response(self._data(qr_code))

    def destroy(self, request, *args, **kwargs):
        qr_code = self.get_object()
        if qr_code.sync_state != QrCode.SyncState.DELETING:
            services.qr_code_delete(qr_code=qr_code, actor=self.api_key)
        return Response(self._data(qr_code), status=status.HTTP_202_ACCEPTED)


class QrSheetSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = QrSheet
        fields = ["id", "sales_unit", "location", "layout", "state", "progress", "code_count", "error", "pdf_url"]
        read_only_fields = fields

    def get_pdf_url(self, sheet) -> str | None:
        if sheet.state != QrSheet.State.DONE:
            return None
        return reverse("api:qr-sheet-pdf", kwargs={"pk": sheet.pk})


class QrSheetRequestSerializer(serializers.Serializer):
    sales_unit = ScopedRelatedField(
        model=SalesUnit, sales_unit_path="pk", location_path=None, required=False, help_text="Every location."
    )
    location = _location_field(required=False, help_text="One location (instead of `sales_unit`).")
    layout = StrictChoiceField(choices=QrSheet.Layout.choices, default=QrSheet.Layout.TWELVE)

    def validate(self, attrs):
        if bool(attrs.get("sales_unit")) == bool(attrs.get("location")):
            raise serializers.ValidationError("Send either `sales_unit` or `location`.")
        return attrs


@extend_schema_view(
    list=extend_schema(summary="List recent QR sheets", tags=["QR codes"]),
    retrieve=extend_schema(summary="Get a QR sheet's progress", tags=["QR codes"]),
    create=extend_schema(
        summary="Request a PDF sheet of QR codes",
        description="Small sheets are ready at once (`state: done`); larger ones render in the background: "
        "poll the sheet until `pdf_url` is set.",
        tags=["QR codes"],
        request=QrSheetRequestSerializer,
        responses={201: QrSheetSerializer},
        examples=[OpenApiExample("One location", value={"location": 1, "layout": "4"}, request_only=True)],
    ),
    pdf=extend_schema(
        summary="Download a QR sheet",
        tags=["QR codes"],
        responses={
            (200, "application/pdf"): OpenApiResponse(bytes, description="The PDF."),
            (409, PROBLEM_CONTENT_TYPE): OpenApiResponse(Problem, description="The sheet is not ready."),
        },
    ),
)
class QrSheetViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    model = QrSheet
    serializer_class = QrSheetSerializer

    def get_queryset(self):
        return super().get_queryset().defer("pdf")

    def create(self, request, *args, **kwargs):
        serializer = QrSheetRequestSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        location = serializer.validated_data.get("location")
        sales_unit = location.sales_unit if location else serializer.validated_data["sales_unit"]
        if location is None and self.api_key.limits()[1]:
            raise PermissionDenied("This key is limited to some locations: ask for a sheet per location.")
        try:
            sheet = services.qr_sheet_request(
                sales_unit=sales_unit, location=location, layout=serializer.validated_data["layout"], actor=self.api_key
            )
        except ValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from None
        return Response(QrSheetSerializer(sheet).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def pdf(self, request, *args, **kwargs):
        sheet = self.get_object()
        if sheet.state != QrSheet.State.DONE:
            raise Conflict(f"This sheet is not ready ({sheet.get_state_display().lower()}).")
        pdf = QrSheet.objects.values_list("pdf", flat=True).get(pk=sheet.pk)
        response = HttpResponse(bytes(pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{sheet.filename}"'
        return response
