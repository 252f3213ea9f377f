"""Idempotent create requests: a one-time form id or an ``Idempotency-Key`` header.

A double click on a form's button, or an API client retrying after a timeout, sends the same create
request twice. Both carry the same id, so the second finds the first's result and creates nothing.
Ids are kept per actor and action, because API clients choose their own keys. Callers run
``previous_result`` and ``remember`` inside the ``write_transaction`` that creates the record:
writes are serialised, so two concurrent repeats cannot both miss the stored id.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from governance.audit import Actor
from governance.canonical import content_hash
from governance.clock import utcnow
from governance.errors import Conflict, InvalidInput
from governance.tables import FormSubmission

logger = logging.getLogger(__name__)

# Printable ASCII without spaces, as header values allow; a UUID or a random token fits easily.
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{8,200}$")
KEY_RULE = "use 8 to 200 printable ASCII characters without spaces, for example a UUID"


class RepeatedSubmission(Conflict):
    """An id already used for a different request; ``reference`` names what that one created."""

    def __init__(self, message: str, reference: str) -> None:
        super().__init__(message, extra={"reference": reference})
        self.reference = reference


def new_form_id() -> str:
    """Return a random one-time id for a form's hidden ``form_id`` field."""
    return secrets.token_urlsafe(16)


def is_valid_key(value: str) -> bool:
    return bool(KEY_PATTERN.match(value))


def check_key(value: str, field: str) -> str:
    """Return ``value`` if it is a usable id; raise ``InvalidInput`` naming ``field`` otherwise."""
    if not is_valid_key(value):
        raise InvalidInput.single(field, KEY_RULE)
    return value


def request_hash(data: Any) -> str:
    """Return the SHA-256 of the request's content, to tell a repeat from a different request."""
    return content_hash(data)


async def previous_result(actor: Actor, action: str, key: str, content_hash_hex: str) -> str | None:
    """Return what an earlier request with this id created, or None if the id is new.

    Raises ``RepeatedSubmission`` when the id was used for a request with different content.
    """
    row = (
        await FormSubmission.select(FormSubmission.result, FormSubmission.request_hash)
        .where(
            (FormSubmission.actor == actor.username)
            & (FormSubmission.action == action)
            & (FormSubmission.form_id == key)
        )
        .first()
        .run()
    )
    if row is None:
        return None
    if row["request_hash"] != content_hash_hex:
        raise RepeatedSubmission(
            f"this request's id was already used for a different request, which created "
            f"{row['result']}; send a new Idempotency-Key to create another record",
            row["result"],
        )
    logger.info("repeated %s request from %s returned %s", action, actor.username, row["result"])
    return row["result"]


async def remember(actor: Actor, action: str, key: str, content_hash_hex: str, result: str) -> None:
    """Store what the request with this id created; call it in the transaction that created it."""
    await FormSubmission.insert(
        FormSubmission(
            actor=actor.username,
            action=action,
            form_id=key,
            request_hash=content_hash_hex,
            result=result,
            created_at=utcnow(),
        )
    ).run()
