from django.urls import reverse

from merchant_portal.audit.models import AuditEntry
from merchant_portal.audit.services import log_action
from tests.conftest import client_for


class FakeApiKey:
    audit_label = "api-key vmp_ab12"


def test_log_action_records_user_api_key_and_system_actors(acme, alice, acme_unit):
    by_user = log_action(merchant=acme, actor=alice, action="thing.done", target=acme_unit, data={"n": 1})
    by_key = log_action(merchant=acme, actor=FakeApiKey(), action="thing.done")
    by_system = log_action(merchant=acme, action="thing.done")
    assert (by_user.actor_type, by_user.actor_label, by_user.actor_user) == ("user", "alice", alice)
    assert (by_user.target_type, by_user.target_id) == ("tenancy.salesunit", str(acme_unit.pk))
    assert (by_key.actor_type, by_key.actor_label) == ("api_key", "api-key vmp_ab12")
    assert (by_system.actor_type, by_system.actor_label) == ("system", "system")


def test_the_audit_page_lists_only_this_merchants_entries_and_filters_by_topic(acme, other, alice, acme_unit):
    log_action(merchant=acme, actor=alice, action="sales_unit.created", target=acme_unit, data={"msn": "111111"})
    log_action(merchant=acme, actor=alice, action="qr_sheet.requested", data={"codes": 4, "layout": "4"})
    log_action(merchant=other, action="sales_unit.created", data={"msn": "999999"})
    client = client_for(alice)
    url = reverse("audit_log", kwargs={"merchant_slug": acme.slug})
    page = client.get(url).content.decode()
    assert f"Added the sales unit {acme_unit}" in page and "Made a sheet of 4 QR codes" in page
    assert page.count('data-action="sales_unit.created"') == 1  # not other's
    filtered = client.get(url, {"topic": "qr_codes"}).content.decode()
    assert "Made a sheet of 4 QR codes" in filtered and "Added the sales unit" not in filtered
    refused = client.get(url, {"topic": "nonsense"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()


def test_payment_entries_name_the_payment_and_format_its_money(acme, alice, acme_unit):
    from tests.factories import PaymentFactory

    payment = PaymentFactory(sales_unit=acme_unit, amount=24_900)
    log_action(merchant=acme, actor=alice, action="payment.capture_requested", target=payment, data={"amount": 24_900})
    client = client_for(alice)
    client.post(reverse("language_set"), {"language": "nb"})
    page = client.get(reverse("audit_log", kwargs={"merchant_slug": acme.slug})).content.decode()
    assert f"Betaling {payment.reference}: " in page and "249,00\u00a0kr" in page and "24900" not in page


def test_the_dashboard_shows_recent_activity_to_managers_not_viewers(acme, alice, make_member):
    log_action(merchant=acme, actor=alice, action="member.added", data={"role": "cashier"})
    dashboard = reverse("dashboard", kwargs={"merchant_slug": acme.slug})
    assert "as cashier" in client_for(make_member("manager")).get(dashboard).content.decode()
    assert "as cashier" not in client_for(make_member("viewer")).get(dashboard).content.decode()
    assert AuditEntry.objects.count() == 1
