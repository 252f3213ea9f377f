"""Versioned, hashed, signed assessments: the machinery that DPIAs and equality assessments share.

An assessment (one per use case and kind) has numbered versions. A draft version's content may be
saved many times. Submitting freezes it: the content is rewritten in canonical JSON and the SHA-256
of an envelope (kind, schema, use case, number, content) becomes the version's ``content_hash``.
After that the content never changes; revising it means starting the next version, which begins as
a copy. Sign-offs bind a person, their role and what their signature means to that hash.

Each domain package supplies its own ``Workflow`` (statuses and actions) and its own content rules.
This module enforces optimistic locking, freezing, separation of duties and the audit trail.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from governance import audit, golive
from governance.audit import Actor
from governance.canonical import canonical_json, content_hash
from governance.clock import format_date, utcnow
from governance.database import write_transaction
from governance.errors import Conflict, Forbidden, InvalidInput, NotFound, StaleVersion, as_sentence
from governance.roles import Role
from governance.tables import Account, Assessment, AssessmentVersion, SignOff, UseCase

logger = logging.getLogger(__name__)

MAX_CONTENT_BYTES = 400_000


# The name of each assessment kind in messages, keyed by kind. Packages add theirs with
# ``register_kind_label`` when their rules module is imported.
_KIND_LABELS: dict[str, str] = {"dpia": "DPIA"}


def register_kind_label(kind: str, label: str) -> None:
    """Record how messages name ``kind``, written as it reads mid-sentence ("equality screening")."""
    _KIND_LABELS[kind] = label


def kind_label(kind: str) -> str:
    """Return an assessment kind as people read it: "DPIA", "equality screening"."""
    return _KIND_LABELS.get(kind) or kind.replace("_", " ")


# Pure parts ----------------------------------------------------------------------------------------


# A review date chosen by hand may be at most this far ahead, so that no approval stays in force for
# years without anyone looking at it again.
MAX_REVIEW_MONTHS = 36


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` moved on by ``months``, clamped to the month's last day (31 August + 6 = 28/29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_iso_date(value: Any) -> dt.date | None:
    """Return the date in ``value`` (a date, or ISO text such as 2027-03-31), or None if it is not one."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def check_review_date(review_date: dt.date | None, today: dt.date) -> str:
    """Return what is wrong with a review date that a reviewer chose, or "" if it is acceptable.

    The date must be after ``today`` and at most ``MAX_REVIEW_MONTHS`` months ahead. A review date of
    today would lapse the approval at once, and ending an approval is what revoking is for.
    """
    if review_date is None:
        return "enter the new review date as YYYY-MM-DD, for example 2027-03-31"
    if review_date <= today:
        return "must be after today; to end an approval now, revoke it instead"
    latest = add_months(today, MAX_REVIEW_MONTHS)
    if review_date > latest:
        return f"must be within {MAX_REVIEW_MONTHS} months of today, so on or before {format_date(latest)}"
    return ""


def check_due_date(due: dt.date | None, today: dt.date) -> str:
    """Return what is wrong with the due date of a condition or action, or "" if it is acceptable.

    A due date must be today or later: a date already past would make a new commitment overdue
    the moment it is recorded. There is no upper limit, because some actions wait on procurement.
    """
    if due is None:
        return "enter the due date as YYYY-MM-DD, for example 2027-03-31"
    if due < today:
        return f"must be today ({format_date(today)}) or later"
    return ""


def _words(key: str) -> str:
    """Turn an action or status key into words: "record_dpo_advice" becomes "record DPO advice"."""
    words = key.split("_")
    return " ".join(word.upper() if word in {"dpo", "ico"} else word for word in words)


class WorkflowError(Exception):
    """An action is not allowed in the version's current status."""

    def __init__(self, status: str, action: str, allowed: list[str]) -> None:
        names = ", ".join(_words(item) for item in allowed) or "none"
        super().__init__(
            f"Cannot {_words(action)}: the version's status is {_words(status)}. Allowed now: {names}."
        )
        self.status = status
        self.action = action
        self.allowed = allowed


