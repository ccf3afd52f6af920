"""Content-Security-Policy: every response carries it, and no page needs what it refuses (inline scripts, inline
styles, event-handler attributes, htmx features that eval).

The pages are found by walking the URL configuration, as tests/portal/test_scoping_and_roles.py does: every merchant
URL (objects from tests/<app>/scoping.py), every other URL of the portal, and every admin page of every registered
model. The browser-level half of the proof is in tests/browser/conftest.py: the journeys fail on any CSP violation.
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import client_for
from tests.factories import UserFactory
from tests.scoping import merchant_url_kwargs

CSP = "Content-Security-Policy"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Rendered to PDF by WeasyPrint or sent as e-mail: never shown by a browser under the policy.
NOT_WEB_PAGES = ("qrcodes/pdf/",)

# Every URL outside /m/<slug>/ and /admin/, with the kwargs its route needs. A new one must be added here.
OTHER_URLS = {
    "home": {},
    "merchant_switch": {},
    "language_set": {},
    "login": {},
    "logout": {},
    "password_change": {},
    "password_change_done": {},
    "password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
    "password_reset_complete": {},
    "vipps_webhook": {},
    "mobilepay_pos_notification": {},
    "healthz": {},
    "favicon": {},
    "api:sales-unit-list": {},
    "api:sales-unit-detail": {"pk": 1},
    "api:location-list": {},
    "api:location-detail": {"pk": 1},
    "api:qr-code-list": {},
    "api:qr-code-detail": {"pk": 1},
    "api:qr-sheet-list": {},
    "api:qr-sheet-detail": {"pk": 1},
    "api:qr-sheet-pdf": {"pk": 1},
    "api:checkin-list": {},
    "api:checkin-next": {},
    "api:checkin-detail": {"pk": 1},
    "api:payment-list": {},
    "api:payment-detail": {"pk": 1},
    "api:payment-cancel": {"pk": 1},
    "api:payment-capture": {"pk": 1},
    "api:payment-events": {"pk": 1},
    "api:payment-refund": {"pk": 1},
    "api:schema": {},
    "api:docs": {},
}


class InlineFinder(HTMLParser):
    """What a page must not contain under `script-src 'self'; style-src 'self'` (and htmx with allowEval off)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        text = self.get_starttag_text()
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.found.append(f"inline script: {text}")
        if tag == "style":
            self.found.append("a <style> element")
        for name, value in attrs.items():
            value = (value or "").strip().lower()
            htmx = name.removeprefix("data-")
            evals = htmx.startswith(("hx-on", "hx-vars")) or (
                htmx == "hx-vals" and value.startswith(("js:", "javascript:"))
            )
            if name == "style":
                self.found.append(f"style attribute: {text}")
            elif name.startswith("on"):
                self.found.append(f"event handler attribute: {text}")
            elif evals:
                self.found.append(f"htmx attribute that evals: {text}")
            elif htmx == "hx-trigger" and "[" in value:
                self.found.append(f"htmx trigger filter (eval): {text}")
            elif name in ("href", "src", "action", "formaction") and value.startswith("javascript:"):
                self.found.append(f"javascript: URL: {text}")


TEMPLATE_COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.S)


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(TEMPLATE_COMMENT.sub("", html))
    finder.close()
    return finder.found


def assert_policed(response, url: str) -> None:
    # /healthz says 503 when no worker runs (none does in a test); that answer is policed too.
    assert response.status_code < 500 or url == reverse("healthz"), f"{url}: {response.status_code}"
    policy = response.get(CSP, "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, f"{url}: no policy ({policy!r})"
    if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
        found = inline_parts(response.content.decode())
        assert not found, f"{url}: {found}"


def named_urls(patterns, namespace="") -> set[str]:
    names = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            if p.app_name != "admin" and not str(p.pattern).startswith("m/"):
                names |= named_urls(p.url_patterns, inner)
        elif isinstance(p, URLPattern) and p.name:
            names.add(namespace + p.name)
    return names


def test_the_policy_refuses_everything_inline_and_foreign(client, db):
    policy = client.get(reverse("login"))[CSP]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def test_htmx_is_configured_to_need_nothing_the_policy_refuses(client, db):
    page = client.get(reverse("login")).content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page).group(1))
    assert config["includeIndicatorStyles"] is False  # its indicator rules are in static/css/portal.css
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert "style" not in config["attributesToSettle"]


