"""The merchant dashboard: numbers, conversion, chart geometry, webhook health, query count, the live partial.

The dataset is built at known local wall-clock times of today (settings.TIME_ZONE), with rows one minute either
side of last midnight, two currencies, a refund, a cancellation after authorization, a payment asked of a phone
number, and another merchant's rows that must never count.
"""

import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from merchant_portal.tenancy.dashboard import bar_chart, dashboard_live, dashboard_period, funnel_rows, nice_ceiling
from merchant_portal.tenancy.models import Currency, Market
from merchant_portal.tenancy.roles import Role
from payments.models import Payment
from tests.conftest import client_for
from tests.factories import (
    CheckInFactory,
    LocationFactory,
    PaymentFactory,
    QrCodeFactory,
    SalesUnitFactory,
    WebhookEventFactory,
)
from webhooks_app import events as ev
from webhooks_app.models import WebhookEvent, WebhookSubscription, WebhookSync
from webhooks_app.selectors import webhook_health_by_sales_unit, webhook_health_classify

AUTHORIZED = Payment.State.AUTHORIZED


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time `day_offset` days from today in the portal's time zone."""
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.now().astimezone(tz).date()
    return datetime.combine(today + timedelta(days=day_offset), time(hour, minute), tzinfo=tz)


def dashboard(client, merchant, **params):
    return client.get(reverse("dashboard", kwargs={"merchant_slug": merchant.slug}), params)


@pytest.fixture
def shop(acme, acme_unit):
    """acme with a NOK and a DKK sales unit, three locations, four QR codes, and today's traffic."""
    dk_unit = SalesUnitFactory(merchant=acme, name="Acme København", msn="334455", market=Market.DENMARK)
    dk_unit.currency = Currency.DKK
    dk_unit.save()
    torget = LocationFactory(sales_unit=acme_unit, name="Kiosk Torget")
    bryggen = LocationFactory(sales_unit=acme_unit, name="Kiosk Bryggen")
    kbh = LocationFactory(sales_unit=dk_unit, name="København")
    kiosk1 = QrCodeFactory(location=torget, merchant_qr_id="kiosk-1")
    kiosk2 = QrCodeFactory(location=torget, merchant_qr_id="kiosk-2")
    bryggen1 = QrCodeFactory(location=bryggen, merchant_qr_id="bryggen-1")
    kbh1 = QrCodeFactory(location=kbh, merchant_qr_id="kbh-1")

    # Yesterday, one minute before midnight: in "7 days", never in "today".
    c0 = CheckInFactory(qr_code=kiosk1, initiated_at=local(0, 0) - timedelta(minutes=1))
    PaymentFactory(checkin=c0, created_at=c0.initiated_at, state=AUTHORIZED, authorized_amount=700, captured_amount=700)
    PaymentFactory(
        sales_unit=acme_unit,
        created_at=local(0, 0) - timedelta(minutes=1),
        state=AUTHORIZED,
        authorized_amount=99_900,
        captured_amount=99_900,
    )
    # Today.
    c1 = CheckInFactory(qr_code=kiosk1, initiated_at=local(0, 0, 1))  # one minute after midnight
    c2 = CheckInFactory(qr_code=kiosk1, initiated_at=local(0, 10, 15))
    c3 = CheckInFactory(qr_code=kiosk1, initiated_at=local(0, 10, 45))
    c4 = CheckInFactory(qr_code=kiosk2, initiated_at=local(0, 12))
    CheckInFactory(qr_code=bryggen1, initiated_at=local(0, 13))
    c6 = CheckInFactory(qr_code=kbh1, initiated_at=local(0, 14))
    CheckInFactory(qr_code=kbh1, initiated_at=local(0, 14, 30))
    at = {"created_at": local(0, 0, 2)}
    # Captured in full, then a quarter refunded.
    PaymentFactory(
        checkin=c1,
        amount=10_000,
        state=AUTHORIZED,
        authorized_amount=10_000,
        captured_amount=10_000,
        refunded_amount=2_500,
        **at,
    )
    PaymentFactory(checkin=c2, amount=5_000, state=AUTHORIZED, authorized_amount=5_000, **at)  # not captured yet
    PaymentFactory(checkin=c3, state=Payment.State.ABORTED, **at)  # the customer said no
    # Authorized, then cancelled: TERMINATED, but it did reach AUTHORIZED.
    PaymentFactory(
        checkin=c4,
        amount=3_000,
        state=Payment.State.TERMINATED,
        authorized_amount=3_000,
        cancelled_amount=3_000,
        **at,
    )
    PaymentFactory(checkin=c6, amount=20_000, state=AUTHORIZED, authorized_amount=20_000, captured_amount=20_000, **at)
    # Asked of a phone number: no check-in, no location.
    PaymentFactory(
        sales_unit=acme_unit, amount=4_000, state=AUTHORIZED, authorized_amount=4_000, captured_amount=4_000, **at
    )
    return {"dk_unit": dk_unit, "torget": torget, "bryggen": bryggen, "kbh": kbh, "kiosk1": kiosk1, "kiosk2": kiosk2}


