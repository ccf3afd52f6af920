import logging

import pytest
import requests
from django.core.cache import cache
from django.urls import reverse

from merchant_portal.audit.models import AuditEntry
from merchant_portal.tenancy.vipps import DjangoTokenCache, WrongEnvironment, portal_environment, vipps_client_for
from tests.conftest import client_for
from vipps import (
    Amount,
    CreatePaymentRequest,
    Customer,
    VippsAPIError,
    VippsReadTimeout,
    call_with_retries,
)
from vipps_sandbox import contract

PHONE = "4791234567"


def contract_checked_session() -> requests.Session:
    """Every request the client sends and every answer the sandbox gives is checked against the OpenAPI files."""
    session = requests.Session()
    session.hooks["response"].append(lambda response, *a, **k: contract.validate_requests_response(response))
    return session


def test_test_connection_button_reports_success(acme, alice, sandbox_unit):
    url = reverse("sales_unit_test_connection", kwargs={"merchant_slug": acme.slug, "pk": sandbox_unit.pk})
    page = client_for(alice).post(url, follow=True).content.decode()
    assert "Connected: Vipps issued an access token" in page
    assert AuditEntry.objects.get(action="sales_unit.connection_tested").data == {"ok": True}


def test_test_connection_reports_wrong_keys_without_showing_them(acme, alice, sandbox, sandbox_unit):
    sandbox_unit.client_secret = "not-the-right-secret"
    sandbox_unit.save()
    url = reverse("sales_unit_test_connection", kwargs={"merchant_slug": acme.slug, "pk": sandbox_unit.pk})
    page = client_for(alice).post(url, follow=True).content.decode()
    assert "Vipps refused the keys (HTTP 401" in page and "Check the client id" in page
    assert "not-the-right-secret" not in page


def test_test_connection_reports_an_unreachable_vipps(acme, alice, acme_unit, settings):
    settings.VIPPS_BASE_URL = "http://127.0.0.1:9"
    url = reverse("sales_unit_test_connection", kwargs={"merchant_slug": acme.slug, "pk": acme_unit.pk})
    page = client_for(alice).post(url, follow=True).content.decode()
    assert "Could not reach Vipps at http://127.0.0.1:9" in page


def test_keys_of_another_environment_are_refused_before_any_call(acme_unit, settings):
    settings.VIPPS_BASE_URL = "https://apitest.vipps.no"
    assert portal_environment() == "test"
    with pytest.raises(WrongEnvironment, match="Local sandbox keys"):
        vipps_client_for(acme_unit)


def test_the_access_token_is_shared_through_the_django_cache(sandbox_unit):
    calls = []
    first = vipps_client_for(sandbox_unit, on_call=calls.append)
    token = first.access_token()
    second = vipps_client_for(sandbox_unit, on_call=calls.append)  # a new client, as in another process
    assert second.access_token() == token
    assert [c.path for c in calls] == ["/accesstoken/get"]


def test_cached_tokens_are_encrypted_in_the_cache(db):
    DjangoTokenCache().set("vipps:test-token", "eyJ-plain-token", 60)
    assert "eyJ-plain-token" not in str(cache.get("vipps:test-token"))
    assert DjangoTokenCache().get("vipps:test-token") == "eyJ-plain-token"


def test_system_headers_come_from_settings(sandbox_unit, settings):
    settings.VIPPS_SYSTEM_NAME = "acme-portal"
    settings.VIPPS_SYSTEM_VERSION = "9.9.9"
    calls = []
    vipps_client_for(sandbox_unit, on_call=calls.append).access_token()
    headers = calls[0].request_headers
    assert headers["Vipps-System-Name"] == "acme-portal" and headers["Vipps-System-Version"] == "9.9.9"
    assert headers["Vipps-System-Plugin-Name"] == settings.VIPPS_SYSTEM_PLUGIN_NAME


def create_and_authorize(client, sandbox, reference: str, value: int = 10_000) -> None:
    client.create_payment(
        CreatePaymentRequest(
            amount=Amount("NOK", value),
            reference=reference,
            user_flow="PUSH_MESSAGE",
            customer=Customer(phone_number=PHONE),
            customer_interaction="CUSTOMER_PRESENT",
            payment_description="Coffee and a bun",
        ),
        idempotency_key=f"{reference}-create",
    )
    sandbox.state.approve("223344", reference, PHONE)  # the customer taps "approve" in the app


def test_a_whole_payment_conforms_to_the_contract_both_ways(sandbox, sandbox_unit, caplog):
    caplog.set_level(logging.DEBUG)
    client = vipps_client_for(sandbox_unit, session=contract_checked_session())
    create_and_authorize(client, sandbox, "acme-2233-0001")
    assert client.get_payment("acme-2233-0001").state == "AUTHORIZED"
    client.capture_payment("acme-2233-0001", Amount("NOK", 6_000), idempotency_key="acme-2233-0001-cap1")
    client.refund_payment("acme-2233-0001", Amount("NOK", 1_000), idempotency_key="acme-2233-0001-ref1")
    client.cancel_payment("acme-2233-0001", idempotency_key="acme-2233-0001-can1")
    payment = client.get_payment("acme-2233-0001")
    assert payment.state == "AUTHORIZED"  # it stays AUTHORIZED after capture (CONTRACTS.md §4.4)
    assert (payment.aggregate.captured.value, payment.aggregate.refunded.value) == (6_000, 1_000)
    assert payment.aggregate.cancelled.value == 4_000
    names = [e.name for e in client.get_payment_events("acme-2233-0001")]
    assert names == ["CREATED", "AUTHORIZED", "CAPTURED", "REFUNDED", "CANCELLED"]
    for secret in (sandbox_unit.client_secret, sandbox_unit.subscription_key, PHONE, client.access_token()):
        assert secret not in caplog.text


