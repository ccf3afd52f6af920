from django.contrib.auth import get_user_model
from django.urls import reverse

from merchant_portal.audit.models import AuditEntry
from merchant_portal.tenancy.models import Membership
from merchant_portal.tenancy.roles import Role
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory


def test_owner_adds_an_existing_user_by_email(acme, alice):
    bob = UserFactory(username="bob", email="bob@example.com")
    response = client_for(alice).post(
        reverse("member_add", kwargs={"merchant_slug": acme.slug}), {"email": "BOB@example.com", "role": "cashier"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=bob, merchant=acme).role == Role.CASHIER
    assert AuditEntry.objects.filter(action="member.added", data={"role": "cashier"}).exists()


def test_a_new_person_gets_a_one_time_set_password_link(acme, alice, client):
    owner = client_for(alice)
    owner.post(
        reverse("member_add", kwargs={"merchant_slug": acme.slug}), {"email": "new@example.com", "role": "viewer"}
    )
    page = owner.get(reverse("member_list", kwargs={"merchant_slug": acme.slug})).content.decode()
    assert "new@example.com" in page and "/accounts/set-password/" in page
    link = page.split('data-testid="invite-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    # the link is shown once only
    assert (
        "/accounts/set-password/"
        not in owner.get(reverse("member_list", kwargs={"merchant_slug": acme.slug})).content.decode()
    )

    path = link.split("testserver", 1)[1]
    set_form = client.get(path, follow=True)
    assert set_form.status_code == 200 and "Choose your password" in set_form.content.decode()
    done = client.post(
        set_form.redirect_chain[-1][0], {"new_password1": "a-Long-pass-9921", "new_password2": "a-Long-pass-9921"}
    )
    assert done.status_code == 302
    assert get_user_model().objects.get(username="new@example.com").check_password("a-Long-pass-9921")


def test_adding_someone_twice_is_a_form_error(acme, alice):
    bob = UserFactory(username="bob2", email="bob2@example.com")
    MembershipFactory(user=bob, merchant=acme)
    response = client_for(alice).post(
        reverse("member_add", kwargs={"merchant_slug": acme.slug}), {"email": "bob2@example.com", "role": "viewer"}
    )
    assert response.status_code == 200 and "already a member" in response.content.decode()


def test_owner_changes_a_role_and_removes_a_member(acme, alice, make_member):
    bob = make_member(Role.VIEWER, "bob")
    membership = Membership.objects.get(user=bob, merchant=acme)
    url = reverse("member_edit", kwargs={"merchant_slug": acme.slug, "pk": membership.pk})
    client = client_for(alice)
    assert client.post(url, {"role": "manager"}).status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.MANAGER
    assert client.post(url, {"role": "manager", "remove": "1"}).status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert [e.action for e in AuditEntry.objects.order_by("id")][-2:] == ["member.role_changed", "member.removed"]


def test_the_last_owner_can_neither_leave_nor_be_demoted(acme, alice):
    membership = Membership.objects.get(user=alice, merchant=acme)
    url = reverse("member_edit", kwargs={"merchant_slug": acme.slug, "pk": membership.pk})
    client = client_for(alice)
    response = client.post(url, {"role": "viewer"})
    assert response.status_code == 200 and "at least one owner" in response.content.decode()
    response = client.post(url, {"role": "owner", "remove": "1"})
    assert response.status_code == 200 and "at least one owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_a_user_in_two_merchants_switches_between_them(acme, other, alice, charlie):
    MembershipFactory(user=alice, merchant=other, role=Role.VIEWER)
    client = client_for(alice)
    assert client.get(reverse("home")).url == reverse("merchant_switch")
    switch = client.get(reverse("merchant_switch")).content.decode()
    assert "Acme Kiosks" in switch and "Other Shop" in switch
    page = client.get(reverse("dashboard", kwargs={"merchant_slug": "other"})).content.decode()
    assert "Other Shop" in page and "viewer here" in page
    assert client.get(reverse("home")).url == reverse("dashboard", kwargs={"merchant_slug": "other"})
