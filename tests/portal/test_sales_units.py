import pytest
from django.urls import reverse

from merchant_portal.audit.models import AuditEntry
from merchant_portal.tenancy.models import SalesUnit
from tests.conftest import client_for
from tests.factories import SalesUnitFactory

VALID = {
    "name": "Kiosk Grünerløkka",
    "msn": "345678",
    "market": "NO",
    "currency": "NOK",
    "environment": "sandbox",
    "client_id": "0f2a3f6c-8e59-4d2b-b3a4-33e3a8c11ad0",
    "client_secret": "client-secret-abcdef-123456",
    "subscription_key": "subscription-key-zyxwvu-987654",
}


def create_url(merchant):
    return reverse("sales_unit_create", kwargs={"merchant_slug": merchant.slug})


def test_owner_adds_a_sales_unit_and_sees_its_secrets_only_masked(acme, alice):
    client = client_for(alice)
    response = client.post(create_url(acme), VALID)
    unit = SalesUnit.objects.get(msn="345678")
    assert response.status_code == 302 and response.url.endswith(f"/sales-units/{unit.pk}/")
    assert unit.merchant == acme and unit.client_secret == VALID["client_secret"]

    page = client.get(response.url).content.decode()
    assert VALID["client_secret"] not in page and VALID["subscription_key"] not in page
    assert "••••••••3456" in page and "••••••••7654" in page

    edit_page = client.get(reverse("sales_unit_update", kwargs={"merchant_slug": acme.slug, "pk": unit.pk}))
    assert VALID["client_secret"] not in edit_page.content.decode()


def test_creating_is_audited_without_secrets(acme, alice):
    client_for(alice).post(create_url(acme), VALID)
    entry = AuditEntry.objects.get(action="sales_unit.created")
    assert entry.merchant == acme and entry.actor_user == alice and entry.data["msn"] == "345678"
    everything = str(list(AuditEntry.objects.values()))
    assert VALID["client_secret"] not in everything and VALID["subscription_key"] not in everything


def test_blank_secrets_on_edit_keep_the_stored_ones(acme, alice, acme_unit):
    old_secret, old_key = acme_unit.client_secret, acme_unit.subscription_key
    url = reverse("sales_unit_update", kwargs={"merchant_slug": acme.slug, "pk": acme_unit.pk})
    data = {**VALID, "msn": acme_unit.msn, "name": "Renamed", "client_secret": "", "subscription_key": ""}
    response = client_for(alice).post(url, data)
    assert response.status_code == 302
    acme_unit.refresh_from_db()
    assert acme_unit.name == "Renamed"
    assert (acme_unit.client_secret, acme_unit.subscription_key) == (old_secret, old_key)
    entry = AuditEntry.objects.get(action="sales_unit.updated")
    assert "client_secret" not in entry.data["changed"] and "name" in entry.data["changed"]


def test_a_new_secret_on_edit_replaces_the_old_and_the_log_says_only_that_it_changed(acme, alice, acme_unit):
    url = reverse("sales_unit_update", kwargs={"merchant_slug": acme.slug, "pk": acme_unit.pk})
    client_for(alice).post(url, {**VALID, "msn": acme_unit.msn, "name": acme_unit.name, "subscription_key": ""})
    acme_unit.refresh_from_db()
    assert acme_unit.client_secret == VALID["client_secret"]
    entry = AuditEntry.objects.get(action="sales_unit.updated")
    assert entry.data == {"changed": ["client_id", "client_secret"]}


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("msn", "12ab", "4 to 10 digits"),
        ("currency", "DKK", "uses NOK"),
        ("client_secret", "", "required"),
    ],
)
def test_bad_input_gets_a_form_error_not_a_500(acme, alice, field, value, message):
    response = client_for(alice).post(create_url(acme), {**VALID, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SalesUnit.objects.filter(msn=VALID["msn"]).exists() or field != "msn"


def test_an_msn_already_used_in_the_environment_is_refused(acme, alice, other):
    SalesUnitFactory(merchant=other, msn=VALID["msn"])
    response = client_for(alice).post(create_url(acme), VALID)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert SalesUnit.objects.filter(msn=VALID["msn"]).count() == 1


def test_owner_deletes_a_sales_unit_after_confirming(acme, alice, acme_unit):
    url = reverse("sales_unit_delete", kwargs={"merchant_slug": acme.slug, "pk": acme_unit.pk})
    client = client_for(alice)
    assert "Delete Acme Oslo" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert not SalesUnit.objects.filter(pk=acme_unit.pk).exists()
    assert AuditEntry.objects.filter(action="sales_unit.deleted", data__msn=acme_unit.msn).exists()


def test_viewer_sees_sales_units_but_not_keys(acme, acme_unit, make_member):
    page = client_for(make_member("viewer")).get(
        reverse("sales_unit_detail", kwargs={"merchant_slug": acme.slug, "pk": acme_unit.pk})
    )
    html = page.content.decode()
    assert "223344" in html and acme_unit.client_id not in html and "Edit" not in html


def test_old_vipps_calls_are_pruned_after_the_retention_period(acme_unit, settings):
    from datetime import timedelta

    from django.utils import timezone

    from merchant_portal.tenancy.models import VippsCall
    from merchant_portal.tenancy.tasks import prune_vipps_call_log

    settings.VIPPS_CALL_LOG_RETENTION_DAYS = 30
    now = timezone.now()
    for age in (31, 29):
        VippsCall.objects.create(
            sales_unit=acme_unit,
            started_at=now - timedelta(days=age),
            operation="get_payment",
            method="GET",
            path="/epayment/v1/payments/x",
            duration_ms=5,
        )
    prune_vipps_call_log.delay()
    assert list(VippsCall.objects.values_list("started_at", flat=True)) == [now - timedelta(days=29)]