def test_capture_recovers_from_failures_with_the_same_idempotency_key_and_one_effect(sandbox, sandbox_unit):
    calls = []
    client = vipps_client_for(sandbox_unit, on_call=calls.append)
    create_and_authorize(client, sandbox, "acme-2233-0002")
    sandbox.faults.fail(503, operation="capture", times=3)
    result = call_with_retries(
        lambda: client.capture_payment("acme-2233-0002", Amount("NOK", 10_000), idempotency_key="op-77-capture"),
        attempts=5,
        sleep=lambda seconds: None,
    )
    assert result.aggregate.captured.value == 10_000
    captures = [c for c in calls if c.path.endswith("/capture")]
    assert [c.status_code for c in captures] == [503, 503, 503, 200]
    assert {c.idempotency_key for c in captures} == {"op-77-capture"}
    payment = sandbox.state.payment("223344", "acme-2233-0002")
    assert payment.captured == 10_000
    assert [e.name for e in payment.events].count("CAPTURED") == 1


def test_a_read_timeout_after_vipps_applied_the_capture_is_retried_safely(sandbox, sandbox_unit, settings):
    settings.VIPPS_READ_TIMEOUT = 0.5
    client = vipps_client_for(sandbox_unit)
    create_and_authorize(client, sandbox, "acme-2233-0003")
    sandbox.faults.apply_then_timeout(operation="capture", times=1, seconds=1.5)
    with pytest.raises(VippsReadTimeout) as caught:
        client.capture_payment("acme-2233-0003", Amount("NOK", 4_000), idempotency_key="op-78-capture")
    assert caught.value.retryable and caught.value.may_have_been_applied
    again = client.capture_payment("acme-2233-0003", Amount("NOK", 4_000), idempotency_key="op-78-capture")
    assert again.aggregate.captured.value == 4_000
    assert sandbox.state.payment("223344", "acme-2233-0003").captured == 4_000


def test_the_same_key_with_another_body_is_refused(sandbox, sandbox_unit):
    client = vipps_client_for(sandbox_unit)
    create_and_authorize(client, sandbox, "acme-2233-0004")
    client.capture_payment("acme-2233-0004", Amount("NOK", 1_000), idempotency_key="op-79-capture")
    with pytest.raises(VippsAPIError) as caught:
        client.capture_payment("acme-2233-0004", Amount("NOK", 2_000), idempotency_key="op-79-capture")
    assert caught.value.status == 409 and not caught.value.retryable
    assert sandbox.state.payment("223344", "acme-2233-0004").captured == 1_000


def test_every_exchange_goes_to_the_call_log_masked_with_attempt_numbers(acme, alice, sandbox, sandbox_unit):
    from merchant_portal.tenancy.models import VippsCall

    client = vipps_client_for(sandbox_unit)
    create_and_authorize(client, sandbox, "acme-2233-0005")
    sandbox.faults.fail(502, operation="capture", times=1)
    with pytest.raises(VippsAPIError):
        client.capture_payment("acme-2233-0005", Amount("NOK", 500), idempotency_key="op-80-capture")
    client.capture_payment("acme-2233-0005", Amount("NOK", 500), idempotency_key="op-80-capture")

    calls = list(VippsCall.objects.filter(sales_unit=sandbox_unit).order_by("started_at", "id"))
    assert [c.path for c in calls][:2] == ["/accesstoken/get", "/epayment/v1/payments"]
    captures = [c for c in calls if c.path.endswith("/capture")]
    assert [(c.status_code, c.attempt, c.idempotency_key) for c in captures] == [
        (502, 1, "op-80-capture"),
        (200, 2, "op-80-capture"),
    ]
    assert {c.reference for c in captures} == {"acme-2233-0005"}
    stored = str(list(VippsCall.objects.values()))
    for secret in (sandbox_unit.client_secret, sandbox_unit.subscription_key, PHONE, client.access_token()):
        assert secret not in stored

    url = reverse("sales_unit_calls", kwargs={"merchant_slug": acme.slug, "pk": sandbox_unit.pk})
    page = client_for(alice).get(url).content.decode()
    assert page.count('data-testid="vipps-call"') == len(calls)
    assert "attempt 2" in page and sandbox_unit.client_secret not in page
    failed = client_for(alice).get(url, {"failed": "1"}).content.decode()
    assert failed.count('data-testid="vipps-call"') == 1


def test_a_broken_call_log_never_breaks_the_call(sandbox_unit, monkeypatch):
    from merchant_portal.tenancy import vipps as portal_vipps

    def explode(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(portal_vipps, "vipps_call_record", explode)
    assert vipps_client_for(sandbox_unit).access_token()
