"""The request form, the payments list (filters, keyset pages, CSV) and the payment page with its timeline."""

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from merchant_portal.tenancy.roles import Role
from payments import selectors
from payments.models import CheckIn, Payment, PaymentOperation
from tests.conftest import client_for
from tests.payments.conftest import PHONE
from tests.webhooks_app.helpers import deliver, epayment_payload, location, subscribe
from webhooks_app import services as webhook_services


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"merchant_slug": "acme", **kwargs})


def make_payments(unit, count: int, **fields) -> list[Payment]:
    return Payment.objects.bulk_create(
        Payment(
            merchant_id=unit.merchant_id,
            sales_unit=unit,
            reference=f"{unit.msn}-bulk-{uuid.uuid4().hex[:10]}",
            idempotency_key=uuid.uuid4().hex,
            currency="NOK",
            amount=fields.get("amount", 1_000 + n),
            description="Bulk",
            state=fields.get("state", Payment.State.AUTHORIZED),
            sending=Payment.Sending.SENT,
            location=fields.get("location"),
        )
        for n in range(count)
    )


def test_a_cashier_requests_a_payment_by_phone_in_kroner_stored_in_ore(
    sandbox, sandbox_unit, make_member, django_capture_on_commit_callbacks
):
    client = client_for(make_member(Role.CASHIER))
    form = client.get(url("payment_create")).content.decode()
    token = form.split('name="request_token" value="')[1].split('"')[0]
    data = {
        "sales_unit": sandbox_unit.pk,
        "phone_number": "+" + PHONE,
        "amount": "149.90",
        "description": "Haircut",
        "order_lines": "Haircut; 1; 149.90; 25",
        "request_token": token,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("payment_create"), data)
        client.post(url("payment_create"), data)  # the double click

    payment = Payment.objects.get()
    assert response.status_code == 302 and response.url == url("payment_detail", pk=payment.pk)
    assert (payment.amount, payment.sending, payment.customer_label) == (14_990, "sent", "47******67")
    assert sandbox.state.payment(sandbox_unit.msn, payment.reference).amount == 14_990


def test_the_form_explains_what_is_wrong(sandbox_unit, alice):
    response = client_for(alice).post(
        url("payment_create"),
        {
            "sales_unit": sandbox_unit.pk,
            "phone_number": "123",
            "amount": "10",
            "description": "Tea",
            "request_token": "x",
        },
    )
    assert response.status_code == 200 and "country code first" in response.content.decode()


def test_the_check_in_console_entry_point_prefills_the_form_from_the_check_in(acme_unit, alice):
    loc = location(acme_unit, "Kiosk Torget")
    now = timezone.now()
    checkin = CheckIn.objects.create(
        sales_unit=acme_unit,
        location=loc,
        customer_token="tok",
        token_digest="d",
        initiated_at=now,
        expires_at=now + timedelta(minutes=15),
    )
    page = client_for(alice).get(url("payment_create") + f"?checkin={checkin.pk}").content.decode()
    assert "Kiosk Torget" in page and 'name="phone_number"' not in page
    assert f'name="checkin" value="{checkin.pk}"' in page


def test_the_list_pages_by_keyset_without_counting(acme_unit, alice, django_assert_max_num_queries, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 10)
    payments = make_payments(acme_unit, 25)
    newest_first = sorted(p.pk for p in payments)[::-1]
    client = client_for(alice)
    client.get(url("payment_list"))  # the session's first request also saves it

    seen, after, counts = [], None, []
    for _ in range(3):
        with django_assert_max_num_queries(10) as queries:
            response = client.get(url("payment_list"), {"after": after} if after else {})
        assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
        counts.append(len(queries.captured_queries))
        seen += [p.pk for p in response.context["payments"]]
        after = response.context["next_after"]
    assert seen == newest_first and after is None
    assert len(set(counts)) == 1  # the same queries on every page


def test_the_list_filters_by_state_location_date_amount_and_reference(acme_unit, alice):
    till = location(acme_unit, "Till 2")
    make_payments(acme_unit, 3, state=Payment.State.EXPIRED)
    big = make_payments(acme_unit, 1, amount=90_000, location=till)[0]
    client = client_for(alice)

    def found(**query):
        return {p.pk for p in client.get(url("payment_list"), query).context["payments"]}

    assert len(found(state="EXPIRED")) == 3
    assert found(location=till.pk) == {big.pk}
    assert found(amount_min="500", amount_max="1000") == {big.pk}
    assert found(reference=big.reference) == {big.pk}
    assert len(found(date_from=timezone.localdate().isoformat())) == 4
    assert found(date_to=(timezone.localdate() - timedelta(days=1)).isoformat()) == set()


