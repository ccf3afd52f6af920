"""A week of demo history for `seed_demo`: check-ins and payments shaped like a kiosk's and a bank of vending
machines', so the dashboard has something to show on first start.

`demo_history_rows` is pure (the same sales units, `now` and seed give the same rows); `demo_history_seed` writes
them with a few bulk inserts. The history is local: none of it was ever sent to the Vipps sandbox. So every
payment is in a state that needs no further answer from Vipps (no `next_check_at`, no capturable reservation, no
pending operation) and every check-in has expired, as its 15-minute customerToken would have: reconciliation, the
operations drain and the check-in console never pick any of it up.
"""

import base64
import hashlib
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db import connection, transaction
from django.utils import timezone

from merchant_portal.audit.services import log_action
from payments.models import CheckIn, Payment, PaymentOperation
from payments.services import CHECKIN_TTL, receipt_from_lines
from qrcodes.models import Location, QrCode
from vipps.masking import mask_phone

SEED = 2026
DAYS = 7  # full days before today; today is added up to `now`
BATCH = 500
PAYMENT_TIMEOUT = timedelta(minutes=10)  # a push request nobody answers expires (CONTRACTS §4.4)
# Everything of a check-in (its token, the payment request it led to) is over by then, so a check-in is only
# placed before `now - HISTORY_LAG`.
HISTORY_LAG = CHECKIN_TTL + timedelta(minutes=1)
MIN_TODAY = 3  # check-ins per sales unit today, when the day is old enough to hold them

Kind = PaymentOperation.Kind
State = Payment.State

# Check-ins per sales unit and day (before the weekday factor and noise), kept within 40-150.
DAILY_BASE = {"NOK": 115, "DKK": 80}
DAILY_RANGE = (40, 150)
WEEKDAY_FACTOR = (0.9, 0.95, 1.0, 1.05, 1.2, 1.05, 0.75)  # Monday..Sunday
# The kiosk takes the weekend; the vending machines in the passage live off commuters.
KIOSK_SHARE = (0.5, 0.5, 0.5, 0.5, 0.55, 0.7, 0.68)
# Share of check-ins that lead to a payment request, per kind of location, then per QR code (by position: the
# fourth vending machine's card reader is "the one that never works").
CONVERSION = {"kiosk": 0.55, "vending": 0.85}
QR_CONVERSION_FACTOR = (1.0, 0.78, 0.92, 0.55, 1.05, 0.85)
AMOUNT_RANGE = {"NOK": (2500, 25000), "DKK": (1500, 18000)}  # minor units
PRODUCTS = {  # name, unit price (minor units), VAT %
    "NOK": [
        ("Kaffe", 3900, 15),
        ("Kanelbolle", 3500, 15),
        ("Avis", 4500, 0),
        ("Brus 0,5 l", 3200, 15),
        ("Sjokolade", 2900, 15),
        ("Baguett", 7900, 15),
        ("Pølse i brød", 4900, 15),
        ("Snus", 10900, 25),
        ("Paraply", 14900, 25),
        ("Mobillader", 19900, 25),
    ],
    "DKK": [
        ("Kaffe", 3000, 25),
        ("Wienerbrød", 2500, 25),
        ("Avis", 3000, 0),
        ("Sodavand", 2200, 25),
        ("Chokolade", 1800, 25),
        ("Sandwich", 5500, 25),
        ("Hotdog", 3500, 25),
        ("Øl", 2500, 25),
        ("Paraply", 12000, 25),
        ("Telefonoplader", 14900, 25),
    ],
}
VENDING_PRICES = {"NOK": [2500, 3500, 4500, 5500, 6900], "DKK": [1500, 2000, 2500, 3000, 4000]}
PHONE_DESCRIPTIONS = {
    "NOK": ["Forhåndsbestilling", "Bestilling til henting", "Kake på bestilling"],
    "DKK": ["Forudbestilling", "Bestilling til afhentning", "Kage på bestilling"],
}
# Outcome of a payment request, by where it came from: weights of (aborted by the customer, expired, withdrawn
# by staff before an answer, authorized then cancelled, captured, captured then refunded).
OUTCOMES = ("aborted", "expired", "terminated", "cancelled", "captured", "refunded")
OUTCOME_WEIGHTS = {
    "kiosk": (5, 4, 2, 4, 80, 5),
    "vending": (4, 2, 0, 0, 93, 1),
    "phone": (8, 10, 3, 4, 71, 4),
}


