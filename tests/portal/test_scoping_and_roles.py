"""Every merchant-scoped URL: outsiders get 404, roles get 403 where their permission is missing.

The URL list is read from the URL configuration, so a new merchant view is covered as soon as it exists; its
app's tests/<app>/scoping.py must say which objects its URL points at (tests/scoping.py).
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from merchant_portal.tenancy.roles import ROLE_PERMISSIONS, Role
from tests.conftest import client_for
from tests.factories import SalesUnitFactory
from tests.scoping import merchant_url_kwargs

MERCHANT_PREFIX = "m/<slug:merchant_slug>/"


def merchant_url_names() -> list[str]:
    names = []

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith(MERCHANT_PREFIX) and p.name:
                names.append(p.name)

    walk(get_resolver().url_patterns)
    return sorted(set(names))


@pytest.fixture
def acme_objects(acme, alice, acme_unit):
    return merchant_url_kwargs(acme)


@pytest.fixture
def other_objects(other, charlie, other_unit):
    return merchant_url_kwargs(other)


def test_every_merchant_view_is_known_to_this_test(acme):
    assert set(merchant_url_names()) == set(merchant_url_kwargs(acme))


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_on_every_merchant_url(method, acme, acme_objects, charlie):
    client = client_for(charlie)
    for name in merchant_url_names():
        url = reverse(name, kwargs={"merchant_slug": acme.slug, **acme_objects[name]})
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"


def test_anonymous_is_sent_to_login_on_every_merchant_url(client, acme, acme_objects):
    for name in merchant_url_names():
        url = reverse(name, kwargs={"merchant_slug": acme.slug, **acme_objects[name]})
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_member_asking_for_another_merchants_object_by_id_gets_404(acme, alice, acme_objects, other_objects):
    client = client_for(alice)
    for name in merchant_url_names():
        kwargs = other_objects[name]
        if not kwargs:
            continue
        url = reverse(name, kwargs={"merchant_slug": acme.slug, **kwargs})
        view_class = resolve(url).func.view_class
        methods = [m for m in ("get", "post") if hasattr(view_class, m) and m in view_class.http_method_names]
        for method in methods:
            assert getattr(client, method)(url).status_code == 404, f"{method} {url}"


def test_unknown_merchant_is_404_even_for_a_superuser_without_membership(db, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-long-enough-123")
    assert client_for(admin).get(reverse("dashboard", kwargs={"merchant_slug": "nope"})).status_code == 404


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CASHIER, Role.MANAGER, Role.OWNER])
def test_each_role_gets_403_exactly_where_its_permission_is_missing(role, acme, acme_objects, make_member):
    client = client_for(make_member(role))
    checked = 0
    for name in merchant_url_names():
        url = reverse(name, kwargs={"merchant_slug": acme.slug, **acme_objects[name]})
        permission = resolve(url).func.view_class.permission
        allowed = permission in ROLE_PERMISSIONS[role]
        view_class = resolve(url).func.view_class
        if "get" not in view_class.http_method_names or not hasattr(view_class, "get"):
            # An action view (POST only): allowed roles are redirected back with the outcome.
            response = client.post(url)
            expected = 302
        else:
            response = client.get(url)
            expected = 200
        if allowed:
            assert response.status_code == expected, f"{role} {url}: {response.status_code}"
        else:
            assert response.status_code == 403, f"{role} GET {url}: {response.status_code}"
            assert client.post(url).status_code == 403, f"{role} POST {url}"
        checked += 1
    assert checked == len(merchant_url_names()) >= 9


def test_role_matrix_is_as_documented():
    from merchant_portal.tenancy.roles import Perm

    assert ROLE_PERMISSIONS[Role.VIEWER] == {Perm.VIEW}
    assert ROLE_PERMISSIONS[Role.CASHIER] - ROLE_PERMISSIONS[Role.VIEWER] == {Perm.REQUEST_PAYMENTS}
    assert {Perm.MANAGE_LOCATIONS, Perm.MANAGE_QR_CODES, Perm.MANAGE_WEBHOOKS} <= ROLE_PERMISSIONS[Role.MANAGER]
    assert Perm.REFUND_PAYMENTS in ROLE_PERMISSIONS[Role.MANAGER] - ROLE_PERMISSIONS[Role.CASHIER]
    assert Perm.MANAGE_CREDENTIALS not in ROLE_PERMISSIONS[Role.MANAGER]
    assert {Perm.MANAGE_MEMBERS, Perm.MANAGE_CREDENTIALS} <= ROLE_PERMISSIONS[Role.OWNER]


def test_viewer_cannot_change_credentials_by_post(acme, acme_unit, make_member):
    client = client_for(make_member(Role.MANAGER))
    url = reverse("sales_unit_update", kwargs={"merchant_slug": acme.slug, "pk": acme_unit.pk})
    response = client.post(
        url,
        {
            "name": "Hijacked",
            "msn": acme_unit.msn,
            "market": "NO",
            "currency": "NOK",
            "environment": "sandbox",
            "client_id": "x",
        },
    )
    assert response.status_code == 403
    acme_unit.refresh_from_db()
    assert acme_unit.name == "Acme Oslo"


def test_scoped_queryset_only_returns_the_merchants_rows(acme, other):
    from merchant_portal.tenancy.models import SalesUnit

    mine = SalesUnitFactory(merchant=acme)
    SalesUnitFactory(merchant=other)
    assert list(SalesUnit.objects.for_merchant(acme)) == [mine]
