"""Registration at Vipps (the sandbox): what the portal registers, and how it repairs what drifted."""

import pytest
from django.urls import reverse

from merchant_portal.tenancy import services as tenancy_services
from merchant_portal.tenancy.roles import Role
from tests.conftest import client_for
from webhooks_app import events as ev
from webhooks_app import services
from webhooks_app.models import WebhookSubscription, WebhookSync

pytestmark = pytest.mark.django_db


def at_vipps(sandbox, unit):
    return sandbox.state.list_webhooks(sandbox.state.merchant(unit.msn))


def test_sync_registers_check_ins_and_epayment_events_and_stores_the_secrets(sandbox, sandbox_unit):
    report = services.webhooks_sync(sales_unit=sandbox_unit)
    assert report.ok and report.changed
    remote = {tuple(sorted(w.events)): w for w in at_vipps(sandbox, sandbox_unit)}
    assert set(remote) == {tuple(sorted(g)) for g in ev.REGISTRATION_GROUPS}
    for sub in WebhookSubscription.objects.all():
        hook = remote[tuple(sorted(sub.events))]
        assert sub.vipps_id == hook.id and sub.secret == hook.secret and hook.url == services.webhook_url()
    assert services.webhooks_sync(sales_unit=sandbox_unit).message == "Up to date."
    assert len(at_vipps(sandbox, sandbox_unit)) == 2


def test_a_registration_vipps_removed_is_registered_again(sandbox, sandbox_unit):
    services.webhooks_sync(sales_unit=sandbox_unit)
    gone = WebhookSubscription.objects.get(events=[ev.CHECKED_IN])
    sandbox.state.delete_webhook(sandbox.state.merchant(sandbox_unit.msn), gone.vipps_id)
    report = services.webhooks_sync(sales_unit=sandbox_unit)
    assert "removed by Vipps" in report.message
    assert not WebhookSubscription.objects.filter(pk=gone.pk).exists()
    assert WebhookSubscription.objects.filter(events=[ev.CHECKED_IN]).count() == 1
    assert len(at_vipps(sandbox, sandbox_unit)) == 2


def test_duplicates_at_our_url_and_registrations_at_an_old_url_are_deleted(sandbox, sandbox_unit, settings):
    services.webhooks_sync(sales_unit=sandbox_unit)
    merchant = sandbox.state.merchant(sandbox_unit.msn)
    # A registration at our URL whose secret we never stored (e.g. a crash right after registering).
    sandbox.state.register_webhook(
        merchant, {"url": services.webhook_url(), "events": list(ev.EPAYMENT_EVENTS.values())}
    )
    assert len(at_vipps(sandbox, sandbox_unit)) == 3
    services.webhooks_sync(sales_unit=sandbox_unit)
    assert len(at_vipps(sandbox, sandbox_unit)) == 2

    settings.PUBLIC_BASE_URL = "https://new.example.no"
    services.webhooks_sync(sales_unit=sandbox_unit)
    assert {w.url for w in at_vipps(sandbox, sandbox_unit)} == {"https://new.example.no/hooks/vipps/"}
    assert set(WebhookSubscription.objects.values_list("url", flat=True)) == {"https://new.example.no/hooks/vipps/"}


def test_a_foreign_check_in_registration_is_left_alone_and_reported(sandbox, sandbox_unit):
    merchant = sandbox.state.merchant(sandbox_unit.msn)
    foreign = sandbox.state.register_webhook(
        merchant, {"url": "https://pos-vendor.example/cb", "events": [ev.CHECKED_IN]}
    )
    report = services.webhooks_sync(sales_unit=sandbox_unit)
    assert not report.ok and "Another system" in report.message
    assert foreign.id in {w.id for w in at_vipps(sandbox, sandbox_unit)}
    assert list(WebhookSubscription.objects.values_list("events", flat=True)) == [list(ev.EPAYMENT_EVENTS.values())]
    assert WebhookSync.objects.get().ok is False


def test_an_unreachable_vipps_is_recorded_not_raised(acme_unit, settings):
    settings.VIPPS_BASE_URL = "http://127.0.0.1:9"
    report = services.webhooks_sync(sales_unit=acme_unit)
    assert not report.ok and report.retryable
    assert "Vipps" in WebhookSync.objects.get(sales_unit=acme_unit).message


def test_adding_a_sales_unit_registers_its_webhooks(sandbox, acme, alice, django_capture_on_commit_callbacks):
    sandbox.register_merchant(msn="778899", client_id="cid-1", client_secret="cs-1", subscription_key="sk-1")
    with django_capture_on_commit_callbacks(execute=True):
        unit = tenancy_services.sales_unit_create(
            merchant=acme,
            actor=alice,
            name="New kiosk",
            msn="778899",
            client_id="cid-1",
            client_secret="cs-1",
            subscription_key="sk-1",
        )
    assert len(at_vipps(sandbox, unit)) == 2
    assert WebhookSubscription.objects.filter(sales_unit=unit).count() == 2


def test_the_page_marks_ours_and_foreign_and_only_managers_may_repair(sandbox, sandbox_unit, acme, make_member):
    services.webhooks_sync(sales_unit=sandbox_unit)
    merchant = sandbox.state.merchant(sandbox_unit.msn)
    sandbox.state.register_webhook(
        merchant, {"url": "https://erp.example/hook", "events": ["epayments.payment.captured.v1"]}
    )
    url = reverse("webhook_detail", kwargs={"merchant_slug": acme.slug, "pk": sandbox_unit.pk})
    page = client_for(make_member(Role.VIEWER)).get(url).content.decode()
    assert page.count('data-mark="ours"') == 2 and page.count('data-mark="foreign"') == 1
    assert "Check and repair" not in page
    manager = client_for(make_member(Role.MANAGER))
    sandbox.state.delete_webhook(merchant, WebhookSubscription.objects.first().vipps_id)
    assert 'data-testid="needs-repair"' in manager.get(url).content.decode()
    response = manager.post(reverse("webhook_sync", kwargs={"merchant_slug": acme.slug, "pk": sandbox_unit.pk}))
    assert response.status_code == 302
    assert 'data-testid="needs-repair"' not in manager.get(url).content.decode()
