"""`seed_demo`'s week of history: shaped like a real kiosk and vending bank, consistent with the payment model,
deterministic, and invisible to everything that talks to Vipps (it never reached the sandbox)."""

import hashlib
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from merchant_portal.audit.models import AuditEntry
from merchant_portal.core.demo_history import (
    AMOUNT_RANGE,
    LocationSpec,
    QrSpec,
    UnitSpec,
    demo_history_rows,
    demo_history_seed,
    demo_history_specs,
)
from merchant_portal.tenancy.models import Merchant, VippsCall
from payments import selectors, services, tasks
from payments.models import CheckIn, Payment, PaymentOperation

OSLO = ZoneInfo("Europe/Oslo")
Kind = PaymentOperation.Kind


def _unit(pk: int, msn: str, currency: str) -> UnitSpec:
    kiosk = LocationSpec(
        id=pk * 10,
        name="Kiosk Torget",
        vending=False,
        qr_codes=(QrSpec(pk * 100, "kt-1"), QrSpec(pk * 100 + 1, "kt-2")),
    )
    machines = tuple(QrSpec(pk * 100 + 10 + i, f"as-{i + 1}") for i in range(4))
    vending = LocationSpec(id=pk * 10 + 1, name="Automater Storgata", vending=True, qr_codes=machines)
    return UnitSpec(id=pk, msn=msn, currency=currency, locations=(kiosk, vending))


UNITS = [_unit(1, "123456", "NOK"), _unit(2, "654321", "DKK")]


def _rows(now: datetime, **kwargs):
    return demo_history_rows(units=UNITS, now=now, tz=OSLO, **kwargs)


def _local_day(moment: datetime):
    return moment.astimezone(OSLO).date()


WEDNESDAY_AFTERNOON = datetime(2026, 3, 11, 14, 30, tzinfo=OSLO)


# The generator (pure) ----------------------------------------------------------------------------------------


def test_the_same_inputs_give_the_same_history_and_another_seed_another():
    first, second = _rows(WEDNESDAY_AFTERNOON), _rows(WEDNESDAY_AFTERNOON)
    assert first == second and len(first.checkins) > 500
    other = _rows(WEDNESDAY_AFTERNOON, seed=7)
    assert [p.reference for p in other.payments] != [p.reference for p in first.payments]


def test_every_day_of_the_week_and_today_until_now_has_check_ins_and_payments_per_currency():
    now = WEDNESDAY_AFTERNOON
    history = _rows(now)
    currency = {u.id: u.currency for u in UNITS}
    checkins = Counter((_local_day(c.initiated_at), currency[c.unit_id]) for c in history.checkins)
    payments = Counter((_local_day(p.created_at), p.currency) for p in history.payments)
    today = now.date()
    for offset in range(1, 8):
        day = today - timedelta(days=offset)
        for cur in ("NOK", "DKK"):
            assert 40 <= checkins[day, cur] <= 150, (day, cur)
            assert payments[day, cur] >= 20, (day, cur)
    for cur in ("NOK", "DKK"):
        assert checkins[today, cur] >= 10 and payments[today, cur] >= 5  # a morning and lunch so far
    assert min(c.initiated_at for c in history.checkins).astimezone(OSLO).date() == today - timedelta(days=7)
    # Nothing is still under way: every check-in's token ran out and every payment was answered before now.
    assert max(c.initiated_at for c in history.checkins) <= now - services.CHECKIN_TTL
    assert max(p.updated_at for p in history.payments) <= now
    assert all(op.done_at <= now for p in history.payments for op in p.operations)


@pytest.mark.parametrize("hour, minute", [(0, 40), (5, 10), (7, 20)])
def test_today_is_not_empty_early_in_the_morning(hour, minute):
    now = datetime(2026, 3, 11, hour, minute, tzinfo=OSLO)
    history = _rows(now)
    for unit in UNITS:
        today_checkins = [
            c for c in history.checkins if c.unit_id == unit.id and _local_day(c.initiated_at) == now.date()
        ]
        today_payments = [
            p for p in history.payments if p.unit_id == unit.id and _local_day(p.created_at) == now.date()
        ]
        assert today_checkins and today_payments, unit.currency
        assert all(c.initiated_at <= now - services.CHECKIN_TTL for c in today_checkins)
        assert all(p.updated_at <= now for p in today_payments)


