"""The Flask application that serves every emulated API, the control API and the phone pages."""

from __future__ import annotations

from flask import Flask, Response, redirect, request
from werkzeug.exceptions import HTTPException

from .errors import SandboxError, render
from .routes import access_token, control, epayment, phone, pos, qr, webhooks
from .state import SandboxState

# Which error shape an unknown path under an API prefix gets.
_API_PREFIXES = (
    ("/epayment/", "epayment"),
    ("/qr/", "qr"),
    ("/webhooks/", "webhooks"),
    ("/pos/", "pos"),
    ("/accesstoken/", "access_token"),
)


def create_app(state: SandboxState) -> Flask:
    app = Flask(__name__)
    app.extensions["vipps_sandbox"] = state
    # Exact bodies on the wire: no key sorting, no pretty printing, no ASCII escaping surprises.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    for blueprint in (access_token.bp, epayment.bp, qr.bp, webhooks.bp, pos.bp, control.bp, phone.bp):
        app.register_blueprint(blueprint)

    @app.get("/")
    def root() -> Response:
        return redirect("/_sandbox/", code=302)  # type: ignore[return-value]

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        api = next((name for prefix, name in _API_PREFIXES if request.path.startswith(prefix)), "control")
        status = error.code or 500
        return render(api, SandboxError(status, error.description or error.name, title=error.name), request.path)

    return app
