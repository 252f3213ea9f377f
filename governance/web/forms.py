"""Helpers for HTML forms: reading fields, and turning service errors into an error summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from litestar import Request

from governance.errors import FieldError, InvalidInput


@dataclass
class FormState:
    """Values to re-display and errors to show, keyed by the form's field names."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    def error_for(self, name: str) -> str:
        """Return the message for field ``name`` (or one of its sub-fields), or ""."""
        for error in self.errors:
            if error.field == name or error.field.startswith(f"{name}[") or error.field.startswith(f"{name}."):
                return error.message
        return ""

    @classmethod
    def from_error(cls, values: dict[str, Any], error: InvalidInput) -> FormState:
        return cls(values=values, errors=list(error.errors))


async def read_form(request: Request) -> dict[str, str]:
    """Return the submitted fields (the last value of each), without the CSRF token."""
    form = await request.form()
    values = {key: str(value) for key, value in form.items() if key != "_csrf_token"}
    return values


def lines_to_list(text: str) -> list[str]:
    """Split a textarea's value into non-empty trimmed lines."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def safe_next(target: str | None, default: str = "/") -> str:
    """Return ``target`` if it is a path on this site, else ``default`` (no open redirects).

    Browsers treat a backslash like a slash and drop tabs and newlines from addresses, so
    ``/\\evil.example`` or ``/<tab>/evil.example`` would leave the site: both are refused.
    """
    if not target or len(target) > 2000:
        return default
    if "\\" in target or any(ord(character) < 32 or ord(character) == 127 for character in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
