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
    data = json.dumps(
        envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
    if len(data) > MAX_CANONICAL_BYTES:
        raise InvalidInput("L'enregistrement est trop volumineux pour le journal fiscal.")
    return data


def decode(data: bytes) -> dict[str, Any]:
    return json.loads(data.decode("utf-8"))


def _check(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool | str):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InvalidInput(f"Texte invalide (UTF-8) dans {where}.") from exc
        return
    if isinstance(value, int):
        if abs(value) > _MAX_INT:
            raise InvalidInput(f"Nombre hors limites dans {where}.")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"canonical keys must be str, got {key!r} in {where}")
            _check(item, key)
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check(item, where)
        return
    raise TypeError(f"type {type(value).__name__} is not canonical (in {where})")


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
