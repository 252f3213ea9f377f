"""Errors raised by the service layer, each mapped to one HTTP status.

Service functions raise these; the app's exception handlers turn them into a JSON problem body for the
API and an error page (or a re-rendered form) for the browser. Messages name the field and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def as_sentence(message: str) -> str:
    """Return ``message`` with a capital first letter, as messages shown to people start.

    The core writes its messages that way; this is the safety net for messages that packages raise.
    """
    return message[:1].upper() + message[1:]


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; ``field`` uses the API's field name."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class DomainError(Exception):
    """Base class: an expected failure with an HTTP status and a message safe to show."""

    status_code = 400

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"status_code": self.status_code, "detail": self.message, **self.extra}


class InvalidInput(DomainError):
    """One or more fields are invalid; nothing was stored."""

    status_code = 422

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        self.errors = errors
        summary = message or "; ".join(f"{error.field}: {error.message}" for error in errors)
        super().__init__(summary, extra={"errors": [error.as_dict() for error in errors]})

    @classmethod
    def single(cls, field_name: str, message: str) -> InvalidInput:
        return cls([FieldError(field_name, message)])


class BadRequest(DomainError):
    """The request cannot be used as sent (its address, or a body that cannot be read).

    Nothing was stored.

    ``field`` names the part at fault (``path``, ``query``, ``body``) in the ``errors`` list, or
    ``errors`` lists several parts, such as query parameters, each with its own message.
    """

    status_code = 400

    def __init__(
        self, message: str, *, field: str | None = None, errors: list[FieldError] | None = None
    ) -> None:
        if errors is None and field:
            errors = [FieldError(field, message)]
        extra = {"errors": [error.as_dict() for error in errors]} if errors else None
        super().__init__(message, extra=extra)


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The request clashes with the record's current state (a stale version, a disallowed move)."""

    status_code = 409


class StaleVersion(Conflict):
    """Someone else changed the record after the caller read it, so the change was not saved.

    ``expected_version`` and ``current_version`` in ``extra`` are the record's lock versions, which
    API clients send back. The message leaves them out, because readers would take them for an
    assessment's version number.
    """

    def __init__(self, what: str, expected: int, current: int) -> None:
        super().__init__(
            f"{what[:1].upper()}{what[1:]} was changed by someone else after you read it, so your "
            "change was not saved. Read it again, check the current values and make your change again.",
            extra={"expected_version": expected, "current_version": current},
        )


class TooManyRequests(DomainError):
    status_code = 429


@dataclass
class ErrorCollector:
    """Gathers field errors during validation, then raises them together."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        """Record a problem; the same problem found by two checks is recorded once."""
        error = FieldError(field_name, message)
        if error not in self.errors:
            self.errors.append(error)

    def has(self, field_name: str) -> bool:
        """Return whether ``field_name`` or one of its parts (``purposes[0].regime``) has a problem."""
        return any(
            error.field == field_name or error.field.startswith((f"{field_name}[", f"{field_name}."))
            for error in self.errors
        )

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)
