"""Payments: push payment requests (to a checked-in customer or a phone number), capture, cancel, refund.

The payment services (payments/services.py) own every rule; this module maps requests and errors. A refused
operation (a state or amount the payment does not allow) is 409 with the service's explanation.
"""

import hashlib
import uuid

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from merchant_portal.tenancy.models import SalesUnit
from merchant_portal.tenancy.services import SECRET_FIELDS
from payments import selectors, services
from payments.models import CheckIn, Payment, PaymentOperation
from payments.status import MerchantStatus, merchant_status_q
from qrcodes.models import Location
from vipps.models import AMOUNT_MAX

from ..base import FlatReadMixin, ScopedRelatedField, ScopedViewMixin, query_id
from ..exceptions import Conflict
from ..fields import StrictBooleanField, StrictCharField, StrictIntegerField, StrictRegexField
from ..idempotency import HEADER


class PaymentSerializer(FlatReadMixin, serializers.ModelSerializer):
    status = serializers.ChoiceField(
        source="merchant_status",
        choices=MerchantStatus.choices,
        read_only=True,
        help_text="What a merchant calls the state, derived from `sending`, Vipps' `state` and the amounts: "
        "a captured or refunded payment stays `AUTHORIZED` at Vipps. `queued`: not at Vipps yet; "
        "`sending_failed`: Vipps refused the request; `waiting`: in the customer's app; `declined`: the "
        "customer said no.",
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "reference",
            "sales_unit",
            "location",
            "checkin",
            "currency",
            "amount",
            "description",
            "customer_label",
            "auto_capture",
            "sending",
            "state",
            "status",
            "authorized_amount",
            "captured_amount",
            "refunded_amount",
            "cancelled_amount",
            "error_code",
            "error_message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# A payment request never needs the sales unit's API secrets: not loaded, so not decrypted either.
UNIT_SECRETS = tuple(f"sales_unit__{name}" for name in SECRET_FIELDS)


class PaymentCreateSerializer(serializers.Serializer):
    # payment_request_create reads the sales unit (and its merchant, for the audit log), the location and its
    # payment rule of what is named: loaded with it, rather than lazily by one query each.
    checkin = ScopedRelatedField(
        model=CheckIn,
        sales_unit_path="sales_unit",
        location_path="location",
        select_related=("sales_unit__merchant", "location__payment_rule"),
        defer=UNIT_SECRETS,
        required=False,
        allow_null=True,
    )
    phone_number = StrictRegexField(
        r"^[0-9]{10,15}$", required=False, help_text="Country code first, digits only, e.g. 4791234567."
    )
    sales_unit = ScopedRelatedField(
        model=SalesUnit,
        sales_unit_path="pk",
        location_path=None,
        select_related=("merchant",),
        defer=SECRET_FIELDS,
        required=False,
    )
    location = ScopedRelatedField(
        model=Location,
        sales_unit_path="sales_unit",
        location_path="pk",
        select_related=("sales_unit__merchant", "payment_rule"),
        defer=UNIT_SECRETS,
        required=False,
    )
    amount = StrictIntegerField(min_value=1, max_value=AMOUNT_MAX, help_text="In minor units (øre, cents).")
    description = StrictCharField(min_length=3, max_length=100)
    auto_capture = StrictBooleanField(
        required=False, allow_null=True, default=None, help_text="Default: the location's payment rule."
    )
    allow_second_payment = StrictBooleanField(
        required=False,
        default=False,
        help_text="A check-in that already has a payment in flight or paid (`status` queued, waiting, authorized, "
        "partly_captured, captured, partly_refunded or refunded) is asked again only with `true`; otherwise the "
        "answer is 409 naming the earlier payment.",
    )

    def validate(self, attrs):
        if bool(attrs.get("checkin")) == bool(attrs.get("phone_number")):
            raise serializers.ValidationError("Send either `checkin` or `phone_number`.")
        if attrs.get("phone_number") and not (attrs.get("sales_unit") or attrs.get("location")):
            raise serializers.ValidationError("With `phone_number`, send `sales_unit` or `location`.")
        location, unit = attrs.get("location"), attrs.get("sales_unit")
        if location and unit and location.sales_unit_id != unit.pk:
            raise serializers.ValidationError({"location": ["Choose a location of that sales unit."]})
        return attrs


class OperationSerializer(FlatReadMixin, serializers.ModelSerializer):
    class Meta:
        model = PaymentOperation
        fields = ["id", "payment", "kind", "amount", "status", "error_code", "error_message", "created_at", "done_at"]
        read_only_fields = fields


class AmountSerializer(serializers.Serializer):
    amount = StrictIntegerField(min_value=1, max_value=AMOUNT_MAX, help_text="In minor units.")


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="call, poll, webhook, staff (a person or an API key) or system.")
    title = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    ok = serializers.BooleanField()


def _request_token(request) -> str:
    """The Idempotency-Key (so a retried POST is the same payment or operation at Vipps too), per API key."""
    key = request.headers.get(HEADER) or uuid.uuid4().hex
    return f"api-{request.auth.prefix}-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


