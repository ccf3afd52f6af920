from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_lands_on_the_merchant_dashboard_and_logout_ends_the_session(client, acme, alice):
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 302
    response = client.get(response.url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard", kwargs={"merchant_slug": "acme"})
    assert "Acme Kiosks" in response.content.decode()
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard", kwargs={"merchant_slug": "acme"})).status_code == 302


def test_wrong_password_is_a_form_error(client, alice):
    response = login(client, "alice", "nope")
    assert response.status_code == 200 and "correct username and password" in response.content.decode()


def test_login_attempts_are_rate_limited(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alice", "wrong")
    response = login(client, "alice", PASSWORD)  # even the right password is refused while locked out
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    # another user from the same address is not locked out
    UserFactory(username="dora")
    assert login(client, "dora", PASSWORD).status_code == 302


def test_password_change(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "new-Secret-pass-77", "new_password2": "new-Secret-pass-77"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("new-Secret-pass-77")


def test_admin_is_for_superusers_only(client, alice, django_user_model):
    client.force_login(alice)
    assert client.get("/admin/").status_code == 302
    root = django_user_model.objects.create_superuser("root", "r@example.com", "pw-long-enough-123")
    client.force_login(root)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/tenancy/salesunit/").status_code == 200
