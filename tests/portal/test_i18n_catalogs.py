"""The translations: complete, consistent with their source, compiled, and really used by the pages."""

import re
from datetime import datetime
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