# Input: what the generator needs to know about the merchant's sales units (plain data, so it stays pure).


@dataclass(frozen=True)
class QrSpec:
    id: int
    merchant_qr_id: str


@dataclass(frozen=True)
class LocationSpec:
    id: int
    name: str
    vending: bool
    qr_codes: tuple[QrSpec, ...]


@dataclass(frozen=True)
class UnitSpec:
    id: int
    msn: str
    currency: str
    locations: tuple[LocationSpec, ...]


# Output: rows as the models store them (minor units, aware UTC datetimes, masked phone numbers).


@dataclass
class OperationRow:
    kind: str
    amount: int
    request_token: str
    idempotency_key: str
    created_at: datetime
    done_at: datetime
    by_staff: bool


@dataclass
class CheckInRow:
    unit_id: int
    location_id: int
    qr_id: int
    merchant_qr_id: str
    customer_token: str
    initiated_at: datetime
    phone_masked: str = ""


@dataclass
class PaymentRow:
    unit_id: int
    location_id: int | None
    checkin: CheckInRow | None
    reference: str
    idempotency_key: str
    currency: str
    amount: int
    description: str
    receipt: dict | None
    customer_label: str
    auto_capture: bool
    by_staff: bool
    state: str
    authorized_amount: int
    captured_amount: int
    refunded_amount: int
    cancelled_amount: int
    psp_reference: str
    created_at: datetime
    checked_at: datetime
    updated_at: datetime
    operations: list[OperationRow] = field(default_factory=list)


@dataclass
class DemoHistory:
    checkins: list[CheckInRow]  # oldest first
    payments: list[PaymentRow]  # oldest first, so ids grow with time like live ones


def demo_history_rows(
    *, units: list[UnitSpec], now: datetime, tz: tzinfo, days: int = DAYS, seed: int = SEED
) -> DemoHistory:
    """The check-ins and payments of the `days` days before today and of today until `now` (days in `tz`)."""
    rng = random.Random(seed)
    references: set[tuple[int, str]] = set()
    checkins: list[CheckInRow] = []
    payments: list[PaymentRow] = []
    today = now.astimezone(tz).date()
    for unit in units:
        builder = _UnitHistory(unit=unit, rng=rng, tz=tz, now=now, references=references)
        for offset in range(days, -1, -1):
            builder.day(today - timedelta(days=offset), is_today=offset == 0)
        checkins += builder.checkins
        payments += builder.payments
    checkins.sort(key=lambda c: c.initiated_at)
    payments.sort(key=lambda p: p.created_at)
    return DemoHistory(checkins=checkins, payments=payments)


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-(((hour - centre) / width) ** 2))


def _hour_weight(*, vending: bool, weekday: int, hour: float) -> float:
    """How busy a location is at `hour` (local time): 0 when closed. Rush hours, lunch and the afternoon."""
    if vending:  # open around the clock; quiet at night
        if hour < 6:
            return 0.03
        if weekday < 5:
            return 0.15 + 1.4 * _bump(hour, 7.75, 0.8) + 0.7 * _bump(hour, 12, 1.0) + 1.1 * _bump(hour, 16.25, 1.0)
        return 0.2 + 0.6 * _bump(hour, 14, 3) + 0.4 * _bump(hour, 22, 1.5)
    opening = {5: (9, 20), 6: (10, 18)}.get(weekday, (7, 22))
    if not opening[0] <= hour < opening[1]:
        return 0.0
    if weekday < 5:
        return 0.25 + 1.0 * _bump(hour, 8, 0.9) + 1.3 * _bump(hour, 12.25, 1.0) + 0.9 * _bump(hour, 16.5, 1.2)
    return 0.3 + 1.2 * _bump(hour, 13, 2.2) + 0.5 * _bump(hour, 16.5, 1.5)


SLOT = 15  # minutes


def _slots(*, vending: bool, weekday: int) -> list[tuple[int, float]]:
    """(start minute of the day, weight) of every quarter hour."""
    return [
        (minute, _hour_weight(vending=vending, weekday=weekday, hour=(minute + SLOT / 2) / 60))
        for minute in range(0, 24 * 60, SLOT)
    ]


