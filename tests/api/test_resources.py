"""Locations, QR codes, QR sheets and check-ins through the API, as a till vendor would use them."""

from django.urls import reverse

from merchant_portal.audit.models import AuditEntry
from payments.models import CheckIn
from qrcodes.models import Location, QrCode, QrSheet
from tests.api.factories import checkin_at


def test_sales_units_are_listed_without_credentials(api, acme_unit):
    row = api.get(reverse("api:sales-unit-list")).json()["results"][0]
    assert row == {
        "id": acme_unit.pk,
        "name": "Acme Oslo",
        "msn": "223344",
        "market": "NO",
        "currency": "NOK",
        "environment": "sandbox",
    }


def test_location_create_update_delete(api, acme_unit):
    created = api.post(
        reverse("api:location-list"),
        {"sales_unit": acme_unit.pk, "name": "Machine 7", "address": "Storgata 1"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = reverse("api:location-detail", kwargs={"pk": created.json()["id"]})
    changed = api.patch(url, {"name": "Machine 8", "sales_unit": 999}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "Machine 8"
    assert changed.json()["sales_unit"] == acme_unit.pk  # the sales unit of a location does not change
    assert api.delete(url).status_code == 204
    assert not Location.objects.exists()
    actions = list(
        AuditEntry.objects.order_by("id").filter(action__startswith="location.").values_list("action", flat=True)
    )
    assert actions == ["location.created", "location.updated", "location.deleted"]


def test_a_location_with_qr_codes_cannot_be_deleted(api, shop):
    QrCode.objects.create(
        sales_unit=shop.sales_unit, location=shop, merchant_qr_id="shop-001", location_description="x"
    )
    response = api.delete(reverse("api:location-detail", kwargs={"pk": shop.pk}))
    assert response.status_code == 409 and "QR codes" in response.json()["detail"]


def test_location_limited_key_cannot_create_locations(make_key, acme_unit, shop):
    client = make_key(locations=[shop])
    response = client.post(reverse("api:location-list"), {"sales_unit": acme_unit.pk, "name": "New"}, format="json")
    assert response.status_code == 403


def test_a_body_may_not_name_another_merchants_objects(api, other_unit):
    theirs = Location.objects.create(sales_unit=other_unit, name="Theirs")
    response = api.post(reverse("api:location-list"), {"sales_unit": other_unit.pk, "name": "x"}, format="json")
    assert response.status_code == 400 and "sales_unit" in response.json()["errors"]
    response = api.post(
        reverse("api:qr-code-list"), {"location": theirs.pk, "location_description": "x"}, format="json"
    )
    assert response.status_code == 400 and "location" in response.json()["errors"]


def test_qr_code_create_is_saved_pending_and_synced_by_the_task(
    api, shop, monkeypatch, django_capture_on_commit_callbacks
):
    pushed = []
    monkeypatch.setattr("qrcodes.services.qr_code_push", lambda *, qr_code: pushed.append(qr_code.pk))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("api:qr-code-list"),
            {"location": shop.pk, "location_description": "Till 1", "category": "VENDING"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["merchant_qr_id"] == "shop-001" and body["sync_state"] == "pending" and body["category"] == "VENDING"
    assert pushed == [body["id"]]
    entry = AuditEntry.objects.get(action="qr_code.created")
    assert entry.actor_type == AuditEntry.ActorType.API_KEY


def test_qr_code_update_delete_and_list_by_location(api, shop, acme_unit, monkeypatch):
    monkeypatch.setattr("qrcodes.services.qr_code_push", lambda *, qr_code: None)
    other_place = Location.objects.create(sales_unit=acme_unit, name="Back")
    code = QrCode.objects.create(
        sales_unit=acme_unit, location=shop, merchant_qr_id="shop-001", location_description="A"
    )
    QrCode.objects.create(
        sales_unit=acme_unit, location=other_place, merchant_qr_id="back-001", location_description="B"
    )
    listed = api.get(reverse("api:qr-code-list"), {"location": shop.pk}).json()["results"]
    assert [row["merchant_qr_id"] for row in listed] == ["shop-001"]
    assert api.get(reverse("api:qr-code-list"), {"location": "x"}).status_code == 400
    url = reverse("api:qr-code-detail", kwargs={"pk": code.pk})
    response = api.patch(url, {"location_description": "Till 2"}, format="json")
    assert response.status_code == 200 and response.json()["location_description"] == "Till 2"
    assert response.json()["category"] == "IN_STORE"
    response = api.delete(url)
    assert response.status_code == 202 and response.json()["sync_state"] == "deleting"
    assert api.delete(url).status_code == 202  # asking again changes nothing


def test_qr_sheet_with_nothing_to_print_is_a_409(api, shop):
    response = api.post(reverse("api:qr-sheet-list"), {"location": shop.pk}, format="json")
    assert response.status_code == 409


def test_qr_sheet_request_needs_one_scope(api, shop, acme_unit):
    response = api.post(reverse("api:qr-sheet-list"), {"location": shop.pk, "sales_unit": acme_unit.pk}, format="json")
    assert response.status_code == 400


def test_qr_sheet_request_is_made_as_the_key(api, shop, monkeypatch):
    actors = []

    def fake_request(*, sales_unit, location, layout, actor):
        # Rendering needs synced codes with cached images (tests/qrcodes); here: who asks, and the answer.
        actors.append(actor)
        return QrSheet.objects.create(sales_unit=sales_unit, location=location, layout=layout, filename="s.pdf")

    monkeypatch.setattr("qrcodes.services.qr_sheet_request", fake_request)
    response = api.post(reverse("api:qr-sheet-list"), {"location": shop.pk, "layout": "4"}, format="json")
    assert response.status_code == 201 and response.json()["state"] == "queued" and response.json()["pdf_url"] is None
    assert len(actors) == 1 and actors[0].audit_label.startswith("API key")
    pdf = reverse("api:qr-sheet-pdf", kwargs={"pk": response.json()["id"]})
    assert api.get(pdf).status_code == 409


def test_qr_sheet_download(api, shop):
    sheet = QrSheet.objects.create(
        sales_unit=shop.sales_unit, location=shop, state=QrSheet.State.DONE, pdf=b"%PDF-1.7\n", filename="s.pdf"
    )
    detail = api.get(reverse("api:qr-sheet-detail", kwargs={"pk": sheet.pk})).json()
    assert detail["pdf_url"] == reverse("api:qr-sheet-pdf", kwargs={"pk": sheet.pk})
    response = api.get(detail["pdf_url"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == b"%PDF-1.7\n"


def test_checkins_are_listed_without_the_customer_token(api, shop):
    waiting = checkin_at(shop)
    expired = checkin_at(shop, minutes_left=-1)
    rows = api.get(reverse("api:checkin-list")).json()["results"]
    assert {row["id"]: row["status"] for row in rows} == {waiting.pk: "active", expired.pk: "expired"}
    assert "customer_token" not in rows[0] and "token" not in str(rows)
    rows = api.get(reverse("api:checkin-list"), {"location": shop.pk, "waiting": "true"}).json()["results"]
    assert [row["id"] for row in rows] == [waiting.pk]


def test_next_checkin_answers_at_once_when_one_is_waiting(api, shop):
    first, second = checkin_at(shop), checkin_at(shop)
    url = reverse("api:checkin-next")
    assert api.get(url, {"location": shop.pk}).json()["id"] == first.pk
    assert api.get(url, {"location": shop.pk, "after": first.pk}).json()["id"] == second.pk


def test_next_checkin_times_out_with_204(api, shop, settings):
    checkin_at(shop, minutes_left=-1)
    response = api.get(reverse("api:checkin-next"), {"location": shop.pk, "timeout": 0})
    assert response.status_code == 204


def test_next_checkin_waits_for_one_to_arrive(api, shop, monkeypatch):
    """The long poll looks again after each pause: a check-in arriving during the wait is returned."""
    arrived = []

    def pause(seconds):
        assert 0 < seconds <= 0.5
        arrived.append(checkin_at(shop))

    monkeypatch.setattr("merchant_portal.api.resources.checkins.time.sleep", pause)
    response = api.get(reverse("api:checkin-next"), {"location": shop.pk, "timeout": 10})
    assert response.status_code == 200 and response.json()["id"] == arrived[0].pk


def test_next_checkin_wait_is_capped_by_the_server(api, shop, monkeypatch, settings):
    settings.API_LONG_POLL_SECONDS = 0
    monkeypatch.setattr("merchant_portal.api.resources.checkins.time.sleep", lambda s: 1 / 0)
    response = api.get(reverse("api:checkin-next"), {"location": shop.pk, "timeout": 3600})
    assert response.status_code == 204
    assert CheckIn.objects.count() == 0
