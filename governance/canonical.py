"""Canonical JSON and SHA-256 hashing of records.

The canonical form is what gets hashed, so it must not depend on dictionary order, whitespace or the
way a client spelled a Unicode character. Keys are sorted and separators carry no spaces. Strings
are NFC-normalised, and non-ASCII text is written as UTF-8 rather than escaped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from typing import Any


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_normalise(str(key)): _normalise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetimes cannot be serialised canonically; attach a time zone")
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN and infinity cannot be serialised canonically")
        if value.is_integer():
            return int(value)
    return value


def canonical_json(value: Any) -> str:
    """Serialise ``value`` to its canonical JSON text."""
    return json.dumps(
        _normalise(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(value: Any) -> str:
    """Return the SHA-256 (hex) of the canonical JSON of ``value``."""
    return sha256_hex(canonical_json(value))