def _any_time(limit: float) -> list[tuple[int, float]]:
    return [(minute, 1.0) for minute in range(0, 24 * 60, SLOT) if minute < limit]


class _UnitHistory:
    def __init__(self, *, unit: UnitSpec, rng: random.Random, tz: tzinfo, now: datetime, references: set) -> None:
        self.unit, self.rng, self.tz, self.now, self.references = unit, rng, tz, now, references
        self.currency = unit.currency if unit.currency in DAILY_BASE else "NOK"
        self.locations = [location for location in unit.locations if location.qr_codes]
        self.checkins: list[CheckInRow] = []
        self.payments: list[PaymentRow] = []

    # Days ------------------------------------------------------------------------------------------------------

    def day(self, day: date, *, is_today: bool) -> None:
        rng, weekday = self.rng, day.weekday()
        midnight = datetime.combine(day, time.min, tzinfo=self.tz)
        # The last local minute of the day a check-in may start at (today: a check-in's lifetime before now).
        limit = 24 * 60.0
        if is_today:
            limit = min(limit, ((self.now - HISTORY_LAG).astimezone(self.tz) - midnight).total_seconds() / 60)
        total = round(DAILY_BASE[self.currency] * WEEKDAY_FACTOR[weekday] * rng.uniform(0.85, 1.15))
        total = max(DAILY_RANGE[0], min(DAILY_RANGE[1], total))
        shares = [KIOSK_SHARE[weekday] if not loc.vending else 1 - KIOSK_SHARE[weekday] for loc in self.locations]
        placed, before = 0, 0
        for location, cumulative in zip(self.locations, itertools.accumulate(shares), strict=True):
            # Rounded on the running total, so a full day's counts add up to `total` exactly.
            upto = round(total * cumulative / sum(shares))
            count, before = upto - before, upto
            slots = _slots(vending=location.vending, weekday=weekday)
            visible = [(m, w) for m, w in slots if m < limit and w > 0]
            if is_today:  # the share of the day's trade that has happened by now
                count = round(count * sum(w for _, w in visible) / sum(w for _, w in slots))
            placed += self._checkins_at(location, midnight, visible, limit, count)
        if is_today and placed < MIN_TODAY and limit > 0 and self.locations:
            # Early in the morning only the machines are open: a few night owls keep "today" from being empty.
            location = next((loc for loc in self.locations if loc.vending), self.locations[0])
            self._checkins_at(location, midnight, _any_time(limit), limit, MIN_TODAY - placed)
        # Payment requests staff send to a phone number (no check-in), about a tenth of the day's payments.
        phone_window = [(m, w) for m, w in _slots(vending=False, weekday=weekday) if m < limit and w > 0]
        for _ in range(round(total * rng.uniform(0.05, 0.1)) if phone_window else 0):
            self._payment(self._moment(midnight, phone_window, limit), source="phone")
        if is_today and limit > 0 and not any(p.created_at >= midnight for p in self.payments):
            self._payment(
                self._moment(midnight, _any_time(limit), limit),
                source="phone",
                outcome="captured",
            )

    def _moment(self, midnight: datetime, slots: list[tuple[int, float]], limit: float) -> datetime:
        start, _ = self.rng.choices(slots, weights=[w for _, w in slots])[0]
        minute = self.rng.uniform(start, min(start + SLOT, limit))
        # Local wall-clock time to UTC (a time in a DST gap comes out an hour off, which is harmless here).
        return (midnight + timedelta(minutes=minute)).astimezone(UTC).replace(microsecond=0)

    # Check-ins -------------------------------------------------------------------------------------------------

    def _checkins_at(self, location: LocationSpec, midnight, slots, limit: float, count: int) -> int:
        if not slots or count <= 0:
            return 0
        rng = self.rng
        qr_weights = [1 / (i + 1) ** 0.8 for i in range(len(location.qr_codes))]
        for _ in range(count):
            index = rng.choices(range(len(location.qr_codes)), weights=qr_weights)[0]
            qr = location.qr_codes[index]
            checkin = CheckInRow(
                unit_id=self.unit.id,
                location_id=location.id,
                qr_id=qr.id,
                merchant_qr_id=qr.merchant_qr_id,
                customer_token=base64.b64encode(rng.randbytes(48)).decode(),
                initiated_at=self._moment(midnight, slots, limit),
            )
            self.checkins.append(checkin)
            kind = "vending" if location.vending else "kiosk"
            converts = CONVERSION[kind] * QR_CONVERSION_FACTOR[index % len(QR_CONVERSION_FACTOR)]
            if rng.random() < min(0.95, converts):
                delay = rng.uniform(1, 3) if location.vending else rng.uniform(15, 180)
                self._payment(checkin.initiated_at + timedelta(seconds=delay), source=kind, checkin=checkin)
            elif not location.vending and rng.random() < 0.08:
                # Staff asked Vipps for the number (an exchange): only its masked form is kept.
                checkin.phone_masked = mask_phone(self._phone())
        return count

    def _phone(self) -> str:
        if self.currency == "DKK":
            return f"45{self.rng.randint(20000000, 99999999)}"
        return f"47{self.rng.choice('49')}{self.rng.randint(0, 9999999):07d}"

    # Payments --------------------------------------------------------------------------------------------------

    def _basket(self, source: str) -> tuple[int, str, dict | None]:
        rng, currency = self.rng, self.currency
        low, high = AMOUNT_RANGE[currency]
        if source == "vending":
            return rng.choice(VENDING_PRICES[currency]), "", None
        if source == "phone":
            amount = round(rng.triangular(low, high, low + (high - low) / 4) / 100) * 100
            return amount, rng.choice(PHONE_DESCRIPTIONS[currency]), None
        for _ in range(20):  # a basket of one to four items that lands in the range (nearly always at once)
            picks = rng.sample(PRODUCTS[currency], rng.choices((1, 2, 3, 4), weights=(45, 30, 17, 8))[0])
            lines = [
                {"name": name, "quantity": 2 if rng.random() < 0.12 else 1, "unit_price": price, "tax_percentage": tax}
                for name, price, tax in picks
            ]
            receipt = receipt_from_lines(lines=lines, currency=currency)
            if low <= sum(line["total"] for line in receipt["lines"]) <= high:
                break
        else:  # every single item of the catalogue is within the range
            name, price, tax = picks[0]
            lines = [{"name": name, "quantity": 1, "unit_price": price, "tax_percentage": tax}]
            receipt = receipt_from_lines(lines=lines, currency=currency)
        amount = sum(line["total"] for line in receipt["lines"])
        description = ", ".join(line["name"] for line in receipt["lines"])[:100]
        return amount, description, receipt if rng.random() < 0.7 else None

    def _operation(self, kind: str, amount: int, at: datetime, *, auto: bool = False) -> OperationRow:
        rng = self.rng
        return OperationRow(
            kind=kind,
            amount=amount,
            request_token="auto-capture" if auto else f"{rng.getrandbits(128):032x}",
            idempotency_key=f"op-{rng.getrandbits(128):032x}",
            created_at=at,
            done_at=at + timedelta(seconds=rng.uniform(0.2, 1.5)),
            by_staff=not auto,
        )

    def _reference(self, created_at: datetime) -> str:
        while True:  # `<msn>-<yymmdd>-<8 hex>` like payment_reference_new, unique per sales unit
            reference = f"{self.unit.msn}-{created_at:%y%m%d}-{self.rng.getrandbits(32):08x}"
            if (self.unit.id, reference) not in self.references:
                self.references.add((self.unit.id, reference))
                return reference

    def _payment(self, created: datetime, *, source: str, checkin: CheckInRow | None = None, outcome: str = ""):
        rng = self.rng
        amount, description, receipt = self._basket(source)
        location = next((loc for loc in self.locations if checkin and loc.id == checkin.location_id), None)
        if source == "vending":
            description = location.name
        outcome = outcome or rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS[source])[0]
        auto = source == "vending"  # the machines' rule captures as soon as the customer approves

        def seconds(low: float, high: float) -> timedelta:
            return timedelta(seconds=rng.uniform(low, high))

        authorized = captured = refunded = cancelled = 0
        operations: list[OperationRow] = []
        state = State.AUTHORIZED
        if outcome == "aborted":
            state, answered = State.ABORTED, created + seconds(5, 60)
        elif outcome == "expired":
            state, answered = State.EXPIRED, created + PAYMENT_TIMEOUT
        elif outcome == "terminated":
            state = State.TERMINATED
            operations.append(self._operation(Kind.CANCEL, 0, created + seconds(30, 240)))
            answered = operations[-1].done_at
        else:
            authorized, answered = amount, created + seconds(6, 45)
        checked = answered + seconds(0.5, 2)  # the GET that Vipps' webhook (or the answer to a cancel) led to
        if outcome == "cancelled":
            cancelled = amount
            operations.append(self._operation(Kind.CANCEL, 0, answered + seconds(20, 600)))
        elif outcome in ("captured", "refunded"):
            captured = amount
            # Auto-capture follows the GET that saw the authorization; staff press Capture a little later.
            at = checked + seconds(0.1, 1) if auto else answered + seconds(5, 120)
            operations.append(self._operation(Kind.CAPTURE, amount, at, auto=auto))
            refund_at = operations[-1].done_at + seconds(300, 30 * 3600)
            if outcome == "refunded" and refund_at < self.now - timedelta(minutes=1):
                refunded = amount if auto else self._partial_refund(amount, receipt)
                operations.append(self._operation(Kind.REFUND, refunded, refund_at))
        last = max([checked, *(op.done_at for op in operations)])
        if last > self.now - timedelta(seconds=30):
            return None  # would still be under way: history only holds what is over
        payment = PaymentRow(
            unit_id=self.unit.id,
            location_id=checkin.location_id if checkin else None,
            checkin=checkin,
            reference=(reference := self._reference(created)),
            idempotency_key="pay-" + hashlib.sha256(f"{self.unit.id}:demo:{reference}".encode()).hexdigest()[:40],
            currency=self.currency,
            amount=amount,
            description=description,
            receipt=receipt,
            customer_label="check-in" if checkin else mask_phone(self._phone()),
            auto_capture=auto,
            by_staff=not auto,
            state=state,
            authorized_amount=authorized,
            captured_amount=captured,
            refunded_amount=refunded,
            cancelled_amount=cancelled,
            psp_reference=str(10**17 + rng.randrange(9 * 10**17)),
            created_at=created,
            checked_at=checked,
            updated_at=last,
            operations=operations,
        )
        self.payments.append(payment)
        return payment

    def _partial_refund(self, amount: int, receipt: dict | None) -> int:
        if receipt and len(receipt["lines"]) > 1:  # one item brought back
            return self.rng.choice(receipt["lines"])["total"]
        return max(100, min(amount - 100, round(amount * self.rng.uniform(0.2, 0.6) / 100) * 100))


