"""The event log's filters and the replay form read the request by hand: whatever is typed into them is no
filter or a form error, never a 500 (NUL, digits that are not ASCII, ids over SQLite's INTEGER, years far out)."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import client_for
from tests.webhooks_app.helpers import checkin_payload, deliver, location, qr_code, subscribe
from webhooks_app import services
from webhooks_app.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(acme_unit):
    subscribe(acme_unit)
    qr_code(location(acme_unit))
    assert deliver(checkin_payload(acme_unit.msn, "kiosk-1")).status_code == 200
    services.webhook_deliveries_file()
    return WebhookEvent.objects.get()


@pytest.mark.parametrize(
    "query",
    [
        {"sales_unit": "²"},
        {"sales_unit": "٣"},
        {"sales_unit": "9" * 23},
        {"type": "\x00"},
        {"status": "\x00"},
        {"status": "nonsense", "type": "x" * 500},
        {"page": "abc"},
    ],
)
def test_a_filter_that_is_not_one_of_the_choices_is_no_filter(alice, event, query):
    response = client_for(alice).get(reverse("webhook_event_list", args=[event.sales_unit.merchant.slug]), query)
    assert response.status_code in (200, 404)
    if response.status_code == 200 and "page" not in query:
        assert list(response.context["events"]) == [event]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.sampled_from(["type", "status", "sales_unit", "page"]), st.text(max_size=30), min_size=1, max_size=4
    )
)
def test_any_filter_value_answers_without_a_server_error(alice, event, query):
    response = client_for(alice).get(reverse("webhook_event_list", args=[event.sales_unit.merchant.slug]), query)
    assert response.status_code in (200, 404)


@pytest.mark.parametrize(
    "since", ["0001-01-01T00:00", "0001-01-01", "9999-12-31T23:59", "2026-03-01T08:00+02:00", "not a date", "\x00"]
)
def test_a_replay_since_time_out_of_range_or_with_an_offset_is_a_form_error(alice, event, since):
    WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEvent.Status.FAILED)
    client = client_for(alice)
    response = client.post(
        reverse("webhook_event_replay_failed", args=[event.sales_unit.merchant.slug]), {"since": since}
    )
    assert response.status_code == 302
    assert WebhookEvent.objects.get(pk=event.pk).status == WebhookEvent.Status.FAILED  # nothing replayed
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages and "Give the time" in messages[0]


def test_a_refused_hit_is_shown_to_no_one_when_its_msn_names_units_of_two_merchants(acme_unit, other):
    from tests.factories import SalesUnitFactory

    twin = SalesUnitFactory(merchant=other, msn=acme_unit.msn, environment="production")
    assert twin.environment != acme_unit.environment
    response = deliver(checkin_payload(acme_unit.msn, "kiosk-1"))  # neither has a registration at our URL
    assert response.status_code == 401
    rejected = WebhookDelivery.objects.get()
    assert rejected.outcome == WebhookDelivery.Outcome.REJECTED and rejected.sales_unit_id is None
