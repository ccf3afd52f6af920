"""The one strict JSON decoder every door uses: what it accepts, what it refuses, and that it never raises
anything but BodyError."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from merchant_portal.core.jsonbody import MAX_DEPTH, BodyError, loads

# JSON values a database can store: no NUL, no lone surrogates (Hypothesis' text() never makes surrogates).
storable_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | storable_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(storable_text, children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_every_storable_json_value_round_trips(value):
    assert loads(json.dumps(value).encode()) == value
    assert loads(json.dumps(value, ensure_ascii=False).encode()) == value


@given(json_values)
def test_a_leading_byte_order_mark_is_tolerated(value):
    assert loads(b"\xef\xbb\xbf" + json.dumps(value).encode()) == value


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_body_error_and_nothing_else(body):
    try:
        loads(body)
    except BodyError as exc:
        assert str(exc)


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"[" * 50_000, "nested deeper"),
        (b'{"a":' * 50_000, "nested deeper"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested deeper"),
        ('{"msn": "123456"}'.encode("utf-16"), "not UTF-8"),
        ('{"name": "Bjørn"}'.encode("latin-1"), "not UTF-8"),
        (b"NaN", "NaN is not a JSON number"),
        (b'{"amount": Infinity}', "Infinity is not a JSON number"),
        (b"[-Infinity]", "-Infinity is not a JSON number"),
        (b"[1e400]", "out of range"),
        (b'{"a": "\\u0000"}', "NUL"),
        (b'{"\\u0000": 1}', "NUL"),
        (b'{"a": "\\ud800"}', "unpaired surrogate"),
        (b'{"a": "\\udc00x"}', "unpaired surrogate"),
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"{'a': 1}", "not valid JSON"),
        (b"1" + b"0" * 5000, "not valid JSON"),
    ],
)
def test_what_is_refused_and_why(body, reason):
    with pytest.raises(BodyError, match=reason):
        loads(body)


def test_exactly_the_depth_limit_is_accepted_and_a_paired_surrogate_is_one_character():
    deepest = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert loads(deepest) is not None
    assert loads(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
    # Many brackets inside strings are not nesting.
    assert loads(json.dumps({"text": "[" * 500}).encode()) == {"text": "[" * 500}
