"""Numbers a machine reads are never localised; numbers a person reads are.

The convention is `machine_number()` (`merchant_portal/core/i18n.py`), the `|machine` filter in templates. Three
proofs: the filter itself in every language; every template writes its machine contexts through it (CSS lengths,
SVG geometry, progress bars, numeric data-* attributes, ids in attributes and links); and every merchant page,
rendered in Norwegian, Danish and Finnish, carries no localised number where a machine reads one. The PDF sheets
and the charts are proved by what reads them: tests/qrcodes/test_pdf.py decodes every code of every layout in
every language, tests/portal/test_dashboard.py measures the bars.
"""

import csv
import io
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from merchant_portal.core.i18n import machine_amount, machine_number
from payments.models import Payment
from qrcodes import pdf
from tests.conftest import client_for
from tests.factories import CheckInFactory, LocationFactory, PaymentFactory, QrCodeFactory
from tests.scoping import merchant_url_kwargs

LANGUAGES = [code for code, _ in settings.LANGUAGES]
LOCALISED = ["nb", "da", "fi"]
TEMPLATES = Path(settings.BASE_DIR) / "templates"

NUMBER = re.compile(r"-?\d+(\.\d+)?")
LENGTH = re.compile(r"-?\d+(\.\d+)?(mm|pt|px|cm|em|rem|%)?")
# A decimal comma or a space as thousands separator between digits: a number localised for nb, da or fi.
LOCALISED_NUMBER = re.compile(r"\d[,\u00a0\u202f]\d")
# HTMLParser lowercases attribute names: viewBox is "viewbox".
GEOMETRY = {"x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry", "width", "height", "viewbox"}
GAUGES = {"progress", "meter"}
GAUGE_ATTRIBUTES = {"value", "min", "max", "low", "high", "optimum"}


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


# The convention ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (67.5, "67.5"),
        (170, "170"),
        (-0.25, "-0.25"),
        (1e-05, "0.00001"),
        (1e20, "100000000000000000000"),
        (Decimal("249.00"), "249.00"),
        (1_234_567, "1234567"),
        (None, ""),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_filter_writes_numbers_the_same_in_every_language(language, value, expected, settings):
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override(language):
        assert render("{{ v|machine }}", v=value) == expected


@pytest.mark.parametrize(
    ("language", "decimal", "count"), [("en", "67.5", "1,141"), ("nb", "67,5", "1\xa0141"), ("da", "67,5", "1.141")]
)
def test_without_the_filter_numbers_are_written_for_people_in_their_language(language, decimal, count):
    with translation.override(language):
        assert render("{{ v }} {{ n }}", v=67.5, n=1141) == f"{decimal} {count}"


@pytest.mark.parametrize("value", [True, "67.5", "67,5", [1], float("nan"), float("inf"), Decimal("NaN")])
def test_what_is_not_a_finite_number_is_a_programming_error_not_a_silent_blank(value):
    with pytest.raises((TypeError, ValueError)):
        machine_number(value)


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    value=st.one_of(
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.decimals(allow_nan=False, allow_infinity=False),
    ),
    language=st.sampled_from(LANGUAGES),
)
def test_any_number_comes_out_plain_and_reads_back_exactly(value, language):
    with translation.override(language):
        text = render("{{ v|machine }}", v=value)
    assert NUMBER.fullmatch(text), text
    if isinstance(value, float):
        assert float(text) == value
    else:
        assert Decimal(text) == value


@hypothesis_settings(max_examples=100, deadline=None)
@given(minor=st.integers(min_value=-(10**15), max_value=10**15))
def test_amounts_for_machines_are_major_units_with_two_decimals_and_a_dot(minor):
    text = machine_amount(minor)
    assert re.fullmatch(r"-?\d+\.\d\d", text) and Decimal(text) * 100 == minor


# Every template uses it ----------------------------------------------------------------------------------------