@dataclass(frozen=True)
class Workflow:
    """A status machine: ``transitions[status][action]`` is the status after ``action``.

    ``editable`` lists the statuses whose content may still change (drafts); ``frozen_by`` lists
    the actions that freeze and hash the content.
    """

    transitions: Mapping[str, Mapping[str, str]]
    editable: frozenset[str]
    frozen_by: frozenset[str]
    initial: str = "draft"

    def allowed_actions(self, status: str) -> list[str]:
        return list(self.transitions.get(status, {}))

    def next_status(self, status: str, action: str) -> str:
        try:
            return self.transitions[status][action]
        except KeyError:
            raise WorkflowError(status, action, self.allowed_actions(status)) from None


def hash_envelope(kind: str, schema: str, use_case_ref: str, number: int, content: Any) -> dict[str, Any]:
    """Return what a version's hash covers: the content and what identifies it."""
    return {
        "kind": kind,
        "schema": schema,
        "use_case": use_case_ref,
        "version": number,
        "content": content,
    }


def freeze_content(
    kind: str, schema: str, use_case_ref: str, number: int, content: Any
) -> tuple[str, str]:
    """Return (canonical content text, SHA-256 of the envelope) for a version being submitted."""
    canonical = canonical_json(content)
    digest = content_hash(hash_envelope(kind, schema, use_case_ref, number, json.loads(canonical)))
    return canonical, digest


@dataclass(frozen=True)
class Change:
    """One difference between two versions' content; ``path`` is like ``risks[2].severity``."""

    path: str
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"


def diff_content(before: Any, after: Any, path: str = "") -> list[Change]:
    """List the leaf-level differences between two JSON documents, in a stable order."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in sorted(set(before) | set(after), key=str):
            child = f"{path}.{key}" if path else str(key)
            changes.extend(diff_content(before.get(key), after.get(key), child))
        return changes

    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            left = before[index] if index < len(before) else None
            right = after[index] if index < len(after) else None
            changes.extend(diff_content(left, right, f"{path}[{index}]"))
        return changes

    if before == after:
        return []
    return [Change(path or "(whole document)", before, after)]


# Views ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionView:
    """One version of an assessment, with the people involved resolved to usernames."""

    id: int
    assessment_id: int
    kind: str
    use_case_id: int
    use_case_ref: str
    number: int
    status: str
    schema: str
    content: dict[str, Any]
    content_hash: str | None
    author_id: int
    author: str
    editor_ids: tuple[int, ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_by_id: int | None
    submitted_by: str | None
    submitted_at: dt.datetime | None
    decision: str | None
    decided_at: dt.datetime | None
    review_date: dt.date | None
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revocation_reason: str | None
    version: int

    @property
    def frozen(self) -> bool:
        return self.content_hash is not None

    def hash_matches(self) -> bool:
        """Recompute the hash from the stored content; False means the row was tampered with."""
        if self.content_hash is None:
            return False
        _, digest = freeze_content(self.kind, self.schema, self.use_case_ref, self.number, self.content)
        return digest == self.content_hash

    def involved_account_ids(self) -> set[int]:
        """Everyone who wrote or submitted this version, who therefore may not approve it."""
        ids = {self.author_id, *self.editor_ids}
        if self.submitted_by_id is not None:
            ids.add(self.submitted_by_id)
        return ids

    def as_api(self) -> dict[str, Any]:
        return {
            "use_case": self.use_case_ref,
            "kind": self.kind,
            "number": self.number,
            "status": self.status,
            "schema": self.schema,
            "content": self.content,
            "content_hash": self.content_hash,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "decision": self.decision,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "review_date": self.review_date.isoformat() if self.review_date else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
            "revocation_reason": self.revocation_reason,
            "version": self.version,
        }


@dataclass(frozen=True)
class SignOffView:
    id: int
    version_number: int
    account_id: int
    signer: str
    signer_name: str
    signer_role: str
    meaning: str
    decision: str
    content_hash: str
    signed_at: dt.datetime
    summary: str
    reasons: str

    def as_api(self) -> dict[str, Any]:
        return {
            "version_number": self.version_number,
            "signer": self.signer,
            "signer_name": self.signer_name,
            "signer_role": self.signer_role,
            "meaning": self.meaning,
            "decision": self.decision,
            "content_hash": self.content_hash,
            "signed_at": self.signed_at.isoformat(),
            "summary": self.summary,
            "reasons": self.reasons,
        }


def _version_query():
    return AssessmentVersion.select(
        AssessmentVersion.all_columns(),
        AssessmentVersion.assessment.kind,
        AssessmentVersion.assessment.use_case.id.as_alias("use_case_id"),
        AssessmentVersion.assessment.use_case.reference.as_alias("use_case_ref"),
        AssessmentVersion.author.username.as_alias("author_username"),
        AssessmentVersion.submitted_by.username.as_alias("submitted_by_username"),
        AssessmentVersion.revoked_by.username.as_alias("revoked_by_username"),
    )


def _view(row: dict[str, Any]) -> VersionView:
    return VersionView(
        id=row["id"],
        assessment_id=row["assessment"],
        kind=row["assessment.kind"],
        use_case_id=row["use_case_id"],
        use_case_ref=row["use_case_ref"],
        number=row["number"],
        status=row["status"],
        schema=row["schema"],
        content=json.loads(row["content"]),
        content_hash=row["content_hash"],
        author_id=row["author"],
        author=row["author_username"],
        editor_ids=tuple(json.loads(row["editors"])),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        submitted_by_id=row["submitted_by"],
        submitted_by=row["submitted_by_username"],
        submitted_at=row["submitted_at"],
        decision=row["decision"],
        decided_at=row["decided_at"],
        review_date=row["review_date"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by_username"],
        revocation_reason=row["revocation_reason"],
        version=row["version"],
    )


# Reading -------------------------------------------------------------------------------------------


async def use_case_id_for(reference: str) -> int:
    row = await UseCase.select(UseCase.id).where(UseCase.reference == reference).first().run()
    if row is None:
        raise NotFound(f"No use case has the reference {reference!r}.")
    return row["id"]


async def list_versions(use_case_id: int, kind: str) -> list[VersionView]:
    """Return every version of the use case's assessment of ``kind``, oldest first."""
    rows = (
        await _version_query()
        .where(
            (AssessmentVersion.assessment.use_case.id == use_case_id)
            & (AssessmentVersion.assessment.kind == kind)
        )
        .order_by(AssessmentVersion.number)
        .run()
    )
    return [_view(row) for row in rows]


