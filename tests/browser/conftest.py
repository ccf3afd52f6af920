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


# Chromium logs each refusal ("Refused to ... because it violates the following Content Security Policy
# directive ..."); the page's own `securitypolicyviolation` event also names the directive, source and line.
CSP_MARK = "CSP violation:"
CSP_LISTENER = f"""
document.addEventListener("securitypolicyviolation", function (e) {{
  console.error("{CSP_MARK} " + e.effectiveDirective + " refused " + (e.blockedURI || "inline") +
                " in " + e.documentURI + " (" + (e.sourceFile || "") + ":" + e.lineNumber + ")");
}});
"""


def watch_csp(context) -> list[str]:
    """Every Content-Security-Policy violation in any page of `context`, as the console reported it."""
    violations: list[str] = []
    context.add_init_script(CSP_LISTENER)

    def on_console(message):
        if CSP_MARK in message.text or "Content Security Policy" in message.text:
            violations.append(f"{message.text} [{message.location.get('url', '')}]")

    context.on("console", on_console)
    return violations


@pytest.fixture
def page(browser, request):
    """A fresh context whose pages must not violate the Content-Security-Policy: any violation fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    csp_violations = watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


def watch_errors(context) -> list[str]:
    """Every console error (`console.error`, a failed load, a CSP refusal) and every uncaught exception of any
    page of `context`, with where it happened."""
    errors: list[str] = []
    context.add_init_script(CSP_LISTENER)
    context.on(
        "console",
        lambda m: m.type == "error" and errors.append(f"console.error: {m.text} [{m.location.get('url', '')}]"),
    )
    context.on("weberror", lambda e: errors.append(f"page error: {e.error} [{e.page.url if e.page else ''}]"))
    return errors


@pytest.fixture
def strict_page(browser):
    """strict_page(**context_options): a page in a fresh context (its own locale, viewport...) that fails the test on
    any console error or uncaught page error, CSP violations included. Close a page whose server stops before
    the test ends (its polls would fail)."""
    opened = []

    def open_page(**options):
        context = browser.new_context(**options)
        opened.append((context, watch_errors(context)))
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_page
    errors = []
    for context, context_errors in opened:
        context.close()
        errors += context_errors
    assert not errors, "Errors in the browser console:\n" + "\n".join(errors)


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