@pytest.fixture
def others_traffic(other, other_unit):
    """The outsider's check-ins and payments today: none of it may show on acme's dashboard."""
    code = QrCodeFactory(location=LocationFactory(sales_unit=other_unit, name="Elsewhere"), merchant_qr_id="else-1")
    for _ in range(3):
        checkin = CheckInFactory(qr_code=code, initiated_at=local(0, 11))
        PaymentFactory(
            checkin=checkin,
            created_at=local(0, 11),
            state=AUTHORIZED,
            authorized_amount=777_700,
            captured_amount=777_700,
        )


def test_todays_numbers_are_counted_in_the_local_day_per_currency(shop, others_traffic, alice, acme):
    response = dashboard(client_for(alice), acme)
    assert response.status_code == 200
    ctx = response.context
    assert ctx["period"].name == "today"
    assert ctx["stats"]["checkins"] == 7
    assert ctx["stats"]["created"] == 6
    assert ctx["stats"]["authorized"] == 5  # the aborted one never was; the cancelled one was
    assert ctx["stats"]["captured"] == 3
    totals = {t["currency"]: t for t in ctx["totals"]}
    assert set(totals) == {"NOK", "DKK"}
    nok, dkk = totals["NOK"], totals["DKK"]
    assert (nok["authorized_total"], nok["captured_total"], nok["refunded_total"], nok["net_total"]) == (
        22_000,
        14_000,
        2_500,
        11_500,
    )
    assert (dkk["authorized_total"], dkk["captured_total"], dkk["refunded_total"], dkk["net_total"]) == (
        20_000,
        20_000,
        0,
        20_000,
    )
    page = response.content.decode()
    assert 'data-testid="stat-checkins-value">7<' in page
    assert 'data-testid="amounts-NOK"' in page and 'data-testid="amounts-DKK"' in page
    assert "7777" not in page  # the outsider's amount, in any format


def test_seven_days_include_yesterday_just_before_midnight(shop, alice, acme):
    ctx = dashboard(client_for(alice), acme, period="7d").context
    assert ctx["period"].name == "7d" and ctx["period"].step == "day"
    assert ctx["stats"]["checkins"] == 8
    assert ctx["stats"]["created"] == 8
    nok = next(t for t in ctx["totals"] if t["currency"] == "NOK")
    assert nok["captured_total"] == 14_000 + 700 + 99_900


def test_the_day_boundary_is_local_midnight_not_utc(acme, acme_unit):
    tz = ZoneInfo(settings.TIME_ZONE)
    # 22:30 UTC on 14 January is 23:30 in Oslo: still the 14th; 23:30 UTC is 00:30 on the 15th.
    period = dashboard_period("today", now=datetime(2026, 1, 14, 22, 30, tzinfo=UTC))
    assert period.start == datetime(2026, 1, 14, tzinfo=tz) and period.end == datetime(2026, 1, 15, tzinfo=tz)
    assert dashboard_period("today", now=datetime(2026, 1, 14, 23, 30, tzinfo=UTC)).start.day == 15
    assert len(period.buckets()) == 24
    # Summer time starts on 29 March 2026 (23 hours) and ends on 25 October 2026 (the repeated hour is one bucket).
    assert len(dashboard_period("today", now=datetime(2026, 3, 29, 12, tzinfo=UTC)).buckets()) == 23
    assert len(dashboard_period("today", now=datetime(2026, 10, 25, 12, tzinfo=UTC)).buckets()) == 24
    month = dashboard_period("30d", now=datetime(2026, 1, 14, 12, tzinfo=UTC))
    assert len(month.buckets()) == 30 and month.start == datetime(2025, 12, 16, tzinfo=tz)


