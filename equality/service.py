"""Equality screenings and full equality impact assessments: the service layer.

Both are versioned assessments (``governance.assessments``) with the same workflow: a draft is
saved as often as needed, submitting freezes and hashes it, and the equality lead approves it,
requests changes or rejects it. The lead must not have written, edited or submitted the version,
may decide only the latest version, and signs the decision against the version's hash.

A full assessment responds to the newest screening version that is submitted or approved (and not
revoked), once that version finds a negative or not known impact. When a newer screening version is
submitted, the full-assessment draft moves onto its impacts. An approved full assessment stays valid
for a newer approved screening only while it covers every impact that screening flags. Otherwise
the readiness check names the impacts it does not cover.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from equality import characteristics as local_characteristics
from equality.rules import (
    ASSESSMENT,
    KIND_LABELS,
    KINDS,
    OUTCOME_REQUIRED,
    SCHEMAS,
    SCREENING,
    TEXT_LIMIT,
    ScreeningBasis,
    blank_assessment,
    blank_screening,
    clean_assessment,
    clean_screening,
    flagged_impacts,
    rebase_assessment,
    rebase_screening,
    review_date_for,
    screened_characteristics,
    screening_outcome,
)
from governance import assessments, golive, register
from governance.assessments import Change, SignOffView, VersionView, Workflow
from governance.audit import Actor
from governance.clock import london_today, utcnow
from governance.database import write_transaction
from governance.errors import Conflict, Forbidden, InvalidInput, NotFound, StaleVersion
from governance.register import UseCaseView
from governance.roles import Role

logger = logging.getLogger(__name__)

WORKFLOW = Workflow(
    transitions={
        "draft": {"submit": "submitted"},
        "submitted": {
            "approve": "approved",
            "request_changes": "changes_requested",
            "reject": "rejected",
        },
    },
    editable=frozenset({"draft"}),
    frozen_by=frozenset({"submit"}),
)

DECISIONS = {"approve": "approved", "request_changes": "changes_requested", "reject": "rejected"}
# The meaning of the equality lead's signature for each decision, stored with the sign-off.
MEANINGS: dict[tuple[str, str], str] = {
    (SCREENING, "approve"): "Equality screening approved: due regard shown",
    (SCREENING, "request_changes"): "Changes requested to the equality screening",
    (SCREENING, "reject"): "Equality screening rejected",
    (SCREENING, "revoke"): "Approval of the equality screening revoked",
    (
        ASSESSMENT,
        "approve",
    ): "Full equality impact assessment approved: due regard shown and mitigations accepted",
    (ASSESSMENT, "request_changes"): "Changes requested to the full equality impact assessment",
    (ASSESSMENT, "reject"): "Full equality impact assessment rejected",
    (ASSESSMENT, "revoke"): "Approval of the full equality impact assessment revoked",
}

AUTHOR_ROLES = (Role.CENTRAL_TEAM, Role.BUSINESS_OWNER)
LEAD_ROLES = (Role.EQUALITY_LEAD,)


# Checks --------------------------------------------------------------------------------------------


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is an equality assessment kind; raise ``NotFound`` otherwise."""
    if kind not in KINDS:
        raise NotFound(f"unknown equality record {kind!r}; use one of: {', '.join(KINDS)}")
    return kind


async def ensure_author(actor: Actor, use_case: UseCaseView) -> None:
    """Allow the central team anywhere and business owners in their own department."""
    await register.ensure_can_edit(actor, use_case.department)


async def may_author(actor: Actor, use_case: UseCaseView) -> bool:
    try:
        await ensure_author(actor, use_case)
    except Forbidden:
        return False
    return True


def ensure_lead(actor: Actor, what: str) -> None:
    if not actor.has_any(*LEAD_ROLES):
        raise Forbidden(f"{what} needs the equality lead role")


def _clean_note(name: str, value: str | None, limit: int = TEXT_LIMIT) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput.single(
            name, f"must be at most {limit:,} characters (it has {len(text):,})"
        )
    return text


# Reading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EqualityRecord:
    """A use case's screening and full-assessment versions, oldest first."""

    use_case: UseCaseView
    screening: list[VersionView]
    assessment: list[VersionView]

    def versions(self, kind: str) -> list[VersionView]:
        return self.screening if kind == SCREENING else self.assessment

    def latest(self, kind: str) -> VersionView | None:
        versions = self.versions(kind)
        return versions[-1] if versions else None

    @property
    def basis(self) -> VersionView | None:
        """The screening version a full assessment responds to, if it needs one."""
        version = basis_version(self.screening)
        if version is not None and outcome_of(version) == OUTCOME_REQUIRED:
            return version
        return None