async def latest_version(use_case_id: int, kind: str) -> VersionView | None:
    """Return the highest-numbered version (the one on record now), or None if there is none."""
    row = (
        await _version_query()
        .where(
            (AssessmentVersion.assessment.use_case.id == use_case_id)
            & (AssessmentVersion.assessment.kind == kind)
        )
        .order_by(AssessmentVersion.number, ascending=False)
        .first()
        .run()
    )
    return _view(row) if row else None


async def get_version(use_case_id: int, kind: str, number: int) -> VersionView:
    row = (
        await _version_query()
        .where(
            (AssessmentVersion.assessment.use_case.id == use_case_id)
            & (AssessmentVersion.assessment.kind == kind)
            & (AssessmentVersion.number == number)
        )
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"This use case has no {kind_label(kind)} version {number}.")
    return _view(row)


async def versions_with_status(kind: str, statuses: list[str]) -> list[VersionView]:
    """Return versions of ``kind`` in any of ``statuses``, oldest submission first (for queues)."""
    rows = (
        await _version_query()
        .where(
            (AssessmentVersion.assessment.kind == kind) & AssessmentVersion.status.is_in(statuses)
        )
        .order_by(AssessmentVersion.submitted_at)
        .order_by(AssessmentVersion.id)
        .run()
    )
    return [_view(row) for row in rows]


async def last_version_with_decision(
    use_case_id: int, kind: str, decisions: list[str]
) -> VersionView | None:
    """Return the newest version whose decision is one of ``decisions`` (for "changed since")."""
    row = (
        await _version_query()
        .where(
            (AssessmentVersion.assessment.use_case.id == use_case_id)
            & (AssessmentVersion.assessment.kind == kind)
            & AssessmentVersion.decision.is_in(decisions)
        )
        .order_by(AssessmentVersion.number, ascending=False)
        .first()
        .run()
    )
    return _view(row) if row else None


