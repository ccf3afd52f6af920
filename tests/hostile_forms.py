"""Generated hostile input for the staff forms, and the two properties every form must keep.

- never a 5xx;
- a refused form (its page comes back with errors) stores nothing; an accepted one stores only text that
  PostgreSQL can hold and that fits its column, and no control characters in identifiers.
"""

from django.db import models
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from merchant_portal.core.validators import control_character

FORM_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SAMPLES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "line\nbreak",
    "tab\there",
    "\r",
    "zero\u200bwidth",
    "\u202eevil",
    "x" * 301,
    "İ" * 150,  # lower-cases to 300 characters
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "1e3",
    "1e30",
    "-1",
    "0",
    "9" * 40,
    "٣٤",  # Arabic-Indic digits, which int() and Decimal() accept
    '=HYPERLINK("http://evil","x")',
    "😀" * 40,
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
]
# Surrogates cannot even be sent in a form body (the test client encodes to UTF-8), so they are left out.
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=320)
hostile_text = st.one_of(st.sampled_from(SAMPLES), any_text)


def data_with_hostile_fields(valid: dict, fields: list[str]):
    """`valid` with each of `fields` either kept or replaced by hostile text."""
    choices = {name: st.one_of(st.just(valid.get(name, "")), hostile_text) for name in fields}
    return st.fixed_dictionaries(choices).map(lambda hostile: {**valid, **hostile})


def counts(*model_classes) -> tuple[int, ...]:
    return tuple(model.objects.count() for model in model_classes)


def refused(response) -> bool:
    form = (response.context or {}).get("form") if response.status_code == 200 else None
    return form is not None and bool(form.errors)


def assert_storable(instance: models.Model, identifiers: tuple[str, ...] = ()) -> None:
    """What PostgreSQL would refuse (NUL, over-long text), and control characters in identifiers."""
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname)
        if not isinstance(value, str):
            continue
        assert "\x00" not in value, field.name
        if field.max_length:
            assert len(value) <= field.max_length, field.name
        if field.name in identifiers:
            assert control_character(value) is None, (field.name, value)


def assert_door_held(response, before: tuple, after: tuple) -> None:
    assert response.status_code < 500, response.status_code
    if refused(response):
        assert after == before, "a refused form stored something"
