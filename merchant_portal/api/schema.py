"""OpenAPI: the API-key security scheme, and the problem+json errors and Idempotency-Key on every operation."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, inline_serializer
from rest_framework import serializers

from .exceptions import PROBLEM_CONTENT_TYPE
from .idempotency import HEADER, MAX_KEY_LENGTH


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "merchant_portal.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "vmp_<prefix>_<secret>",
            "description": "An API key created by an owner under “API keys” in the portal.",
        }


Problem = inline_serializer(
    "Problem",
    fields={
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
        "errors": serializers.DictField(required=False, child=serializers.JSONField()),
    },
)

ERRORS_ALWAYS = {
    400: "Invalid request (parameters or body).",
    401: "Missing, unknown or revoked API key.",
    404: "No such object, or not visible to this key.",
    429: "Too many requests; see Retry-After.",
}
ERRORS_WRITE = {403: "The key is read-only or may not do this.", 409: "Conflict with the current state."}


class ApiAutoSchema(AutoSchema):
    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [
                *parameters,
                OpenApiParameter(
                    HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description=(
                        f"1 to {MAX_KEY_LENGTH} characters, unique per request (a UUID). A repeated key replays "
                        "the stored response; while the first is running: 409; with another body: 422."
                    ),
                ),
            ]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(ERRORS_ALWAYS)
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            errors.update(ERRORS_WRITE)
        if self.method == "POST":
            errors[422] = "The Idempotency-Key was used with another body."
        for status_code, description in errors.items():
            responses.setdefault(
                str(status_code),
                {
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": self.resolve_serializer(Problem, "response").ref}},
                    "description": description,
                },
            )
        return responses


def only_versioned_endpoints(endpoints, **kwargs):
    """The schema describes /api/v1/ only (not itself, nor the docs page)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


def lib_doc_excludes() -> list[type]:
    """drf-spectacular takes a view's or serializer's description from the first docstring in its MRO, stopping
    at DRF's own classes. The portal's base classes document code for its programmers, not the API for vendors:
    stop at them too, so a class without its own docstring has no description rather than a leaked one."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    from .base import FlatReadMixin, ScopedViewMixin
    from .idempotency import IdempotentMixin

    return [*get_lib_doc_excludes(), IdempotentMixin, ScopedViewMixin, FlatReadMixin]
