"""Errors as RFC 9457 problem details (`application/problem+json`).

`type` points at the error's section of the API docs page; `errors` (validation only) maps each field to its
messages, with `non_field_errors` for the rest.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
KEPT_HEADERS = ("WWW-Authenticate", "Retry-After", "Allow")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with another request body."
    default_code = "idempotency_key_reused"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"

    def __init__(self):
        super().__init__(f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


class IdempotencyKeyInUse(Conflict):
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."
    default_code = "idempotency_key_in_use"


TITLES = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
}


def problem(*, status_code: int, code: str, detail: str, errors: dict | None = None, headers=None) -> Response:
    body = {
        "type": f"/api/docs/#error-{code}",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _django_validation_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(as_serializer_error(exc))


def problem_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_error(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):  # HttpRequest.body, read for the Idempotency-Key's digest
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling (and its logging) takes over
    headers = {name: value for name, value in response.headers.items() if name in KEPT_HEADERS}
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        detail = "The request has invalid fields; see `errors`."
        return problem(status_code=400, code="invalid", detail=detail, errors=errors, headers=headers)
    detail = exc.detail if isinstance(exc.detail, str) else exc.default_detail
    return problem(status_code=response.status_code, code=exc.default_code, detail=str(detail), headers=headers)
