"""Playwright driving Debian's Chromium (/usr/bin/chromium), headless. Screenshots go to PLAYWRIGHT_ARTIFACTS."""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("PLAYWRIGHT_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def browser(monkeypatch):
    """One Chromium per test. Playwright's sync API runs an event loop in this thread while it is open, so the
    loop must end with the test: later tests' ORM calls would otherwise be refused as "async context"."""
    from playwright.sync_api import sync_playwright

    # The ORM calls of the test body are synchronous and safe beside that loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def shot(page, request):
    """shot("name") saves a full-page screenshot named after the test."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(name: str, target=None):
        path = ARTIFACTS / f"{request.node.name}-{next(counter):02d}-{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take
