"""The append-only, hash-chained audit log.

Each entry stores the SHA-256 of its own canonical payload and the hash of the entry before it, so
altering, removing or re-ordering any entry breaks the chain at that point. ``record`` must run
inside ``write_transaction``: the entry then commits or rolls back with the change it describes, and
because write transactions are serialised, two writers never read the same chain head.

The chain cannot show that entries were removed from its end. A copy of the latest hash kept outside
the database (for example from ``governance audit verify`` in a scheduled job) closes that gap.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from governance.canonical import canonical_json, content_hash
from governance.clock import wall_clock_now
from governance.database import in_write_transaction
from governance.roles import Role
from governance.tables import AuditEntry

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """The author of a change: a signed-in person, an API token's account, or the service itself."""

    account_id: int | None
    username: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    kind: str = "user"
    display_name: str = ""

    def has_any(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def name(self) -> str:
        return self.display_name or self.username


SYSTEM = Actor(account_id=None, username="system", kind="system", display_name="Automation Governance")


def _timestamp_text(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def entry_payload(entry: dict[str, Any]) -> dict[str, Any]:
    """Return the fields of an audit entry that its hash covers, in their stored form."""
    return {
        "seq": int(entry["seq"]),
        "occurred_at": _timestamp_text(entry["occurred_at"]),
        "actor": entry["actor"],
        "actor_roles": entry["actor_roles"],
        "action": entry["action"],
        "entity_type": entry["entity_type"],
        "entity_ref": entry["entity_ref"],
        "use_case_ref": entry["use_case_ref"],
        "before": entry["before"],
        "after": entry["after"],
        "note": entry["note"],
        "prev_hash": entry["prev_hash"],
    }


def hash_entry(entry: dict[str, Any]) -> str:
    return content_hash(entry_payload(entry))


def _encode_state(state: Any) -> str | None:
    return None if state is None else canonical_json(state)


async def record(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_ref: str,
    *,
    before: Any = None,
    after: Any = None,
    use_case_ref: str | None = None,
    note: str = "",
) -> int:
    """Append one entry to the chain and return its sequence number.

    ``before`` and ``after`` are JSON-serialisable snapshots of the record's values. Raises
    ``RuntimeError`` outside a write transaction, because an entry written on its own connection
    could survive a change that rolled back.
    """
    if not in_write_transaction():
        raise RuntimeError("audit.record must be called inside write_transaction()")

    head = (
        await AuditEntry.select(AuditEntry.seq, AuditEntry.entry_hash)
        .order_by(AuditEntry.seq, ascending=False)
        .first()
        .run()
    )
    seq = head["seq"] + 1 if head else 1
    prev_hash = head["entry_hash"] if head else GENESIS_HASH

    occurred_at = wall_clock_now()
    entry = {
        "seq": seq,
        "occurred_at": occurred_at,
        "actor": actor.username,
        "actor_roles": ",".join(sorted(role.value for role in actor.roles)),
        "action": action,
        "entity_type": entity_type,
        "entity_ref": entity_ref,
        "use_case_ref": use_case_ref,
        "before": _encode_state(before),
        "after": _encode_state(after),
        "note": note,
        "prev_hash": prev_hash,
    }
    entry["entry_hash"] = hash_entry(entry)

    await AuditEntry.insert(AuditEntry(**entry)).run()
    return seq


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: ``ok``, or the first bad entry and what is wrong with it."""

    ok: bool
    checked: int
    bad_seq: int | None = None
    bad_id: int | None = None
    problem: str = ""
    head_hash: str = GENESIS_HASH


class ChainVerifier:
    """Checks a chain one row at a time, in ``seq`` order, so a long log needs little memory.

    Detects an altered entry, whose hash no longer matches, and a removed entry, which leaves a gap
    in ``seq`` or a broken link. It also detects an entry written out of order: its row id is
    higher than the next entry's, as when an entry is deleted and written again. Row ids only grow
    on both engines unless a statement sets them explicitly.
    """

    def __init__(self) -> None:
        self.expected_seq = 1
        self.previous_hash = GENESIS_HASH
        self.previous_id: int | None = None
        self.previous_seq: int | None = None
        self.checked = 0

    def feed(self, entry: dict[str, Any]) -> ChainReport | None:
        """Check the next row; return a failing report, or None when the row is sound."""
        seq = int(entry["seq"])
        row_id = int(entry["id"])

        if self.previous_id is not None and row_id <= self.previous_id:
            # The previous entry was written after this one: name it, as the one out of place.
            return ChainReport(
                False,
                self.checked - 1,
                self.previous_seq,
                self.previous_id,
                f"it was written out of order: its row id {self.previous_id} is higher than the "
                f"row id {row_id} of the next entry (seq {seq})",
                self.previous_hash,
            )

        problem = ""
        if seq != self.expected_seq:
            problem = f"expected sequence number {self.expected_seq}, found {seq}: entries are missing"
            if seq < self.expected_seq:
                problem = f"expected sequence number {self.expected_seq}, found {seq}: out of sequence"
        elif entry["prev_hash"] != self.previous_hash:
            problem = "its link to the previous entry does not match that entry's hash"
        elif hash_entry(entry) != entry["entry_hash"]:
            problem = "its contents no longer match its stored hash: the entry was altered"

        if problem:
            return ChainReport(False, self.checked, seq, row_id, problem, self.previous_hash)

        self.checked += 1
        self.expected_seq = seq + 1
        self.previous_hash = entry["entry_hash"]
        self.previous_id = row_id
        self.previous_seq = seq
        return None

    def finish(self) -> ChainReport:
        return ChainReport(True, self.checked, head_hash=self.previous_hash)


def verify_entries(entries: Iterable[dict[str, Any]]) -> ChainReport:
    """Check a chain given as rows ordered by ``seq``; pure, so tests can feed it altered rows."""
    verifier = ChainVerifier()
    for entry in entries:
        failure = verifier.feed(entry)
        if failure is not None:
            return failure
    return verifier.finish()


class UnreadableEntry(Exception):
    """A stored audit row whose values the database driver cannot convert (SQLite keeps any text)."""

    def __init__(self, seq: int, row_id: int, detail: str) -> None:
        super().__init__(f"audit entry seq {seq} (row id {row_id}) cannot be read: {detail}")
        self.seq = seq
        self.row_id = row_id
        self.detail = detail


async def _read_one_by_one(last_seq: int, batch_size: int) -> AsyncIterator[dict[str, Any]]:
    """Yield a batch row by row, raising ``UnreadableEntry`` at the first row that cannot be read."""
    keys = (
        await AuditEntry.select(AuditEntry.seq, AuditEntry.id)
        .where(AuditEntry.seq > last_seq)
        .order_by(AuditEntry.seq)
        .limit(batch_size)
        .run()
    )
    for key in keys:
        try:
            row = await AuditEntry.select().where(AuditEntry.id == key["id"]).first().run()
        except (ValueError, TypeError) as error:
            raise UnreadableEntry(key["seq"], key["id"], str(error)) from None
        yield row


async def iterate_entries(batch_size: int = 1000) -> AsyncIterator[dict[str, Any]]:
    """Yield every audit row in ``seq`` order, reading in batches to keep memory flat.

    A row altered so that it cannot be read (a timestamp that is not one, on SQLite) raises
    ``UnreadableEntry`` naming it, after every readable row before it has been yielded.
    """
    last_seq = 0
    while True:
        try:
            rows = (
                await AuditEntry.select()
                .where(AuditEntry.seq > last_seq)
                .order_by(AuditEntry.seq)
                .limit(batch_size)
                .run()
            )
        except (ValueError, TypeError):
            logger.warning("an audit entry after seq %d cannot be read; reading one by one", last_seq)
            rows = [row async for row in _read_one_by_one(last_seq, batch_size)]
        if not rows:
            return
        for row in rows:
            yield row
        last_seq = rows[-1]["seq"]


async def verify_chain() -> ChainReport:
    """Walk the whole stored chain and report the first bad entry, if any."""
    verifier = ChainVerifier()
    try:
        async for row in iterate_entries():
            failure = verifier.feed(row)
            if failure is not None:
                return failure
    except UnreadableEntry as bad:
        return ChainReport(
            False,
            verifier.checked,
            bad.seq,
            bad.row_id,
            f"its stored values cannot be read ({bad.detail}): the entry was altered",
            verifier.previous_hash,
        )
    return verifier.finish()


def decode_state(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class AuditFilter:
    """Filters for reading the log; empty fields match everything."""

    actor: str = ""
    action: str = ""
    entity_type: str = ""
    use_case_ref: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


async def list_entries(
    filters: AuditFilter, *, limit: int = 50, before_seq: int | None = None
) -> list[dict[str, Any]]:
    """Return entries matching ``filters``, newest first, ``limit`` at a time (keyset paging)."""
    query = AuditEntry.select().order_by(AuditEntry.seq, ascending=False).limit(limit)

    if filters.actor:
        query = query.where(AuditEntry.actor == filters.actor)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.entity_type:
        query = query.where(AuditEntry.entity_type == filters.entity_type)
    if filters.use_case_ref:
        query = query.where(AuditEntry.use_case_ref == filters.use_case_ref)
    if filters.since is not None:
        query = query.where(AuditEntry.occurred_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.occurred_at < filters.until)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)

    rows = await query.run()
    for row in rows:
        row["before"] = decode_state(row["before"])
        row["after"] = decode_state(row["after"])
    return rows


async def history_for_use_case(reference: str) -> list[dict[str, Any]]:
    """Return every entry about a use case or its assessments, oldest first."""
    rows = (
        await AuditEntry.select()
        .where(AuditEntry.use_case_ref == reference)
        .order_by(AuditEntry.seq)
        .run()
    )
    for row in rows:
        row["before"] = decode_state(row["before"])
        row["after"] = decode_state(row["after"])
    return rows


async def recorded_state(entity_type: str, entity_ref: str, version: int, fields: Sequence[str]) -> dict[str, Any] | None:
    """Return the record's values at lock ``version``, from the newest entry that recorded them all.

    Looks for the latest entry whose ``after`` contains every one of ``fields`` and a ``version`` at
    most ``version``. Changes that bump the version without touching these fields (a stage move)
    record no such state, so the values found are still those of ``version``. Returns None when
    no entry recorded them.
    """
    rows = (
        await AuditEntry.select(AuditEntry.after)
        .where((AuditEntry.entity_type == entity_type) & (AuditEntry.entity_ref == entity_ref))
        .order_by(AuditEntry.seq, ascending=False)
        .run()
    )
    for row in rows:
        state = decode_state(row["after"])
        if not isinstance(state, dict) or not all(name in state for name in fields):
            continue
        recorded = state.get("version")
        if isinstance(recorded, int) and recorded <= version:
            return state
    return None


def changed_fields(before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """List (field, before, after) for top-level keys whose values differ; for history views."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    keys = sorted(set(before) | set(after))
    return [(key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)]
