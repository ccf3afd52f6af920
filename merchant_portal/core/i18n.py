"""Languages, the user's choice of one, and locale-aware money.

Django translates text and formats dates and numbers per active language (its own locale formats for nb, da and
fi). Money is formatted with Babel (CLDR data), which knows where each locale puts the currency and which
separators it uses: "1 234,50 kr" in Norwegian, "1.234,50 kr." in Danish, "1 234,50 DKK" in Finnish.
Numbers a machine reads are the other way round: machine_number() (the `|machine` filter) never localises.
"""

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from django.conf import settings
from django.utils import translation

# Django language code -> CLDR locale. The region matters for the currency symbol ("kr" for NOK only in nb_NO).
_BABEL_LOCALES = {"en": "en_GB", "nb": "nb_NO", "da": "da_DK", "fi": "fi_FI"}
# CLDR's English pattern glues the code to the number ("NOK1,234.50"); a space reads better for codes.
_ENGLISH_PATTERN = "¤\u00a0#,##0.00"


def supported_language(code: str | None) -> str | None:
    """The language code if the portal offers it, else None."""
    codes = {code for code, _ in settings.LANGUAGES}
    return code if code in codes else None


def babel_locale(language: str | None = None) -> str:
    language = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return _BABEL_LOCALES.get(language, "en_GB")


def format_money(minor: int | None, currency: str = "", *, language: str | None = None) -> str:
    """Minor units in the active (or given) language: 123450 NOK -> "1 234,50 kr" (nb), "NOK 1,234.50" (en).

    Without a currency the number alone is formatted (tables whose column header names the currency).
    """
    if minor is None:
        return ""
    major = Decimal(minor) / 100
    locale = babel_locale(language)
    if not currency:
        return format_decimal(major, format="#,##0.00", locale=locale)
    pattern = _ENGLISH_PATTERN if locale.startswith("en") else None
    return format_currency(major, currency, format=pattern, locale=locale, currency_digits=True)


def machine_number(value: int | float | Decimal | None) -> str:
    """A number for a machine to read (CSS lengths, SVG geometry, data-* attributes, JSON, CSV): never localised.

    "67.5", never "67,5" (WeasyPrint and browsers drop a CSS length or an SVG attribute with a decimal comma) nor
    "1 234" (USE_THOUSAND_SEPARATOR). No exponent either: "0.00001", not "1e-05". None is "" (nothing to say).
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    exact = Decimal(repr(value)) if isinstance(value, float) else value
    if not exact.is_finite():
        raise ValueError(f"no machine reads {value!r} as a number")
    return format(exact, "f")


def machine_amount(minor: int) -> str:
    """Minor units as a plain decimal in major units for machines (CSV): 24900 -> "249.00", -1000 -> "-10.00"."""
    return machine_number(Decimal(minor).scaleb(-2))


# The signed-in user's choice is copied from their profile into the session at login (no query per request).
SESSION_KEY = "portal_language"
# Machine interfaces speak English whatever the client's Accept-Language: the REST API's problem+json titles and
# details are a documented contract (and its OpenAPI examples), and the webhook endpoints answer Vipps/MobilePay.
MACHINE_PATH_PREFIXES = ("/api/", "/hooks/")


class UserLanguageMiddleware:
    """Activates the language a signed-in user chose, over the browser's preference.

    Goes after AuthenticationMiddleware; `LocaleMiddleware` (earlier) handles everyone else: the language cookie
    set by the language picker, then Accept-Language. The REST API and the webhook endpoints stay in English.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(MACHINE_PATH_PREFIXES):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = supported_language(request.session.get(SESSION_KEY))
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