async def list_sign_offs(version_id: int) -> list[SignOffView]:
    rows = (
        await SignOff.select(SignOff.all_columns(), SignOff.account.username.as_alias("username"))
        .where(SignOff.assessment_version == version_id)
        .order_by(SignOff.signed_at)
        .order_by(SignOff.id)
        .run()
    )
    return [
        SignOffView(
            id=row["id"],
            version_number=row["version_number"],
            account_id=row["account"],
            signer=row["username"],
            signer_name=row["signer_name"],
            signer_role=row["signer_role"],
            meaning=row["meaning"],
            decision=row["decision"],
            content_hash=row["content_hash"],
            signed_at=row["signed_at"],
            summary=row["summary"],
            reasons=row["reasons"],
        )
        for row in rows
    ]


# Writing -------------------------------------------------------------------------------------------


def _encode_draft(content: dict[str, Any]) -> str:
    text = json.dumps(content, ensure_ascii=False, sort_keys=True)
    if len(text.encode("utf-8")) > MAX_CONTENT_BYTES:
        raise InvalidInput.single(
            "content", f"is too large ({len(text.encode('utf-8')):,} bytes); the limit is {MAX_CONTENT_BYTES:,}"
        )
    return text


async def _assessment_id(use_case_id: int, kind: str) -> int:
    row = (
        await Assessment.select(Assessment.id)
        .where((Assessment.use_case == use_case_id) & (Assessment.kind == kind))
        .first()
        .run()
    )
    if row:
        return row["id"]
    assessment = Assessment(use_case=use_case_id, kind=kind, created_at=utcnow())
    await assessment.save().run()
    return assessment.id


def _summary(view: VersionView) -> dict[str, Any]:
    return {
        "kind": view.kind,
        "number": view.number,
        "status": view.status,
        "content_hash": view.content_hash,
        "decision": view.decision,
        "review_date": view.review_date,
        "revoked": view.revoked_at is not None,
        "version": view.version,
    }


async def start_version(
    actor: Actor,
    use_case_id: int,
    kind: str,
    schema: str,
    workflow: Workflow,
    content: dict[str, Any] | None = None,
) -> VersionView:
    """Start the next draft version, copying the latest version's content unless given ``content``.

    Raises ``Conflict`` while the latest version is still editable: a use case has at most one
    open draft of each kind. Starting a version after an approval changes the version on record,
    so the go-live watch re-checks the use case.
    """
    async with write_transaction():
        previous = await latest_version(use_case_id, kind)
        if previous is not None and previous.status in workflow.editable:
            raise Conflict(
                f"Version {previous.number} is still a draft. Edit it instead of starting another.",
                extra={"draft_version": previous.number},
            )

        if content is None:
            content = previous.content if previous else {}
        assessment_id = await _assessment_id(use_case_id, kind)
        number = previous.number + 1 if previous else 1
        now = utcnow()
        await AssessmentVersion.insert(
            AssessmentVersion(
                assessment=assessment_id,
                number=number,
                status=workflow.initial,
                schema=schema,
                content=_encode_draft(content),
                author=actor.account_id,
                editors=json.dumps([actor.account_id]),
                created_at=now,
                updated_at=now,
                version=1,
            )
        ).run()
        view = await get_version(use_case_id, kind, number)
        await audit.record(
            actor,
            f"{kind}.version_started",
            kind,
            f"{view.use_case_ref}/v{number}",
            before=_summary(previous) if previous else None,
            after=_summary(view),
            use_case_ref=view.use_case_ref,
        )
        if previous is not None:
            await golive.readiness_may_have_changed(
                actor,
                use_case_id,
                f"a new {kind_label(kind)} version ({number}) was started and replaces version "
                f"{previous.number} on record, so readiness returns only when version {number} is approved",
            )
    return view