@pytest.mark.parametrize("bad", ["yesterday", "", "1d", "7D", "' OR 1=1 --", "today\x00"])
def test_an_unknown_period_is_today_never_an_error(bad, shop, alice, acme):
    client = client_for(alice)
    response = dashboard(client, acme, period=bad)
    assert response.status_code == 200
    assert response.context["period"].name == "today"
    assert 'data-testid="period-today" aria-current="page"' in response.content.decode()
    live = client.get(reverse("dashboard_live", kwargs={"merchant_slug": acme.slug}), {"period": bad})
    assert live.status_code == 200 and live.context["period"].name == "today"


def test_conversion_per_location_and_per_qr_code(shop, others_traffic, alice, acme):
    ctx = dashboard(client_for(alice), acme).context
    rows = {r["location__name"]: r for r in ctx["funnel_location"]["rows"]}
    assert list(rows) == ["Kiosk Torget", "København", "Kiosk Bryggen"]  # by check-ins, most first
    torget = rows["Kiosk Torget"]
    assert (torget["checkins"], torget["authorized"], torget["captured"]) == (4, 3, 1)
    assert (torget["authorized_rate"], torget["captured_rate"]) == ("75%", "25%")
    assert torget["amounts"] == [("NOK", 10_000)]
    assert rows["København"]["amounts"] == [("DKK", 20_000)]
    assert (rows["København"]["authorized"], rows["København"]["captured_rate"]) == (1, "50%")
    assert (rows["Kiosk Bryggen"]["authorized"], rows["Kiosk Bryggen"]["authorized_rate"]) == (0, "0%")
    codes = {
        r["qr_code__merchant_qr_id"]: (r["checkins"], r["authorized"], r["captured"])
        for r in ctx["funnel_qr_code"]["rows"]
    }
    assert codes == {"kiosk-1": (3, 2, 1), "kiosk-2": (1, 1, 0), "kbh-1": (2, 1, 1), "bryggen-1": (1, 0, 0)}
    assert ctx["no_checkin"] == {"created": 1, "authorized": 1, "captured": 1, "amounts": [("NOK", 4_000)]}
    page = dashboard(client_for(alice), acme).content.decode()
    assert 'data-testid="funnel-location-no-checkin"' in page and "No check-in" in page
    assert "Elsewhere" not in page and "else-1" not in page


def test_the_funnel_keeps_the_top_locations_and_sums_the_rest():
    def row(name, checkins, authorized, captured, currency="NOK", amount=0):
        return {
            "location_id": name,
            "location__name": name,
            "currency": currency,
            "checkins": checkins,
            "authorized": authorized,
            "captured": captured,
            "captured_amount": amount,
        }

    rows = [
        row("a", 1, 1, 0),
        row("b", 10, 5, 2, amount=500),
        row("c", 4, 2, 1, "DKK", 300),
        row("d", 4, 1, 1, amount=7),
    ]
    with translation.override("en"):
        funnel = funnel_rows(rows, key="location_id", top=2)
    assert [r["key"] for r in funnel["rows"]] == ["b", "c"]
    assert funnel["rows"][0]["authorized_rate"] == "50%" and funnel["rows"][0]["captured_rate"] == "20%"
    other = funnel["other"]
    assert (other["count"], other["checkins"], other["authorized"], other["captured"]) == (2, 5, 2, 1)
    assert other["amounts"] == [("NOK", 7)] and other["authorized_rate"] == "40%"
    assert funnel_rows([], key="location_id") == {"rows": [], "other": None}
    with translation.override("nb"):
        assert funnel_rows(rows, key="location_id", top=2)["rows"][0]["authorized_rate"] == "50\xa0%"


def test_nice_axis_tops():
    assert nice_ceiling(0) == (1, 1)
    assert nice_ceiling(7) == (8, 2)
    assert nice_ceiling(100) == (100, 50)
    assert nice_ceiling(123_456) == (150_000, 50_000)
    assert nice_ceiling(0, minimum=100) == (100, 50)


