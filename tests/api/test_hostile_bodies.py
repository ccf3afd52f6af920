"""Every API write endpoint under generated hostile bodies (Hypothesis): wrong JSON types, huge numbers, NaN-ish
strings, nesting, control characters and any Unicode, raw bytes in odd encodings, odd Content-Types, and ids of
both merchants. Whatever comes in: never a 5xx; a 4xx stores nothing (no row, no audit entry, no idempotency
record but the 4xx itself); a 2xx touches only acme's objects; the other merchant's rows never change."""

import json
import uuid

import pytest
from django.db.models import Q
from django.forms.models import model_to_dict
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from merchant_portal.api.models import IdempotencyRecord
from merchant_portal.audit.models import AuditEntry
from merchant_portal.tenancy.models import SalesUnit
from payments.models import CheckIn, Payment, PaymentOperation
from qrcodes.models import Location, QrCode, QrSheet
from tests.api.factories import objects_of

STORED = (Location, QrCode, QrSheet, Payment, PaymentOperation, CheckIn, AuditEntry)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=130),
    st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=20),  # control characters
    st.sampled_from(["NaN", "sNaN", "Infinity", "-Infinity", "1e30", "49", "1.5", "", " ", "\u202e", "😀" * 40]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=utf-16",
        "application/problem+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ]
)


@pytest.fixture
def world(api, acme, other, settings, monkeypatch):
    """acme's objects (an authorized payment among them) and the other merchant's, with acme's key."""
    settings.API_THROTTLE_RATE = "100000/min"
    settings.PAYMENTS_MODIFICATIONS_PER_MINUTE = 100000
    monkeypatch.setattr("qrcodes.services._enqueue_sync", lambda qr_code: None)
    ours, theirs = objects_of(acme), objects_of(other)
    ours["payment"].state = Payment.State.AUTHORIZED
    ours["payment"].authorized_amount = ours["payment"].amount
    ours["payment"].save()
    ids = [obj.pk for objects in (ours, theirs) for obj in objects.values()]
    return {"client": api, "ours": ours, "theirs": theirs, "acme": acme, "other": other, "ids": ids}


def valid_values(world) -> dict:
    """Plausible values per field, so that generated bodies also pass validation and reach the services."""

    def ids(kind):  # mostly ours, sometimes theirs, sometimes any object's id
        ours, theirs = world["ours"][kind].pk, world["theirs"][kind].pk
        return st.one_of(st.just(ours), st.just(ours), st.just(theirs), st.sampled_from(world["ids"]))

    printable = st.characters(categories=["L", "N", "P", "S", "Zs"])
    text = st.one_of(st.sampled_from(["Coffee", "Machine 7"]), st.text(printable, min_size=3, max_size=30))
    return {
        "sales_unit": ids("sales-unit"),
        "location": ids("location"),
        "checkin": ids("checkin"),
        "name": text,
        "address": text,
        "description": text,
        "location_description": text,
        "mobilepay_pos_id": st.one_of(st.just(""), st.uuids().map(str)),
        "merchant_qr_id": st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True),
        "category": st.sampled_from(QrCode.Category.values),
        "layout": st.sampled_from(QrSheet.Layout.values),
        "phone_number": st.sampled_from(["4791234567", "4512345678"]),
        "amount": st.integers(min_value=1, max_value=20_000),
        "auto_capture": st.booleans(),
    }


# name, methods, the object in the path (a key of objects_of), the body's required and optional fields
ENDPOINTS = [
    ("api:location-list", ["POST"], None, ["sales_unit", "name"], ["address", "mobilepay_pos_id"]),
    ("api:location-detail", ["PATCH", "PUT"], "location", ["name"], ["sales_unit", "address", "mobilepay_pos_id"]),
    ("api:qr-code-list", ["POST"], None, ["location", "location_description"], ["merchant_qr_id", "category"]),
    ("api:qr-code-detail", ["PATCH", "PUT"], "qr-code", ["location_description"], ["location", "category"]),
    ("api:qr-sheet-list", ["POST"], None, [], ["sales_unit", "location", "layout"]),
    ("api:payment-list", ["POST"], None, ["amount", "description", "checkin"], ["auto_capture"]),
    (
        "api:payment-list",
        ["POST"],
        None,
        ["amount", "description", "phone_number", "location"],
        ["sales_unit", "auto_capture"],
    ),
    ("api:payment-capture", ["POST"], "payment", ["amount"], []),
    ("api:payment-refund", ["POST"], "payment", ["amount"], []),
    ("api:payment-cancel", ["POST"], "payment", [], []),
]