def outcome_of(view: VersionView) -> str | None:
    """Return a screening version's outcome, worked out again from its answers."""
    return screening_outcome(
        screened_characteristics(view.content), view.content.get("characteristics") or {}
    )


async def load_record(reference: str) -> EqualityRecord:
    use_case = await register.get_use_case(reference)
    return EqualityRecord(
        use_case=use_case,
        screening=await assessments.list_versions(use_case.id, SCREENING),
        assessment=await assessments.list_versions(use_case.id, ASSESSMENT),
    )


async def get_version(reference: str, kind: str, number: int) -> VersionView:
    use_case = await register.get_use_case(reference)
    return await assessments.get_version(use_case.id, check_kind(kind), number)


async def list_versions(reference: str, kind: str) -> list[VersionView]:
    use_case = await register.get_use_case(reference)
    return await assessments.list_versions(use_case.id, check_kind(kind))


async def sign_offs(view: VersionView) -> list[SignOffView]:
    return await assessments.list_sign_offs(view.id)


def _basis_from(view: VersionView) -> ScreeningBasis:
    assert view.content_hash is not None
    return ScreeningBasis(view.number, view.content_hash, tuple(flagged_impacts(view.content)))


def basis_version(screening: list[VersionView]) -> VersionView | None:
    """Return the screening version a full assessment responds to, or None.

    That is the newest screening version that is submitted or approved and not revoked: drafts and
    versions sent back or rejected are skipped, so revising the screening does not stop work on
    the full assessment.
    """
    candidates = [
        item
        for item in screening
        if item.status in ("submitted", "approved") and item.revoked_at is None
    ]
    return candidates[-1] if candidates else None


async def screening_basis(use_case_id: int) -> ScreeningBasis:
    """Return what a full assessment must respond to; raise ``Conflict`` when none is needed yet."""
    versions = await assessments.list_versions(use_case_id, SCREENING)
    if not versions:
        raise Conflict("no equality screening exists yet; screen the use case first")
    basis = basis_version(versions)
    if basis is None:
        latest = versions[-1]
        state = "revoked" if latest.revoked_at else latest.status.replace("_", " ")
        raise Conflict(
            f"equality screening version {latest.number} is {state}; a full assessment can "
            "start once a screening that finds a negative or not known impact is submitted"
        )
    if outcome_of(basis) != OUTCOME_REQUIRED:
        raise Conflict(
            f"equality screening version {basis.number} found no negative or not known impact, "
            "so no full equality impact assessment is needed"
        )
    return _basis_from(basis)


def _previous_approved(versions: list[VersionView], number: int) -> VersionView | None:
    earlier = [item for item in versions if item.number < number and item.decision == "approved"]
    return earlier[-1] if earlier else None


async def diff_version(
    reference: str, kind: str, number: int, against: int | None = None
) -> tuple[VersionView, VersionView | None, list[Change]]:
    """Compare a version with ``against``; by default the last approved version before it, or the one before.

    Returns (version, the version compared with or None for a first version, the changes).
    """
    versions = await list_versions(reference, kind)
    by_number = {item.number: item for item in versions}
    if number not in by_number:
        raise NotFound(f"no {KIND_LABELS[kind].lower()} version {number} for {reference}")
    view = by_number[number]
    if against is None:
        base = _previous_approved(versions, number) or by_number.get(number - 1)
    elif against in by_number:
        base = by_number[against]
    else:
        raise InvalidInput.single("against", f"there is no version {against} to compare with")
    changes = assessments.diff_content(base.content if base else {}, view.content)
    return view, base, changes


# Writing -------------------------------------------------------------------------------------------


async def _clean_content(
    kind: str, use_case_id: int, data: Mapping[str, Any], *, complete: bool
) -> dict[str, Any]:
    if kind == SCREENING:
        return clean_screening(
            data, await local_characteristics.current_characteristics(), complete=complete
        )
    basis = await screening_basis(use_case_id)
    today = london_today(utcnow())
    return clean_assessment(data, basis, complete=complete, today=today)