def test_the_kiosk_keeps_opening_hours_with_peaks_and_the_weekend_differs():
    history = _rows(WEDNESDAY_AFTERNOON)
    kiosk = {u.locations[0].id for u in UNITS}
    by_hour, weekday_share, weekend_share = Counter(), [], []
    per_day = defaultdict(Counter)
    for c in history.checkins:
        local = c.initiated_at.astimezone(OSLO)
        at_kiosk = c.location_id in kiosk
        per_day[local.date()][at_kiosk] += 1
        if at_kiosk:
            assert 7 <= local.hour < 22
            if local.weekday() == 6:
                assert 10 <= local.hour < 18
            if local.weekday() < 5:
                by_hour[local.hour] += 1
    for day, counts in per_day.items():
        if day != WEDNESDAY_AFTERNOON.date():
            share = counts[True] / (counts[True] + counts[False])
            (weekend_share if day.weekday() >= 5 else weekday_share).append(share)
    assert min(weekend_share) > max(weekday_share)  # the kiosk takes the weekend, the machines the commute
    assert by_hour[12] > 2 * by_hour[10] and by_hour[16] > by_hour[14] and by_hour[8] > by_hour[10]


def test_conversion_differs_per_location_and_qr_code():
    history = _rows(WEDNESDAY_AFTERNOON)
    paid = {id(p.checkin) for p in history.payments if p.checkin}
    scans, converted = Counter(), Counter()
    for c in history.checkins:
        scans[c.qr_id] += 1
        converted[c.qr_id] += id(c) in paid
    rate = {qr: converted[qr] / scans[qr] for qr in scans}
    kiosk, vending = UNITS[0].locations
    assert rate[vending.qr_codes[0].id] > rate[kiosk.qr_codes[0].id]
    assert rate[vending.qr_codes[3].id] < rate[vending.qr_codes[0].id] - 0.2  # the machine whose reader sulks
    assert scans[vending.qr_codes[0].id] > scans[vending.qr_codes[3].id]


def test_payments_have_the_outcomes_and_amounts_of_real_ones():
    history = _rows(WEDNESDAY_AFTERNOON)
    states = Counter(p.state for p in history.payments)
    assert set(states) == {"AUTHORIZED", "ABORTED", "EXPIRED", "TERMINATED"}
    assert states["AUTHORIZED"] > 0.8 * len(history.payments)
    partly_refunded = [p for p in history.payments if 0 < p.refunded_amount < p.captured_amount]
    cancelled = [p for p in history.payments if p.cancelled_amount]
    by_phone = [p for p in history.payments if p.checkin is None]
    assert 5 <= len(partly_refunded) < 0.06 * len(history.payments) and cancelled
    assert 0.04 * len(history.payments) < len(by_phone) < 0.15 * len(history.payments)
    assert all(re.fullmatch(r"4[57]\*+\d\d", p.customer_label) for p in by_phone)
    for p in history.payments:
        low, high = AMOUNT_RANGE[p.currency]
        assert low <= p.amount <= high
        if p.receipt:
            assert sum(line["total"] for line in p.receipt["lines"]) == p.amount


def test_a_week_across_the_spring_dst_change_is_still_whole():
    now = datetime(2026, 3, 31, 9, 0, tzinfo=OSLO)
    history = _rows(now)
    days = {_local_day(c.initiated_at) for c in history.checkins}
    assert days == {now.date() - timedelta(days=n) for n in range(8)}


# Seeded into the database ------------------------------------------------------------------------------------


@pytest.fixture
def seeded(db, tmp_path):
    call_command("seed_demo", sandbox_seed=str(tmp_path / "seed.json"))
    return Merchant.objects.get(slug="demo")


