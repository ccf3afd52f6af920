"""Webhooks API rules: registration, limits, listing and deletion (CONTRACTS §3.1-3.2)."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any
from urllib.parse import urlsplit

from .. import contract
from ..errors import SandboxError
from ..models import Merchant, Webhook
from .base import CHECKED_IN, KNOWN_EVENT_TYPES, UUID_RE, StateBase, _token


class WebhooksMixin(StateBase):
    # -- webhooks ------------------------------------------------------------------------
    def register_webhook(self, merchant: Merchant, body: Any) -> Webhook:
        problems = contract.schema_errors("webhooks", "RegisterRequest", body)
        if problems:
            raise SandboxError(400, "One or more validation errors occurred.", fields=problems)
        url, events = body["url"], body["events"]
        parts = urlsplit(url)
        # Vipps calls https URLs only. A local portal has no certificate, so http is allowed for loopback hosts
        # (and only those), which keeps a portal bug that registers an http public URL visible here.
        local_http = self.config.allow_http_webhooks and parts.scheme == "http" and _is_loopback(parts.hostname)
        if not parts.hostname or not (parts.scheme == "https" or local_http):
            raise SandboxError(400, "The URL must be an absolute https URL", fields=[("url", "must use https")])
        if not events:
            raise SandboxError(400, "At least one event type is required", fields=[("events", "must not be empty")])
        unknown = [e for e in events if e not in KNOWN_EVENT_TYPES]
        if unknown:
            raise SandboxError(
                400,
                f"Unknown event type(s): {', '.join(unknown)}",
                fields=[("events", f"unknown event type {e}") for e in unknown],
            )
        with self.lock:
            mine = [w for w in self.webhooks.values() if w.msn == merchant.msn]
            for event in set(events):
                count = sum(event in w.events for w in mine)
                if event == CHECKED_IN and count >= 1:
                    raise SandboxError(
                        400,
                        "Only one user.checked-in.v1 webhook is allowed per sales unit",
                        fields=[("events", "user.checked-in.v1 is already registered")],
                    )
                if count >= self.config.max_webhooks_per_event:
                    raise SandboxError(
                        400,
                        f"At most {self.config.max_webhooks_per_event} webhooks can be "
                        f"registered per event type ({event})",
                        fields=[("events", f"limit reached for {event}")],
                    )
            webhook = Webhook(
                id=str(uuid.uuid4()),
                msn=merchant.msn,
                url=url,
                events=list(dict.fromkeys(events)),
                secret=_token(64),
                created_at=self.now(),
            )
            self.webhooks[webhook.id] = webhook
            return webhook

    def list_webhooks(self, merchant: Merchant) -> list[Webhook]:
        with self.lock:
            return sorted((w for w in self.webhooks.values() if w.msn == merchant.msn), key=lambda w: w.created_at)

    def delete_webhook(self, merchant: Merchant, webhook_id: str) -> None:
        if not UUID_RE.match(webhook_id):
            raise SandboxError(400, "The id must be a UUID", fields=[("id", "must be a UUID")])
        with self.lock:
            webhook = self.webhooks.get(webhook_id.lower())
            if webhook is None or webhook.msn != merchant.msn:
                raise SandboxError(404, f"No webhook with id {webhook_id}")
            del self.webhooks[webhook.id]


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
