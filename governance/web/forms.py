"""Helpers for HTML forms: reading fields, and turning service errors into an error summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from litestar import Request

from governance.errors import FieldError, InvalidInput
from governance.logs import escape_control_characters


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


NUL = "\x00"
FORM_NUL_MESSAGE = (
    "contained a NUL character (an invisible control character), which cannot be stored. It has "
    "been removed: check the text, then send the form again"
)


class FormInputRejected(InvalidInput):
    """A page form carried NUL characters, which PostgreSQL cannot store; nothing was saved.

    ``values`` is the form without them, for a handler that shows the form again with the errors.
    """

    def __init__(self, errors: list[FieldError], values: dict[str, str]) -> None:
        super().__init__(errors)
        self.values = values


async def read_form(request: Request) -> dict[str, str]:
    """Return the submitted fields (the last value of each), without the CSRF token.

    Raises ``FormInputRejected`` naming every field whose name or value contains a NUL character.
    A handler that does not catch it returns an error page that links back to the form.
    """
    form = await request.form()
    values: dict[str, str] = {}
    errors: list[FieldError] = []
    for key, raw in form.multi_items():
        if key == "_csrf_token":
            continue
        value = str(raw)
        if NUL in key or NUL in value:
            field_name = escape_control_characters(key) if NUL in key else key
            error = FieldError(field_name, FORM_NUL_MESSAGE)
            if error not in errors:
                errors.append(error)
        values[key.replace(NUL, "")] = value.replace(NUL, "")
    if errors:
        raise FormInputRejected(errors, values)
    return values


async def read_form_or_errors(request: Request) -> tuple[dict[str, str], list[FieldError]]:
    """Return the submitted fields and the errors for any NUL characters they carried.

    For handlers that show their form again with field errors: the values come without the NUL
    characters, and the handler must save nothing while there are errors.
    """
    try:
        return await read_form(request), []
    except FormInputRejected as rejected:
        return rejected.values, rejected.errors


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
