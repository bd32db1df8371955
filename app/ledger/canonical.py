"""Canonical serialisation v1: the exact bytes that are hashed and signed.

See README.md in this package for the specification. The bytes are stored with the
record, so a schema migration never changes what was hashed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.errors import InvalidInput

CANONICAL_VERSION = 1
MAX_CANONICAL_BYTES = 256 * 1024
_MAX_INT = 2**63 - 1


def encode(envelope: dict[str, Any]) -> bytes:
    """Sorted-key compact JSON in UTF-8; only str, int, bool, None, lists and objects."""
    _check(envelope, "record")
    try:
        data = json.dumps(
            envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate in some text
        raise InvalidInput("Texte invalide (UTF-8) dans l'enregistrement.") from exc
    if len(data) > MAX_CANONICAL_BYTES:
        raise InvalidInput("L'enregistrement est trop volumineux pour le journal fiscal.")
    return data


def decode(data: bytes) -> dict[str, Any]:
    return json.loads(data.decode("utf-8"))


_SCALARS = (str, int, bool, type(None))


def _check(value: Any, where: str) -> None:
    """Only canonical types, no float; strings must encode (checked by ``encode``)."""
    stack = [(value, where)]
    pop, push = stack.pop, stack.append
    while stack:
        item, place = pop()
        kind = type(item)
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    raise TypeError(f"canonical keys must be str, got {key!r} in {place}")
                if type(child) not in _SCALARS:
                    push((child, key))
                elif type(child) is int and abs(child) > _MAX_INT:
                    raise InvalidInput(f"Nombre hors limites dans {key}.")
        elif kind is list or kind is tuple:
            for child in item:
                if type(child) not in _SCALARS:
                    push((child, place))
                elif type(child) is int and abs(child) > _MAX_INT:
                    raise InvalidInput(f"Nombre hors limites dans {place}.")
        elif kind in _SCALARS:
            if kind is int and abs(item) > _MAX_INT:
                raise InvalidInput(f"Nombre hors limites dans {place}.")
        elif isinstance(item, str):  # str enums serialise as their value
            continue
        elif isinstance(item, int) and not isinstance(item, float):
            if abs(item) > _MAX_INT:
                raise InvalidInput(f"Nombre hors limites dans {place}.")
        else:
            raise TypeError(f"type {kind.__name__} is not canonical (in {place})")


def format_ts(moment: datetime) -> str:
    """UTC timestamp with microseconds: 2026-11-22T16:56:25.123456Z."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def format_decimal(value: Decimal) -> str:
    """Plain decimal notation without exponent nor trailing zeros: '1', '0.347'."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
