"""One HTTP exchange: send, time, classify errors, log and report a masked ``CallRecord``.

Shared by ``VippsClient`` and ``MobilePayPosClient``. It never retries: one call, one attempt.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3.exceptions

from vipps.errors import (
    VippsAPIError,
    VippsConnectError,
    VippsError,
    VippsReadTimeout,
    VippsTransportError,
)
from vipps.masking import mask_body, mask_headers, mask_json, mask_text

logger = logging.getLogger("vipps")


@dataclass(frozen=True)
class CallRecord:
    """What the ``on_call`` observer receives after every HTTP exchange. Everything is masked."""

    operation: str
    method: str
    path: str
    request_headers: dict[str, str]
    request_body: str | None
    status_code: int | None
    response_body: str | None
    duration_ms: float
    idempotency_key: str | None = None
    error: str | None = None
    msn: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))  # when the request began


OnCall = Callable[[CallRecord], None]


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds: either delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


def _is_connect_failure(exc: requests.ConnectionError) -> bool:
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))


class Transport:
    def __init__(
        self,
        *,
        session: requests.Session | None,
        base_url: str,
        timeout: tuple[float, float],
        on_call: OnCall | None,
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = base_url
        self.timeout = timeout
        self.on_call = on_call

    def send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        json_body: Any = None,
        form_body: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        msn: str | None = None,
        url: str | None = None,
    ) -> requests.Response:
        """Send one request; return the response if it is 2xx, else raise a ``VippsError``."""
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        full_path = path + (f"?{urlencode(clean_params)}" if clean_params else "")
        send_headers = dict(headers)
        data: str | None = None
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False)
            send_headers["Content-Type"] = "application/json"
        elif form_body is not None:
            data = urlencode(form_body)
            send_headers["Content-Type"] = "application/x-www-form-urlencoded"

        started_at = datetime.now(UTC)
        started = time.perf_counter()
        status: int | None = None
        response_text: str | None = None
        error: VippsError | None = None
        response: requests.Response | None = None
        try:
            response = self.session.request(
                method,
                url or self.base_url + path,
                params=clean_params or None,
                data=data.encode("utf-8") if data is not None else None,
                headers=send_headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
            status = response.status_code
            response_text = response.text
            if not 200 <= status < 300:
                error = self._api_error(operation, response)
        except requests.ReadTimeout as exc:
            error = VippsReadTimeout(f"{operation}: read timeout: {exc}", operation=operation)
        except requests.ConnectionError as exc:
            if _is_connect_failure(exc):
                error = VippsConnectError(f"{operation}: connect error: {exc}", operation=operation)
            else:
                error = VippsTransportError(f"{operation}: connection lost: {exc}", operation=operation)
        except requests.exceptions.ChunkedEncodingError as exc:  # the response broke off mid-body
            error = VippsTransportError(f"{operation}: connection lost: {exc}", operation=operation)
        except requests.RequestException as exc:
            error = VippsError(f"{operation}: request failed: {exc}", operation=operation)
        duration_ms = (time.perf_counter() - started) * 1000

        record = CallRecord(
            operation=operation,
            method=method,
            path=full_path,
            request_headers=mask_headers(send_headers),
            request_body=mask_body(data),
            status_code=status,
            response_body=mask_body(response_text),
            duration_ms=round(duration_ms, 1),
            idempotency_key=idempotency_key,
            error=mask_text(str(error)) if error else None,
            msn=msn,
            started_at=started_at,
        )
        self._log(record)
        self._notify(record)
        if error is not None:
            raise error
        assert response is not None
        return response

    @staticmethod
    def _api_error(operation: str, response: requests.Response) -> VippsAPIError:
        try:
            body = response.json()
        except ValueError:
            body = None
        return VippsAPIError.from_body(
            response.status_code,
            mask_json(body),
            operation=operation,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            text=mask_body(response.text),
        )

    @staticmethod
    def _log(record: CallRecord) -> None:
        level = logging.INFO if record.error is None else logging.WARNING
        logger.log(
            level,
            "vipps %s %s %s -> %s in %.0f ms%s",
            record.operation,
            record.method,
            record.path,
            record.status_code if record.status_code is not None else "no response",
            record.duration_ms,
            f": {record.error}" if record.error else "",
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "vipps %s request headers=%s body=%s response=%s",
                record.operation,
                record.request_headers,
                record.request_body,
                record.response_body,
            )

    def _notify(self, record: CallRecord) -> None:
        if self.on_call is None:
            return
        # A failing observer (e.g. the call-log database is down) must not turn a successful
        # payment operation into an error the caller would retry.
        try:
            self.on_call(record)
        except Exception:
            logger.exception("vipps on_call observer failed for %s", record.operation)