async def save_draft(
    actor: Actor,
    view: VersionView,
    expected_version: int,
    content: dict[str, Any],
    workflow: Workflow,
) -> VersionView:
    """Replace a draft's content if ``expected_version`` is current."""
    async with write_transaction():
        current = await get_version(view.use_case_id, view.kind, view.number)
        if current.status not in workflow.editable:
            raise Conflict(
                f"Version {current.number} is {current.status.replace('_', ' ')} and frozen. "
                "Start a new version to change it."
            )
        if current.version != expected_version:
            raise StaleVersion(f"{kind_label(view.kind)} version {view.number}", expected_version, current.version)

        editors = sorted({*current.editor_ids, actor.account_id})
        updated = (
            await AssessmentVersion.update(
                {
                    AssessmentVersion.content: _encode_draft(content),
                    AssessmentVersion.editors: json.dumps(editors),
                    AssessmentVersion.updated_at: utcnow(),
                    AssessmentVersion.version: current.version + 1,
                }
            )
            .where((AssessmentVersion.id == current.id) & (AssessmentVersion.version == expected_version))
            .returning(AssessmentVersion.id)
            .run()
        )
        if not updated:
            raise StaleVersion(f"{kind_label(view.kind)} version {view.number}", expected_version, current.version + 1)

        after = await get_version(view.use_case_id, view.kind, view.number)
        await audit.record(
            actor,
            f"{view.kind}.draft_saved",
            view.kind,
            f"{view.use_case_ref}/v{view.number}",
            before=current.content,
            after=after.content,
            use_case_ref=view.use_case_ref,
        )
    return after


async def apply_action(
    actor: Actor,
    view: VersionView,
    expected_version: int,
    workflow: Workflow,
    action: str,
    *,
    decision: str | None = None,
    review_date: dt.date | None = None,
    note: str = "",
    stamp: Mapping[str, Any] | None = None,
) -> VersionView:
    """Move a version to the status ``workflow`` gives for ``action``, freezing it if required.

    ``stamp`` holds server-set values merged into the content just before it is frozen, so the
    hash covers them (the DPIA records the use case's processing scope this way).

    Raises ``Conflict`` for an action the status does not allow and ``StaleVersion`` when another
    request changed the version first, so of two simultaneous decisions exactly one is recorded.
    """
    async with write_transaction():
        current = await get_version(view.use_case_id, view.kind, view.number)
        if current.version != expected_version:
            raise StaleVersion(f"{kind_label(view.kind)} version {view.number}", expected_version, current.version)
        try:
            new_status = workflow.next_status(current.status, action)
        except WorkflowError as error:
            raise Conflict(str(error), extra={"allowed_actions": error.allowed}) from None

        now = utcnow()
        values: dict[Any, Any] = {
            AssessmentVersion.status: new_status,
            AssessmentVersion.updated_at: now,
            AssessmentVersion.version: current.version + 1,
        }
        if action in workflow.frozen_by and not current.frozen:
            content = {**current.content, **stamp} if stamp else current.content
            canonical, digest = freeze_content(
                current.kind, current.schema, current.use_case_ref, current.number, content
            )
            values[AssessmentVersion.content] = canonical
            values[AssessmentVersion.content_hash] = digest
            values[AssessmentVersion.submitted_by] = actor.account_id
            values[AssessmentVersion.submitted_at] = now
        if decision is not None:
            values[AssessmentVersion.decision] = decision
            values[AssessmentVersion.decided_at] = now
        if review_date is not None:
            values[AssessmentVersion.review_date] = review_date

        updated = (
            await AssessmentVersion.update(values)
            .where((AssessmentVersion.id == current.id) & (AssessmentVersion.version == expected_version))
            .returning(AssessmentVersion.id)
            .run()
        )
        if not updated:
            raise StaleVersion(f"{kind_label(view.kind)} version {view.number}", expected_version, current.version + 1)

        after = await get_version(view.use_case_id, view.kind, view.number)
        await audit.record(
            actor,
            f"{view.kind}.{action}",
            view.kind,
            f"{view.use_case_ref}/v{view.number}",
            before=_summary(current),
            after=_summary(after),
            use_case_ref=view.use_case_ref,
            note=note,
        )
    logger.info(
        "%s %s v%d: %s by %s (%s -> %s)",
        view.kind,
        view.use_case_ref,
        view.number,
        action,
        actor.username,
        current.status,
        new_status,
    )
    return after


def ensure_independent(actor: Actor, view: VersionView, action: str) -> None:
    """Raise ``Forbidden`` if ``actor`` wrote, edited or submitted ``view`` (separation of duties)."""
    if actor.account_id in view.involved_account_ids():
        raise Forbidden(
            f"you wrote or submitted {kind_label(view.kind)} version {view.number}, so you cannot {action} it; "
            "another person holding the right role must do so"
        )


