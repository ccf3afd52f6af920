"""Audit entries read as sentences: one describer per action code the code base logs, money as money."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from merchant_portal.audit.describe import DESCRIBERS, Facts, describe
from payments.models import PaymentOperation

SOURCES = [
    path
    for package in ("merchant_portal", "payments", "qrcodes", "webhooks_app")
    for path in (Path(settings.BASE_DIR) / package).rglob("*.py")
    if "migrations" not in path.parts
]


def _logged_actions() -> set[str]:
    """Every action code passed to `log_action(action=...)` or to qrcodes' `_audit(qr_code, actor, action)`:
    string literals, both branches of a conditional, and f-strings expanded over the operation kinds."""
    found = set()

    def literals(node) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return literals(node.body) | literals(node.orelse)
        if isinstance(node, ast.JoinedStr):
            pattern = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            assert pattern.count("{}") == 1, f"cannot expand the action f-string {pattern!r}"
            return {pattern.format(kind) for kind in PaymentOperation.Kind.values}
        if isinstance(node, ast.Name) and node.id == "action":
            return set()  # a wrapper passing its own parameter on (qrcodes' _audit): its callers are scanned
        raise AssertionError(f"an action code that is not a literal: {ast.unparse(node)}")

    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "log_action":
                found |= {code for k in node.keywords if k.arg == "action" for code in literals(k.value)}
            elif node.func.id == "_audit" and len(node.args) >= 3:
                found |= literals(node.args[2])
    return found


def test_the_scan_finds_the_action_codes_of_every_app():
    actions = _logged_actions()
    for code in ("payment.requested", "payment.refund_requested", "payment.cancel_quarantined", "qr_code.created"):
        assert code in actions
    assert {"webhook_event.replayed", "api_key.webhook_resent", "member.role_changed", "demo.history_seeded"} <= actions
    assert len(actions) > 45


def test_every_logged_action_has_a_describer():
    missing = sorted(_logged_actions() - set(DESCRIBERS))
    assert not missing, f"no describer for {missing}: add one to merchant_portal/audit/describe.py"


@pytest.mark.parametrize("action", sorted(DESCRIBERS))
def test_a_described_action_never_shows_its_code(action):
    sentence = describe(action=action, data={}, facts=Facts(subject="Kiosk"))
    assert sentence and action not in sentence and "{" not in sentence and "%(" not in sentence


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Requested NOK\u00a0249.00 from the customer's check-in"),
        ("nb", "Ba om 249,00\u00a0kr fra kundens innsjekk"),
        ("da", "Bad om 249,00\u00a0NOK fra kundens check-in"),
        ("fi", "Pyysi 249,00\u00a0NOK asiakkaan check-inin kautta"),
    ],
)
def test_a_payment_request_reads_as_a_sentence_with_money_as_money(language, expected):
    with translation.override(language):
        sentence = describe(
            action="payment.requested", data={"amount": 24_900, "currency": "NOK", "customer": "check-in"}
        )
    assert sentence == expected


def test_money_without_a_stored_currency_takes_the_payments_and_a_phone_number_is_named():
    assert describe(action="payment.refund_requested", data={"amount": 5_000}, facts=Facts(currency="DKK")) == (
        "Asked to refund DKK\u00a050.00"
    )
    requested = describe(action="payment.requested", data={"amount": 100, "currency": "NOK", "customer": "47••••67"})
    assert requested == "Requested NOK\u00a01.00 from 47••••67"


def test_roles_choices_and_reasons_are_labels_not_codes():
    with translation.override("nb"):
        changed = describe(action="member.role_changed", data={"from": "viewer", "to": "manager"}, facts=Facts("bob"))
        anomaly = describe(action="payment.anomaly", data={"reason": "currency"})
    assert changed == "Endret rollen til bob fra leser til leder"
    assert anomaly == "Svaret fra Vipps ble ikke tatt i bruk: Vipps oppga en annen valuta enn betalingens."


def test_an_unknown_code_still_reads_as_a_sentence():
    assert describe(action="thing.done", data={"n": 1}) == (
        "Recorded an action the portal cannot describe (thing.done)."
    )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from(
    [
        "amount",
        "currency",
        "customer",
        "reason",
        "detail",
        "role",
        "from",
        "to",
        "user",
        "ok",
        "changes",
        "count",
        "codes",
        "imported",
        "missing",
        "differing",
        "attempts",
        "error",
        "url",
        "event_type",
        "access",
        "merchant_qr_id",
        "request_on_checkin",
        "auto_capture",
        "payments",
        "check_ins",
    ]
)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    action=st.sampled_from(sorted(DESCRIBERS)) | st.text(max_size=30),
    data=st.dictionaries(KEYS, JSON, max_size=6) | JSON,
    language=st.sampled_from(["en", "nb", "da", "fi"]),
    currency=st.sampled_from(["", "NOK", "DKK", "EUR", "X", "nok", "€€€"]),
)
def test_any_stored_data_in_any_language_gives_a_sentence_never_an_error(action, data, language, currency):
    """The log keeps what older versions stored: odd values must never break the audit page."""
    with translation.override(language):
        sentence = describe(action=action, data=data, facts=Facts(subject="Kiosk", currency=currency))
    assert isinstance(sentence, str) and sentence
    assert not re.search(r"%\(\w+\)", sentence)
