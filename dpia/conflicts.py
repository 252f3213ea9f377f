"""Changes made to a DPIA record after a form was opened, which the pages list after a 409.

Each DPIA form carries the lock version (``version``) of the record it was opened on: the DPIA
version, a condition or the ICO consultation. When the record has moved on, the service rejects
the change with 409. The page then reads the audit entries written since that lock version, lists
them, and brings the form back with what the person typed, so that they can check the new state
and send their change again.

For a draft the page also merges. A field that only the other person changed takes their value,
and a field that only this person changed keeps theirs. Where both changed a field, the form keeps
this person's text and the list shows the saved text beside it. Saving the form as it comes back
therefore never silently undoes the other change.

TODO: governance/conflicts.py (core forms) and equality/forms.py compare a stale form with the
current record in the same way. Move the shared comparison into the core and keep only the DPIA
merge rules here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.audit import decode_state
from governance.clock import format_datetime
from governance.history import HistoryLabels, changed_values
from governance.tables import Account, AuditEntry

from dpia import forms
from dpia.readiness import as_sentence
from dpia.rules import KIND

# Names the fields of a saved draft as the forms label them.
_FIELD_LABELS = (HistoryLabels(prefix=KIND, field_label=forms.history_label),)

# Audit actions that move a DPIA version's lock version on by one without recording it. Every other
# action on a version either records the new lock version in its "after" summary or leaves it as it
# is (sign-offs, naming the review owner). This mirrors ``governance.assessments``.
_LOCK_STEPS = frozenset({"dpia.draft_saved", "dpia.review_date_changed"})

# The phrase for each audit action, read after the person's name.
_DONE: dict[str, str] = {
    "dpia.version_started": "started this version",
    "dpia.draft_saved": "saved the draft",
    "dpia.submit": "submitted it for review",
    "dpia.start_review": "started the review",
    "dpia.request_changes": "requested changes",
    "dpia.record_dpo_advice": "recorded the DPO advice",
    "dpia.approve": "approved it",
    "dpia.approve_with_conditions": "approved it with conditions",
    "dpia.reject": "rejected it",
    "dpia.supersede": "started a later version, which replaced this one",
    "dpia.revoked": "revoked the approval",
    "dpia.review_date_changed": "changed the review date",
    "dpia.condition_met": "marked the condition met",
    "dpia.condition_reopened": "reopened the condition",
    "dpia.condition_withdrawn": "withdrew the condition",
    "dpia.condition_updated": "changed the condition",
    "dpia.ico_consultation_concluded": "recorded the ICO's response",
    "dpia.ico_consultation_reopened": "reopened the consultation",
}


@dataclass(frozen=True)
class Change:
    """One audited change made after the form was opened."""

    actor: str
    actor_name: str
    occurred_at: dt.datetime
    action: str
    note: str
    fields: tuple[tuple[str, Any, Any], ...] = ()

    def sentence(self) -> str:
        """Describe the change: who did what, when, and the note they gave."""
        done = _DONE.get(self.action, self.action.partition(".")[2].replace("_", " "))
        text = f"{self.actor_name} {done} on {format_datetime(self.occurred_at)}"
        return f"{text}: {as_sentence(self.note)}" if self.note else f"{text}."


@dataclass(frozen=True)
class Meanwhile:
    """The changes made to a record after the lock version a form was based on."""

    changes: tuple[Change, ...] = ()
    base_content: dict[str, Any] | None = None

    def only_by(self, username: str) -> bool:
        return bool(self.changes) and all(change.actor == username for change in self.changes)

    def first_action(self) -> str:
        return self.changes[0].action if self.changes else ""


# Reading the audit log ------------------------------------------------------------------------------


def version_entries_since(entries: Iterable[Mapping[str, Any]], expected: int) -> tuple[list[Mapping[str, Any]], Any]:
    """Split a DPIA version's audit entries (oldest first) at lock version ``expected``.

    Returns the entries written after the record left ``expected``, and the content the draft had
    at ``expected`` when the entries show it (else None). Sign-offs written with a step follow it.
    """
    lock = 0
    content: Any = None
    base: Any = None
    later: list[Mapping[str, Any]] = []
    for entry in entries:
        before, after = entry.get("before"), entry.get("after")
        if lock == expected and entry["action"] == "dpia.draft_saved":
            base = before
        if entry["action"] in _LOCK_STEPS:
            lock += 1
        elif isinstance(after, Mapping) and isinstance(after.get("version"), int) and "status" in after:
            lock = after["version"]
        if entry["action"] == "dpia.draft_saved":
            content = after
        if lock > expected:
            later.append(entry)
    if base is None and not later:
        base = content
    return later, base


def record_entries_since(entries: Iterable[Mapping[str, Any]], expected: int) -> list[Mapping[str, Any]]:
    """Return the entries of a condition or ICO consultation written after lock version ``expected``.

    Their snapshots record the lock version as ``version``.
    """
    later = []
    for entry in entries:
        after = entry.get("after")
        if isinstance(after, Mapping) and isinstance(after.get("version"), int) and after["version"] > expected:
            later.append(entry)
    return later


async def _entries(reference: str, entity_type: str, entity_ref: str) -> list[dict[str, Any]]:
    rows = (
        await AuditEntry.select()
        .where(
            (AuditEntry.use_case_ref == reference)
            & (AuditEntry.entity_type == entity_type)
            & (AuditEntry.entity_ref == entity_ref)
        )
        .order_by(AuditEntry.seq)
        .run()
    )
    for row in rows:
        row["before"] = decode_state(row["before"])
        row["after"] = decode_state(row["after"])
    return rows


async def _display_names(usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = await Account.select(Account.username, Account.display_name).where(Account.username.is_in(list(usernames))).run()
    return {row["username"]: row["display_name"] or row["username"] for row in rows}


async def _changes(entries: list[Mapping[str, Any]]) -> tuple[Change, ...]:
    names = await _display_names({entry["actor"] for entry in entries})
    changes = []
    for entry in entries:
        if entry["action"] not in _DONE:
            continue  # sign-offs and the review owner repeat what the step itself records
        fields: tuple[tuple[str, Any, Any], ...] = ()
        if entry["action"] in ("dpia.draft_saved", "dpia.condition_updated", "dpia.review_date_changed"):
            fields = tuple(changed_values(entry["action"], entry.get("before"), entry.get("after"), _FIELD_LABELS))
        changes.append(
            Change(
                actor=entry["actor"],
                actor_name=names.get(entry["actor"], entry["actor"]),
                occurred_at=entry["occurred_at"],
                action=entry["action"],
                note=entry.get("note") or "",
                fields=fields,
            )
        )
    return tuple(changes)


async def version_changes(reference: str, number: int, expected: int) -> Meanwhile:
    """Return what happened to DPIA version ``number`` after lock version ``expected``."""
    entries = await _entries(reference, "dpia", f"{reference}/v{number}")
    later, base = version_entries_since(entries, expected)
    return Meanwhile(await _changes(later), base if isinstance(base, dict) else None)


async def condition_changes(reference: str, condition_id: int, expected: int) -> Meanwhile:
    """Return what happened to a condition after lock version ``expected``."""
    entries = await _entries(reference, "dpia_condition", f"{reference}/condition/{condition_id}")
    return Meanwhile(await _changes(record_entries_since(entries, expected)))


async def ico_changes(reference: str, number: int, expected: int) -> Meanwhile:
    """Return what happened to the ICO consultation on DPIA version ``number`` after lock version ``expected``."""
    entries = await _entries(reference, "dpia_ico_consultation", f"{reference}/v{number}/ico")
    return Meanwhile(await _changes(record_entries_since(entries, expected)))


# Merging a draft form -------------------------------------------------------------------------------


def _plain(value: Any) -> str:
    """Return a field's value as compared: text with Windows line ends and outer spaces removed."""
    return str(value or "").replace("\r\n", "\n").strip()


