"""The CSV export neutralises cells a spreadsheet would run (OWASP CSV injection), and keeps numbers numbers."""

import csv
import io

import pytest
from django.urls import reverse

from payments.models import Payment
from payments.selectors import spreadsheet_safe
from qrcodes.models import Location
from tests.conftest import client_for
from tests.factories import PaymentFactory

DANGEROUS = ["=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠", " =", "\t=", "\u3000+", "\x0b@"]


def export(client, merchant) -> list[dict]:
    response = client.get(reverse("payment_export", kwargs={"merchant_slug": merchant.slug}))
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("prefix", DANGEROUS)
def test_every_dangerous_prefix_comes_out_as_text(acme, acme_unit, alice, prefix):
    location = Location.objects.create(sales_unit=acme_unit, name=f"{prefix}cmd|' /C calc'!A0")
    PaymentFactory(
        sales_unit=acme_unit,
        location=location,
        description=f'{prefix}HYPERLINK("http://evil","x")',
        reference=f"{prefix}1",
    )
    [row] = export(client_for(alice), acme)
    for column in ("Description", "Reference", "Location"):
        assert row[column].startswith("'" + prefix), (column, row[column])


def test_the_issue_s_hyperlink_is_inert_and_ordinary_text_untouched(acme, acme_unit, alice):
    PaymentFactory(sales_unit=acme_unit, description='=HYPERLINK("http://evil","x")')
    PaymentFactory(sales_unit=acme_unit, description="Coffee - large")
    rows = export(client_for(alice), acme)
    assert sorted(row["Description"] for row in rows) == ['\'=HYPERLINK("http://evil","x")', "Coffee - large"]


def test_the_portal_s_own_numbers_stay_numbers(acme, acme_unit, alice):
    PaymentFactory(
        sales_unit=acme_unit,
        amount=10_000,
        captured_amount=10_000,
        refunded_amount=2_550,
        state=Payment.State.AUTHORIZED,
    )
    [row] = export(client_for(alice), acme)
    assert (row["Amount"], row["Captured"], row["Refunded"], row["Cancelled"]) == ("100.00", "100.00", "25.50", "0.00")
    assert not row["Created"].startswith("'")


@pytest.mark.parametrize(
    ("text", "safe"),
    [("", ""), ("Coffee", "Coffee"), ("-10.00", "'-10.00"), ("a=b", "a=b"), ("e-mail", "e-mail"), ("=1+1", "'=1+1")],
)
def test_spreadsheet_safe(text, safe):
    assert spreadsheet_safe(text) == safe
