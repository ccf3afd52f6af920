"""MobilePay PoS v10 (legacy, CONTRACTS §6): the integrator token and
``GET /pos/v10/pointofsales/{posId}/checkin``.

The integrator token endpoint is not in the PoS spec (it is documented in prose only): OAuth2
client credentials with HTTP Basic ``client_id:client_secret`` and the form
``grant_type=client_credentials`` (optionally ``merchant_vat``). The sandbox accepts the keys of
its registered merchants there. ``…/checkin`` accepts only those integrator tokens (a token from
``/accesstoken/get`` gets 401, and an integrator token gets 401 on the Vipps APIs); the PoS
must belong to the token's merchant.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, request

from ..errors import SandboxError
from ..state import POS_TOKEN
from .common import current_state, json_response, merchant, operation, with_retry_after

bp = Blueprint("pos", __name__)


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status)


@bp.post("/integrator-authentication/connect/token")
@bp.post("/connect/token")
def integrator_token() -> Response:
    state = current_state()
    fate = state.faults.for_request("fetchPosToken")
    if fate.latency:
        state.sleep(fate.latency)
    if fate.error_status is not None:
        return with_retry_after(
            _oauth_error(fate.error_status, "server_error", "Injected fault (sandbox)"), fate.retry_after
        )
    if request.form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    header = request.headers.get("Authorization", "")
    try:
        client_id, _, client_secret = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        client_id = client_secret = ""
    if not header.startswith("Basic ") or not client_id:
        return _oauth_error(401, "invalid_client", "HTTP Basic client credentials are required")
    try:
        with state.lock:
            found = next((m for m in state.merchants.values() if m.client_id == client_id), None)
            if found is None:
                raise SandboxError(401, "unknown client")
            token = state.issue_token(client_id, client_secret, found.subscription_keys[0], issuer=POS_TOKEN)
    except SandboxError:
        return _oauth_error(401, "invalid_client", "Invalid client_id or client_secret")
    return json_response(
        {
            "access_token": token.token,
            "token_type": "Bearer",
            "expires_in": int(token.expires_at - token.issued_at),
        }
    )


@bp.get("/pos/v10/pointofsales/<pos_id>/checkin")
@operation("pos", "GetCheckIn", auth="token")
def get_checkin(pos_id: str) -> Response:
    if not request.headers.get("X-MobilePay-Client-System-Version"):
        raise SandboxError(400, "The X-MobilePay-Client-System-Version header is required", code="1000")
    return json_response(current_state().get_checkin(merchant(), pos_id))
