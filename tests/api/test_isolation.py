"""Every /api/v1/ route, asked by acme's key with ids of another merchant's objects, answers 404.

The routes are read from the router, so a new resource is covered as soon as it is registered; tests/api/factories
must be able to make an object of its kind.
"""

import pytest
from django.urls import reverse

from merchant_portal.api.urls import router
from tests.api.factories import objects_of
from tests.factories import SalesUnitFactory

DETAIL_METHODS = ("get", "put", "patch", "delete", "post")


def detail_routes():
    """(url name, basename, methods) of every route that takes an object id."""
    for route_pattern in router.urls:
        if "pk" not in route_pattern.pattern.regex.groupindex:
            continue
        view = route_pattern.callback
        methods = [m for m in DETAIL_METHODS if m in view.actions]
        yield route_pattern.name, view.initkwargs["basename"], methods


def test_every_resource_is_covered(acme):
    basenames = {basename for _, basename, _ in detail_routes()}
    assert basenames == set(objects_of(acme))


def test_a_key_gets_404_for_another_merchants_objects_on_every_route(api, other, charlie):
    theirs = objects_of(other)
    checked = 0
    for name, basename, methods in detail_routes():
        url = reverse(f"api:{name}", kwargs={"pk": theirs[basename].pk})
        for method in methods:
            response = getattr(api, method)(url, {}, format="json")
            assert response.status_code == 404, f"{method.upper()} {url}: {response.status_code}"
            assert response["Content-Type"] == "application/problem+json"
            checked += 1
    assert checked >= 12


def test_lists_do_not_show_another_merchants_objects(api, acme, other, charlie):
    mine, theirs = objects_of(acme), objects_of(other)
    for basename in mine:
        body = api.get(reverse(f"api:{basename}-list")).json()
        ids = {row["id"] for row in body["results"]}
        assert mine[basename].pk in ids and theirs[basename].pk not in ids, basename


def test_waiting_for_a_check_in_at_another_merchants_location_is_404(api, other, charlie):
    theirs = objects_of(other)
    response = api.get(reverse("api:checkin-next"), {"location": theirs["location"].pk, "timeout": 0})
    assert response.status_code == 404


@pytest.mark.parametrize("limit", ["sales_units", "locations"])
def test_a_limited_key_gets_404_outside_its_limits(make_key, acme, limit):
    inside, outside = objects_of(acme), objects_of(acme)
    if limit == "sales_units":
        outside = objects_of(acme, sales_unit=SalesUnitFactory(merchant=acme))
        client = make_key(sales_units=[inside["sales-unit"]])
    else:
        client = make_key(locations=[inside["location"]])
    for basename, obj in inside.items():
        assert client.get(reverse(f"api:{basename}-detail", kwargs={"pk": obj.pk})).status_code == 200, basename
    for basename, obj in outside.items():
        if basename == "sales-unit" and limit == "locations":
            continue  # the same sales unit: a location-limited key sees the unit of its locations
        response = client.get(reverse(f"api:{basename}-detail", kwargs={"pk": obj.pk}))
        assert response.status_code == 404, basename