VARIABLE = re.compile(r"{{\s*(.*?)\s*}}")
# Filters that may follow |machine without turning the number back into a localised one.
MACHINE_LAST = re.compile(r"\|machine(\|(default|default_if_none|urlencode)(:(\"[^\"]*\"|'[^']*'|[^|]*))?)*$")
CSS_LENGTH = re.compile(r"{{\s*(.*?)\s*}}(?=mm|pt|px|cm|rem|em)")
NUMERIC_ATTRIBUTE = re.compile(
    r"(?<![\w-])(x|y|x1|x2|y1|y2|cx|cy|r|rx|ry|width|height|viewBox|stroke-width"
    r"|data-(?:[a-z-]+-)?(?:value|amount|count|progress|total|key|id|x|y))=\"([^\"]*)\""
)
GAUGE_TAG = re.compile(r"<(?:progress|meter)\b[^>]*>")
GAUGE_ATTRIBUTE = re.compile(r"(?<![\w-])(?:value|min|max|low|high|optimum)=\"([^\"]*)\"")
ANY_ATTRIBUTE = re.compile(r"(?<![\w-])[a-zA-Z][\w:-]*=\"([^\"]*)\"")
# Ids and loop counters are numbers too; in an attribute (a data-* id, a form value, a link's query) a machine
# reads them.
ID_VARIABLE = re.compile(r"^(?:[\w.]+\.pk|[\w.]*page_number|forloop\.counter0?)(?:\|.*)?$")


def machine_contexts(source: str) -> list[str]:
    """The variables of a template that a machine reads, as written (e.g. "bar.x|machine")."""
    found = [m.group(1) for m in CSS_LENGTH.finditer(source)]
    for match in NUMERIC_ATTRIBUTE.finditer(source):
        found += VARIABLE.findall(match.group(2))
    for tag in GAUGE_TAG.findall(source):
        for value in GAUGE_ATTRIBUTE.findall(tag):
            found += VARIABLE.findall(value)
    for value in ANY_ATTRIBUTE.findall(source):
        found += [v for v in VARIABLE.findall(value) if ID_VARIABLE.match(v)]
    return found


def test_the_template_check_sees_machine_contexts_and_accepts_only_the_filter():
    source = (
        '.p { left: {{ x }}mm; top: {{ y|machine }}mm } <rect x="{{ bar.x }}" width="{{ bar.w|machine }}">'
        '<progress value="{{ sheet.progress|stringformat:\'d\' }}" max="100"></progress>'
        '<tr data-checkin="{{ c.pk }}" data-key="{{ row.key|machine|default:\'none\' }}">'
        '<a href="/x?unit={{ u.pk|machine }}">{{ u.pk }}</a><p>{{ tick.value }} {{ name }}</p>'
    )
    found = machine_contexts(source)
    assert found == [
        "x",
        "y|machine",
        "bar.x",
        "bar.w|machine",
        "row.key|machine|default:'none'",
        "sheet.progress|stringformat:'d'",
        "c.pk",
        "u.pk|machine",
    ]
    assert [v for v in found if not MACHINE_LAST.search(v)] == ["x", "bar.x", "sheet.progress|stringformat:'d'", "c.pk"]
    assert MACHINE_LAST.search("row.key|machine|default:'none'")


def test_every_template_writes_machine_numbers_through_the_filter():
    checked, wrong = 0, []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for variable in machine_contexts(path.read_text()):
            checked += 1
            if not MACHINE_LAST.search(variable):
                wrong.append(f"{path.relative_to(TEMPLATES)}: {{{{ {variable} }}}} (write {{{{ …|machine }}}})")
    assert not wrong, "\n".join(wrong)
    assert checked > 30  # the PDF sheet and the charts at least


# What a machine reads on the rendered pages ----------------------------------------------------------------------


