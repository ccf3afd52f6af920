"""The API docs page, rendered on the server from the OpenAPI schema (no JavaScript from a CDN)."""

import json

from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.exceptions import NotFound

METHODS = ("get", "post", "put", "patch", "delete")


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def api_docs(request):
    schema = _schema()
    operations = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            request_body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            examples = [
                {"name": name, "value": json.dumps(example.get("value"), indent=2)}
                for name, example in request_body.get("examples", {}).items()
            ]
            operations.append(
                {
                    "anchor": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "tag": (op.get("tags") or ["Other"])[0],
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": op.get("parameters", []),
                    "request_schema": request_body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1],
                    "examples": examples,
                    "responses": sorted(op.get("responses", {}).items()),
                }
            )
    # For POS vendors' developers, in English whatever the portal's language (so is the schema); the page says so
    # in its lang attribute.
    with translation.override("en"):
        return render(
            request,
            "api/docs.html",
            {
                "info": schema["info"],
                "operations": operations,
                "components": schema["components"]["schemas"],
                "keep_hours": settings.API_IDEMPOTENCY_KEEP_HOURS,
                "throttle_rate": settings.API_THROTTLE_RATE,
            },
        )


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def not_found(request):
    raise NotFound("No such API endpoint; see /api/docs/.")