def editable_input(kind: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """Return the parts of stored content that an author edits, in the shape the API accepts."""
    if kind == SCREENING:
        return {
            "proposal": content.get("proposal", ""),
            "characteristics": dict(content.get("characteristics") or {}),
            "aims": dict(content.get("aims") or {}),
        }
    return {
        "impacts": {
            key: {
                name: entry.get(name)
                for name in ("mitigation", "owner", "due_date", "remains", "justification")
            }
            for key, entry in (content.get("impacts") or {}).items()
        },
        "action_plan": list(content.get("action_plan") or []),
        "engagement": content.get("engagement", ""),
    }


async def _rebased(kind: str, use_case_id: int, content: Mapping[str, Any]) -> dict[str, Any]:
    if kind == SCREENING:
        return rebase_screening(content, await local_characteristics.current_characteristics())
    return rebase_assessment(content, await screening_basis(use_case_id))


async def start_version(actor: Actor, reference: str, kind: str) -> VersionView:
    """Start the next draft: a copy of the latest version moved onto today's characteristics or impacts."""
    check_kind(kind)
    use_case = await register.get_use_case(reference)
    await ensure_author(actor, use_case)
    async with write_transaction():
        previous = await assessments.latest_version(use_case.id, kind)
        if previous is not None and previous.status in WORKFLOW.editable:
            raise Conflict(
                f"{KIND_LABELS[kind].lower()} version {previous.number} is still a draft; edit it "
                "instead of starting another",
                extra={"draft_version": previous.number},
            )
        if previous is not None:
            content = await _rebased(kind, use_case.id, previous.content)
        elif kind == SCREENING:
            content = blank_screening(await local_characteristics.current_characteristics())
        else:
            content = blank_assessment(await screening_basis(use_case.id))
        view = await assessments.start_version(
            actor, use_case.id, kind, SCHEMAS[kind], WORKFLOW, content=content
        )
    logger.info("%s %s v%d started by %s", kind, use_case.reference, view.number, actor.username)
    return view


async def save_draft(
    actor: Actor,
    reference: str,
    kind: str,
    number: int,
    expected_version: int,
    data: Mapping[str, Any],
) -> VersionView:
    """Replace a draft's content after checking each value; unanswered fields are allowed until submission."""
    check_kind(kind)
    use_case = await register.get_use_case(reference)
    await ensure_author(actor, use_case)
    async with write_transaction():
        view = await assessments.get_version(use_case.id, kind, number)
        if view.status not in WORKFLOW.editable:
            raise Conflict(
                f"{KIND_LABELS[kind].lower()} version {number} is {view.status.replace('_', ' ')} "
                "and frozen; start a new version to change it"
            )
        content = await _clean_content(kind, use_case.id, data, complete=False)
        return await assessments.save_draft(actor, view, expected_version, content, WORKFLOW)


async def submit(
    actor: Actor, reference: str, kind: str, number: int, expected_version: int
) -> VersionView:
    """Check that every answer is given, then freeze and hash the draft for the equality lead.

    The draft is first moved onto the current characteristics (screening), or onto the impacts of
    the screening it responds to (full assessment), so that what is frozen is complete and current.
    """
    check_kind(kind)
    use_case = await register.get_use_case(reference)
    await ensure_author(actor, use_case)
    async with write_transaction():
        view = await assessments.get_version(use_case.id, kind, number)
        if view.status not in WORKFLOW.editable:
            raise Conflict(
                f"{KIND_LABELS[kind].lower()} version {number} is already "
                f"{view.status.replace('_', ' ')}; only a draft can be submitted"
            )
        if view.version != expected_version:
            raise StaleVersion(
                f"{KIND_LABELS[kind].lower()} version {number}", expected_version, view.version
            )

        rebased = await _rebased(kind, use_case.id, view.content)
        content = await _clean_content(
            kind, use_case.id, editable_input(kind, rebased), complete=True
        )
        if content != view.content:
            view = await assessments.save_draft(actor, view, expected_version, content, WORKFLOW)
        return await assessments.apply_action(actor, view, view.version, WORKFLOW, "submit")


async def _ensure_assessment_approvable(use_case_id: int, view: VersionView) -> None:
    """Raise ``Conflict`` unless the screening on record is approved and the version covers its impacts."""
    screening = await assessments.latest_version(use_case_id, SCREENING)
    if screening is None or screening.status != "approved" or screening.revoked_at is not None:
        state = "missing"
        if screening is not None:
            state = "revoked" if screening.revoked_at else screening.status.replace("_", " ")
        raise Conflict(
            f"the equality screening on record is {state}; approve the screening before the full "
            "assessment that responds to it"
        )
    covered = set((view.content.get("impacts") or {}).keys())
    missing = [
        impact.label for impact in flagged_impacts(screening.content) if impact.key not in covered
    ]
    if missing:
        raise Conflict(
            f"full assessment version {view.number} does not cover {', '.join(missing)}, which "
            f"screening version {screening.number} found; request changes so that the author "
            "starts a version that covers them"
        )


async def decide(
    actor: Actor,
    reference: str,
    kind: str,
    number: int,
    expected_version: int,
    action: str,
    *,
    summary: str = "",
    reasons: str = "",
) -> VersionView:
    """Record the equality lead's decision on the latest submitted version and sign it.

    Raises ``Forbidden`` unless the actor is an equality lead who did not write, edit or submit
    the version. Raises ``Conflict`` when the version is not the latest or not awaiting a decision.
    Raises ``StaleVersion`` when another decision got there first, so exactly one is recorded.
    """
    check_kind(kind)
    ensure_lead(actor, "deciding on an equality screening or full assessment")
    if action not in DECISIONS:
        raise InvalidInput.single(
            "action", f"{action!r} is not a decision; use one of: {', '.join(DECISIONS)}"
        )
    summary = _clean_note("summary", summary)
    reasons = _clean_note("reasons", reasons)
    if action != "approve" and not reasons:
        raise InvalidInput.single(
            "reasons", "give the reasons, so that the author knows what to change"
        )

    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view = await assessments.get_version(use_case.id, kind, number)
        assessments.ensure_independent(actor, view, "approve or reject")
        latest = await assessments.latest_version(use_case.id, kind)
        if latest is not None and latest.number != view.number:
            raise Conflict(
                f"{KIND_LABELS[kind].lower()} version {number} is not the latest: version "
                f"{latest.number} is on record, so decide that one",
                extra={"latest_version": latest.number},
            )
        if view.version != expected_version:
            raise StaleVersion(
                f"{KIND_LABELS[kind].lower()} version {number}", expected_version, view.version
            )
        if view.status != "submitted":
            raise Conflict(
                f"{KIND_LABELS[kind].lower()} version {number} is {view.status.replace('_', ' ')}, "
                "not waiting for a decision"
            )
        if kind == ASSESSMENT and action == "approve":
            await _ensure_assessment_approvable(use_case.id, view)

        review_date = None
        if action == "approve":
            review_date = review_date_for(kind, london_today(utcnow()), view.content)
        after = await assessments.apply_action(
            actor,
            view,
            expected_version,
            WORKFLOW,
            action,
            decision=DECISIONS[action],
            review_date=review_date,
            note=reasons or summary,
        )
        await assessments.record_sign_off(
            actor,
            after,
            role=Role.EQUALITY_LEAD,
            meaning=MEANINGS[(kind, action)],
            decision=DECISIONS[action],
            summary=summary,
            reasons=reasons,
        )
        # A decision can restore (or end) a live use case's readiness, so clear or raise its flag now.
        outcome = DECISIONS[action].replace("_", " ")
        await golive.readiness_may_have_changed(
            actor, use_case.id, f"{KIND_LABELS[kind].lower()} version {view.number} was {outcome}"
        )
    return after


async def _approved_latest(use_case_id: int, kind: str, number: int, what: str) -> VersionView:
    view = await assessments.get_version(use_case_id, kind, number)
    latest = await assessments.latest_version(use_case_id, kind)
    if view.status != "approved":
        raise Conflict(
            f"{KIND_LABELS[kind].lower()} version {number} is not approved, so you cannot {what} it"
        )
    if view.revoked_at is not None:
        raise Conflict(f"{KIND_LABELS[kind].lower()} version {number} is already revoked")
    if latest is not None and latest.number != number:
        raise Conflict(
            f"{KIND_LABELS[kind].lower()} version {number} is not the latest: version "
            f"{latest.number} is on record",
            extra={"latest_version": latest.number},
        )
    return view


async def revoke(
    actor: Actor, reference: str, kind: str, number: int, expected_version: int, reason: str
) -> VersionView:
    """Revoke the approval of the latest version with a reason, and sign the revocation."""
    check_kind(kind)
    ensure_lead(actor, "revoking an equality approval")
    reason = _clean_note("reason", reason)
    if not reason:
        raise InvalidInput.single("reason", "give the reason for revoking the approval")
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view = await _approved_latest(use_case.id, kind, number, "revoke")
        after = await assessments.revoke(actor, view, expected_version, reason)
        await assessments.record_sign_off(
            actor,
            after,
            role=Role.EQUALITY_LEAD,
            meaning=MEANINGS[(kind, "revoke")],
            decision="revoked",
            reasons=reason,
        )
    return after


async def change_review_date(
    actor: Actor,
    reference: str,
    kind: str,
    number: int,
    expected_version: int,
    review_date: str | dt.date | None,
    reason: str,
) -> VersionView:
    """Move the review date of the latest approved version, with a reason."""
    check_kind(kind)
    ensure_lead(actor, "changing an equality review date")
    day = assessments.parse_iso_date(review_date)
    problem = assessments.check_review_date(day, london_today(utcnow()))
    if problem:
        raise InvalidInput.single("review_date", problem)
    reason = _clean_note("reason", reason)
    if not reason:
        raise InvalidInput.single("reason", "give the reason for changing the review date")
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view = await _approved_latest(use_case.id, kind, number, "change the review date of")
        assert day is not None
        return await assessments.change_review_date(actor, view, expected_version, day, reason)
