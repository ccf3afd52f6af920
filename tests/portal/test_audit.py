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


def test_the_audit_page_lists_only_this_merchants_entries_and_filters(acme, other, alice):
    log_action(merchant=acme, actor=alice, action="sales_unit.created", data={"msn": "111111"})
    log_action(merchant=acme, actor=alice, action="member.added")
    log_action(merchant=other, action="sales_unit.created", data={"msn": "999999"})
    client = client_for(alice)
    url = reverse("audit_log", kwargs={"merchant_slug": acme.slug})
    page = client.get(url).content.decode()
    assert "111111" in page and "member.added" in page and "999999" not in page
    filtered = client.get(url, {"action": "member."}).content.decode()
    assert "member.added" in filtered and "111111" not in filtered


def test_the_dashboard_shows_recent_activity_to_managers_not_viewers(acme, alice, make_member):
    log_action(merchant=acme, actor=alice, action="member.added")
    dashboard = reverse("dashboard", kwargs={"merchant_slug": acme.slug})
    assert "member.added" in client_for(make_member("manager")).get(dashboard).content.decode()
    assert "member.added" not in client_for(make_member("viewer")).get(dashboard).content.decode()
    assert AuditEntry.objects.count() == 1
