"""Cursors and page sizes: a value the API did not give out is a 400 naming the parameter, never a 500."""

import base64

import pytest
from django.urls import reverse

from tests.api.factories import payment_at


def cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    "value",
    [
        "cD0yMDI2LTAxLTAx",  # "p=2026-01-01": well-formed, but not a position
        cursor("p=1%00"),
        cursor("p=99999999999999999999"),
        cursor("p=-5"),
        cursor("o=-1"),
        cursor("r=x"),
        "not base64!",
        "\x00",
        "",
        "ø",
    ],
)
def test_a_cursor_the_api_did_not_give_out_is_a_400(api, shop, value):
    response = api.get(reverse("api:payment-list"), {"cursor": value})
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert "cursor" in response.json()["errors"]


def test_the_cursors_the_api_gives_out_work(api, shop):
    payments = [payment_at(shop) for _ in range(3)]
    first = api.get(reverse("api:payment-list"), {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert [row["id"] for row in first["results"] + second["results"]] == [p.pk for p in reversed(payments)]
    back = api.get(second["previous"]).json()
    assert back["results"] == first["results"]


@pytest.mark.parametrize("value", ["0", "201", "-1", "2.0", "ten", "", "²", "1" * 30])
def test_a_page_size_out_of_range_is_a_400(api, shop, value):
    response = api.get(reverse("api:location-list"), {"page_size": value})
    assert response.status_code == 400 and "1 to 200" in response.json()["errors"]["page_size"][0]
