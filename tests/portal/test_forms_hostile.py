"""Hostile input to the member, sales unit, API key and vendor webhook forms, through the real views."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from merchant_portal.api.models import ApiKey, WebhookEndpoint
from merchant_portal.tenancy.models import Membership, SalesUnit
from tests.conftest import client_for
from tests.hostile_forms import FORM_SETTINGS, assert_door_held, assert_storable, counts, data_with_hostile_fields

User = get_user_model()
SALES_UNIT = {
    "name": "Kiosk",
    "msn": "345678",
    "market": "NO",
    "currency": "NOK",
    "environment": "sandbox",
    "client_id": "0f2a3f6c-8e59-4d2b-b3a4-33e3a8c11ad0",
    "client_secret": "client-secret-abcdef-123456",
    "subscription_key": "subscription-key-zyxwvu-987654",
}
emails = st.one_of(
    st.emails().map(str),
    st.builds(lambda local, n: f"{local * n}@example.com", st.sampled_from(["a", "İ", "ß"]), st.integers(100, 320)),
)


def url(name: str, merchant, **kwargs) -> str:
    return reverse(name, kwargs={"merchant_slug": merchant.slug, **kwargs})


def test_a_300_character_e_mail_is_a_form_error_not_a_301_character_username(acme, alice):
    response = client_for(alice).post(url("member_add", acme), {"email": f"{'a' * 288}@example.com", "role": "viewer"})
    assert response.status_code == 200 and response.context["form"].errors["email"]
    assert not User.objects.filter(email__endswith="@example.com").exclude(pk=alice.pk).exists()


def test_an_e_mail_that_lower_cases_longer_than_the_column_is_refused(acme, alice):
    email = f"{'İ' * 138}@example.com"  # 150 characters, 288 once lower-cased
    response = client_for(alice).post(url("member_add", acme), {"email": email, "role": "viewer"})
    assert response.status_code == 200
    assert not Membership.objects.exclude(user=alice).exists()


@FORM_SETTINGS
@given(email=st.one_of(emails, st.text(max_size=300)), role=st.sampled_from(["viewer", "owner", "god", ""]))
def test_member_invite_never_fails(acme, alice, email, role):
    before = counts(User, Membership)
    response = client_for(alice).post(url("member_add", acme), {"email": email, "role": role})
    assert_door_held(response, before, counts(User, Membership))
    for user in User.objects.all():
        assert_storable(user, identifiers=("username", "email"))


@FORM_SETTINGS
@given(data=data_with_hostile_fields(SALES_UNIT, list(SALES_UNIT)))
def test_sales_unit_create_never_fails(acme, alice, data):
    before = counts(SalesUnit)
    response = client_for(alice).post(url("sales_unit_create", acme), data)
    assert_door_held(response, before, counts(SalesUnit))
    for unit in SalesUnit.objects.all():
        assert_storable(unit, identifiers=("name", "msn", "client_id", "client_secret", "subscription_key"))


@FORM_SETTINGS
@given(data=data_with_hostile_fields(SALES_UNIT, ["name", "msn", "client_id", "client_secret", "subscription_key"]))
def test_sales_unit_edit_never_fails(acme, alice, acme_unit, data):
    before = SalesUnit.objects.values().get(pk=acme_unit.pk)
    response = client_for(alice).post(url("sales_unit_update", acme, pk=acme_unit.pk), data)
    assert response.status_code < 500
    if response.status_code == 200:
        assert SalesUnit.objects.values().get(pk=acme_unit.pk) == before
    assert_storable(SalesUnit.objects.get(pk=acme_unit.pk), identifiers=("name", "msn", "client_id"))


@FORM_SETTINGS
@given(data=data_with_hostile_fields({"name": "Till vendor", "access": "ro"}, ["name", "access"]))
def test_api_key_create_never_fails(acme, alice, data):
    before = counts(ApiKey)
    response = client_for(alice).post(url("api_key_create", acme), data)
    assert response.status_code < 500
    if counts(ApiKey) == before:
        return
    for key in ApiKey.objects.all():
        assert_storable(key, identifiers=("name",))


@FORM_SETTINGS
@given(
    data=data_with_hostile_fields(
        {"url": "https://pos.example.com/hooks", "event_types": "checkin.created"}, ["url", "event_types"]
    ),
    long_url=st.integers(400, 600).map(lambda n: "https://pos.example.com/" + "a" * n),
)
def test_vendor_webhook_url_never_fails(acme, alice, settings, data, long_url):
    settings.DEBUG = False
    key = ApiKey.objects.create(merchant=acme, name="Vendor", prefix=f"p{ApiKey.objects.count()}", key_hash="x")
    for body in (data, {**data, "url": long_url}):
        before = counts(WebhookEndpoint)
        response = client_for(alice).post(url("api_key_webhook_edit", acme, pk=key.pk), body)
        assert_door_held(response, before, counts(WebhookEndpoint))
    for endpoint in WebhookEndpoint.objects.all():
        assert_storable(endpoint)
