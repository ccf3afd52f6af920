"""`Idempotency-Key` on POST (after pretix's API and the IETF idempotency-key draft).

The first request with a key claims it (a row with no response yet) and its response is stored once it is
known; the same key on the same endpoint then gets that response again, with `Idempotent-Replayed: true`.
- a duplicate that arrives while the first is still running: 409 (`idempotency_key_in_use`), retry later;
- the same key with another body: 422 (`idempotency_key_reused`), as the draft suggests;
- a 5xx response is not stored, so the client may retry with the same key.
Keys are per API key and endpoint (method and path) and kept for API_IDEMPOTENCY_KEEP_HOURS.

A request that dies after its claim and before its response is stored (a killed worker, a lost database
connection) leaves the claim unanswered. Such a claim is abandoned once it is older than CLAIM_LEASE, longer than
any request may run, and the next request with the same key and body takes it over and runs again; without that,
the till's retries would get 409 until the key expired. Running again is safe for money: a payment request and a
capture, cancel or refund carry the Idempotency-Key into their own unique request token, so the retry answers
with the payment or operation the dead request saved. (The response is not stored in the request's own
transaction: on SQLite that held the one write lock through the whole view, and at 100 POSTs/s the p99 went from
37 ms to 504 ms.)
"""

import hashlib
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from .exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from .models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Longer than a request may run: gunicorn's worker timeout (30 s) and the database's busy timeout are shorter.
CLAIM_LEASE = timedelta(minutes=2)
# Printable ASCII, as the draft's sf-string: no NUL (PostgreSQL cannot store it), no control characters.
KEY_CHARACTERS = re.compile(r"[\x20-\x7e]+")


class Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


def idempotency_claim(*, api_key: ApiKey, key: str, endpoint: str, body: bytes) -> IdempotencyRecord:
    """Claim the key for this request; raises Replay, IdempotencyKeyInUse or IdempotencyKeyReused otherwise."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(api_key=api_key, key=key, endpoint=endpoint, request_hash=digest)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(api_key=api_key, key=key, endpoint=endpoint).first()
    if existing is None:
        raise IdempotencyKeyInUse()  # the first request failed with a 5xx a moment ago; retry
    if existing.status_code is None:
        if existing.request_hash == digest and _abandoned_claim_take(existing):
            return existing
        raise IdempotencyKeyInUse()
    if existing.request_hash != digest:
        raise IdempotencyKeyReused()
    raise Replay(existing)


def _abandoned_claim_take(record: IdempotencyRecord) -> bool:
    """Take over a claim older than CLAIM_LEASE that never got its response; compare-and-set on its claim time,
    so of two retries arriving together one takes it and the other gets 409."""
    now = timezone.now()
    if record.created_at > now - CLAIM_LEASE:
        return False
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, status_code__isnull=True, created_at=record.created_at
    ).update(created_at=now)
    record.created_at = now
    return taken == 1


def idempotency_store(*, record: IdempotencyRecord, response) -> None:
    if response.status_code >= 500 or getattr(response, "data", None) is None:
        record.delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=response.status_code,
        body=JSONRenderer().render(response.data).decode(),
        # Not the Content-Type header: a DRF response only gets it when rendered, after this.
        content_type=response.content_type or getattr(response, "accepted_media_type", "application/json"),
        location=response.get("Location", ""),
    )


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(record.body, status=record.status_code, content_type=record.content_type)
    if record.location:
        response["Location"] = record.location
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotentMixin:
    """For API views: every POST honours an Idempotency-Key header (optional, recommended)."""

    def initial(self, request, *args, **kwargs):
        self._idempotency_record = None
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        if not key.strip() or len(key) > MAX_KEY_LENGTH or not KEY_CHARACTERS.fullmatch(key):
            raise ValidationError({HEADER: [f"Send 1 to {MAX_KEY_LENGTH} printable ASCII characters (a UUID)."]})
        self._idempotency_record = idempotency_claim(
            api_key=request.auth, key=key, endpoint=f"POST {request.path}", body=request.body
        )

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return replay_response(exc.record)
        try:
            return super().handle_exception(exc)
        except Exception:
            record = getattr(self, "_idempotency_record", None)
            if record is not None:
                record.delete()  # a crash: let the client retry with the same key
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            self._idempotency_record = None
            idempotency_store(record=record, response=response)
        return response