async def record_sign_off(
    actor: Actor,
    view: VersionView,
    *,
    role: Role,
    meaning: str,
    decision: str,
    summary: str = "",
    reasons: str = "",
) -> SignOffView:
    """Append a sign-off bound to the version's hash; call it inside the decision's transaction.

    Raises ``Forbidden`` if the actor does not hold ``role`` and ``Conflict`` if the version has not
    been frozen, because a signature must cover fixed content.
    """
    if role not in actor.roles:
        raise Forbidden(f"Signing as {role.label} needs that role, which your account does not hold.")
    if view.content_hash is None:
        raise Conflict(
            f"{as_sentence(kind_label(view.kind))} version {view.number} has not been submitted, "
            "so it cannot be signed."
        )

    async with write_transaction():
        account = await Account.select(Account.display_name).where(Account.id == actor.account_id).first().run()
        signer_name = account["display_name"] if account else actor.username
        sign_off = SignOff(
            assessment_version=view.id,
            account=actor.account_id,
            signer_name=signer_name,
            signer_role=role.value,
            meaning=meaning,
            decision=decision,
            content_hash=view.content_hash,
            version_number=view.number,
            signed_at=utcnow(),
            summary=summary,
            reasons=reasons,
        )
        await sign_off.save().run()
        await audit.record(
            actor,
            f"{view.kind}.signed",
            view.kind,
            f"{view.use_case_ref}/v{view.number}",
            after={
                "role": role.value,
                "meaning": meaning,
                "decision": decision,
                "content_hash": view.content_hash,
                "summary": summary,
                "reasons": reasons,
            },
            use_case_ref=view.use_case_ref,
        )
        signed = [item for item in await list_sign_offs(view.id) if item.id == sign_off.id]
    return signed[0]


async def revoke(actor: Actor, view: VersionView, expected_version: int, reason: str) -> VersionView:
    """Revoke an approved version with a reason; the version and its sign-offs stay readable."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput.single("reason", "give the reason for revoking the approval")

    async with write_transaction():
        current = await get_version(view.use_case_id, view.kind, view.number)
        if current.version != expected_version:
            raise StaleVersion(f"{kind_label(view.kind)} version {view.number}", expected_version, current.version)
        if current.revoked_at is not None:
            raise Conflict(f"{as_sentence(kind_label(view.kind))} version {view.number} is already revoked.")

        await AssessmentVersion.update(
            {
                AssessmentVersion.revoked_at: utcnow(),
                AssessmentVersion.revoked_by: actor.account_id,
                AssessmentVersion.revocation_reason: reason,
                AssessmentVersion.version: current.version + 1,
            }
        ).where(AssessmentVersion.id == current.id).run()

        after = await get_version(view.use_case_id, view.kind, view.number)
        await audit.record(
            actor,
            f"{view.kind}.revoked",
            view.kind,
            f"{view.use_case_ref}/v{view.number}",
            before=_summary(current),
            after=_summary(after),
            use_case_ref=view.use_case_ref,
            note=reason,
        )
        await golive.readiness_may_have_changed(
            actor, view.use_case_id, f"{kind_label(view.kind)} version {view.number} was revoked: {reason}"
        )
    logger.info("%s %s v%d revoked by %s", view.kind, view.use_case_ref, view.number, actor.username)
    return after


async def change_review_date(
    actor: Actor, view: VersionView, expected_version: int, review_date: dt.date, reason: str
) -> VersionView:
    """Move an approved version's review date, with a reason."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput.single("reason", "give the reason for changing the review date")

    async with write_transaction():
        current = await get_version(view.use_case_id, view.kind, view.number)
        if current.version != expected_version:
            raise StaleVersion(f"{kind_label(view.kind)} version {view.number}", expected_version, current.version)

        await AssessmentVersion.update(
            {
                AssessmentVersion.review_date: review_date,
                AssessmentVersion.version: current.version + 1,
            }
        ).where(AssessmentVersion.id == current.id).run()

        after = await get_version(view.use_case_id, view.kind, view.number)
        await audit.record(
            actor,
            f"{view.kind}.review_date_changed",
            view.kind,
            f"{view.use_case_ref}/v{view.number}",
            before={"review_date": current.review_date},
            after={"review_date": after.review_date},
            use_case_ref=view.use_case_ref,
            note=reason,
        )
        await golive.readiness_may_have_changed(
            actor, view.use_case_id, f"the {kind_label(view.kind)} review date moved to {review_date.isoformat()}"
        )
    return after

