"""The log-in form refuses what no account can have (a username over the column's length, NUL) as an ordinary
failed log-in: before, a long username reached django-axes, whose attempt log holds 255 characters (a 500 on
PostgreSQL)."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("length", [151, 255, 256, 10_000])
def test_a_username_longer_than_any_account_is_a_failed_log_in(alice, length):
    response = Client().post(reverse("login"), {"username": "a" * length, "password": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in response.wsgi_request.session
    assert all(len(a.username or "") <= 255 for a in AccessAttempt.objects.all())


def test_the_right_password_still_logs_in(alice):
    alice.set_password("a long enough password")
    alice.save()
    response = Client().post(reverse("login"), {"username": alice.username, "password": "a long enough password"})
    assert response.status_code == 302


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(username=st.text(max_size=400), password=st.text(max_size=100))
def test_any_log_in_attempt_answers_without_a_server_error(alice, username, password):
    AccessAttempt.objects.all().delete()  # stay under the lockout while generating
    response = Client().post(reverse("login"), {"username": username, "password": password})
    assert response.status_code in (200, 403)