def test_seed_demo_writes_a_week_over_both_currencies_ending_now(seeded):
    now, today = timezone.now(), timezone.localdate()
    payments = Payment.objects.filter(merchant=seeded)
    checkins = CheckIn.objects.filter(sales_unit__merchant=seeded)
    assert set(payments.values_list("currency", flat=True)) == {"NOK", "DKK"}
    days = Counter((timezone.localdate(p.created_at), p.currency) for p in payments)
    scanned = Counter(
        (timezone.localdate(c.initiated_at), c.sales_unit.currency) for c in checkins.select_related("sales_unit")
    )
    for offset in range(1, 8):
        for currency in ("NOK", "DKK"):
            assert days[today - timedelta(days=offset), currency] > 0
            assert 40 <= scanned[today - timedelta(days=offset), currency] <= 150
    assert max(c.initiated_at for c in checkins) > now - timedelta(days=1)
    assert {p.sales_unit.currency for p in payments.select_related("sales_unit")} == {"NOK", "DKK"}
    entry = AuditEntry.objects.get(merchant=seeded, action="demo.history_seeded")
    assert entry.actor_type == AuditEntry.ActorType.SYSTEM
    assert entry.data["payments"] == payments.count() and entry.data["check_ins"] == checkins.count()
    assert not AuditEntry.objects.filter(action__startswith="payment.").exists()  # one entry, not thousands


def test_seeded_payments_are_consistent_with_their_operations_and_settled(seeded):
    now = timezone.now()
    demo_user = seeded.memberships.get().user
    payments = list(Payment.objects.filter(merchant=seeded).select_related("sales_unit", "checkin").order_by("id"))
    operations = defaultdict(list)
    for op in PaymentOperation.objects.filter(payment__merchant=seeded):
        operations[op.payment_id].append(op)
    assert [p.created_at for p in payments] == sorted(p.created_at for p in payments)  # ids grow with time
    assert len({p.reference for p in payments}) == len(payments)
    for p in payments:
        ops = operations[p.pk]
        by_kind = {kind: [o for o in ops if o.kind == kind] for kind in Kind.values}
        assert re.fullmatch(rf"{p.sales_unit.msn}-{p.created_at.astimezone(UTC):%y%m%d}-[0-9a-f]{{8}}", p.reference)
        assert p.currency == p.sales_unit.currency and p.sending == Payment.Sending.SENT and p.customer == ""
        assert p.state != Payment.State.CREATED and p.capturable == 0
        assert p.next_check_at is None and services._next_check(p, now) is None
        assert p.captured_amount <= p.authorized_amount and p.refunded_amount <= p.captured_amount
        assert p.captured_amount + p.cancelled_amount == p.authorized_amount
        assert sum(o.amount for o in by_kind[Kind.CAPTURE]) == p.captured_amount
        assert sum(o.amount for o in by_kind[Kind.REFUND]) == p.refunded_amount
        assert bool(by_kind[Kind.CANCEL]) == (bool(p.cancelled_amount) or p.state == Payment.State.TERMINATED)
        if p.state != Payment.State.AUTHORIZED:
            assert p.authorized_amount == p.captured_amount == p.cancelled_amount == 0
        for op in ops:
            assert op.status == PaymentOperation.Status.DONE and op.next_attempt_at is None and op.leased_until is None
            assert p.created_at < op.created_at < op.done_at <= p.updated_at <= now
            assert op.requested_by_id == (None if op.request_token == "auto-capture" else demo_user.pk)
        assert p.created_at < p.checked_at <= p.updated_at
        if p.checkin:
            assert p.customer_label == "check-in" and p.location_id == p.checkin.location_id
            assert p.checkin.initiated_at < p.created_at < p.checkin.expires_at
        else:
            assert p.location_id is None and re.fullmatch(r"4[57]\*{6}\d\d", p.customer_label)
        assert p.created_by_id == (None if p.auto_capture else demo_user.pk)


