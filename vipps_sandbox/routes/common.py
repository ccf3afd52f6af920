"""What every emulated API endpoint shares: faults, authentication, header checks, bodies."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request

from ..errors import SandboxError, render
from ..faults import retry_after_header
from ..models import Merchant
from ..state import MSN_RE, POS_TOKEN, VIPPS_TOKEN, SandboxState

F = TypeVar("F", bound=Callable[..., Any])

SYSTEM_HEADERS = (
    "Vipps-System-Name",
    "Vipps-System-Version",
    "Vipps-System-Plugin-Name",
    "Vipps-System-Plugin-Version",
)


def current_state() -> SandboxState:
    return cast(SandboxState, current_app.extensions["vipps_sandbox"])


def base_url() -> str:
    """Where the client reached us; used for qrImageUrl and redirectUrl."""
    configured = current_state().config.public_url
    return (configured or request.host_url).rstrip("/")


def json_response(data: Any, status: int = 200, content_type: str = "application/json") -> Response:
    return Response(json.dumps(data).encode("utf-8"), status=status, content_type=content_type)


def empty_response(status: int = 200) -> Response:
    return Response(b"", status=status)


def json_body(required: bool = True) -> Any:
    """The parsed JSON body; 400 when it is not JSON (None for an empty optional body)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise SandboxError(400, "A JSON request body is required", fields=[("body", "required")])
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise SandboxError(
            400, f"The request body is not valid JSON: {exc}", fields=[("body", "invalid JSON")]
        ) from None


def merchant() -> Merchant:
    return cast(Merchant, g.merchant)


def _check_common_headers(msn_required: bool, msn_pattern: bool) -> None:
    for name in SYSTEM_HEADERS:
        value = request.headers.get(name)
        if value is not None and len(value) > 30:
            raise SandboxError(400, f"The {name} header is longer than 30 characters", fields=[(name, "maxLength 30")])
    msn = request.headers.get("Merchant-Serial-Number")
    if msn is None and msn_required:
        raise SandboxError(
            400,
            "The Merchant-Serial-Number header is required",
            fields=[("Merchant-Serial-Number", "required")],
        )
    if msn is not None and msn_pattern and not MSN_RE.match(msn):
        raise SandboxError(
            400,
            "The Merchant-Serial-Number header is not a valid MSN",
            fields=[("Merchant-Serial-Number", "must be digits")],
        )


def _authenticate(state: SandboxState, api: str, auth: str) -> Merchant | None:
    if auth == "none":
        return None
    found = state.authenticate(
        request.headers.get("Authorization"),
        request.headers.get("Ocp-Apim-Subscription-Key"),
        check_subscription_key=auth == "merchant",
        issuer=POS_TOKEN if api == "pos" else VIPPS_TOKEN,
    )
    msn = request.headers.get("Merchant-Serial-Number")
    if msn is not None and msn != found.msn:
        raise SandboxError(403, f"The access token does not give access to MSN {msn}", title="Forbidden")
    return found


def with_retry_after(response: Response, seconds: float | None) -> Response:
    """Add ``Retry-After`` (whole seconds) when ``seconds`` is set."""
    if seconds is not None:
        response.headers["Retry-After"] = retry_after_header(seconds)
    return response


def operation(api: str, operation_id: str, auth: str = "merchant", msn_required: bool = False) -> Callable[[F], F]:
    """Wrap an endpoint: faults, then authentication and header checks, then the handler.

    ``auth``: "merchant" (Bearer token + matching Ocp-Apim-Subscription-Key), "token" (Bearer
    token only, the PoS API) or "none" (the access token endpoint itself).
    """

    def decorator(handler: F) -> F:
        @functools.wraps(handler)
        def wrapper(**kwargs: Any) -> Response:
            state = current_state()
            fate = state.faults.for_request(operation_id)
            if fate.latency:
                state.sleep(fate.latency)
            if fate.error_status is not None:
                return with_retry_after(
                    render(
                        api, SandboxError(fate.error_status, "Injected fault (sandbox)"), request.path, operation_id
                    ),
                    fate.retry_after,
                )
            if fate.timeout is not None:
                # Nothing happens; the answer comes after the client has given up.
                state.sleep(fate.timeout)
                return render(api, SandboxError(504, "Injected timeout (sandbox)"), request.path, operation_id)
            try:
                g.merchant = _authenticate(state, api, auth)
                if api != "pos":
                    _check_common_headers(msn_required, msn_pattern=api == "epayment")
                response = handler(**kwargs)
            except SandboxError as error:
                # A rate limit error (RateLimitError) says when to come back.
                response = with_retry_after(
                    render(api, error, request.path, operation_id), getattr(error, "retry_after", None)
                )
            if fate.apply_then_timeout is not None:
                # The operation took effect; the answer comes after the client has given up.
                state.sleep(fate.apply_then_timeout)
            return response

        return cast(F, wrapper)

    return decorator
