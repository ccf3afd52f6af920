"""The location page at scale: its QR codes come 50 a page with "N of M synced"; locations of one name are told
apart by their sales unit wherever they are listed together."""

import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merchant_portal.tenancy.roles import Role
from qrcodes.models import Location, QrCode
from qrcodes.views import QR_CODES_PER_PAGE
from tests.conftest import client_for
from tests.factories import QrCodeFactory, SalesUnitFactory

pytestmark = pytest.mark.django_db


def url(name, **kwargs):
    return reverse(name, kwargs={"merchant_slug": "acme", **kwargs})


@pytest.fixture
def viewer(make_member):
    return client_for(make_member(Role.VIEWER))


@pytest.fixture
def big_location(location):
    """200 codes: 150 synced, 45 pending, 5 being deleted (not counted: they are on their way out)."""
    states = [QrCode.SyncState.SYNCED] * 150 + [QrCode.SyncState.PENDING] * 45 + [QrCode.SyncState.DELETING] * 5
    QrCode.objects.bulk_create(
        QrCode(
            location=location,
            sales_unit=location.sales_unit,
            merchant_qr_id=f"kiosk-torget-{n:03d}",
            location_description="Kiosk",
            sync_state=state,
        )
        for n, state in enumerate(states, start=1)
    )
    return location


def code_ids(html: str) -> list[str]:
    return re.findall(r"<code>(kiosk-torget-\d{3})</code>", html)


def test_a_location_with_200_codes_shows_them_50_a_page_with_its_sync_progress(viewer, big_location):
    first = viewer.get(url("location_detail", pk=big_location.pk))
    html = first.content.decode()
    assert code_ids(html) == [f"kiosk-torget-{n:03d}" for n in range(1, QR_CODES_PER_PAGE + 1)]
    assert first.context["sync_progress"] == {"synced": 150, "total": 195}
    assert re.search(r'data-testid="sync-progress">150 of 195 synced with Vipps', html)
    assert "Page 1 of 4" in html and 'href="?page=2"' in html and "page-previous" not in html

    last = viewer.get(url("location_detail", pk=big_location.pk), {"page": "4"}).content.decode()
    assert code_ids(last) == [f"kiosk-torget-{n:03d}" for n in range(151, 201)]
    assert "Page 4 of 4" in last and 'href="?page=3"' in last and "page-next" not in last


def test_the_polled_table_keeps_its_page(viewer, big_location):
    partial = viewer.get(url("location_detail", pk=big_location.pk), {"page": "2"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert html.strip().startswith('<div id="qr-codes"') and 'hx-get="/m/acme/' in html
    assert re.search(r'hx-get="[^"]*\?page=2"', html)
    assert code_ids(html)[0] == "kiosk-torget-051"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(page=st.one_of(st.text(max_size=30), st.integers(min_value=-(10**20), max_value=10**20).map(str)))
def test_any_page_parameter_answers_a_page_never_an_error(viewer, big_location, page):
    response = viewer.get(url("location_detail", pk=big_location.pk), {"page": page})
    assert response.status_code == 200
    assert len(code_ids(response.content.decode())) == QR_CODES_PER_PAGE
    assert QrCode.objects.count() == 200


def test_locations_of_one_name_are_told_apart_by_their_sales_unit(acme, acme_unit, alice):
    bergen = SalesUnitFactory(merchant=acme, name="Acme Bergen", msn="998877")
    oslo_kiosk = Location.objects.create(sales_unit=acme_unit, name="Kiosk")
    bergen_kiosk = Location.objects.create(sales_unit=bergen, name="Kiosk")
    assert str(oslo_kiosk) == "Kiosk · Acme Oslo (223344)" and str(bergen_kiosk) == "Kiosk · Acme Bergen (998877)"
    QrCodeFactory(location=oslo_kiosk, merchant_qr_id="kiosk-001")
    owner = client_for(alice)

    for page in (url("payment_list"), url("api_key_create")):
        html = owner.get(page).content.decode()
        assert "Kiosk · Acme Oslo (223344)" in html and "Kiosk · Acme Bergen (998877)" in html, page
    checkins = owner.get(url("checkin_location_list")).content.decode()
    assert "Acme Oslo (223344)" in checkins and "Acme Bergen (998877)" in checkins
    edit = owner.get(url("qr_code_update", pk=QrCode.objects.get().pk)).content.decode()
    assert "Kiosk · Acme Oslo (223344)" in edit


def test_the_bulk_form_preselects_in_store_as_its_help_says(make_member, location):
    page = client_for(make_member(Role.MANAGER)).get(url("qr_code_bulk_create", pk=location.pk))
    html = page.content.decode()
    assert page.context["form"]["category"].value() == QrCode.Category.IN_STORE
    assert re.search(r'<option value="IN_STORE" selected>', html) and "“In store” (the default)" in html


def test_favicon_ico_leads_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url.endswith("/static/favicon.ico")
