"""Seed documents: pre-register sandbox merchants (and optionally PoS data and phones).

Format (JSON; a bare list is taken as the ``merchants`` list)::

    {
      "merchants": [
        {"msn": "123456", "client_id": "11111111-2222-3333-4444-555555555555",
         "client_secret": "secret", "subscription_key": "primary-key",
         "subscription_keys": ["secondary-key"],          # optional, extra keys
         "currency": "NOK", "name": "Demo kiosk",          # optional (NOK default)
         "push_message_allowed": true,                     # optional flags, default true
         "long_living_payments_allowed": true,
         "partial_capture_allowed": true}
      ],
      "phones": ["4791234567"],                             # optional: offered on the phone page
      "callback_aliases": [{"alias": "demo", "url": "http://127.0.0.1:8000/pos/notify"}],
      "points_of_sale": [{"msn": "123456", "merchant_pos_id": "kasse-1", "pos_id": "<guid>",
                          "beacon_id": "<guid or 15 digits>", "callback_alias": "demo"}]
    }

camelCase keys (``clientId``, ``clientSecret``, ``subscriptionKey``, ``merchantPosId``...) are
accepted too, so the portal can share one file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import SandboxState


def snake(data: dict[str, Any]) -> dict[str, Any]:
    """camelCase keys to snake_case."""
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): v for k, v in data.items()}


MERCHANT_FIELDS = (
    "msn",
    "client_id",
    "client_secret",
    "subscription_key",
    "subscription_keys",
    "currency",
    "name",
    "push_message_allowed",
    "long_living_payments_allowed",
    "partial_capture_allowed",
)
POS_FIELDS = (
    "msn",
    "merchant_pos_id",
    "name",
    "pos_id",
    "beacon_id",
    "callback_alias",
    "merchant_id",
    "merchant_brand_id",
    "merchant_location_id",
    "poll_delay_ms",
)


def merchant_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    values = snake(data)
    if "merchant_serial_number" in values and "msn" not in values:
        values["msn"] = values.pop("merchant_serial_number")
    unknown = set(values) - set(MERCHANT_FIELDS)
    if unknown:
        raise ValueError(f"unknown merchant field(s): {', '.join(sorted(unknown))}")
    values["msn"] = str(values.get("msn", ""))
    return values


def pos_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    values = snake(data)
    unknown = set(values) - set(POS_FIELDS)
    if unknown:
        raise ValueError(f"unknown point of sale field(s): {', '.join(sorted(unknown))}")
    values["msn"] = str(values.get("msn", ""))
    return values


def apply_seed(state: SandboxState, data: dict[str, Any] | list[Any]) -> None:
    if isinstance(data, list):
        data = {"merchants": data}
    for merchant in data.get("merchants", []):
        state.register_merchant(**merchant_kwargs(merchant))
    for phone in data.get("phones", []):
        from .state import normalize_phone

        state.remember_phone(normalize_phone(str(phone)))
    for alias in data.get("callback_aliases", data.get("callbackAliases", [])):
        state.add_callback_alias(alias["alias"], alias["url"])
    for pos in data.get("points_of_sale", data.get("pointsOfSale", [])):
        state.add_point_of_sale(**pos_kwargs(pos))


def load_seed_file(state: SandboxState, path: str | Path) -> None:
    apply_seed(state, json.loads(Path(path).read_text(encoding="utf-8")))
