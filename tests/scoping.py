"""The registry of merchant URLs for the scoping and role tests.

Each app's tests have a `scoping.py` with `url_kwargs(merchant) -> {url name: kwargs}`: for every merchant view
of that app, the URL kwargs (besides merchant_slug) that point at objects belonging to `merchant`, creating them
as needed. tests/portal/test_scoping_and_roles.py checks that together they name every merchant URL.
"""

import importlib
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def registry_modules():
    for path in sorted(TESTS.glob("*/scoping.py")):
        yield importlib.import_module(f"tests.{path.parent.name}.scoping")


def merchant_url_kwargs(merchant) -> dict[str, dict]:
    combined: dict[str, dict] = {}
    for module in registry_modules():
        entries = module.url_kwargs(merchant)
        overlap = combined.keys() & entries.keys()
        assert not overlap, f"{module.__name__} repeats {overlap}"
        combined.update(entries)
    return combined