def test_bar_chart_geometry():
    chart = bar_chart(
        values=[0, 5, 10, 2], labels=["a", "b", "c", "d"], width=400, height=200, margin=(10, 0, 30, 40), max_x_labels=2
    )
    # The plot is x 40..400, y 10..170; the top of the axis is 10 (ticks every 5).
    assert (chart.left, chart.right, chart.top, chart.bottom, chart.top_value) == (40, 400, 10, 170, 10)
    assert [t.value for t in chart.ticks] == [0, 5, 10]
    assert [t.y for t in chart.ticks] == [170, 90, 10]
    tallest = chart.bars[2]
    assert (tallest.y, tallest.height, tallest.value, tallest.label) == (10, 160, 10, "c")
    assert chart.bars[1].height == 80 and chart.bars[0].height == 0 and chart.bars[0].y == 170
    # Four slots of 90 px, bars 70 % of a slot, centred in it.
    assert [b.x for b in chart.bars] == [53.5, 143.5, 233.5, 323.5] and chart.bars[0].width == 63
    assert [(lbl.x, lbl.text) for lbl in chart.x_labels] == [(85, "a"), (265, "c")]
    assert not chart.empty and bar_chart(values=[0, 0], labels=["x", "y"]).empty
    with pytest.raises(ValueError):
        bar_chart(values=[1], labels=[])


def test_the_chart_shows_check_ins_and_captured_amounts_per_hour(shop, alice, acme):
    response = dashboard(client_for(alice), acme)
    charts = response.context["charts"]
    by_hour = {b.label.split("–")[0]: b.value for b in charts["checkins"]["chart"].bars}
    assert (by_hour["00:00"], by_hour["10:00"], by_hour["12:00"], by_hour["14:00"], by_hour["09:00"]) == (1, 2, 1, 2, 0)
    assert sum(by_hour.values()) == 7
    captured = {series["currency"]: series for series in charts["captured"]}
    assert set(captured) == {"DKK", "NOK"}
    assert {b.label.split("–")[0]: b.value for b in captured["NOK"]["chart"].bars}["00:00"] == 14_000
    page = response.content.decode()
    assert 'data-testid="chart-checkins-svg"' in page and "<title" in page
    assert 'data-testid="chart-checkins-table"' in page and 'data-testid="chart-captured-NOK-svg"' in page


def test_the_chart_per_day_over_30_days(shop, alice, acme):
    ctx = dashboard(client_for(alice), acme, period="30d").context
    bars = ctx["charts"]["checkins"]["chart"].bars
    assert len(bars) == 30 and [b.value for b in bars[-2:]] == [1, 7]


class ChartBars(HTMLParser):
    """The bars of each chart on a page: {chart testid: [(x, y, width, height, value), ...]} as written."""

    def __init__(self):
        super().__init__()
        self.charts: dict[str, list[tuple[str, ...]]] = {}
        self._chart = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and "bar-chart" in (attrs.get("class") or ""):
            self._chart = self.charts.setdefault(attrs["data-testid"], [])
        elif tag == "rect" and self._chart is not None:
            self._chart.append(tuple(attrs[a] for a in ("x", "y", "width", "height", "data-value")))

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None


def chart_bars(page: str) -> dict[str, list[tuple[str, ...]]]:
    parser = ChartBars()
    parser.feed(page)
    return parser.charts


@pytest.mark.parametrize("period", ["today", "30d"])
def test_the_charts_draw_their_bars_in_every_language(period, shop, alice, acme):
    """In nb, da and fi a decimal comma (x="67,5") once left every chart blank: SVG cannot read it."""
    client = client_for(alice)
    english = chart_bars(dashboard(client, acme, period=period).content.decode())
    assert set(english) == {"chart-checkins-svg", "chart-captured-DKK-svg", "chart-captured-NOK-svg"}
    for language in ("nb", "da", "fi"):
        page = client.get(
            reverse("dashboard", kwargs={"merchant_slug": acme.slug}), {"period": period}, HTTP_ACCEPT_LANGUAGE=language
        )
        assert page["Content-Language"] == language
        charts = chart_bars(page.content.decode())
        assert charts == english, language  # geometry is for the browser: the same in every language
        for chart, bars in charts.items():
            assert bars and any(float(value) for *_, value in bars), chart
            for x, y, width, height, value in bars:
                assert all(re.fullmatch(r"\d+(\.\d+)?", n) for n in (x, y, width, height, value)), (chart, x, y)
                assert float(width) > 0 and (float(height) > 0) == (int(value) > 0), (chart, value, height)


@pytest.mark.parametrize(
    ("language", "label"), [("en", "2 Nov"), ("nb", "2. nov."), ("da", "2. nov."), ("fi", "2.11.")]
)
def test_the_days_under_the_axis_are_short_in_every_language(language, label, acme):
    """Django's "2. november" under each of 30 bars ran into its neighbours."""
    period = dashboard_period("30d", now=datetime(2026, 12, 1, 12, tzinfo=UTC))
    with translation.override(language):
        chart = dashboard_live(merchant=acme, period=period)["charts"]["checkins"]["chart"]
    assert chart.x_labels[0].text == label and all(len(x.text) <= 8 for x in chart.x_labels)


