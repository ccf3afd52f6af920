"""Strict decoding of JSON request bodies, shared by every door (Vipps webhooks, MobilePay PoS, the REST API).

A body is UTF-8 JSON (RFC 8259). A leading UTF-8 byte-order mark is tolerated everywhere: RFC 8259 §8.1 lets a
parser ignore it, senders on Windows stacks add it, and refusing it at one door while accepting it at another
would be the kind of inconsistency a confused integrator trips over. Everything else that a strict parser would
refuse, or that would break later (in PostgreSQL, in a recursive walk), is refused here with a reason a person
can act on:

- another encoding (UTF-16, Latin-1, ...): "body is not UTF-8";
- NaN, Infinity, -Infinity: not JSON; nor a number too large for a double (1e400);
- nesting deeper than ``MAX_DEPTH``: Python's parser would raise RecursionError near 1,000 levels, and every
  recursive walk afterwards (masking, serialisers) is at risk well before that;
- ``\\u0000`` and unpaired surrogates in strings: valid JSON text, but no PostgreSQL text or jsonb column can
  hold them, so storing them would fail later, far from the door.
"""

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
BOM = b"\xef\xbb\xbf"
# Escapes that decode to something a database cannot store: NUL, and any surrogate (paired ones are checked
# again on the decoded value, where a valid pair has become one character).
_RISKY_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_SURROGATE_OR_NUL = re.compile("[\x00\ud800-\udfff]")


class BodyError(ValueError):
    """The body cannot be decoded; the message says why, in words a sender can act on."""


def _refuse_constant(name: str):
    raise BodyError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise BodyError(f"number {text[:20]} is out of range")
    return number


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _has_unstorable_text(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE_OR_NUL.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def decode_text(body: bytes) -> str:
    """The body as text: UTF-8, without a leading byte-order mark."""
    if body.startswith(BOM):
        body = body[len(BOM) :]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("body is not UTF-8") from None


def loads(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode a JSON body strictly, or raise BodyError with the reason."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    text = decode_text(raw)
    if not text.strip():
        raise BodyError("body is empty")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise BodyError(f"body is nested deeper than {max_depth} levels") from None
    except BodyError:
        raise
    except ValueError as exc:  # json.JSONDecodeError, and int() of a number with too many digits
        raise BodyError(f"body is not valid JSON ({exc})") from None
    # Cheap gates first: a body with fewer brackets than the limit cannot be too deep, and a body without the
    # escapes cannot hold NUL or a surrogate (a raw NUL is refused by the parser, raw surrogates by UTF-8).
    if raw.count(b"[") + raw.count(b"{") > max_depth and _depth_exceeds(value, max_depth):
        raise BodyError(f"body is nested deeper than {max_depth} levels")
    if _RISKY_ESCAPE.search(raw) and _has_unstorable_text(value):
        raise BodyError("body holds a NUL character or an unpaired surrogate, which cannot be stored")
    return value
