"""Webhooks API v1 (CONTRACTS §3.1): register, list, delete."""

from __future__ import annotations

from flask import Blueprint, Response

from .common import current_state, empty_response, json_body, json_response, merchant, operation

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/v1/webhooks")
@operation("webhooks", "registerWebhook")
def register() -> Response:
    webhook = current_state().register_webhook(merchant(), json_body())
    return json_response({"id": webhook.id, "secret": webhook.secret}, 201)


@bp.get("/webhooks/v1/webhooks")
@operation("webhooks", "getWebhooks")
def list_webhooks() -> Response:
    # The secret is only ever returned by the register call.
    return json_response({"webhooks": [w.wire() for w in current_state().list_webhooks(merchant())]})


@bp.delete("/webhooks/v1/webhooks/<webhook_id>")
@operation("webhooks", "deleteWebhook")
def delete(webhook_id: str) -> Response:
    current_state().delete_webhook(merchant(), webhook_id)
    return empty_response(204)
