"""What every /api/v1/ view shares: API-key authentication, read/write permission, per-key throttling,
Idempotency-Key on POST, cursor pagination, and tenant scoping through `Model.objects.for_merchant(...)`
narrowed to the key's sales units and locations. Another merchant's id (or one outside the key's limits) is 404.
"""

import re

from rest_framework import fields, relations, serializers

from .fields import INT64_MAX, StrictPrimaryKeyRelatedField
from .idempotency import IdempotentMixin
from .selectors import scope_for_key

# Ids are 64-bit: a longer number is not found rather than an overflow in the database driver.
MAX_ID = INT64_MAX
ID_PATTERN = "[0-9]{1,18}"


def query_id(request, name: str) -> int | None:
    """An optional id in the query string; a malformed one is a 400 naming the parameter."""
    value = request.query_params.get(name)
    if value is None:
        return None
    # ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
    if not re.fullmatch(r"[0-9]{1,19}", value) or int(value) > MAX_ID:
        raise serializers.ValidationError({name: ["Send an id: a whole number (digits 0-9)."]})
    return int(value)


def query_bool(request, name: str) -> bool | None:
    """An optional true/false in the query string; anything else is a 400 naming the parameter."""
    value = request.query_params.get(name)
    if value is None:
        return None
    if value not in ("true", "false", "1", "0"):
        raise serializers.ValidationError({name: ["Send true or false."]})
    return value in ("true", "1")


class ScopedViewMixin(IdempotentMixin):
    model = None
    lookup_value_regex = ID_PATTERN
    # ORM paths from the model to its sales unit and location (None: the model has no location).
    sales_unit_path = "sales_unit"
    location_path: str | None = "location"

    @property
    def api_key(self):
        return self.request.auth

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular builds the schema without a request key
            return self.model.objects.none()
        return scoped(
            self.model, api_key=self.api_key, sales_unit_path=self.sales_unit_path, location_path=self.location_path
        )


def scoped(model, *, api_key, sales_unit_path: str, location_path: str | None):
    return scope_for_key(
        model.objects.for_merchant(api_key.merchant),
        api_key=api_key,
        sales_unit_path=sales_unit_path,
        location_path=location_path,
    )


class ScopedRelatedField(StrictPrimaryKeyRelatedField):
    """An id in a request body, looked up only among what the key may see (else "does not exist")."""

    def __init__(
        self, *, model, sales_unit_path: str, location_path: str | None, select_related=(), defer=(), **kwargs
    ):
        self.scope = (model, sales_unit_path, location_path)
        self.select_related = select_related  # what the view reads of the object, loaded in the same query
        self.defer = defer  # and what it never reads
        kwargs.setdefault("queryset", model.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self):
        model, sales_unit_path, location_path = self.scope
        request = self.context.get("request")
        if request is None or request.auth is None:
            return model.objects.none()
        queryset = scoped(model, api_key=request.auth, sales_unit_path=sales_unit_path, location_path=location_path)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        return queryset.defer(*self.defer) if self.defer else queryset


NOT_A_COLUMN = (relations.RelatedField, relations.ManyRelatedField, serializers.BaseSerializer)


class FlatReadMixin:
    """For ModelSerializers of one object's own columns: `to_representation` reads each column straight off the
    instance and converts it with its field's own `to_representation`, in a plan made once per serializer class.

    The output is what DRF's `Serializer.to_representation` gives (tests/api/test_serializers.py holds every
    API serializer to that). It skips what made most of the CPU of a 50-row page or a single answer: building
    the serializer's fields from the model on every instantiation (0.35 ms for a payment's twenty), and the
    per-row, per-field `get_attribute` walk with its PKOnlyObject wrapper. A column's field converts a value
    without its serializer (no context, no parent), so the plan's fields are made once, on a prototype. Any
    other field (a method field, a dotted or `*` source, a property) is left to DRF, bound to this serializer.
    """

    _flat_plans: dict[type, list] = {}

    def to_representation(self, instance):
        plan = FlatReadMixin._flat_plans.get(type(self))
        if plan is None:
            plan = FlatReadMixin._flat_plans[type(self)] = type(self)()._flat_plan()
        ret = {}
        for name, attname, field in plan:
            if attname is None:  # DRF's own path, with this serializer's bound field
                field = self.fields[name]
                try:
                    attribute = field.get_attribute(instance)
                except fields.SkipField:
                    continue
                check = attribute.pk if isinstance(attribute, relations.PKOnlyObject) else attribute
                ret[name] = None if check is None else field.to_representation(attribute)
                continue
            value = getattr(instance, attname)
            if field is None or value is None:  # a related object's id, or a null column
                ret[name] = value
            else:
                ret[name] = field.to_representation(value)
        return ret

    def _flat_plan(self) -> list[tuple[str, str | None, serializers.Field | None]]:
        concrete = {f.name: f for f in self.Meta.model._meta.concrete_fields}
        plan = []
        for field in self._readable_fields:
            source = field.source_attrs[0] if len(field.source_attrs) == 1 else None
            model_field = concrete.get(source)
            if model_field is None:
                plan.append((field.field_name, None, None))
            elif model_field.is_relation and isinstance(field, relations.PrimaryKeyRelatedField) and not field.pk_field:
                plan.append((field.field_name, model_field.attname, None))  # the id column, as DRF answers it
            elif not (model_field.is_relation or isinstance(field, NOT_A_COLUMN)):
                plan.append((field.field_name, model_field.attname, field))
            else:
                plan.append((field.field_name, None, None))
        return plan