def test_seeded_check_ins_have_expired_like_fifteen_minute_tokens(seeded):
    now = timezone.now()
    checkins = list(CheckIn.objects.filter(sales_unit__merchant=seeded).select_related("qr_code", "location"))
    assert len({c.token_digest for c in checkins}) == len(checkins)
    for c in checkins:
        assert c.status == CheckIn.Status.EXPIRED and c.expires_at == c.initiated_at + services.CHECKIN_TTL <= now
        assert c.token_digest == hashlib.sha256(c.customer_token.encode()).hexdigest()  # stored encrypted, decrypts
        assert c.qr_code.location_id == c.location_id and c.merchant_qr_id == c.qr_code.merchant_qr_id
        assert c.created_at == c.initiated_at + timedelta(seconds=1)
        assert c.phone_masked == "" or re.fullmatch(r"4[57]\*{6}\d\d", c.phone_masked)
    with connection.cursor() as cursor:  # the column holds Fernet text, like a token filed from a webhook
        cursor.execute(f"SELECT customer_token FROM {CheckIn._meta.db_table}")
        assert all(value.startswith("gAAAA") for (value,) in cursor.fetchall())
    assert not any(row.waiting for row in selectors.locations_with_checkin_counts(merchant=seeded))


def test_reconciliation_and_the_beat_jobs_leave_the_history_alone(seeded, monkeypatch):
    """Nothing seeded is due: the beat jobs make no Vipps call (the sandbox would answer 404 for all of it)."""

    def no_vipps(*args, **kwargs):
        raise AssertionError("the seeded history must never be sent to or polled at Vipps")

    monkeypatch.setattr("merchant_portal.tenancy.vipps.vipps_client_for", no_vipps)
    monkeypatch.setattr(tasks.send_payment_request, "delay", no_vipps)
    monkeypatch.setattr(tasks.execute_payment_operation, "delay", no_vipps)
    assert services.payments_reconcile(limit=100_000) == 0
    assert services.payment_operations_drain(limit=100_000) == 0
    assert services.checkins_expire() == 0
    tasks.reconcile_payments()
    tasks.drain_payment_operations()
    tasks.expire_checkins()
    later = timezone.now() + timedelta(days=2)  # and nothing becomes due later either
    assert not Payment.objects.filter(next_check_at__isnull=False).exists()
    assert not PaymentOperation.objects.filter(next_attempt_at__lte=later).exists()
    assert not PaymentOperation.objects.exclude(status=PaymentOperation.Status.DONE).exists()
    assert VippsCall.objects.count() == 0


def test_a_second_seed_adds_nothing(seeded, tmp_path):
    counts = (Payment.objects.count(), CheckIn.objects.count(), PaymentOperation.objects.count())
    call_command("seed_demo", sandbox_seed=str(tmp_path / "seed.json"))
    assert (Payment.objects.count(), CheckIn.objects.count(), PaymentOperation.objects.count()) == counts
    assert AuditEntry.objects.filter(action="demo.history_seeded").count() == 1
    assert demo_history_seed(merchant=seeded) is None


def test_no_history_leaves_it_out_and_a_later_seed_adds_it(db, tmp_path):
    call_command("seed_demo", sandbox_seed=str(tmp_path / "seed.json"), no_history=True)
    assert not Payment.objects.exists() and not CheckIn.objects.exists()
    assert not AuditEntry.objects.filter(action="demo.history_seeded").exists()
    call_command("seed_demo", sandbox_seed=str(tmp_path / "seed.json"))
    assert Payment.objects.exists() and CheckIn.objects.exists()


def test_seeding_the_same_moment_twice_writes_the_same_rows(db, tmp_path):
    call_command("seed_demo", sandbox_seed=str(tmp_path / "seed.json"), no_history=True)
    merchant = Merchant.objects.get(slug="demo")
    specs = demo_history_specs(merchant=merchant)
    assert [[loc.vending for loc in unit.locations] for unit in specs] == [[False, True], [False, True]]
    assert [len(loc.qr_codes) for unit in specs for loc in unit.locations] == [2, 4, 2, 4]
    moment = WEDNESDAY_AFTERNOON

    def snapshot():
        return list(
            Payment.objects.order_by("id").values_list("reference", "state", "amount", "captured_amount", "created_at")
        )

    demo_history_seed(merchant=merchant, now=moment)
    first = snapshot()
    Payment.objects.all().delete()
    CheckIn.objects.all().delete()
    demo_history_seed(merchant=merchant, now=moment)
    assert snapshot() == first and len(first) > 500