# Writing -----------------------------------------------------------------------------------------------------


def demo_history_specs(*, merchant) -> list[UnitSpec]:
    codes = QrCode.objects.filter(sales_unit__merchant=merchant).order_by("merchant_qr_id", "pk")
    by_location: dict[int, list[QrCode]] = {}
    for code in codes:
        by_location.setdefault(code.location_id, []).append(code)
    units = []
    for unit in merchant.sales_units.order_by("msn", "pk"):
        locations = []
        for location in Location.objects.filter(sales_unit=unit).order_by("pk"):
            qr_codes = by_location.get(location.pk, [])
            vending = bool(qr_codes) and all(code.category == QrCode.Category.VENDING for code in qr_codes)
            specs = tuple(QrSpec(id=code.pk, merchant_qr_id=code.merchant_qr_id) for code in qr_codes)
            locations.append(LocationSpec(id=location.pk, name=location.name, vending=vending, qr_codes=specs))
        units.append(UnitSpec(id=unit.pk, msn=unit.msn, currency=unit.currency, locations=tuple(locations)))
    return units


def demo_history_seed(*, merchant, staff=None, now: datetime | None = None, seed: int = SEED) -> dict | None:
    """Write a week of history for a merchant that has none yet (no payments, no check-ins); None otherwise.
    Staff-made payments and operations are credited to `staff`. One audit entry covers it all."""
    if (
        Payment.objects.filter(merchant=merchant).exists()
        or CheckIn.objects.filter(sales_unit__merchant=merchant).exists()
    ):
        return None
    now = now or timezone.now()
    history = demo_history_rows(
        units=demo_history_specs(merchant=merchant), now=now, tz=timezone.get_default_timezone(), seed=seed
    )
    with transaction.atomic():
        checkins = {
            id(row): CheckIn(
                sales_unit_id=row.unit_id,
                location_id=row.location_id,
                qr_code_id=row.qr_id,
                source=CheckIn.Source.QR,
                merchant_qr_id=row.merchant_qr_id,
                customer_token=row.customer_token,
                token_digest=hashlib.sha256(row.customer_token.encode()).hexdigest(),
                initiated_at=row.initiated_at,
                expires_at=row.initiated_at + CHECKIN_TTL,
                status=CheckIn.Status.EXPIRED,
                phone_masked=row.phone_masked,
            )
            for row in history.checkins
        }
        # Both backends (PostgreSQL, SQLite >= 3.35) return the new ids from a bulk insert.
        CheckIn.objects.bulk_create(checkins.values(), batch_size=BATCH)
        # auto_now_add wrote "now" on insert: when the webhook was filed instead.
        _set_column(
            CheckIn,
            "created_at",
            [(checkins[id(r)].pk, r.initiated_at + timedelta(seconds=1)) for r in history.checkins],
        )

        staff_id = getattr(staff, "pk", None)
        payments = [
            Payment(
                merchant_id=merchant.pk,
                sales_unit_id=row.unit_id,
                location_id=row.location_id,
                checkin=checkins[id(row.checkin)] if row.checkin else None,
                reference=row.reference,
                idempotency_key=row.idempotency_key,
                currency=row.currency,
                amount=row.amount,
                description=row.description,
                receipt=row.receipt,
                customer="",  # dropped once Vipps had the request
                customer_label=row.customer_label,
                auto_capture=row.auto_capture,
                sending=Payment.Sending.SENT,
                state=row.state,
                authorized_amount=row.authorized_amount,
                captured_amount=row.captured_amount,
                refunded_amount=row.refunded_amount,
                cancelled_amount=row.cancelled_amount,
                psp_reference=row.psp_reference,
                created_by_id=staff_id if row.by_staff else None,
                created_at=row.created_at,
                checked_at=row.checked_at,
                next_check_at=None,  # nothing left to ask Vipps: never polled
            )
            for row in history.payments
        ]
        Payment.objects.bulk_create(payments, batch_size=BATCH)
        _set_column(
            Payment, "updated_at", [(p.pk, row.updated_at) for p, row in zip(payments, history.payments, strict=True)]
        )

        operations, requested = [], []
        for payment, row in zip(payments, history.payments, strict=True):
            for op in row.operations:
                operations.append(
                    PaymentOperation(
                        payment=payment,
                        kind=op.kind,
                        amount=op.amount,
                        request_token=op.request_token,
                        idempotency_key=op.idempotency_key,
                        status=PaymentOperation.Status.DONE,
                        attempts=1,
                        next_attempt_at=None,
                        requested_by_id=staff_id if op.by_staff else None,
                        done_at=op.done_at,
                    )
                )
                requested.append(op.created_at)
        PaymentOperation.objects.bulk_create(operations, batch_size=BATCH)
        _set_column(PaymentOperation, "created_at", [(op.pk, at) for op, at in zip(operations, requested, strict=True)])

        counts = {"check_ins": len(checkins), "payments": len(payments), "operations": len(operations)}
        first = min([c.initiated_at for c in history.checkins] + [p.created_at for p in history.payments], default=now)
        log_action(
            merchant=merchant,
            actor=None,
            action="demo.history_seeded",
            data={**counts, "from": first.isoformat(), "to": now.isoformat(), "seed": seed},
        )
    return counts


def _set_column(model, name: str, values: list[tuple[int, object]]) -> None:
    """Write one column of many rows (pk, value) in one prepared statement: the timestamps `auto_now(_add)`
    overwrote on insert. `bulk_update` would build a CASE over every row, several times slower."""
    field = model._meta.get_field(name)
    quote, meta = connection.ops.quote_name, model._meta
    # Only identifiers of our own models are interpolated; the values are parameters.
    sql = f"UPDATE {quote(meta.db_table)} SET {quote(field.column)} = %s WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(field.get_db_prep_save(value, connection), pk) for pk, value in values])