class MachineAttributes(HTMLParser):
    """Every value on a page that a machine parses as a number, and where it is."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.numbers: list[tuple[str, str]] = []  # (where, value): must be plain numbers or lengths
        self.data: list[tuple[str, str]] = []  # data-* values: may be text, never a localised number
        self.json: list[str] = []
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            where = f"<{tag} {name}>"
            if name in GEOMETRY and tag != "img" or (tag in GAUGES and name in GAUGE_ATTRIBUTES):
                self.numbers += [(where, token) for token in value.split()]
            elif tag == "input" and name in {"min", "max", "step"} and value:
                self.numbers.append((where, value))
            elif name.startswith("data-"):
                self.data.append((where, value))
        self._in_json = tag == "script" and dict(attrs).get("type") == "application/json"

    def handle_data(self, data):
        if self._in_json:
            self.json.append(data)

    def handle_endtag(self, tag):
        self._in_json = False


def localised_numbers(page: str) -> list[str]:
    parser = MachineAttributes()
    parser.feed(page)
    parser.close()
    wrong = [f"{where}={value!r}" for where, value in parser.numbers if not LENGTH.fullmatch(value)]
    wrong += [f"{where}={value!r}" for where, value in parser.data if LOCALISED_NUMBER.search(value)]
    for text in parser.json:
        try:
            json.loads(text)
        except ValueError:
            wrong.append(f"<script type=application/json> {text[:80]!r}")
    return wrong


def test_the_page_check_finds_a_localised_number_in_each_machine_context():
    assert localised_numbers('<svg viewBox="0 0 640 220"><rect x="67,5" width="16.8"></svg>') == ["<rect x>='67,5'"]
    assert localised_numbers('<progress value="12,5" max="100">') == ["<progress value>='12,5'"]
    assert localised_numbers('<tr data-amount="1\u00a0234" data-state="done">') == ["<tr data-amount>='1\\xa0234'"]
    assert localised_numbers('<script type="application/json">{"x": 67,5}</script>')
    assert not localised_numbers('<rect x="67.5" width="100%"><p>67,5 kr, 1 234</p><img width="120" alt="">')


@pytest.fixture
def traffic(acme_unit):
    """Today's check-ins and a captured payment: the charts have bars, the tables rows."""
    code = QrCodeFactory(location=LocationFactory(sales_unit=acme_unit, name="Kiosk Torget"), merchant_qr_id="k-1")
    for _ in range(3):
        checkin = CheckInFactory(qr_code=code, initiated_at=timezone.now())
    PaymentFactory(
        checkin=checkin,
        amount=24_950,
        state=Payment.State.AUTHORIZED,
        authorized_amount=24_950,
        captured_amount=24_950,
        refunded_amount=1_025,
    )


@pytest.mark.parametrize("language", LOCALISED)
def test_no_merchant_page_hands_a_machine_a_localised_number(language, acme, alice, acme_unit, traffic):
    client = client_for(alice)
    pages = 0
    for name, kwargs in merchant_url_kwargs(acme).items():
        url = reverse(name, kwargs={"merchant_slug": acme.slug, **kwargs})
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        page = response.content.decode()
        assert localised_numbers(page) == [], url
        pages += 1
    for period in ("today", "7d", "30d"):
        url = reverse("dashboard", kwargs={"merchant_slug": acme.slug})
        page = client.get(url, {"period": period}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert "<rect" in page and localised_numbers(page) == [], period
    assert pages > 20


@pytest.mark.parametrize("key", sorted(pdf.LAYOUTS))
def test_every_sheet_layout_has_the_same_plain_lengths_in_every_language(key):
    layout = pdf.LAYOUTS[key]
    cell = pdf.SheetCell(b"<svg/>", "image/svg+xml", "Kiosk", "kiosk-001", "223344")

    def style(language):
        with translation.override(language):
            html = pdf.sheet_html([cell] * (layout.per_page + 1), layout)
        return re.search(r"<style>(.*?)</style>", html, re.S).group(1)

    english = style("en")
    lengths = re.findall(r"[-\d.,]*\d(?:mm|pt)\b", english)
    assert lengths and all(LENGTH.fullmatch(v) for v in lengths)
    assert f"left: {machine_number(layout.positions()[-1][0])}mm" in english
    for language in LOCALISED:
        assert style(language) == english, language


@pytest.mark.parametrize("language", LOCALISED)
def test_csv_amounts_are_machine_numbers_in_every_language(language, acme, acme_unit, alice):
    PaymentFactory(sales_unit=acme_unit, amount=123_450, captured_amount=123_450, refunded_amount=2_550)
    url = reverse("payment_export", kwargs={"merchant_slug": acme.slug})
    response = client_for(alice).get(url, HTTP_ACCEPT_LANGUAGE=language)
    content = b"".join(response.streaming_content).decode()
    [row] = csv.DictReader(io.StringIO(content))
    assert [row[c] for c in ("Amount", "Captured", "Refunded", "Cancelled")] == ["1234.50", "1234.50", "25.50", "0.00"]
