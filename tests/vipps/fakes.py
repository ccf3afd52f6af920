"""A fake HTTP layer: a ``requests`` transport adapter with queued answers.

Every request that reaches it is checked against the OpenAPI files by ``vipps_sandbox.contract``
(the one module that loads the spec files and patches their known defects), and so is every
2xx answer it gives, so all client tests are also contract tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from vipps_sandbox import contract

ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.ACCESS-TOKEN-SECRET-PAYLOAD.signature-7f3a9c"


def token_body(access_token: str = ACCESS_TOKEN, expires_in: str | int = "3599") -> dict[str, Any]:
    return {
        "token_type": "Bearer",
        "expires_in": expires_in,
        "ext_expires_in": "0",
        "expires_on": "1700003599",
        "not_before": "1700000000",
        "resource": "00000002-0000-0000-c000-000000000000",
        "access_token": access_token,
    }


def check_request(request: requests.PreparedRequest) -> str | None:
    """Raise ``contract.ContractError`` unless ``request`` matches its spec; return the API name.

    Only the endpoints in ``contract.UNSPECIFIED_PATHS`` (no spec describes them) are skipped,
    with ``None``; any other path no spec covers is an error.
    """
    url = request.url or ""
    if urlsplit(url).path in contract.UNSPECIFIED_PATHS:
        return None
    contract.validate_request(request.method or "", url, dict(request.headers), request.body)
    return contract.api_for_path(url)


def check_response(response: requests.Response) -> None:
    """Raise ``contract.ContractError`` unless a (fake) answer matches the spec of its request."""
    if urlsplit(response.request.url or "").path not in contract.UNSPECIFIED_PATHS:
        contract.validate_requests_response(response, check_request=False)


@dataclass
class Route:
    method: str
    path: str
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    exc: BaseException | None = None
    times: int | None = 1  # None: answer forever
    content_type: str = "application/json"
    check_response: bool = True  # False for deliberately off-spec answers


@dataclass
class Sent:
    request: requests.PreparedRequest
    timeout: Any

    @property
    def path(self) -> str:
        return urlsplit(self.request.url or "").path

    @property
    def query(self) -> str:
        return urlsplit(self.request.url or "").query

    @property
    def headers(self) -> CaseInsensitiveDict[str]:
        return self.request.headers

    @property
    def json(self) -> Any:
        body = self.request.body
        return json.loads(body) if body else None


class FakeAdapter(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.routes: list[Route] = []
        self.sent: list[Sent] = []
        self.validated_apis: list[str | None] = []
        self.check_contract = True

    def add(self, method: str, path: str, **kwargs: Any) -> Route:
        route = Route(method, path, **kwargs)
        self.routes.append(route)
        return route

    def add_token(self, *, times: int | None = None, check_response: bool = True, **body: Any) -> Route:
        return self.add(
            "POST",
            "/accesstoken/get",
            body=token_body(**body),
            times=times,
            content_type="application/json;charset=UTF-8",
            check_response=check_response,
        )

    def calls(self, method: str | None = None, path: str | None = None) -> list[Sent]:
        return [
            s for s in self.sent if (method is None or s.request.method == method) and (path is None or s.path == path)
        ]

    def api_calls(self) -> list[Sent]:
        """Everything but token fetches."""
        return [s for s in self.sent if s.path != "/accesstoken/get"]

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        self.sent.append(Sent(request, timeout))
        if self.check_contract:
            self.validated_apis.append(check_request(request))
        path = urlsplit(request.url or "").path
        for route in self.routes:
            if route.method == request.method and route.path == path and route.times != 0:
                break
        else:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        if route.times is not None:
            route.times -= 1
        if route.exc is not None:
            raise route.exc
        response = self._response(request, route)
        # Only 2xx answers: error answers are deliberately varied (bodiless 502s from a gateway,
        # minimal problems) to test the client's robustness, not the spec.
        if self.check_contract and route.check_response and 200 <= route.status < 300:
            check_response(response)
        return response

    @staticmethod
    def _response(request: requests.PreparedRequest, route: Route) -> requests.Response:
        response = requests.Response()
        response.status_code = route.status
        response.request = request
        response.url = request.url or ""
        headers = dict(route.headers)
        if route.body is None:
            response._content = b""
        elif isinstance(route.body, (bytes, str)):
            response._content = route.body.encode() if isinstance(route.body, str) else route.body
        else:
            response._content = json.dumps(route.body).encode()
            headers.setdefault("Content-Type", route.content_type)
        response.headers = CaseInsensitiveDict(headers)
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass
