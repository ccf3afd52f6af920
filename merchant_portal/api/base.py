"""What every /api/v1/ view shares: API-key authentication, read/write permission, per-key throttling,
Idempotency-Key on POST, cursor pagination, and tenant scoping through `Model.objects.for_merchant(...)`
narrowed to the key's sales units and locations. Another merchant's id (or one outside the key's limits) is 404.
"""

from rest_framework import fields, relations, serializers

from .idempotency import IdempotentMixin
from .selectors import scope_for_key

# Ids are 64-bit: a longer number is not found rather than an overflow in the database driver.
MAX_ID = 2**63 - 1
ID_PATTERN = "[0-9]{1,18}"


def query_id(request, name: str) -> int | None:
    """An optional id in the query string; a malformed one is a 400."""
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isdigit() or int(value) > MAX_ID:
        raise serializers.ValidationError({name: ["Send an id."]})
    return int(value)


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


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """An id in a request body, looked up only among what the key may see (else "does not exist")."""

    def __init__(self, *, model, sales_unit_path: str, location_path: str | None, select_related=(), **kwargs):
        self.scope = (model, sales_unit_path, location_path)
        self.select_related = select_related  # what the view reads of the object, loaded in the same query
        kwargs.setdefault("queryset", model.objects.none())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, int | str) and str(data).isdigit() and int(data) > MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)

    def get_queryset(self):
        model, sales_unit_path, location_path = self.scope
        request = self.context.get("request")
        if request is None or request.auth is None:
            return model.objects.none()
        queryset = scoped(model, api_key=request.auth, sales_unit_path=sales_unit_path, location_path=location_path)
        return queryset.select_related(*self.select_related) if self.select_related else queryset


class FlatReadMixin:
    """For ModelSerializers of one object's own columns: `to_representation` reads each field straight off the
    instance, with the field's own `to_representation`, in a plan made once per serializer (a list page reuses
    its child serializer for every row).

    The output is what DRF's `Serializer.to_representation` gives (tests/api/test_serializers.py holds every
    API serializer to that); it skips DRF's per-row, per-field machinery (`get_attribute` walking
    `source_attrs`, the PKOnlyObject wrapper), which was most of the CPU a 50-row page cost. A field with a
    dotted or `*` source, a method field or a callable attribute keeps DRF's own path.
    """

    def to_representation(self, instance):
        plan = self.__dict__.get("_flat_plan")
        if plan is None:
            plan = self.__dict__["_flat_plan"] = self._flat_plan()
        ret = {}
        for name, attname, field in plan:
            if attname is None:  # DRF's path for this field
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
        opts = self.Meta.model._meta
        concrete = {f.name: f for f in opts.concrete_fields}
        plan = []
        for field in self._readable_fields:
            source = field.source_attrs[0] if len(field.source_attrs) == 1 else None
            model_field = concrete.get(source)
            if (
                isinstance(field, relations.PrimaryKeyRelatedField)
                and field.pk_field is None
                and model_field is not None
                and model_field.is_relation
            ):
                plan.append((field.field_name, model_field.attname, None))  # the id column, as DRF answers it
            elif model_field is not None and not (model_field.is_relation or isinstance(field, relations.RelatedField)):
                plan.append((field.field_name, model_field.attname, field))
            else:
                plan.append((field.field_name, None, field))
        return plan
