"""The merchant dashboard: the period, the chart geometry (pure) and the assembly of the selectors' reads.

The geometry is numbers for the browser: templates/tenancy/_bar_chart.html writes every one through `|machine`
("67.5", never the "67,5" of nb, da and fi, which an SVG attribute cannot hold).

A day is a calendar day in settings.TIME_ZONE (the portal's one time zone; merchants are in Norway, Denmark and
Finland and the portal shows every time in it). "Today" is [local midnight, next local midnight).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.numbers import format_percent
from django.conf import settings
from django.utils import formats, timezone

from merchant_portal.core.i18n import babel_locale
from payments import selectors as payment_selectors
from qrcodes.selectors import qr_setup_for_merchant
from webhooks_app.selectors import webhook_health_by_sales_unit

from .models import Merchant

PERIOD_DAYS = {"today": 1, "7d": 7, "30d": 30}
DEFAULT_PERIOD = "today"
FUNNEL_TOP = 8


@dataclass(frozen=True)
class Period:
    name: str
    start: datetime  # aware, local midnight of the first day
    end: datetime  # aware, local midnight after the last day (exclusive)
    step: str  # "hour" | "day": the chart's buckets
    tz: ZoneInfo
    days: tuple[date, ...]

    def buckets(self) -> list[datetime]:
        """Each bucket's start, aware in `tz`. Hours follow the wall clock: a day that changes to summer time has
        23 of them; the repeated hour of the change back is one bucket (24)."""
        if self.step == "day":
            return [datetime.combine(d, time.min, tzinfo=self.tz) for d in self.days]
        seen, out = set(), []
        moment = self.start.astimezone(ZoneInfo("UTC"))
        while moment < self.end:
            local = moment.astimezone(self.tz)
            key = local.replace(tzinfo=None, minute=0, second=0, microsecond=0)
            if key not in seen:
                seen.add(key)
                out.append(key.replace(tzinfo=self.tz))
            moment += timedelta(hours=1)
        return out

    def key(self, moment: datetime):
        """The bucket a truncated database value belongs to (a naive local hour, or a date)."""
        local = moment.astimezone(self.tz) if timezone.is_aware(moment) else moment
        return local.date() if self.step == "day" else local.replace(tzinfo=None, minute=0, second=0, microsecond=0)


def dashboard_period(name: str | None, *, now: datetime | None = None) -> Period:
    """The period named by the `period` query parameter; anything unknown is today (never an error)."""
    name = name if name in PERIOD_DAYS else DEFAULT_PERIOD
    tz = ZoneInfo(settings.TIME_ZONE)
    today = (now or timezone.now()).astimezone(tz).date()
    days = tuple(today - timedelta(days=n) for n in reversed(range(PERIOD_DAYS[name])))
    start = datetime.combine(days[0], time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    return Period(name=name, start=start, end=end, step="hour" if name == "today" else "day", tz=tz, days=days)


# Chart geometry -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class AxisLabel:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    top_value: int
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[AxisLabel] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def tick_label_x(self) -> float:
        """Where the y labels end (right-aligned), just left of the plot."""
        return self.left - 6

    @property
    def axis_label_y(self) -> float:
        """The baseline of the x labels, under the axis."""
        return self.bottom + 16


def nice_ceiling(value: float, *, minimum: int = 1) -> tuple[int, int]:
    """The axis top and tick step: the smallest 1/2/5 × 10ⁿ step that covers `value` in at most 4 steps."""
    value = max(value, minimum)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * 4 >= value and step >= minimum / 4:
                top = step * -(-value // step)  # ceil
                return int(top), int(step)
        magnitude *= 10


def bar_chart(
    *,
    values: Sequence[int],
    labels: Sequence[str],
    axis_labels: Sequence[str] | None = None,
    width: int = 640,
    height: int = 220,
    margin: tuple[int, int, int, int] = (12, 12, 28, 64),  # top, right, bottom, left (room for the y labels)
    max_x_labels: int = 12,
    minimum_top: int = 1,
) -> BarChart:
    """Where the bars, the y ticks and the x labels of a bar chart go in a `width` × `height` SVG viewBox (pure).

    `labels` name each bar (its <title>); `axis_labels` (default `labels`) are the short texts under the axis, of
    which at most `max_x_labels` evenly spaced ones are kept.
    """
    if len(values) != len(labels):
        raise ValueError("one label per value")
    axis_labels = list(axis_labels if axis_labels is not None else labels)
    m_top, m_right, m_bottom, m_left = margin
    left, top, right, bottom = m_left, m_top, width - m_right, height - m_bottom
    top_value, step = nice_ceiling(max(values, default=0), minimum=minimum_top)
    plot_w, plot_h = right - left, bottom - top
    n = len(values)
    slot = plot_w / n if n else plot_w
    bar_w = slot * 0.7
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = plot_h * value / top_value
        bars.append(
            Bar(
                x=round(left + i * slot + (slot - bar_w) / 2, 1),
                y=round(bottom - h, 1),
                width=round(bar_w, 1),
                height=round(h, 1),
                value=value,
                label=label,
            )
        )
    ticks = [Tick(y=round(bottom - plot_h * v / top_value, 1), value=v) for v in range(0, top_value + 1, step)]
    every = max(1, -(-n // max_x_labels))  # ceil
    x_labels = [AxisLabel(x=round(left + i * slot + slot / 2, 1), text=axis_labels[i]) for i in range(0, n, every)]
    return BarChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        top_value=top_value,
        bars=bars,
        ticks=ticks,
        x_labels=x_labels,
    )


# Assembly -----------------------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percent(rate: float | None) -> str:
    """A share in the active language ("45 %" in Norwegian, "45%" in English); "" when there is no whole."""
    if rate is None:
        return ""
    return format_percent(rate, locale=babel_locale())


def funnel_rows(rows: list[dict], *, key: str, top: int = FUNNEL_TOP) -> dict:
    """The funnel table: the `top` groups by check-ins (then authorized, then name), the rest summed into one row,
    rates as shares of the check-ins, captured amounts per currency."""

    def name(row):
        return str(row.get("qr_code__merchant_qr_id") or row.get("location__name") or "")

    rows = sorted(rows, key=lambda r: (-r["checkins"], -r["authorized"], name(r)))
    shown, rest = rows[:top], rows[top:]
    for row in shown:
        row["key"] = row[key]
        row["amounts"] = [(row["currency"], row["captured_amount"])] if row["captured_amount"] else []
    other = None
    if rest:
        amounts: dict[str, int] = {}
        for row in rest:
            if row["captured_amount"]:
                amounts[row["currency"]] = amounts.get(row["currency"], 0) + row["captured_amount"]
        other = {
            "count": len(rest),
            "checkins": sum(r["checkins"] for r in rest),
            "authorized": sum(r["authorized"] for r in rest),
            "captured": sum(r["captured"] for r in rest),
            "amounts": sorted(amounts.items()),
        }
    for row in [*shown, *([other] if other else [])]:
        row["authorized_rate"] = percent(_rate(row["authorized"], row["checkins"]))
        row["captured_rate"] = percent(_rate(row["captured"], row["checkins"]))
    return {"rows": shown, "other": other}


def _hour_label(start: datetime) -> str:
    return formats.date_format(start, "H")


def _charts(*, merchant: Merchant, period: Period, currencies: list[str]) -> dict:
    buckets = period.buckets()
    keys = [period.key(b) for b in buckets]
    if period.step == "hour":
        labels = [
            f"{formats.time_format(b, 'H:i')}–{formats.time_format(b + timedelta(hours=1), 'H:i')}" for b in buckets
        ]
        axis = [_hour_label(b) for b in buckets]
    else:
        labels = [formats.date_format(b, "DATE_FORMAT") for b in buckets]
        # Short under the axis ("29. nov.", "29.11.", "29 Nov"): Django's "29. november" ran into its neighbour.
        axis = [format_skeleton("MMMd", b.date(), locale=babel_locale()) for b in buckets]
    checkins = dict.fromkeys(keys, 0)
    rows = payment_selectors.checkin_counts_by_bucket(
        merchant=merchant, start=period.start, end=period.end, step=period.step, tz=period.tz
    )
    for bucket, count in rows:
        k = period.key(bucket)
        if k in checkins:
            checkins[k] += count
    captured: dict[str, dict] = {c: dict.fromkeys(keys, 0) for c in currencies}
    rows = payment_selectors.payment_captured_by_bucket(
        merchant=merchant, start=period.start, end=period.end, step=period.step, tz=period.tz
    )
    for bucket, currency, amount in rows:
        series = captured.setdefault(currency, dict.fromkeys(keys, 0))
        k = period.key(bucket)
        if k in series:
            series[k] += amount
    max_labels = 12 if period.step == "hour" else 8

    def table(values):
        return [{"label": label, "value": v} for label, v in zip(labels, values, strict=True)]

    check_values = list(checkins.values())
    return {
        "checkins": {
            "chart": bar_chart(values=check_values, labels=labels, axis_labels=axis, max_x_labels=max_labels),
            "table": table(check_values),
        },
        "captured": [
            {
                "currency": currency,
                "chart": bar_chart(
                    values=list(series.values()),
                    labels=labels,
                    axis_labels=axis,
                    max_x_labels=max_labels,
                    minimum_top=100,
                    margin=(12, 12, 28, 96),
                ),
                "table": table(list(series.values())),
            }
            for currency, series in sorted(captured.items())
        ],
    }


def dashboard_live(*, merchant: Merchant, period: Period) -> dict:
    """Everything the refreshed part of the dashboard shows (a constant number of queries: 8)."""
    window = {"merchant": merchant, "start": period.start, "end": period.end}
    totals = payment_selectors.payment_totals_by_currency(**window)
    by_location = payment_selectors.checkin_funnel_by_location(**window)
    by_qr_code = payment_selectors.checkin_funnel_by_qr_code(**window)
    health = webhook_health_by_sales_unit(merchant=merchant)
    unit_currencies = {h.sales_unit.currency for h in health}
    currencies = sorted(unit_currencies | {t["currency"] for t in totals})
    no_checkin = {
        "created": sum(t["no_checkin_created"] for t in totals),
        "authorized": sum(t["no_checkin_authorized"] for t in totals),
        "captured": sum(t["no_checkin_captured"] for t in totals),
        "amounts": [(t["currency"], t["no_checkin_captured_total"]) for t in totals if t["no_checkin_captured_total"]],
    }
    created = sum(t["created"] for t in totals)
    authorized = sum(t["authorized"] for t in totals)
    return {
        "period": period,
        "now": timezone.now(),
        "stats": {
            "checkins": sum(r["checkins"] for r in by_location),
            "created": created,
            "authorized": authorized,
            "captured": sum(t["captured"] for t in totals),
            "authorized_rate": percent(_rate(authorized, created)),
        },
        "totals": totals,
        "funnel_location": funnel_rows(by_location, key="location_id"),
        "funnel_qr_code": funnel_rows(by_qr_code, key="qr_code_id"),
        "no_checkin": no_checkin if no_checkin["created"] else None,
        "charts": _charts(merchant=merchant, period=period, currencies=currencies),
        "health": health,
        "setup": qr_setup_for_merchant(merchant=merchant),
    }
