"""Webhooks API: register, list, delete, validation and limits."""

from __future__ import annotations

import uuid

import pytest

from vipps_sandbox.server import SandboxServer, fast_config

from .conftest import Api

HOOKS = "/webhooks/v1/webhooks"


def register(api: Api, events: list[str], url: str = "https://example.no/hook", expected: int = 201) -> dict:
    return api.post(HOOKS, expected, json={"url": url, "events": events}).json()


def test_register_list_delete(api: Api) -> None:
    created = register(api, ["epayments.payment.authorized.v1", "epayments.payment.captured.v1"])
    assert set(created) == {"id", "secret"}
    uuid.UUID(created["id"])
    assert len(created["secret"]) >= 32
    listed = api.get(HOOKS).json()
    assert listed == {
        "webhooks": [
            {
                "id": created["id"],
                "url": "https://example.no/hook",
                "events": ["epayments.payment.authorized.v1", "epayments.payment.captured.v1"],
            }
        ]
    }
    assert "secret" not in str(listed)
    response = api.delete(f"{HOOKS}/{created['id']}", 204)
    assert response.content == b""
    assert api.get(HOOKS).json() == {"webhooks": []}


def test_each_registration_has_its_own_secret(api: Api) -> None:
    first = register(api, ["epayments.payment.created.v1"])
    second = register(api, ["epayments.payment.created.v1"])
    assert first["secret"] != second["secret"]


def test_webhooks_are_per_merchant(api: Api, other_api: Api) -> None:
    created = register(api, ["epayments.payment.created.v1"])
    assert other_api.get(HOOKS).json() == {"webhooks": []}
    other_api.delete(f"{HOOKS}/{created['id']}", 404)
    assert len(api.get(HOOKS).json()["webhooks"]) == 1


def test_delete_unknown_and_invalid_ids(api: Api) -> None:
    api.delete(f"{HOOKS}/{uuid.uuid4()}", 404)
    api.delete(f"{HOOKS}/not-a-uuid", 400, check_request=False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://example.no/hook"}, "events"),
        ({"events": ["epayments.payment.created.v1"]}, "url"),
        ({"url": "https://example.no/hook", "events": []}, "events"),
        ({"url": "https://example.no/hook", "events": ["epayments.payment.teleported.v1"]}, "events"),
        ({"url": "ftp://example.no/hook", "events": ["epayments.payment.created.v1"]}, "url"),
        ({"url": "https://example.no/hook", "events": ["epayments.payment.created.v1"], "extra": 1}, "body"),
    ],
)
def test_register_validation(api: Api, body: dict, field: str) -> None:
    problem = api.post(HOOKS, 400, json=body, check_request=False).json()
    assert problem["status"] == 400
    names = [d["name"] for d in problem["extraDetails"] or []]
    assert field in names or field == "body", names


def test_only_one_checked_in_webhook_per_msn(api: Api, other_api: Api) -> None:
    register(api, ["user.checked-in.v1"])
    problem = api.post(HOOKS, 400, json={"url": "https://example.no/other", "events": ["user.checked-in.v1"]}).json()
    assert "user.checked-in.v1" in problem["detail"]
    register(other_api, ["user.checked-in.v1"])  # another sales unit has its own allowance


def test_at_most_25_registrations_per_event_type(api: Api) -> None:
    for n in range(25):
        register(api, ["epayments.payment.captured.v1"], url=f"https://example.no/hook/{n}")
    api.post(HOOKS, 400, json={"url": "https://example.no/hook/26", "events": ["epayments.payment.captured.v1"]})
    register(api, ["epayments.payment.refunded.v1"])  # other event types are counted separately


def test_http_urls_can_be_refused_like_vipps() -> None:
    with SandboxServer(config=fast_config(allow_http_webhooks=False)) as server:
        server.register_merchant(msn="123456", client_id="c", client_secret="s", subscription_key="k")
        api = Api(server)
        api.post(HOOKS, 400, json={"url": "http://127.0.0.1:9/hook", "events": ["epayments.payment.created.v1"]})
        register(api, ["epayments.payment.created.v1"], url="https://127.0.0.1:9/hook")