def bodies(required: list[str], optional: list[str], valid: dict):
    """Raw request bodies: JSON objects of the endpoint's fields (valid or hostile values), any JSON, any bytes."""
    fields = required + optional
    plausible = st.fixed_dictionaries(
        {name: valid[name] for name in required}, optional={name: valid[name] for name in optional}
    )
    if fields:  # one field hostile, the others plausible: the hostile value is what gets judged
        one_bad = st.builds(
            lambda body, name, value: {**body, name: value}, plausible, st.sampled_from(fields), JSON_VALUES
        )
    else:
        one_bad = JSON_VALUES
    anything = st.fixed_dictionaries({}, optional={name: st.one_of(valid[name], JSON_VALUES) for name in fields})
    as_json = st.builds(
        lambda value, ascii_only: json.dumps(value, ensure_ascii=ascii_only).encode(),
        st.one_of(plausible, one_bad, one_bad, anything, JSON_VALUES),
        st.booleans(),
    )
    reencoded = st.builds(
        lambda raw, encoding: raw.decode().encode(encoding, errors="replace"),
        as_json,
        st.sampled_from(["utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"]),
    )
    nested = st.integers(min_value=30, max_value=60_000).map(lambda depth: b"[" * depth + b"]" * (depth % 3))
    constants = st.sampled_from(
        [b'{"amount": NaN}', b'{"amount": Infinity}', b'{"amount": 1e999}', b'{"x": "\\u0000"}']
    )
    return st.one_of(as_json, as_json, as_json, reencoded, nested, constants, st.binary(max_size=120))


def snapshot(merchant) -> dict:
    return {
        model.__name__: sorted(
            (model_to_dict(row) for row in model.objects.filter(**{lookup: merchant})), key=lambda row: row["id"]
        )
        for model, lookup in (
            (Location, "sales_unit__merchant"),
            (QrCode, "sales_unit__merchant"),
            (QrSheet, "sales_unit__merchant"),
            (Payment, "merchant"),
            (PaymentOperation, "payment__merchant"),
        )
    }


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in STORED}


@pytest.mark.parametrize(
    ("name", "methods", "target", "required", "optional"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_no_body_is_a_server_error_and_a_refused_one_stores_nothing(world, name, methods, target, required, optional):
    client, ours, other = world["client"], world["ours"], world["other"]
    url = reverse(name, kwargs={"pk": ours[target].pk}) if target else reverse(name)
    theirs_before = snapshot(other)
    acme_units = set(SalesUnit.objects.filter(merchant=world["acme"]).values_list("pk", flat=True))

    @given(
        method=st.sampled_from(methods),
        body=bodies(required, optional, valid_values(world)),
        content_type=st.one_of(st.just("application/json"), CONTENT_TYPES),
        idempotency_key=st.one_of(st.none(), st.builds(lambda: uuid.uuid4().hex)),
    )
    @SETTINGS
    def run(method, body, content_type, idempotency_key):
        headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
        before = counts()
        response = client.generic(method, url, body, content_type=content_type, **headers)
        assert response.status_code < 500, response.content
        event(f"status {response.status_code}")  # shown by --hypothesis-show-statistics
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/problem+json"
            assert counts() == before, response.json()
        elif "sales_unit" in response.json():
            assert response.json()["sales_unit"] in acme_units
        assert not IdempotencyRecord.objects.filter(Q(status_code__gte=500) | Q(status_code__isnull=True)).exists()

    run()
    assert snapshot(other) == theirs_before


def test_ids_of_another_merchant_are_refused_and_change_nothing(world):
    client, theirs, other = world["client"], world["theirs"], world["other"]
    before, theirs_before = counts(), snapshot(other)
    posts = [
        ("api:location-list", {"sales_unit": theirs["sales-unit"].pk, "name": "Mine now"}),
        ("api:qr-code-list", {"location": theirs["location"].pk, "location_description": "Mine now"}),
        ("api:qr-sheet-list", {"location": theirs["location"].pk}),
        ("api:payment-list", {"checkin": theirs["checkin"].pk, "amount": 100, "description": "Coffee"}),
        (
            "api:payment-list",
            {
                "phone_number": "4791234567",
                "sales_unit": theirs["sales-unit"].pk,
                "amount": 100,
                "description": "Coffee",
            },
        ),  # fmt: skip
    ]
    for name, body in posts:
        response = client.post(reverse(name), body, format="json")
        assert response.status_code == 400, response.content
    for name in ("api:payment-capture", "api:payment-refund", "api:payment-cancel"):
        response = client.post(reverse(name, kwargs={"pk": theirs["payment"].pk}), {"amount": 100}, format="json")
        assert response.status_code == 404
    response = client.patch(
        reverse("api:qr-code-detail", kwargs={"pk": world["ours"]["qr-code"].pk}),
        {"location": theirs["location"].pk},
        format="json",
    )
    assert response.status_code == 400
    assert counts() == before and snapshot(other) == theirs_before
