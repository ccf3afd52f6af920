import itertools

import pytest
from django.utils import timezone

from payments import services
from payments.models import CheckIn, Payment

PHONE = "4791234567"
_tokens = itertools.count(1)


def request_payment(unit, *, amount: int = 10_000, actor=None, **fields) -> Payment:
    """A payment request saved and sent to the sandbox (the send task runs inline, as a worker would)."""
    payment = services.payment_request_create(
        sales_unit=unit,
        amount=amount,
        description=fields.pop("description", "Coffee and a bun"),
        actor=actor,
        request_token=fields.pop("request_token", f"test-{next(_tokens)}"),
        phone_number=fields.pop("phone_number", PHONE) if "checkin" not in fields else "",
        **fields,
    )
    services.payment_request_send(payment_id=payment.pk)
    payment.refresh_from_db()
    return payment


@pytest.fixture
def authorized(sandbox, sandbox_unit, alice):
    """Make authorized payments: requested, approved by the customer in the sandbox, and confirmed by a GET."""

    def make(amount: int = 10_000, **fields) -> Payment:
        payment = request_payment(sandbox_unit, amount=amount, actor=alice, **fields)
        assert payment.sending == Payment.Sending.SENT, payment.error_message
        sandbox.state.approve(sandbox_unit.msn, payment.reference)
        return services.payment_refresh(payment=payment)

    return make


def vipps_events(sandbox, payment, name: str) -> list:
    return [e for e in sandbox.state.payment(payment.sales_unit.msn, payment.reference).events if e.name == name]


def sandbox_checkin(sandbox, unit, loc, phone: str = PHONE) -> CheckIn:
    """A customer scans a QR code of `loc` in the sandbox; the portal files the check-in."""
    sandbox.state.put_callback_qr(sandbox.state.merchant(unit.msn), "kiosk-1", {"locationDescription": "Till 1"})
    token = sandbox.state.scan(phone, unit.msn, "kiosk-1")
    return services.checkin_create(
        location=loc, customer_token=token.token, initiated_at=timezone.now(), source=CheckIn.Source.QR
    )
