"""Strict fields for every API write serializer: a value of the wrong JSON type is refused, never coerced.

DRF's fields are lenient in ways a till integration must not come to rely on: CharField turns 12345 into
"12345", IntegerField takes "49", 49.0 and true, BooleanField takes "yes", 1 and "on", ChoiceField matches 4 to
"4", and PrimaryKeyRelatedField hands 1.5 to the database, which looks up id 1. Here a string is a JSON string,
a number a JSON integer, a boolean true or false, an id a positive JSON integer. Strings also refuse control
characters: every string the API takes ends up in an identifier, a name or a text Vipps shows on one line (and
PostgreSQL cannot store NUL at all). Numbers are bounded by what the database column holds.

`StrictModelSerializer` maps model fields to these, so a ModelSerializer gets them without declaring each one;
tests/api/test_fields.py checks that every writable field of every API serializer is one of them.
"""

import re

from rest_framework import serializers

from merchant_portal.core.validators import control_character

# 64-bit, as every id and amount column is: a larger number is refused here rather than overflow in the driver.
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
JSON_TYPES = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    dict: "an object",
    list: "an array",
}


def json_type(value) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


class Strict:
    """Marks a field that takes only its own JSON type."""


class StrictCharField(Strict, serializers.CharField):
    default_error_messages = {
        "type": "Must be a string, not {type}.",
        "control": "Must not contain control characters or invisible ones (line breaks, tabs, NUL, bidi marks).",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type", type=json_type(data))
        value = super().to_internal_value(data)
        if control_character(value) is not None:
            self.fail("control")
        return value


class StrictRegexField(StrictCharField, serializers.RegexField):
    pass


class StrictIntegerField(Strict, serializers.IntegerField):
    default_error_messages = {"type": "Must be a whole number, not {type}."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", INT64_MAX)
        kwargs.setdefault("min_value", INT64_MIN)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("type", type="a decimal number" if isinstance(data, float) else json_type(data))
        return data


class StrictBooleanField(Strict, serializers.BooleanField):
    default_error_messages = {"type": "Must be true or false, not {type}."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("type", type=json_type(data))
        return data


class StrictChoiceField(Strict, serializers.ChoiceField):
    default_error_messages = {"type": "Must be a string, one of: {choices}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type", choices=", ".join(self.choice_strings_to_values))
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(Strict, serializers.PrimaryKeyRelatedField):
    default_error_messages = {"incorrect_type": "Must be an id (a whole number), not {data_type}."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type="a decimal number" if isinstance(data, float) else json_type(data))
        if not 0 < data <= INT64_MAX:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class QueryIntegerField(Strict, serializers.IntegerField):
    """A whole number in the query string: ASCII digits only (int() would also take "٣", " 3" and "3_0")."""

    default_error_messages = {"invalid": "Must be a whole number (digits 0-9)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(r"[0-9]{1,19}", data):
            self.fail("invalid")
        return super().to_internal_value(data)


STRICT_FOR = {
    serializers.CharField: StrictCharField,
    serializers.IntegerField: StrictIntegerField,
    serializers.BooleanField: StrictBooleanField,
}


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields built from the model are the strict ones."""

    serializer_field_mapping = {
        model_field: STRICT_FOR.get(field, field)
        for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
    serializer_choice_field = StrictChoiceField
