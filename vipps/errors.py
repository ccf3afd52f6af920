"""Exceptions raised by the client.

Every error says whether repeating the same call (with the same ``Idempotency-Key``) may succeed:

* ``retryable`` errors: connection errors, timeouts, HTTP 423, 429 and 5xx.
* permanent errors: every other 4xx, invalid input, and responses we cannot understand.

``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RETRYABLE_STATUSES = frozenset({423, 429})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


@dataclass(frozen=True)
class ExtraDetail:
    name: str
    reason: str


class VippsError(Exception):
    """Base class of every error raised by the ``vipps`` package."""

    retryable: bool = False
    retry_after: float | None = None

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation


class VippsValidationError(VippsError, ValueError):
    """The caller's input breaks a documented limit; nothing was sent."""


class VippsResponseError(VippsError):
    """A success response whose body does not have the documented shape."""


class VippsTransportError(VippsError):
    """No HTTP response was received.

    ``may_have_been_applied`` is True when the request may have reached the server (read timeout,
    connection dropped after sending): repeat it only with the same idempotency key, or check the
    resource's state first.
    """

    retryable = True
    may_have_been_applied = True


class VippsConnectError(VippsTransportError):
    """The connection could not be opened (DNS, refused, TLS, connect timeout): nothing was sent."""

    may_have_been_applied = False


class VippsReadTimeout(VippsTransportError):
    """The request was sent but no response arrived within the read timeout."""


class VippsAPIError(VippsError):
    """The API answered with a non-success HTTP status.

    The problem fields come from RFC 7807 ``application/problem+json`` bodies (ePayment,
    Webhooks), from QR's ``QrErrorResponse`` (``invalidParams`` is mapped to ``extra_details``)
    and from MobilePay PoS ``ErrorResponse`` (``code``/``message``/``correlationId``).
    Text fields are already masked (see ``vipps.masking``).
    """

    def __init__(
        self,
        *,
        status: int,
        operation: str | None = None,
        type: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        instance: str | None = None,
        trace_id: str | None = None,
        extra_details: tuple[ExtraDetail, ...] = (),
        error_code: str | None = None,
        retry_after: float | None = None,
        body: str | None = None,
    ) -> None:
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.instance = instance
        self.trace_id = trace_id
        self.extra_details = extra_details
        self.error_code = error_code
        self.retry_after = retry_after
        self.retryable = is_retryable_status(status)
        self.body = body
        parts = [f"HTTP {status}"]
        if operation:
            parts.insert(0, f"{operation}:")
        parts += [p for p in (title, detail) if p]
        if error_code:
            parts.append(f"(error code {error_code})")
        if trace_id:
            parts.append(f"[traceId {trace_id}]")
        super().__init__(" ".join(parts), operation=operation)

    @classmethod
    def from_body(
        cls, status: int, body: Any, *, operation: str | None, retry_after: float | None, text: str | None
    ) -> VippsAPIError:
        problem = body if isinstance(body, dict) else {}
        raw_details = problem.get("extraDetails") or problem.get("invalidParams") or []
        extra = tuple(
            ExtraDetail(str(d.get("name", "")), str(d.get("reason", ""))) for d in raw_details if isinstance(d, dict)
        )
        code = next((d.reason for d in extra if d.name.lower() == "errorcode"), None)
        if code is None and problem.get("code") is not None:  # MobilePay PoS ErrorResponse
            code = str(problem["code"])

        def text_field(*names: str) -> str | None:
            for name in names:
                value = problem.get(name)
                if value is not None:
                    return str(value)
            return None

        return cls(
            status=status,
            operation=operation,
            type=text_field("type"),
            title=text_field("title"),
            detail=text_field("detail", "message"),
            instance=text_field("instance"),
            trace_id=text_field("traceId", "correlationId", "CorrelationId"),
            extra_details=extra,
            error_code=code,
            retry_after=retry_after,
            body=text,
        )
