"""Every query parameter of every list endpoint: a malformed value is a 400 problem+json naming the parameter,
never a 500 (Hypothesis throws arbitrary text, including NUL and huge numbers, at each of them)."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.factories import checkin_at, objects_of

# Every list endpoint and the parameters it reads (the pagination's too).
PARAMETERS = {
    "api:sales-unit-list": ["cursor", "page_size"],
    "api:location-list": ["cursor", "page_size"],
    "api:qr-code-list": ["cursor", "page_size", "location"],
    "api:qr-sheet-list": ["cursor", "page_size"],
    "api:checkin-list": ["cursor", "page_size", "location", "waiting"],
    "api:checkin-next": ["location", "after", "timeout"],
    "api:payment-list": ["cursor", "page_size", "location", "state"],
}
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.sampled_from(["", "0", "-1", "1.0", "1e3", "²", "٣", " 1", "1_0", "true", "NaN", "\x00", "9" * 25]),
)


@pytest.fixture
def endpoints(api, acme, charlie, other, settings):
    settings.API_LONG_POLL_SECONDS = 0
    settings.API_THROTTLE_RATE = "100000/min"
    objects_of(acme)
    objects_of(other)
    return api


@pytest.mark.parametrize(
    ("name", "query", "parameter"),
    [
        ("api:qr-code-list", {"location": "1.5"}, "location"),
        ("api:qr-code-list", {"location": "²"}, "location"),
        ("api:checkin-list", {"location": "x"}, "location"),
        ("api:checkin-list", {"waiting": "maybe"}, "waiting"),
        ("api:payment-list", {"state": "PAID"}, "state"),
        ("api:payment-list", {"state": "AUTHORIZED\x00"}, "state"),
        ("api:payment-list", {"location": "9" * 25}, "location"),
        ("api:checkin-next", {"location": "1", "timeout": "3601"}, "timeout"),
        ("api:checkin-next", {"location": "1", "after": "-1"}, "after"),
        ("api:checkin-next", {"location": "٣"}, "location"),
        ("api:checkin-next", {}, "location"),
    ],
)
def test_a_malformed_parameter_is_a_400_naming_it(endpoints, name, query, parameter):
    response = endpoints.get(reverse(name), query)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert parameter in response.json()["errors"]


def test_waiting_takes_true_or_false(api, shop):
    checkin_at(shop)
    checkin_at(shop, minutes_left=-1)
    count = {value: len(api.get(reverse("api:checkin-list"), {"waiting": value}).json()["results"]) for value in "01"}
    assert count == {"1": 1, "0": 2}


@pytest.mark.parametrize("name", PARAMETERS)
@given(data=st.data())
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
def test_no_query_string_is_a_server_error(endpoints, name, data):
    names = st.sampled_from([*PARAMETERS[name], "unknown"])
    query = data.draw(st.dictionaries(names, HOSTILE, max_size=4))
    response = endpoints.get(reverse(name), query)
    assert response.status_code < 500
    assert response.status_code in (200, 204, 400, 404), response.content
