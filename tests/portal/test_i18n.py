"""Languages: the user's choice (cookie for visitors, profile for users, following them to a new device),
and money in each language's own format."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from merchant_portal.core.i18n import format_money
from merchant_portal.tenancy.selectors import user_language
from tests.conftest import client_for


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("en", "NOK", "NOK\u00a01,234.50"),
        ("nb", "NOK", "1\u00a0234,50\u00a0kr"),
        ("da", "DKK", "1.234,50\u00a0kr."),
        ("fi", "EUR", "1\u00a0234,50\u00a0€"),
        ("nb", "", "1\u00a0234,50"),
    ],
)
def test_money_is_formatted_the_way_each_language_writes_it(language, currency, expected):
    assert format_money(123450, currency, language=language) == expected


def test_money_uses_the_active_language_and_keeps_the_minor_units_exact():
    with translation.override("da"):
        assert format_money(1, "DKK") == "0,01\u00a0kr."
        assert format_money(999_999_999, "NOK") == "9.999.999,99\u00a0NOK"
    assert format_money(None, "NOK") == ""


@pytest.mark.django_db
def test_a_visitor_picks_a_language_on_the_login_page_and_gets_a_cookie():
    client = Client()
    response = client.post(reverse("language_set"), {"language": "fi", "next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fi"
    page = client.get(reverse("login"))
    assert page["Content-Language"] == "fi"
    assert '<html lang="fi"' in page.content.decode()


@pytest.mark.django_db
def test_an_unknown_language_is_a_clear_400_and_an_outside_next_is_ignored(alice):
    client = client_for(alice)
    assert client.post(reverse("language_set"), {"language": "xx"}).status_code == 400
    response = client.post(reverse("language_set"), {"language": "nb", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("home")


@pytest.mark.django_db
def test_a_users_choice_follows_them_to_another_device_over_the_browsers_language(alice, acme):
    client_for(alice).post(reverse("language_set"), {"language": "da"})
    assert user_language(user=alice) == "da"
    # A new device: no cookie, a browser that asks for Finnish; the login brings the user's choice back.
    other_device = Client(HTTP_ACCEPT_LANGUAGE="fi")
    other_device.force_login(alice)
    page = other_device.get(reverse("dashboard", args=[acme.slug]))
    assert page["Content-Language"] == "da"
    # Back to "follow the browser".
    other_device.post(reverse("language_set"), {"language": ""})
    assert user_language(user=alice) == ""
    assert other_device.get(reverse("dashboard", args=[acme.slug]))["Content-Language"] == "fi"


@pytest.mark.django_db
def test_the_browsers_language_is_used_when_nobody_chose(alice, acme):
    client = client_for(alice)
    page = client.get(reverse("dashboard", args=[acme.slug]), HTTP_ACCEPT_LANGUAGE="nb-NO,nb;q=0.9")
    assert page["Content-Language"] == "nb"


@pytest.mark.django_db
def test_the_rest_api_answers_in_english_whatever_the_client_asks_for():
    # Its problem+json texts are a documented contract; the pages around it are translated, the API is not.
    response = Client().get("/api/v1/payments/", HTTP_ACCEPT_LANGUAGE="nb")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["title"].isascii() and response["Content-Language"] == "en"
    assert Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="nb")["Content-Language"] == "nb"
