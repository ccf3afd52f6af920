"""The log-in limit counts per username and address, and per address across usernames."""

from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


def login(client, username, password, address="203.0.113.7", **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def test_many_usernames_from_one_address_are_locked_out_and_another_address_is_not(client, alice, settings):
    settings.AXES_FAILURE_LIMIT, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 5, 12
    # One try per username, far under the per-username limit; the last one reaches the per-address limit.
    statuses = [
        login(client, f"guess-{n}", "wrong").status_code for n in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS)
    ]
    assert statuses == [200] * (settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS - 1) + [429]
    assert login(client, "alice", PASSWORD).status_code == 429
    assert login(client, "alice", PASSWORD, address="198.51.100.1").status_code == 302


def test_an_office_behind_one_address_is_not_locked_out_by_a_few_typos(client, alice, settings):
    settings.AXES_FAILURE_LIMIT, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 5, 12
    for number in range(4):
        UserFactory(username=f"staff-{number}")
        for _ in range(2):
            login(client, f"staff-{number}", "typo")
    assert login(client, "alice", PASSWORD).status_code == 302


def test_a_successful_log_in_does_not_wipe_the_address_count(client, alice, settings):
    settings.AXES_FAILURE_LIMIT, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 5, 6
    for number in range(5):
        login(client, f"guess-{number}", "wrong")
    assert login(client, "alice", PASSWORD).status_code == 302
    client.logout()
    login(client, "guess-5", "wrong")
    assert login(client, "alice", PASSWORD).status_code == 429


def test_behind_the_trusted_proxy_the_forwarded_address_counts(client, alice, settings):
    settings.AXES_FAILURE_LIMIT, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 5, 3
    settings.LOGIN_ADDRESS_FROM_PROXY = True
    for number in range(3):
        login(client, f"guess-{number}", "wrong", address="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    proxied = {"address": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert login(client, "alice", PASSWORD, **proxied).status_code == 429
    # Another client behind the same proxy, and a forged header that is not an address, are not locked out.
    assert login(client, "alice", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 302
    client.logout()
    assert (
        login(client, "alice", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="not an address").status_code == 302
    )