@dataclass(frozen=True)
class FieldMerge:
    """A field that someone else changed after the form was opened."""

    name: str
    opened: str
    saved: str
    yours: str
    opened_known: bool = True

    @property
    def clash(self) -> bool:
        """True when this person also changed the field, to something other than the saved value.

        When the value at opening is not known, any difference from the saved value counts.
        """
        if not self.opened_known:
            return _plain(self.yours) != _plain(self.saved)
        return _plain(self.yours) != _plain(self.opened) and _plain(self.yours) != _plain(self.saved)


@dataclass(frozen=True)
class Merge:
    values: dict[str, str]
    fields: list[FieldMerge] = field(default_factory=list)

    @property
    def clashes(self) -> list[FieldMerge]:
        return [item for item in self.fields if item.clash]

    @property
    def applied(self) -> list[FieldMerge]:
        """The other person's changes that the merged form now contains."""
        return [item for item in self.fields if item.opened_known and _plain(item.yours) == _plain(item.opened)]


def merge_form(opened: Mapping[str, str], saved: Mapping[str, str], yours: Mapping[str, str]) -> Merge:
    """Merge a draft form with the changes saved since it was opened.

    ``opened`` contains the form's fields for the content when the form was opened, and ``saved``
    for the content saved now. ``yours`` are the fields the person sent. A name missing from a
    mapping counts as empty, as an unticked box does.
    """
    values = dict(yours)
    fields = []
    names = list(yours)
    names += [name for name in saved if name not in yours]
    names += [name for name in opened if name not in yours and name not in saved]
    for name in names:
        before, now, mine = opened.get(name, ""), saved.get(name, ""), yours.get(name, "")
        if _plain(before) == _plain(now):
            continue
        fields.append(FieldMerge(name, before, now, mine))
        if _plain(mine) == _plain(before):
            if now:
                values[name] = now
            else:
                values.pop(name, None)
    return Merge(values, fields)


def compare_form(saved: Mapping[str, str], yours: Mapping[str, str]) -> Merge:
    """List the fields where the form differs from the saved draft, keeping the person's values.

    For a form whose opening content is unknown, so that nothing can be merged safely.
    """
    fields = [
        FieldMerge(name, "", saved.get(name, ""), yours.get(name, ""), opened_known=False)
        for name in [*yours, *(name for name in saved if name not in yours)]
        if _plain(saved.get(name, "")) != _plain(yours.get(name, ""))
    ]
    return Merge(dict(yours), fields)


def nothing_to_save(merge: Merge, saved: Mapping[str, str], names: Iterable[str]) -> bool:
    """True when saving the merged form would change none of ``names``, as after a double click."""
    return all(_plain(merge.values.get(name, "")) == _plain(saved.get(name, "")) for name in names)
