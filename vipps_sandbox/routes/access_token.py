"""Access token API: ``POST /accesstoken/get`` (CONTRACTS §2.1)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from .common import current_state, json_response, operation

bp = Blueprint("access_token", __name__)

RAW_HEADERS_KEY = "vipps_sandbox.raw_headers"


def raw_header(name: str) -> str | None:
    """A header whose name has an underscore (see ``server.SandboxRequestHandler``)."""
    for key, value in request.environ.get(RAW_HEADERS_KEY, ()):
        if key.lower() == name:
            return str(value)
    # Servers that keep underscore headers (or a test client) put them in the environ as usual.
    return request.headers.get(name)


@bp.post("/accesstoken/get")
@bp.post("/accessToken/get")  # the quick-start guide spells it this way (seed document 002)
@operation("access_token", "fetchAuthorizationTokenUsingPost", auth="none")
def fetch_token() -> Response:
    state = current_state()
    token = state.issue_token(
        raw_header("client_id"),
        raw_header("client_secret"),
        request.headers.get("Ocp-Apim-Subscription-Key"),
        request.headers.get("Merchant-Serial-Number"),
    )
    # Every field is a string, as the spec types them (CONTRACTS §9).
    body = {
        "token_type": "Bearer",
        "expires_in": str(int(token.expires_at - token.issued_at)),
        "ext_expires_in": "0",
        "expires_on": str(int(token.expires_at)),
        "not_before": str(int(token.issued_at)),
        "resource": "00000002-0000-0000-c000-000000000000",
        "access_token": token.token,
    }
    return json_response(body, 200, "application/json;charset=UTF-8")
