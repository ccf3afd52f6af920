"""Pluggable processing per event type. Apps register handlers in their AppConfig.ready():

    register_handler("user.checked-in.v1", Handler(apply=checkin_from_event))

`prepare(event)` (optional) runs first, outside any transaction, and may call Vipps; `apply(event, prepared)`
runs inside the transaction that marks the event processed, so its database writes happen exactly once.
Either may raise Park to try again later, or Discard to give up on an event that can never apply.
An event type without a handler is kept ("held") until a handler exists and it is replayed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Park(Exception):
    """The event cannot be placed yet (e.g. its QR code is not known yet): retry after `retry_in` seconds."""

    def __init__(self, reason: str, retry_in: float = 30.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_in = retry_in


class Discard(Exception):
    """The event can never be applied (e.g. the check-in expired before it could be placed)."""


@dataclass(frozen=True)
class Handler:
    apply: Callable[[Any, Any], None]
    prepare: Callable[[Any], Any] | None = None


_HANDLERS: dict[str, Handler] = {}


def register_handler(event_type: str, handler: Handler) -> None:
    _HANDLERS[event_type] = handler


def handler_for(event_type: str) -> Handler | None:
    return _HANDLERS.get(event_type)
