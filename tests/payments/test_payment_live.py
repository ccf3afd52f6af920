"""The payment's page follows the customer's decision by itself (htmx polling), and stops once it is decided."""

import re

import pytest
from django.urls import reverse

from payments import services
from tests.conftest import client_for

from .conftest import request_payment

pytestmark = pytest.mark.django_db


def page_tag(html: str) -> str:
    return re.search(r'<div id="payment-page"[^>]*>', html).group(0)


def test_the_page_polls_while_the_customer_decides_and_stops_after(sandbox, sandbox_unit, alice, acme):
    payment = request_payment(sandbox_unit, actor=alice)
    client = client_for(alice)
    url = reverse("payment_detail", args=[acme.slug, payment.pk])

    waiting = page_tag(client.get(url).content.decode())
    assert 'data-testid="payment-live"' in waiting
    assert f'hx-get="{url}"' in waiting and 'hx-select="#payment-page"' in waiting

    sandbox.state.approve(sandbox_unit.msn, payment.reference)
    services.payment_refresh(payment=payment)
    decided = page_tag(client.get(url).content.decode())
    assert "payment-live" not in decided and "hx-get" not in decided


def test_a_request_vipps_refused_is_not_polled(sandbox, sandbox_unit, alice, acme):
    sandbox.faults.fail(400, operation="create", times=1)
    payment = request_payment(sandbox_unit, actor=alice)
    assert payment.sending == "failed"
    page = client_for(alice).get(reverse("payment_detail", args=[acme.slug, payment.pk])).content.decode()
    assert 'data-testid="payment-error"' in page and "hx-get" not in page_tag(page)
