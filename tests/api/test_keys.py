"""API keys: owners create (shown once), list and revoke them; the API accepts only active keys."""

import hashlib

from django.urls import reverse
from rest_framework.test import APIClient

from merchant_portal.api.models import ApiKey
from merchant_portal.audit.models import AuditEntry
from merchant_portal.tenancy.roles import Role
from tests.conftest import client_for


def test_owner_creates_a_key_that_is_shown_once_and_stored_hashed(acme, alice, acme_unit):
    response = client_for(alice).post(
        reverse("api_key_create", kwargs={"merchant_slug": acme.slug}),
        {"name": "Till vendor", "access": "write", "sales_units": [acme_unit.pk]},
    )
    assert response.status_code == 200
    token = response.context["token"]
    assert token.startswith("vmp_") and token in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    assert key.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in key.key_hash and key.prefix in token
    assert list(key.sales_units.all()) == [acme_unit] and key.can_write
    listing = client_for(alice).get(reverse("api_key_list", kwargs={"merchant_slug": acme.slug})).content.decode()
    assert "Till vendor" in listing and key.masked in listing and token not in listing
    assert AuditEntry.objects.filter(action="api_key.created", actor_user=alice, target_id=str(key.pk)).exists()


def test_the_new_key_works_at_once(acme, alice, acme_unit):
    response = client_for(alice).post(
        reverse("api_key_create", kwargs={"merchant_slug": acme.slug}), {"name": "Till", "access": "read"}
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.context['token']}")
    assert client.get(reverse("api:sales-unit-list")).json()["results"][0]["msn"] == acme_unit.msn


def test_a_key_cannot_be_limited_to_another_merchants_locations(acme, alice, other_unit):
    from qrcodes.models import Location

    theirs = Location.objects.create(sales_unit=other_unit, name="Theirs")
    response = client_for(alice).post(
        reverse("api_key_create", kwargs={"merchant_slug": acme.slug}),
        {"name": "Sneaky", "access": "write", "locations": [theirs.pk]},
    )
    assert response.status_code == 200 and "locations" in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_a_manager_may_not_manage_keys(acme, make_member):
    client = client_for(make_member(Role.MANAGER))
    assert client.get(reverse("api_key_list", kwargs={"merchant_slug": acme.slug})).status_code == 403
    assert client.post(reverse("api_key_create", kwargs={"merchant_slug": acme.slug}), {"name": "x"}).status_code == 403


def test_revoked_key_gets_401_at_once(acme, alice, api):
    url = reverse("api:location-list")
    assert api.get(url).status_code == 200
    response = client_for(alice).post(
        reverse("api_key_revoke", kwargs={"merchant_slug": acme.slug, "pk": api.api_key.pk})
    )
    assert response.status_code == 302
    response = api.get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert AuditEntry.objects.filter(action="api_key.revoked", actor_user=alice).count() == 1


def test_missing_unknown_and_malformed_keys_get_401(api, acme_unit):
    url = reverse("api:location-list")
    token = api._credentials["HTTP_AUTHORIZATION"].split()[1]
    for header in (None, "Bearer vmp_nope_nope", f"Bearer {token}x", f"Basic {token}", "Bearer "):
        client = APIClient()
        if header is not None:
            client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get(url)
        assert response.status_code == 401, header
        assert response.json()["status"] == 401


def test_reads_record_the_last_use_but_not_an_audit_entry(api, acme_unit):
    assert api.api_key.last_used_at is None
    api.get(reverse("api:location-list"))
    api.api_key.refresh_from_db()
    assert api.api_key.last_used_at is not None
    assert not AuditEntry.objects.filter(actor_type=AuditEntry.ActorType.API_KEY).exists()


def test_read_only_key_is_refused_on_every_write(make_key, acme_unit, shop):
    client = make_key(access=ApiKey.Access.READ_ONLY)
    assert client.get(reverse("api:location-list")).status_code == 200
    detail = reverse("api:location-detail", kwargs={"pk": shop.pk})
    for method, url in [
        ("post", reverse("api:location-list")),
        ("put", detail),
        ("patch", detail),
        ("delete", detail),
        ("post", reverse("api:qr-code-list")),
        ("post", reverse("api:qr-sheet-list")),
    ]:
        response = getattr(client, method)(url, {"name": "x"}, format="json")
        assert response.status_code == 403, f"{method} {url}"
        assert response.json()["code"] == "permission_denied"