def test_the_csv_export_streams_every_filtered_payment(acme_unit, alice, other_unit):
    make_payments(acme_unit, 3, state=Payment.State.EXPIRED)
    make_payments(acme_unit, 2)
    make_payments(other_unit, 2, state=Payment.State.EXPIRED)  # another merchant's

    response = client_for(alice).get(url("payment_export"), {"state": "EXPIRED"})

    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Created", "Reference", "MSN"]
    assert len(rows) == 4 and {r[4] for r in rows[1:]} == {"EXPIRED"}
    assert rows[1][6] == "10.02"  # major units


def test_the_payment_page_tells_the_whole_story_on_one_timeline(sandbox, sandbox_unit, alice, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example.no"
    subscribe(sandbox_unit)
    client = client_for(alice)
    from tests.payments.conftest import request_payment

    payment = request_payment(sandbox_unit, actor=alice)
    sandbox.state.approve(sandbox_unit.msn, payment.reference)
    deliver(epayment_payload(sandbox_unit.msn, "AUTHORIZED", reference=payment.reference))
    webhook_services.webhook_events_relay()
    too_much = {"amount": "100.01", "request_token": "c1", "confirm": "yes"}
    client.post(url("payment_capture", pk=payment.pk), too_much)
    client.post(url("payment_capture", pk=payment.pk), {"amount": "60", "request_token": "c2", "confirm": "yes"})
    from payments import services

    services.payment_operation_execute(operation_id=PaymentOperation.objects.get().pk)

    page = client.get(url("payment_detail", pk=payment.pk))
    kinds = [e["kind"] for e in page.context["timeline"]]
    assert kinds[0] == "staff" and {"call", "poll", "webhook", "staff"} <= set(kinds)
    html = page.content.decode()
    assert "The customer approved NOK" in html and "Asked Vipps to capture: answer 200" in html
    assert "Asked to capture NOK\u00a060.00" in html
    assert 'data-testid="captured">60.00<' in html


def test_vipps_errors_on_the_timeline_carry_code_and_explanation(sandbox, sandbox_unit, alice):
    from tests.payments.conftest import request_payment

    payment = request_payment(sandbox_unit, actor=alice)
    from payments import services

    services.payment_operation_request  # noqa: B018 - the capture below is refused by Vipps (not authorized)
    Payment.objects.filter(pk=payment.pk).update(state="AUTHORIZED", authorized_amount=10_000)
    payment.refresh_from_db()
    op = services.payment_operation_request(
        payment=payment, kind="capture", amount=1_000, request_token="early", actor=alice
    )
    services.payment_operation_execute(operation_id=op.pk)

    html = client_for(alice).get(url("payment_detail", pk=payment.pk)).content.decode()
    assert "error 6080" in html and "has not approved the payment yet" in html


@pytest.mark.parametrize(("role", "status"), [(Role.CASHIER, 403), (Role.MANAGER, 302)])
def test_refunds_need_a_manager(acme_unit, make_member, role, status):
    payment = make_payments(acme_unit, 1)[0]
    response = client_for(make_member(role)).post(url("payment_refund", pk=payment.pk), {"amount": "1"})
    assert response.status_code == status


def test_a_cashier_may_capture_but_not_change_the_rules(acme_unit, make_member):
    loc = location(acme_unit)
    client = client_for(make_member(Role.CASHIER))
    assert client.get(url("payment_rule_update", pk=loc.pk)).status_code == 403


def test_a_manager_sets_a_vending_rule(acme_unit, make_member):
    loc = location(acme_unit, "Vending 1")
    client = client_for(make_member(Role.MANAGER))
    response = client.post(
        url("payment_rule_update", pk=loc.pk),
        {"request_on_checkin": "on", "amount_major": "25", "description": "Soda", "auto_capture": "on"},
    )
    assert response.status_code == 302
    rule = loc.payment_rule
    assert (rule.request_on_checkin, rule.amount, rule.auto_capture) == (True, 2_500, True)
    response = client.post(url("payment_rule_update", pk=loc.pk), {"request_on_checkin": "on", "description": "x"})
    assert response.status_code == 200 and "A fixed amount is needed" in response.content.decode()


@pytest.mark.django_db
def test_a_request_vipps_refused_reads_refused_not_waiting_for_the_customer(acme_unit, alice):
    from tests.factories import PaymentFactory

    refused = PaymentFactory(sales_unit=acme_unit, sending=Payment.Sending.FAILED, error_message="Invalid phone number")
    waiting = PaymentFactory(sales_unit=acme_unit, sending=Payment.Sending.SENT)
    client = client_for(alice)
    detail = client.get(reverse("payment_detail", args=[acme_unit.merchant.slug, refused.pk])).content.decode()
    assert '<td data-testid="state" data-status="sending_failed">Refused by Vipps</td>' in detail
    assert "Waiting for the customer" not in detail
    listing = client.get(reverse("payment_list", args=[acme_unit.merchant.slug])).content.decode()
    assert listing.count("<td>Refused by Vipps</td>") == 1
    assert listing.count("<td>Waiting for the customer</td>") == 1
    assert waiting.status_display == "Waiting for the customer"
