"""The translations: complete, consistent with their source, compiled, and really used by the pages."""

import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import CheckInFactory, LocationFactory, PaymentFactory, QrCodeFactory

LOCALE = Path(settings.BASE_DIR) / "locale"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PO_FILES = [LOCALE / language / "LC_MESSAGES" / "django.po" for language in LANGUAGES]

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")
TAG = re.compile(r"</?[a-z][^>]*>")


def _catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _forms(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_there_is_a_catalog_for_every_language_but_english():
    assert sorted(LANGUAGES) == ["da", "fi", "nb"]
    assert all(path.exists() for path in PO_FILES)


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_every_entry_is_translated_and_none_is_fuzzy(path):
    catalog = _catalog(path)
    assert not catalog.fuzzy, "the header is marked fuzzy"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not all(_forms(message.string)):
            problems.append(f"untranslated: {message.id!r}")
    assert not problems, "\n".join(problems)
    assert len(catalog) > 300  # the whole portal, not a stub


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_every_translation_keeps_the_placeholders_and_markup_of_its_source(path):
    problems = []
    for message in _catalog(path):
        if not message.id:
            continue
        source = " ".join(_forms(message.id))
        wanted_placeholders = set(PLACEHOLDER.findall(source))
        wanted_tags = sorted(set(TAG.findall(source)))
        for translation in _forms(message.string):
            if set(PLACEHOLDER.findall(translation)) != wanted_placeholders:
                problems.append(f"placeholders differ: {message.id!r} -> {translation!r}")
            if sorted(set(TAG.findall(translation))) != wanted_tags:
                problems.append(f"markup differs: {message.id!r} -> {translation!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_the_committed_mo_file_is_compiled_from_the_current_po_file(path):
    """`make run` uses the committed .mo files: a .po edited without `compilemessages` fails here."""
    mo_path = path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run manage.py compilemessages"
    with mo_path.open("rb") as f:
        compiled = read_mo(f)
    assert _entries(compiled) == _entries(_catalog(path))


def _entries(catalog) -> dict:
    # Babel's .mo reader gives the context as bytes, its .po reader as text.
    def context(value):
        return value.decode() if isinstance(value, bytes) else value

    return {(context(m.context), _forms(m.id)[0]): _forms(m.string) for m in catalog if m.id}


# Pages -----------------------------------------------------------------------------------------------------


def _in(language: str, user):
    client = client_for(user)
    client.post(reverse("language_set"), {"language": language})
    return client


@pytest.mark.django_db
def test_a_user_who_picks_norwegian_gets_the_sidebar_payments_and_check_in_console_in_norwegian(alice, acme, acme_unit):
    location = LocationFactory(sales_unit=acme_unit, name="Kiosk")
    CheckInFactory(qr_code=QrCodeFactory(location=location))
    PaymentFactory(sales_unit=acme_unit, amount=123_450, state="CREATED")
    client = _in("nb", alice)

    dashboard = client.get(reverse("dashboard", args=[acme.slug])).content.decode()
    for word in ("Salgssteder", "Lokasjoner og QR-koder", "Innsjekk", "Betalinger", "Medlemmer", "Logg ut"):
        assert word in dashboard
    assert "Sales units" not in dashboard

    payments = client.get(reverse("payment_list", args=[acme.slug])).content.decode()
    for text in ("Be om en betaling", "Last ned CSV", "Venter på kunden", "1\u00a0234,50\u00a0kr", "Alle statuser"):
        assert text in payments
    assert "Request a payment" not in payments

    console = client.get(reverse("checkin_console", args=[acme.slug, location.pk])).content.decode()
    for text in ("Innsjekk på Kiosk", "Sjekket inn", "Tid igjen", "Vis telefonnummer", "Be om betaling"):
        assert text in console


@pytest.mark.django_db
def test_the_login_page_speaks_the_visitors_language():
    client = Client(HTTP_ACCEPT_LANGUAGE="fi")
    page = client.get(reverse("login")).content.decode()
    assert "Kirjaudu sisään" in page and "Käyttäjätunnus" in page and "Salasana" in page


@pytest.mark.django_db
def test_dates_on_a_page_follow_the_language(alice, acme, acme_unit):
    created = timezone.make_aware(datetime(2025, 3, 5, 14, 7))
    PaymentFactory(sales_unit=acme_unit, created_at=created)
    shown = timezone.localtime(created)
    url = reverse("payment_list", args=[acme.slug])

    danish = _in("da", alice).get(url).content.decode()
    assert shown.strftime("%d.%m.%Y %H:%M") in danish
    english = _in("en", alice).get(url).content.decode()
    assert shown.strftime("%d/%m/%Y %H:%M") in english
    # Machines still get ISO 8601.
    assert f'datetime="{shown.isoformat()}"' in danish


@pytest.mark.django_db
def test_a_stored_vipps_explanation_is_shown_in_the_readers_language(alice, acme, acme_unit):
    payment = PaymentFactory(
        sales_unit=acme_unit,
        sending="failed",
        error_code="4070",
        error_message="The phone number is not valid: country code first, 10 to 15 digits. (Invalid phone)",
    )
    page = _in("da", alice).get(reverse("payment_detail", args=[acme.slug, payment.pk])).content.decode()
    assert "Telefonnummeret er ikke gyldigt: landekode først, 10 til 15 cifre. (Invalid phone)" in page
    assert "Vipps afviste betalingsanmodningen (fejl 4070)" in page


@pytest.mark.django_db
def test_form_labels_and_errors_are_translated(alice, acme, acme_unit):
    client = _in("fi", alice)
    page = client.post(reverse("payment_create", args=[acme.slug]), {"amount": "", "description": "x"})
    text = page.content.decode()
    assert "Asiakkaan puhelinnumero" in text and "Myyntipiste" in text
    assert "Tämä kenttä vaaditaan." in text  # Django's own messages come with Django's catalogs


# Templates -------------------------------------------------------------------------------------------------

# The REST API's reference page is for developers, about an API that speaks English (as its problem texts do).
EXCLUDED = {"api/docs.html"}
EXCLUDED_DIRS: set[str] = set()
# Words that are the same in every language (product names, codes, units).
UNIVERSAL = {"Vipps", "MobilePay", "MSN", "QR", "PDF", "URL", "CSV", "HTTP", "ms", "Merchant", "Portal"}


def _visible_text(source: str) -> list[str]:
    """Words of a template a reader sees that are not inside a translation tag (a heuristic, but a strict one:
    attribute values people read are included, template logic and markup are not)."""
    text = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", text, flags=re.S)
    text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", " ", text, flags=re.S)
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<code>[^<{]*</code>", " ", text)  # literal names (headers, fields) are the same in every language
    readable = re.findall(r'\b(?:alt|title|placeholder|aria-label)="([^"]*)"', text)
    text = re.sub(r"<[^>]*>", " ", text) + " " + " ".join(readable)
    text = re.sub(r"{%.*?%}|{{.*?}}", " ", text, flags=re.S)
    text = re.sub(r"&\w+;", " ", text)
    text = re.sub(r"\S*_\S*", " ", text)  # identifiers shown as code, e.g. an action prefix "sales_unit."
    return [word for word in re.findall(r"[A-Za-zÆØÅæøåÄÖäö]{2,}", text) if word not in UNIVERSAL]


def _portal_templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        relative = path.relative_to(TEMPLATES)
        if relative.parts[0] in EXCLUDED_DIRS or relative.as_posix() in EXCLUDED:
            continue
        yield relative


def test_the_heuristic_finds_untranslated_text_and_accepts_translated_text():
    assert _visible_text('<h1>Payments</h1><img alt="QR code">') == ["Payments", "code"]
    assert _visible_text('{% translate "Payments" %}<a href="{% url \'x\' %}">{{ p.name }}</a> · MSN') == []
    assert _visible_text("{% blocktranslate trimmed with n=1 %}Page {{ n }}{% endblocktranslate %}") == []


@pytest.mark.parametrize("relative", list(_portal_templates()), ids=str)
def test_every_portal_template_translates_its_visible_text(relative):
    source = (TEMPLATES / relative).read_text()
    words = _visible_text(source)
    assert not words, f"untranslated text in {relative}: {' '.join(words)}"
    if re.search(r"{%\s*(translate|blocktranslate)\b", source):
        assert re.search(r"{%\s*load\b[^%]*\bi18n\b", source), f"{relative} translates without {{% load i18n %}}"


def test_a_printed_qr_sheet_speaks_the_language_it_was_asked_in():
    from django.utils import translation

    from qrcodes import pdf

    cell = pdf.SheetCell(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", "Kiosk", "kiosk-001", "223344")
    with translation.override("da"):
        html = pdf.sheet_html([cell], pdf.LAYOUTS["12"])
    assert "Scan med Vipps eller MobilePay" in html and '<html lang="da">' in html
    with translation.override("en"):
        assert "Scan with Vipps or MobilePay" in pdf.sheet_html([cell], pdf.LAYOUTS["12"])


# English left in a translated page --------------------------------------------------------------------------------

# Names that are the same in every language; a catalog text made only of them (and of at most two other words) is
# not looked for.
PROPER_NAMES = {
    "Vipps",
    "MobilePay",
    "Vipps MobilePay",
    "MSN",
    "QR",
    "API",
    "PoS",
    "ePayment",
    "PDF",
    "CSV",
    "URL",
    "HTTP",
    "GUID",
    "PosId",
    "webhook",
    "webhooks",
}
# English words no Norwegian, Danish or Finnish sentence uses; text built in Python without gettext shows them.
ENGLISH_WORDS = {"the", "and", "was", "with", "from", "this", "your", "has", "been", "requested", "captured"}


class _VisibleText(HTMLParser):
    """What a reader sees of a page: text outside <script>/<style>, and the attributes people read. Text marked
    as English (`lang="en"`: a technical detail kept as Vipps or the portal wrote it) is declared, not leaked."""

    READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0
        self._marked: list[str] = []  # open elements marked lang="en"

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if tag != "html" and dict(attrs).get("lang", "").startswith("en"):
            self._marked.append(tag)
            self._hidden += 1
        self.parts.extend(value for name, value in attrs if name in self.READ_ATTRIBUTES and value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden -= 1
        if self._marked and self._marked[-1] == tag:
            self._marked.pop()
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def _page_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _words(text: str) -> list[str]:
    """The words of a text; identifiers shown as code (`user.checked-in.v1`, `sales_unit`) are not words."""
    tokens = (token.strip(".,:;!?()«»“”\"'") for token in text.split())
    return [token for token in tokens if re.fullmatch(r"[A-Za-z][A-Za-z'’-]*", token)]


def _english_fragments(path: Path) -> set[str]:
    """The catalog's English texts that a page in this language must not show: each literal run between
    placeholders and markup, of three or more words that are not proper names, whose translation differs."""
    fragments = set()
    for message in _catalog(path):
        if not message.id or _forms(message.id) == _forms(message.string):
            continue
        for source in _forms(message.id):
            for run in re.split(r"%\(\w+\)[sd]|%%|<[^>]*>|\{\{.*?\}\}", source):
                run = " ".join(run.split()).strip(" .,:;()—-")
                words = [w for w in _words(run) if w not in PROPER_NAMES]
                if len(words) >= 3:
                    fragments.add(run)
    return fragments


@pytest.fixture
def busy_merchant(acme, acme_unit, alice, make_member):
    """Acme with a week of demo history and one of every audited action: what a merchant's pages really show."""
    from merchant_portal.api.services import api_key_create
    from merchant_portal.audit.services import log_action
    from merchant_portal.core.demo_history import demo_history_seed
    from merchant_portal.tenancy.models import VippsCall
    from tests.factories import WebhookEventFactory

    location = LocationFactory(sales_unit=acme_unit, name="Kiosk")
    qr_codes = [QrCodeFactory(location=location, merchant_qr_id=f"kiosk-00{n}") for n in (1, 2)]
    make_member("cashier")
    demo_history_seed(merchant=acme, staff=alice)
    checkin = CheckInFactory(qr_code=qr_codes[0])
    payment = PaymentFactory(
        checkin=checkin, amount=24_900, state="AUTHORIZED", authorized_amount=24_900, captured_amount=10_000
    )
    key, _token = api_key_create(merchant=acme, actor=alice, name="Till vendor", access="write")
    now = timezone.now()
    VippsCall.objects.create(
        sales_unit=acme_unit,
        started_at=now,
        operation="create_payment",
        method="POST",
        path="/epayment/v1/payments",
        status_code=201,
        duration_ms=80,
        idempotency_key=payment.idempotency_key,
    )
    VippsCall.objects.create(
        sales_unit=acme_unit,
        started_at=now,
        operation="capture",
        method="POST",
        path=f"/epayment/v1/payments/{payment.reference}/capture",
        reference=payment.reference,
        status_code=400,
        duration_ms=80,
        response_body='{"extraDetails": [{"name": "ErrorCode", "reason": "4070"}]}',
    )
    WebhookEventFactory(
        sales_unit=acme_unit,
        event_type="epayments.payment.authorized.v1",
        dedupe_key=f"{payment.reference}|AUTHORIZED",
        payload={"name": "AUTHORIZED", "amount": {"currency": "NOK", "value": 24_900}},
    )
    for action, target, data in _every_audited_action(acme, acme_unit, location, qr_codes[0], payment, key):
        log_action(merchant=acme, actor=alice, action=action, target=target, data=data)
    return {"payment": payment, "location": location, "qr_code": qr_codes[0]}


def _every_audited_action(merchant, unit, location, qr_code, payment, key):
    from merchant_portal.audit.describe import DESCRIBERS

    data = {
        "payment.requested": {"amount": 24_900, "currency": "NOK", "customer": "check-in"},
        "payment.capture_requested": {"amount": 10_000, "operation": 1},
        "payment.refund_requested": {"amount": 5_000, "operation": 2},
        "payment.anomaly": {"reason": "amounts", "detail": "captured 200.00 of 100.00", "failures": 1},
        "payment_rule.updated": {"request_on_checkin": True, "amount": 3_500, "description": "", "auto_capture": True},
        "member.added": {"role": "cashier"},
        "member.role_changed": {"from": "viewer", "to": "manager"},
        "member.removed": {"user": "bob", "role": "viewer"},
        "qr_codes.reconciled": {"imported": 2, "missing": 1, "differing": 0},
        "qr_sheet.requested": {"codes": 12, "layout": "12"},
        "webhook_events.replayed": {"count": 3},
        "api_key.created": {"access": "write", "sales_units": [], "locations": []},
    }
    targets = {
        "payment": payment,
        "checkin": payment.checkin,
        "payment_rule": location,
        "location": location,
        "qr_code": qr_code,
        "qr_codes": unit,
        "sales_unit": unit,
        "webhooks": unit,
        "merchant": merchant,
        "api_key": key,
    }
    for action in sorted(DESCRIBERS):
        yield action, targets.get(action.split(".")[0]), data.get(action, {})


PAGES = [
    ("dashboard", None),
    ("payment_list", None),
    ("payment_detail", "payment"),
    ("checkin_location_list", None),
    ("checkin_console", "location"),
    ("audit_log", None),
    ("location_list", None),
    ("location_detail", "location"),
    ("qr_code_detail", "qr_code"),
    ("webhook_list", None),
    ("webhook_event_list", None),
    ("member_list", None),
    ("api_key_list", None),
    ("sales_unit_list", None),
]


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_text_shows_in_a_translated_page(language, busy_merchant, alice, acme):
    fragments = _english_fragments(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert len(fragments) > 200
    client = _in(language, alice)
    problems = []
    for name, pk_of in PAGES:
        args = [acme.slug] + ([busy_merchant[pk_of].pk] if pk_of else [])
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        text = _page_text(response.content.decode())
        problems += [f"{name}: {fragment!r}" for fragment in sorted(fragments) if fragment in text]
        words = {word.lower() for word in _words(text)} & ENGLISH_WORDS
        if words:
            at = [
                text[max(m.start() - 60, 0) : m.end() + 60] for w in words for m in [re.search(rf"\b{w}\b", text, re.I)]
            ]
            problems += [f"{name}: English words {sorted(words)} in {at!r}"]
    assert not problems, "\n".join(problems)


def test_the_english_leak_check_finds_a_catalog_text_and_ignores_proper_names(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Request a payment from %(name)s now"\nmsgstr "Be om en betaling fra %(name)s nå"\n\n'
        'msgid "Vipps MobilePay QR"\nmsgstr "Vipps MobilePay QR"\n\n'
        'msgid "Scan with Vipps"\nmsgstr "Skann med Vipps"\n'
    )
    assert _english_fragments(po) == {"Request a payment from"}
    assert _page_text("<p>Hi <b>there</b></p><script>var x</script><img alt='Kiosk'>") == "Hi there Kiosk"