PAYMENT_EXAMPLES = [
    OpenApiExample(
        "To a checked-in customer",
        value={"checkin": 42, "amount": 4900, "description": "Coffee and a bun"},
        request_only=True,
    ),
    OpenApiExample(
        "To a phone number",
        value={"phone_number": "4791234567", "location": 3, "amount": 12500, "description": "Order 1031"},
        request_only=True,
    ),
]
OPERATION_RESPONSES = {202: OperationSerializer}


@extend_schema_view(
    list=extend_schema(
        summary="List payments (newest first)",
        tags=["Payments"],
        parameters=[
            OpenApiParameter("state", str, enum=Payment.State.values, description="Only payments in this state."),
            OpenApiParameter(
                "status", str, enum=MerchantStatus.values, description="Only payments with this (derived) status."
            ),
            OpenApiParameter("location", int, description="Only payments at this location."),
        ],
    ),
    retrieve=extend_schema(summary="Get a payment", tags=["Payments"]),
    create=extend_schema(
        summary="Request a payment",
        description="Saved at once (`sending: queued`) and sent to Vipps in the background; poll the payment "
        "for `status`. The customer gets a push message in the Vipps or MobilePay app. A second request to a "
        "check-in that already has a payment in flight or paid is refused with 409 (the detail names the earlier "
        "payment's reference, amount and status) unless `allow_second_payment` is `true`.",
        tags=["Payments"],
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer},
        examples=PAYMENT_EXAMPLES,
    ),
    capture=extend_schema(
        summary="Capture (all or part of) an authorized payment",
        tags=["Payments"],
        request=AmountSerializer,
        responses=OPERATION_RESPONSES,
        examples=[OpenApiExample("Capture 49.00", value={"amount": 4900}, request_only=True)],
    ),
    refund=extend_schema(
        summary="Refund (all or part of) what was captured",
        tags=["Payments"],
        request=AmountSerializer,
        responses=OPERATION_RESPONSES,
    ),
    cancel=extend_schema(
        summary="Cancel what is not captured",
        tags=["Payments"],
        request=None,
        responses=OPERATION_RESPONSES,
    ),
    events=extend_schema(
        summary="Events of a payment (calls to Vipps, webhooks, actions), oldest first",
        tags=["Payments"],
        responses={200: EventSerializer(many=True)},
    ),
)
class PaymentViewSet(ScopedViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    model = Payment
    serializer_class = PaymentSerializer

    def get_queryset(self):
        # No select_related: the answer holds only the related ids, and loading a SalesUnit decrypts its two
        # secrets, per row of a page. `customer` (the encrypted phone number or token) is never shown either.
        queryset = super().get_queryset().defer("customer")
        if self.action != "list":
            return queryset
        state, location = self.request.query_params.get("state"), query_id(self.request, "location")
        merchant_status = self.request.query_params.get("status")
        if merchant_status is not None:
            if merchant_status not in MerchantStatus.values:
                raise serializers.ValidationError({"status": [f"One of {', '.join(MerchantStatus.values)}."]})
            queryset = queryset.filter(merchant_status_q(merchant_status))
        if state is not None:
            if state not in Payment.State.values:
                raise serializers.ValidationError({"state": [f"One of {', '.join(Payment.State.values)}."]})
            queryset = queryset.filter(state=state)
        if location is not None:
            queryset = queryset.filter(location_id=location)
        return queryset

    def create(self, request, *args, **kwargs):
        serializer = PaymentCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        checkin, location = data.get("checkin"), data.get("location")
        if not (checkin or location) and self.api_key.limits()[1]:
            raise PermissionDenied("This key is limited to some locations: send `location`.")
        try:
            payment = services.payment_request_create(
                sales_unit=checkin.sales_unit if checkin else (location.sales_unit if location else data["sales_unit"]),
                location=location,
                checkin=checkin,
                phone_number=data.get("phone_number", ""),
                amount=data["amount"],
                description=data["description"],
                auto_capture=data.get("auto_capture"),
                allow_second_payment=data.get("allow_second_payment", False),
                actor=self.api_key,
                request_token=_request_token(request),
            )
        except ValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from None
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    def _operation(self, request, kind: str, amount: int) -> Response:
        try:
            operation = services.payment_operation_request(
                payment=self.get_object(),
                kind=kind,
                amount=amount,
                request_token=_request_token(request),
                actor=self.api_key,
            )
        except ValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from None
        return Response(OperationSerializer(operation).data, status=status.HTTP_202_ACCEPTED)

    def _amount(self, request) -> int:
        self.get_object()  # 404 before 400: another merchant's payment is not there at all
        serializer = AmountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["amount"]

    @action(detail=True, methods=["post"])
    def capture(self, request, *args, **kwargs):
        return self._operation(request, PaymentOperation.Kind.CAPTURE, self._amount(request))

    @action(detail=True, methods=["post"])
    def refund(self, request, *args, **kwargs):
        return self._operation(request, PaymentOperation.Kind.REFUND, self._amount(request))

    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        return self._operation(request, PaymentOperation.Kind.CANCEL, 0)

    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request, *args, **kwargs):
        timeline = selectors.payment_timeline(payment=self.get_object())
        return Response(EventSerializer(timeline, many=True).data)
