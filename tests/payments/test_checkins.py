"""The check-in console, expiry and the phone-number exchange."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from merchant_portal.audit.models import AuditEntry
from merchant_portal.tenancy.roles import Role
from payments import services
from payments.models import CheckIn
from tests.conftest import client_for
from tests.webhooks_app.helpers import checkin_payload, deliver, location, qr_code, subscribe
from webhooks_app import services as webhook_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk(acme_unit, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example.no"
    subscribe(acme_unit)
    return qr_code(location(acme_unit), "kiosk-1", "Till 1")


def scan(kiosk, **kwargs) -> CheckIn:
    deliver(checkin_payload(kiosk.sales_unit.msn, kiosk.merchant_qr_id, **kwargs))
    webhook_services.webhook_events_relay()
    return CheckIn.objects.latest("pk")


def rows_url(kiosk) -> str:
    return reverse("checkin_console_rows", kwargs={"merchant_slug": "acme", "pk": kiosk.location_id})


def test_the_console_lists_waiting_customers_with_a_countdown(kiosk, make_member):
    checkin = scan(kiosk, initiated=timezone.now() - timedelta(minutes=5))
    page = client_for(make_member(Role.VIEWER)).get(rows_url(kiosk)).content.decode()
    assert f'data-checkin="{checkin.pk}"' in page and "Till 1" in page
    assert ">9:5" in page or ">10:00<" in page  # about ten minutes left
    assert "Request payment" not in page and "Show phone number" not in page  # a viewer


def test_cashiers_can_request_a_payment_from_a_waiting_check_in(kiosk, make_member):
    checkin = scan(kiosk)
    page = client_for(make_member(Role.CASHIER)).get(rows_url(kiosk)).content.decode()
    assert f'href="/m/acme/payments/new/?checkin={checkin.pk}">Request payment</a>' in page


def test_the_console_page_polls_its_rows(kiosk, alice):
    url = reverse("checkin_console", kwargs={"merchant_slug": "acme", "pk": kiosk.location_id})
    page = client_for(alice).get(url).content.decode()
    assert f'hx-get="{rows_url(kiosk)}"' in page and 'hx-trigger="every 500ms"' in page


def test_stale_check_ins_expire(kiosk, alice):
    old = scan(kiosk, initiated=timezone.now() - timedelta(minutes=14))
    fresh = scan(kiosk)
    CheckIn.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.checkins_expire() == 1
    assert CheckIn.objects.get(pk=old.pk).status == CheckIn.Status.EXPIRED
    page = client_for(alice).get(rows_url(kiosk)).content.decode()
    waiting = page.split('data-testid="recent"')[0]
    assert f'data-checkin="{fresh.pk}"' in waiting and f'data-checkin="{old.pk}"' not in waiting


def test_the_location_list_counts_who_is_waiting(kiosk, alice):
    scan(kiosk)
    page = client_for(alice).get(reverse("checkin_location_list", kwargs={"merchant_slug": "acme"}))
    assert page.context["locations"][0].waiting == 1


def test_the_phone_number_is_exchanged_and_only_shown_masked(sandbox, sandbox_unit, acme, make_member, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example.no"
    loc = location(sandbox_unit)
    merchant = sandbox.state.merchant(sandbox_unit.msn)
    sandbox.state.put_callback_qr(merchant, "kiosk-1", {"locationDescription": "Till 1"})
    token = sandbox.state.scan("4791234567", msn=sandbox_unit.msn, merchant_qr_id="kiosk-1")
    checkin = services.checkin_create(
        location=loc, customer_token=token.token, initiated_at=timezone.now(), source=CheckIn.Source.QR
    )
    cashier = client_for(make_member(Role.CASHIER))
    url = reverse("checkin_exchange_phone", kwargs={"merchant_slug": acme.slug, "pk": checkin.pk})
    response = cashier.post(url, follow=True)
    assert "47******67" in response.content.decode() and "4791234567" not in response.content.decode()
    checkin.refresh_from_db()
    assert checkin.phone_masked == "47******67"
    entry = AuditEntry.objects.get(action="checkin.phone_exchanged")
    assert "4791234567" not in json.dumps(entry.data) + entry.target_repr


def test_a_check_in_is_created_once_per_customer_token(kiosk):
    first = services.checkin_create(
        location=kiosk.location, customer_token="tok", initiated_at=timezone.now(), source=CheckIn.Source.QR
    )
    again = services.checkin_create(
        location=kiosk.location, customer_token="tok", initiated_at=timezone.now(), source=CheckIn.Source.QR
    )
    assert first == again and CheckIn.objects.count() == 1