def test_every_portal_url_outside_the_merchant_pages_is_known_to_this_test():
    assert named_urls(get_resolver().url_patterns) - {"api:not_found"} == set(OTHER_URLS)


def test_every_merchant_page_carries_the_policy_and_nothing_inline(acme, alice, acme_unit):
    client = client_for(alice)
    objects = merchant_url_kwargs(acme)
    # The registry names every merchant URL: test_scoping_and_roles.py fails the day one is missing.
    for name, kwargs in objects.items():
        url = reverse(name, kwargs={"merchant_slug": acme.slug, **kwargs})
        assert_policed(client.get(url), url)
    # The partials htmx polls, asked as htmx asks.
    for name in ("dashboard_live", "checkin_console_rows"):
        url = reverse(name, kwargs={"merchant_slug": acme.slug, **objects[name]})
        assert_policed(client.get(url, HTTP_HX_REQUEST="true"), url)


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_other_url_carries_the_policy_and_nothing_inline(signed_in, client, acme, alice):
    if signed_in:
        client = client_for(alice)
    for name, kwargs in OTHER_URLS.items():
        url = reverse(name, kwargs=kwargs)
        assert_policed(client.get(url), url)
    assert_policed(client.get("/no-such-page/"), "/no-such-page/")
    assert_policed(client.get("/api/v1/no-such-resource/"), "/api/v1/no-such-resource/")


def test_every_admin_page_carries_the_policy_and_nothing_inline(acme, alice, acme_unit):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = client_for(root)
    urls = [reverse("admin:index"), reverse("admin:password_change"), reverse("admin:login")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse("admin:app_list", kwargs={"app_label": meta.app_label}))
        for view in ("changelist", "add"):
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}"))
        obj = model._default_manager.first()
        if obj is not None:
            for view in ("change", "history", "delete"):
                urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk]))
    urls.append(reverse("admin:auth_user_password_change", args=[alice.pk]))
    for url in urls:
        assert_policed(client.get(url), url)


def test_a_failed_csrf_check_is_a_policed_page_that_says_what_to_do(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "alice", "password": "x"})
    assert response.status_code == 403
    assert_policed(response, "login without a CSRF token")
    assert "reload the page and send the form again" in response.content.decode()


def test_the_error_pages_carry_the_policy_and_nothing_inline():
    for name in ("403.html", "403_csrf.html", "404.html", "500.html"):
        assert not inline_parts((TEMPLATES / name).read_text()), name


def test_no_page_template_holds_an_inline_script_style_or_handler():
    """The rendered walk sees the branches its objects take; this reads every branch of every page template."""
    checked = 0
    for path in sorted(TEMPLATES.rglob("*.html")):
        relative = path.relative_to(TEMPLATES).as_posix()
        if relative.startswith(NOT_WEB_PAGES):
            continue
        assert not inline_parts(path.read_text()), relative
        checked += 1
    assert checked > 50


def test_the_finder_sees_what_the_policy_refuses():
    assert inline_parts('<script>alert(1)</script><p style="color:red">') and inline_parts("<style>p{}</style>")
    assert inline_parts('<button onclick="go()">') and inline_parts('<div hx-on:click="go()">')
    assert inline_parts('<div hx-trigger="every 1s [document.hidden]">')
    assert inline_parts('<a href="javascript:go()">') and inline_parts("<div hx-vals='js:{a: 1}'>")
    assert not inline_parts('<script src="/static/x.js" defer></script><script type="application/json">{}</script>')
    assert not inline_parts('<div hx-trigger="every 15s, visibilitychange from:document" data-testid="x">')


@hypothesis_settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    prefix=st.sampled_from(["/", "/m/acme/", "/m/acme/payments/", "/api/", "/api/v1/", "/admin/", "/accounts/"]),
    tail=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    query=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
)
def test_any_path_any_answer_carries_the_policy(acme, alice, prefix, tail, query):
    url = prefix + quote(tail, safe="/")
    response = client_for(alice).get(url, QUERY_STRING=quote(query, safe="=&"))
    assert response.status_code < 500, url
    assert "script-src 'self'" in response.get(CSP, ""), url