# Webhook health ------------------------------------------------------------------------------------------------


def _registered(unit, **fields):
    url = settings.PUBLIC_BASE_URL + reverse("vipps_webhook")
    for i, group in enumerate(ev.REGISTRATION_GROUPS):
        WebhookSubscription.objects.create(
            sales_unit=unit, vipps_id=f"{unit.msn}-{i}", url=url, events=list(group), secret="s", **fields
        )


def test_webhook_health_per_sales_unit(acme, other, other_unit):
    now = timezone.now()
    healthy = SalesUnitFactory(merchant=acme, name="A healthy")
    _registered(healthy)
    WebhookEventFactory(sales_unit=healthy, received_at=now - timedelta(minutes=5))
    WebhookEventFactory(sales_unit=healthy, received_at=now - timedelta(hours=30))  # not in the last 24 h

    SalesUnitFactory(merchant=acme, name="B never registered")

    half = SalesUnitFactory(merchant=acme, name="C half registered")
    WebhookSubscription.objects.create(
        sales_unit=half,
        vipps_id="half-0",
        url=settings.PUBLIC_BASE_URL + reverse("vipps_webhook"),
        events=[ev.CHECKED_IN],
        secret="s",
    )

    broken = SalesUnitFactory(merchant=acme, name="D check failed")
    _registered(broken)
    WebhookSync.objects.create(sales_unit=broken, checked_at=now, ok=False, message="Vipps answered 401")

    troubled = SalesUnitFactory(merchant=acme, name="E failing events")
    _registered(troubled)
    WebhookEventFactory(sales_unit=troubled, status=WebhookEvent.Status.FAILED)
    WebhookEventFactory(sales_unit=troubled, status=WebhookEvent.Status.FAILED)
    WebhookEventFactory(sales_unit=troubled, status=WebhookEvent.Status.PARKED)

    quiet = SalesUnitFactory(merchant=acme, name="F quiet")
    _registered(quiet)
    WebhookSubscription.objects.filter(sales_unit=quiet).update(created_at=now - timedelta(days=3))
    WebhookEventFactory(sales_unit=quiet, received_at=now - timedelta(days=2))

    moved = SalesUnitFactory(merchant=acme, name="G registered at an old URL")
    _registered(moved)
    WebhookSubscription.objects.filter(sales_unit=moved).update(url="https://old.example/hooks/vipps/")

    WebhookEventFactory(sales_unit=other_unit, status=WebhookEvent.Status.FAILED)  # the outsider's

    health = {h.sales_unit.name[0]: h for h in webhook_health_by_sales_unit(merchant=acme, now=now)}
    assert list(health) == ["A", "B", "C", "D", "E", "F", "G"]
    a = health["A"]
    assert (a.registration, a.status, a.reasons, a.events_24h, a.failed) == ("registered", "ok", ("receiving",), 1, 0)
    assert a.last_event_at == now - timedelta(minutes=5)
    assert (health["B"].registration, health["B"].status, health["B"].reasons) == (
        "missing",
        "error",
        ("not_registered",),
    )
    assert (health["B"].last_event_at, health["B"].registered_groups) == (None, 0)
    assert (health["C"].registration, health["C"].registered_groups, health["C"].needed_groups) == ("missing", 1, 2)
    assert (health["D"].registration, health["D"].status, health["D"].sync_message) == (
        "error",
        "error",
        "Vipps answered 401",
    )
    e = health["E"]
    assert (e.status, e.reasons, e.failed, e.parked) == ("warning", ("failed_events", "parked_events"), 2, 1)
    assert (health["F"].status, health["F"].reasons) == ("warning", ("quiet",))
    assert health["G"].registration == "missing"


def test_a_new_registration_without_events_is_fine_until_the_quiet_hours_pass():
    now = timezone.now()
    args = {"registration": "registered", "last_event_at": None, "failed": 0, "parked": 0, "now": now}
    quiet_after = timedelta(hours=24)
    fresh = webhook_health_classify(registered_since=now - timedelta(hours=1), quiet_after=quiet_after, **args)
    assert fresh == ("ok", ("waiting_first_event",))
    stale = webhook_health_classify(registered_since=now - timedelta(hours=25), quiet_after=quiet_after, **args)
    assert stale == ("warning", ("quiet",))


