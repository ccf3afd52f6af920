"""Validators for text that people type into forms and that later becomes an identifier somewhere.

Control and format characters (newline, tab, NUL, zero-width and bidi marks, line separators) are invisible
or reorder what is shown: in a name, reference or id they make two values look alike, break a CSV row or a log
line, and PostgreSQL cannot store NUL at all. Ordinary spaces (category Zs) stay allowed.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def control_character(value: str) -> str | None:
    """The first control or format character in `value`, or None."""
    if value.isascii() and value.isprintable():  # the common case, without a walk
        return None
    return next((char for char in value if unicodedata.category(char) in _REFUSED_CATEGORIES), None)


@deconstructible
class NoControlCharactersValidator:
    message = _("Remove the invisible control character (U+%(code)s): only letters, digits, punctuation and spaces.")
    code = "control_character"

    def __call__(self, value) -> None:
        char = control_character(str(value))
        if char is not None:
            raise ValidationError(self.message, code=self.code, params={"code": f"{ord(char):04X}"})

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharactersValidator)


no_control_characters = NoControlCharactersValidator()

# A GUID as MobilePay PoS writes its ids (8-4-4-4-12 hex digits); `\Z`, not `$`, so a trailing newline fails.
GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
guid_validator = RegexValidator(
    rf"^{GUID}\Z",
    _("Write the id as a GUID: 8-4-4-4-12 hex digits, e.g. 1f3e4a5b-0c1d-4e2f-9a8b-7c6d5e4f3a2b."),
)


def ascii_id(value) -> int | None:
    """An id typed into a URL or a hidden field: 1 to 18 ASCII digits, or None. `str.isdigit()` also takes "²"
    and "٣", which the database then refuses, and a 20-digit number overflows SQLite's INTEGER."""
    if isinstance(value, str) and 0 < len(value) <= 18 and value.isascii() and value.isdigit():
        return int(value)
    return None
