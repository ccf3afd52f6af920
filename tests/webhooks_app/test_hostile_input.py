"""Generated hostile input at both public webhook doors: never a 5xx, and nothing stored as valid (no received
or accepted delivery, no event) when the answer is a 4xx. Signed bodies included: a delivery Vipps signed is
either stored (received, or quarantined when it cannot be read) or refused, and filing never raises."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.webhooks_app.helpers import deliver, location, signed_headers, subscribe
from webhooks_app import services
from webhooks_app.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
POS_ID = "7e6acbde-345e-4641-b2f4-d8df0f3a5147"
VALID = ("received", "accepted", "duplicate")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=20,
)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"])


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "replace") if encoding == "latin-1" else text.encode(encoding, "surrogatepass")


def nested(depth: int, inner: str) -> str:
    return "[" * depth + inner + "]" * depth


def vipps_bodies(msn: str):
    payloads = st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"msn": st.sampled_from([msn, int(msn), "", "0", msn + "\n"])},
            optional={
                "name": st.text(max_size=100),
                "reference": json_values,
                "pspReference": json_values,
                "customerToken": json_values,
                "merchantQrId": json_values,
                "initiatedAt": json_values,
                "x": st.integers(min_value=0, max_value=3000).map(lambda d: json.loads(nested(min(d, 500), "0"))),
            },
        ),
    )
    texts = st.one_of(
        payloads.map(lambda p: json.dumps(p, ensure_ascii=False, allow_nan=True)),
        st.integers(min_value=1, max_value=50_000).map(lambda d: f'{{"msn": "{msn}", "x": {nested(d, "1")}}}'),
        st.text(max_size=200),
        st.sampled_from(
            [
                f'{{"msn": "{msn}", "v": NaN}}',
                f'{{"msn": "{msn}", "v": 1e400}}',
                f'{{"msn": "{msn}", "v": "\\u0000"}}',
                f'{{"msn": "{msn}", "v": "\\ud800"}}',
                f'{{"msn": "{msn}"',
            ]
        ),
    )
    return st.tuples(texts, encodings).map(lambda pair: encode(*pair)) | st.binary(max_size=300)


def last_pk() -> int:
    return WebhookDelivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def assert_door_held(response, since: int, events_before: int) -> None:
    assert response.status_code < 500, response.content
    new = WebhookDelivery.objects.filter(pk__gt=since)
    assert new.count() == 1
    if response.status_code >= 400:
        assert not new.filter(outcome__in=VALID).exists()
        assert WebhookEvent.objects.count() == events_before
        assert response.json()["reason"]


@pytest.fixture
def registered(acme_unit):
    subscribe(acme_unit)
    return acme_unit


def test_signed_hostile_bodies_are_stored_or_refused_never_a_5xx(registered):
    @FUZZ
    @given(body=vipps_bodies(registered.msn))
    def check(body):
        since, events = last_pk(), WebhookEvent.objects.count()
        response = deliver(body)
        assert_door_held(response, since, events)
        delivery = WebhookDelivery.objects.get(pk__gt=since)
        if response.status_code == 200:
            assert delivery.outcome in ("received", "quarantined") and delivery.sales_unit == registered
        services.webhook_deliveries_file()  # filing whatever was stored never raises, and settles every row
        assert not WebhookDelivery.objects.filter(outcome="received").exists()

    check()


def test_unsigned_hostile_bodies_and_headers_are_refused_never_a_5xx(registered):
    header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=80)

    @FUZZ
    @given(
        body=vipps_bodies(registered.msn),
        date=header_text,
        sha=header_text,
        authorization=header_text,
        use_valid_hash=st.booleans(),
    )
    def check(body, date, sha, authorization, use_valid_hash):
        if use_valid_hash:
            sha = signed_headers(body)["x-ms-content-sha256"]
        headers = {"x-ms-date": date, "x-ms-content-sha256": sha, "Authorization": authorization}
        since, events = last_pk(), WebhookEvent.objects.count()
        response = Client().post(reverse("vipps_webhook"), data=body, content_type="application/json", headers=headers)
        assert_door_held(response, since, events)
        assert response.status_code >= 400

    check()


def test_a_signed_body_50000_levels_deep_or_in_utf16_is_quarantined_not_a_500(registered):
    for body in (
        f'{{"msn": "{registered.msn}", "x": '.encode() + b"[" * 50_000,
        f'{{"msn": "{registered.msn}", "x": {nested(30_000, "1")}}}'.encode(),
        json.dumps({"msn": registered.msn, "name": "AUTHORIZED"}).encode("utf-16"),
        json.dumps({"msn": registered.msn, "name": "AUTHORIZED"}).encode("utf-16-be"),
    ):
        response = deliver(body)
        assert response.status_code == 200 and response.json()["outcome"] == "quarantined"
    assert WebhookDelivery.objects.filter(outcome="quarantined").count() == 4


def test_an_unsigned_body_50000_levels_deep_is_refused(registered):
    response = Client().post(reverse("vipps_webhook"), data=b"[" * 50_000, content_type="application/json")
    assert response.status_code == 401


def pos_bodies():
    guid = st.uuids().map(str)
    field = st.one_of(st.text(max_size=40), guid, st.just(POS_ID), st.just(POS_ID.upper() + "\n"), json_values)
    payloads = st.fixed_dictionaries(
        {},
        optional={
            "MerchantId": field,
            "MerchantBrandId": st.one_of(st.just("MPPOS12345"), field),
            "MerchantLocationId": st.one_of(st.just("12345"), field),
            "MerchantPosId": st.one_of(st.just("Till 1"), field),
            "PosId": st.one_of(st.just(POS_ID), field),
        },
    )
    texts = st.one_of(
        payloads.map(lambda p: json.dumps(p, ensure_ascii=False)),
        json_values.map(json.dumps),
        st.integers(min_value=1, max_value=50_000).map(lambda d: nested(d, "1")),
        st.text(max_size=200),
    )
    return st.tuples(texts, encodings).map(lambda pair: encode(*pair)) | st.binary(max_size=300)


def test_hostile_pos_notifications_are_refused_or_stored_never_a_5xx(acme_unit):
    location(acme_unit, mobilepay_pos_id=POS_ID)

    @FUZZ
    @given(body=pos_bodies())
    def check(body):
        since, events = last_pk(), WebhookEvent.objects.count()
        response = Client().post(reverse("mobilepay_pos_notification"), data=body, content_type="application/json")
        assert_door_held(response, since, events)
        if response.status_code == 200:
            assert WebhookDelivery.objects.get(pk__gt=since).outcome == "received"
        services.webhook_deliveries_file()
        assert not WebhookDelivery.objects.filter(outcome__in=("received", "quarantined")).exists()

    check()