def test_the_health_table_links_to_the_webhook_pages(acme, acme_unit, alice):
    _registered(acme_unit)
    WebhookEventFactory(sales_unit=acme_unit, status=WebhookEvent.Status.FAILED)
    page = dashboard(client_for(alice), acme).content.decode()
    assert 'data-testid="health-223344" data-status="warning" data-registration="registered"' in page
    assert reverse("webhook_detail", kwargs={"merchant_slug": "acme", "pk": acme_unit.pk}) in page
    assert f"?sales_unit={acme_unit.pk}&amp;status=failed" in page
    assert "1 event failed" in page


# Queries, the live partial, empty states, roles ---------------------------------------------------------------


def _more_traffic(acme, units: int, per_unit: int):
    for u in range(units):
        unit = SalesUnitFactory(merchant=acme, name=f"Extra {u}")
        _registered(unit)
        for n in range(per_unit):
            code = QrCodeFactory(location=LocationFactory(sales_unit=unit), merchant_qr_id=f"x{u}-{n}")
            checkin = CheckInFactory(qr_code=code, initiated_at=local(0, 9))
            PaymentFactory(checkin=checkin, created_at=local(0, 9), state=AUTHORIZED, authorized_amount=100)
            WebhookEventFactory(sales_unit=unit, status=WebhookEvent.Status.FAILED)


@pytest.mark.parametrize("url_name", ["dashboard", "dashboard_live"])
def test_the_number_of_queries_does_not_grow_with_the_data(url_name, shop, alice, acme, django_assert_max_num_queries):
    client = client_for(alice)
    url = reverse(url_name, kwargs={"merchant_slug": acme.slug})
    client.get(url)  # warm the session and the language
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _more_traffic(acme, units=3, per_unit=12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url, {"period": "30d"})
    assert response.context["stats"]["checkins"] == 8 + 36
    assert len(response.context["funnel_location"]["rows"]) == 8 and response.context["funnel_location"]["other"]


def test_the_live_partial_is_a_fragment_that_htmx_polls(shop, alice, acme):
    client = client_for(alice)
    page = dashboard(client, acme, period="7d").content.decode()
    live_url = reverse("dashboard_live", kwargs={"merchant_slug": acme.slug})
    assert f'hx-get="{live_url}?period=7d"' in page
    # Only while the tab is visible: static/js/dashboard.js cancels the poll of a hidden tab (no eval'd filter).
    assert "data-poll-while-visible" in page and 'hx-trigger="every 15s, visibilitychange from:document"' in page
    response = client.get(live_url, {"period": "7d"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment and "hx-get" not in fragment
    assert 'data-testid="stat-checkins-value">8<' in fragment
    assert 'data-testid="webhook-health"' in fragment and 'data-testid="updated-at"' in fragment


def test_a_new_merchant_is_told_what_to_do_next(acme, alice, make_member):
    owner, viewer = client_for(alice), client_for(make_member(Role.VIEWER))
    page = dashboard(owner, acme).content.decode()
    assert 'data-testid="empty-sales-units"' in page
    assert reverse("sales_unit_create", kwargs={"merchant_slug": "acme"}) in page
    assert (
        reverse("sales_unit_create", kwargs={"merchant_slug": "acme"}) not in dashboard(viewer, acme).content.decode()
    )
    unit = SalesUnitFactory(merchant=acme)
    assert 'data-testid="empty-locations"' in dashboard(owner, acme).content.decode()
    location = LocationFactory(sales_unit=unit)
    assert 'data-testid="empty-qr-codes"' in dashboard(owner, acme).content.decode()
    QrCodeFactory(location=location)
    page = dashboard(owner, acme).content.decode()
    assert 'data-testid="empty-' not in page and 'data-testid="funnel-empty"' in page


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CASHIER, Role.MANAGER, Role.OWNER])
def test_every_role_sees_the_numbers_only_managers_the_audit_log(role, shop, acme, make_member):
    page = dashboard(client_for(make_member(role)), acme).content.decode()
    assert 'data-testid="stat-checkins-value">7<' in page and 'data-testid="webhook-health"' in page
    assert ("Recent activity" in page) == (role in (Role.MANAGER, Role.OWNER))


def test_money_follows_the_language(shop, alice, acme):
    url = reverse("dashboard", kwargs={"merchant_slug": acme.slug})
    page = client_for(alice).get(url, HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "115,00" in page  # NOK 115.00 net, in Norwegian
