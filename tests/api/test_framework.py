"""Idempotency-Key, problem+json errors, throttling, audit entries as the key, the schema and the docs page."""

import functools
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from merchant_portal.api.exceptions import IdempotencyKeyInUse
from merchant_portal.api.idempotency import CLAIM_LEASE, _abandoned_claim_take, idempotency_claim
from merchant_portal.api.models import IdempotencyRecord
from merchant_portal.audit.models import AuditEntry
from qrcodes.models import Location


def post_location(api, unit, key="k-1", name="Till 1"):
    return api.post(
        reverse("api:location-list"), {"sales_unit": unit.pk, "name": name}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_repeated_idempotency_key_replays_the_first_response(api, acme_unit):
    first = post_location(api, acme_unit)
    again = post_location(api, acme_unit)
    assert first.status_code == again.status_code == 201
    assert json.loads(again.content) == first.json()
    assert again["Content-Type"] == "application/json"
    assert again["Idempotent-Replayed"] == "true"
    assert Location.objects.count() == 1
    assert post_location(api, acme_unit, key="k-2").status_code == 201
    assert Location.objects.count() == 2


def test_the_same_key_with_another_body_is_refused_with_422(api, acme_unit):
    post_location(api, acme_unit)
    response = post_location(api, acme_unit, name="Till 2")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Location.objects.count() == 1


def test_a_duplicate_while_the_first_is_running_gets_409(api, acme_unit):
    body = json.dumps({"sales_unit": acme_unit.pk, "name": "Till 1"}).encode()
    idempotency_claim(api_key=api.api_key, key="k-1", endpoint="POST /api/v1/locations/", body=body)
    response = post_location(api, acme_unit)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert not Location.objects.exists()


def test_an_abandoned_claim_is_taken_over_once_its_lease_has_run_out(api, acme_unit):
    """A request that died after claiming its key (a killed worker) left no answer: its retries get 409 while it
    might still be running, then the first retry with the same body runs it again."""
    with mock.patch("merchant_portal.api.idempotency.idempotency_store"):  # it died before storing the answer
        assert post_location(api, acme_unit).status_code == 201
    Location.objects.all().delete()  # and before its transaction committed
    assert post_location(api, acme_unit).status_code == 409
    IdempotencyRecord.objects.update(created_at=timezone.now() - CLAIM_LEASE - timedelta(seconds=1))
    assert post_location(api, acme_unit, name="Till 2").status_code == 409  # another body never takes it over
    taken = post_location(api, acme_unit)
    assert taken.status_code == 201 and Location.objects.get().name == "Till 1"
    again = post_location(api, acme_unit)
    assert again["Idempotent-Replayed"] == "true" and json.loads(again.content) == taken.json()
    assert Location.objects.count() == 1


def test_of_two_retries_of_an_abandoned_claim_one_takes_it_over(api, acme_unit):
    body = b'{"name": "Till 1"}'
    claim = functools.partial(
        idempotency_claim, api_key=api.api_key, key="k-1", endpoint="POST /api/v1/locations/", body=body
    )
    record = claim()
    IdempotencyRecord.objects.update(created_at=timezone.now() - CLAIM_LEASE - timedelta(seconds=1))
    stale = IdempotencyRecord.objects.get()
    # Both read the stale claim; the compare-and-set on its claim time lets only the first have it.
    assert _abandoned_claim_take(stale) is True
    stale.created_at = record.created_at - CLAIM_LEASE - timedelta(seconds=1)
    assert _abandoned_claim_take(stale) is False
    with pytest.raises(IdempotencyKeyInUse):
        claim()


def test_idempotency_keys_are_per_api_key_and_endpoint(api, make_key, acme_unit, shop):
    assert post_location(api, acme_unit).status_code == 201
    assert post_location(make_key(name="Second"), acme_unit).status_code == 201
    response = api.post(
        reverse("api:qr-code-list"),
        {"location": shop.pk, "location_description": "Till"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert response.status_code == 201
    assert IdempotencyRecord.objects.count() == 3


def test_a_validation_error_is_stored_and_replayed_too(api, acme_unit):
    first = api.post(reverse("api:location-list"), {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    again = api.post(reverse("api:location-list"), {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert first.status_code == again.status_code == 400
    assert again["Content-Type"] == first["Content-Type"] == "application/problem+json"
    assert json.loads(again.content)["errors"] == first.json()["errors"]


def test_an_overlong_idempotency_key_is_a_400(api, acme_unit):
    assert post_location(api, acme_unit, key="x" * 256).status_code == 400


def test_errors_are_problem_json_with_field_errors(api, acme_unit):
    response = api.post(reverse("api:location-list"), {"sales_unit": acme_unit.pk}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/api/docs/#error-invalid" and body["title"] == "Invalid request" and body["status"] == 400
    assert "name" in body["errors"]


def test_unknown_api_paths_and_methods_are_problem_json(api):
    response = api.get("/api/v2/nothing/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    response = api.delete(reverse("api:location-list"))
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


def test_throttling_per_key_answers_429_with_retry_after(api, make_key, acme_unit, settings):
    settings.API_THROTTLE_RATE = "3/min"
    url = reverse("api:location-list")
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(url)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    # The rest of this minute, then a third of the next, when its 3 weigh 2 (tests/api/test_throttling.py).
    assert 20 <= int(response["Retry-After"]) <= 80
    assert make_key(name="Another vendor").get(url).status_code == 200  # per key, not global


def test_writes_are_audited_as_the_key(api, acme, acme_unit):
    location_id = post_location(api, acme_unit).json()["id"]
    entry = AuditEntry.objects.get(action="location.created")
    assert entry.merchant == acme and entry.actor_type == AuditEntry.ActorType.API_KEY
    assert entry.actor_label == f"API key Till vendor ({api.api_key.prefix})" and entry.actor_user is None
    assert entry.target_id == str(location_id)


def test_schema_is_openapi_3_with_the_security_scheme_and_examples(client):
    response = client.get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    create = schema["paths"]["/api/v1/locations/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    assert "application/problem+json" in create["responses"]["422"]["content"]
    assert create["requestBody"]["content"]["application/json"]["examples"]


@pytest.mark.parametrize("user", [None, "alice"])
def test_docs_page_lists_every_operation(client, user, alice, settings):
    settings.API_THROTTLE_RATE = "120/min"
    if user:
        client.force_login(alice)
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "POST /api/v1/qr-codes/" in page and "idempotency_key_reused" in page and "Vending machine 7" in page
    assert "sliding window of 120/min" in page


def test_old_idempotency_records_are_purged(api, acme_unit, settings):
    from datetime import timedelta

    from django.utils import timezone

    from merchant_portal.api.tasks import purge_idempotency_records

    post_location(api, acme_unit, key="old")
    post_location(api, acme_unit, key="new", name="Till 2")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    purge_idempotency_records()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert post_location(api, acme_unit, key="old", name="Till 3").status_code == 201
