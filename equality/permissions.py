"""Rules on who may act on an equality record in its current state, as pure functions.

The service raises the refusal these functions return, and the pages offer a form or link only when
the same function returns None. So a page offers only actions the server accepts, unless the record
changes between showing the page and sending the form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from equality.rules import (
    ASSESSMENT,
    KIND_LABELS,
    OUTCOME_REQUIRED,
    flagged_impacts,
    screened_characteristics,
    screening_outcome,
)
from governance.assessments import VersionView
from governance.errors import Conflict, DomainError, Forbidden, StaleVersion


@dataclass(frozen=True)
class Refusal:
    """Why an action is not allowed now: 403 for who the person is, 409 for the record's state."""

    message: str
    status_code: int = 409
    extra: dict[str, Any] = field(default_factory=dict)

    def error(self) -> DomainError:
        if self.status_code == 403:
            return Forbidden(self.message)
        return Conflict(self.message, extra=self.extra)


class ChangedMeanwhile(StaleVersion):
    """Someone else changed a record after the request's author read it; nothing was saved.

    The message names the record's lock value by its JSON field, ``"version"``, so that it cannot
    be mistaken for the number of a screening or full-assessment version.
    """

    def __init__(self, record_name: str, expected: int, current: int) -> None:
        # StaleVersion's own message uses "version" for both numbers, so build the Conflict directly.
        Conflict.__init__(
            self,
            f"Someone else changed {record_name} after you read it, so your change was not saved. Read "
            f'it again, check their change, then send yours with "version": {current} (you sent '
            f"{expected}).",
            extra={"current_version": current},
        )


class AlreadyRecorded(Conflict):
    """A repeat of an action whose outcome is already on record, such as a double click.

    ``by_you`` is True when the person sending the repeat recorded that outcome themselves, so
    nothing they asked for is lost and a page can simply show the record.
    """

    def __init__(self, message: str, *, by_you: bool, outcome: str) -> None:
        super().__init__(message, extra={"already_recorded": outcome})
        self.by_you = by_you
        self.outcome = outcome


def named(kind: str, number: int) -> str:
    """Return how a sentence starts when it names a version: "Equality screening version 2"."""
    return f"{KIND_LABELS[kind]} version {number}"


def status_words(view: VersionView) -> str:
    """Return a version's state as it reads mid-sentence: "changes requested", "revoked"."""
    return "revoked" if view.revoked_at else view.status.replace("_", " ")


def outcome_of(view: VersionView) -> str | None:
    """Return a screening version's outcome, worked out again from its answers."""
    return screening_outcome(
        screened_characteristics(view.content), view.content.get("characteristics") or {}
    )


def basis_version(screening: Sequence[VersionView]) -> VersionView | None:
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


def basis_refusal(screening: Sequence[VersionView]) -> Refusal | None:
    """Return why no full assessment can be worked on yet, or None when a screening needs one."""
    if not screening:
        return Refusal("No equality screening exists yet. Screen the use case first.")
    basis = basis_version(screening)
    if basis is None:
        latest = screening[-1]
        return Refusal(
            f"Equality screening version {latest.number} is {status_words(latest)}. A full "
            "assessment can start once a screening that finds a negative or not known impact is "
            "submitted."
        )
    if outcome_of(basis) != OUTCOME_REQUIRED:
        return Refusal(
            f"Equality screening version {basis.number} found no negative or not known impact, "
            "so no full equality impact assessment is needed."
        )
    return None


AUTHOR_REFUSAL = Refusal(
    "Only the central team, or a business owner of the use case's department, can write equality "
    "records for this use case.",
    403,
)


def start_refusal(
    kind: str,
    may_author: bool,
    versions: Sequence[VersionView],
    screening: Sequence[VersionView],
) -> Refusal | None:
    """Return why the next version of ``kind`` cannot be started, or None if it can."""
    if not may_author:
        return AUTHOR_REFUSAL
    if versions and versions[-1].status == "draft":
        draft = versions[-1]
        return Refusal(
            f"{named(kind, draft.number)} is still a draft. Edit it instead of starting another.",
            extra={"draft_version": draft.number},
        )
    if kind == ASSESSMENT:
        return basis_refusal(screening)
    return None


def edit_refusal(
    may_author: bool, view: VersionView, screening: Sequence[VersionView]
) -> Refusal | None:
    """Return why ``view`` cannot be saved or submitted by this person, or None if it can.

    ``screening`` lists the use case's screening versions, oldest first: a full-assessment draft
    can change only while a screening needs it.
    """
    if not may_author:
        return AUTHOR_REFUSAL
    if view.status != "draft":
        return Refusal(
            f"{named(view.kind, view.number)} is {status_words(view)}, so it can no longer be "
            "changed. Start a new version to change it."
        )
    if view.kind == ASSESSMENT:
        return basis_refusal(screening)
    return None


def decision_refusal(
    account_id: int | None, is_lead: bool, view: VersionView, latest: VersionView | None
) -> Refusal | None:
    """Return why this person cannot decide ``view`` now, or None if they can.

    Only an equality lead who did not write, edit or submit the version may decide it, and only
    while it is the latest version and waiting for a decision.
    """
    if not is_lead:
        return Refusal(
            "Deciding on an equality screening or full assessment needs the equality lead role.",
            403,
        )
    if account_id in view.involved_account_ids():
        return Refusal(
            f"You wrote, edited or submitted {named(view.kind, view.number).lower()}, so another "
            "equality lead must decide it.",
            403,
        )
    if latest is not None and latest.number != view.number:
        return Refusal(
            f"{named(view.kind, view.number)} is not the latest: version {latest.number} is on "
            "record, so decide that one.",
            extra={"latest_version": latest.number},
        )
    if view.status != "submitted":
        return Refusal(
            f"{named(view.kind, view.number)} is {status_words(view)}, not waiting for a decision."
        )
    return None


def approval_refusal(view: VersionView, screening_latest: VersionView | None) -> Refusal | None:
    """Return why ``view`` cannot be approved even by a lead who may decide it, or None.

    A full assessment can be approved only once the screening on record is approved, and only if
    it covers every impact that screening found. A screening has no such condition.
    """
    if view.kind != ASSESSMENT:
        return None
    if (
        screening_latest is None
        or screening_latest.status != "approved"
        or screening_latest.revoked_at is not None
    ):
        state = "missing" if screening_latest is None else status_words(screening_latest)
        return Refusal(
            f"The equality screening on record is {state}. Approve the screening before the "
            "full assessment that responds to it."
        )
    covered = set((view.content.get("impacts") or {}).keys())
    missing = [
        impact.label
        for impact in flagged_impacts(screening_latest.content)
        if impact.key not in covered
    ]
    if missing:
        return Refusal(
            f"Full assessment version {view.number} does not cover {', '.join(missing)}, which "
            f"screening version {screening_latest.number} found. Request changes so that the "
            "author starts a version that covers them."
        )
    return None


def approved_change_refusal(
    is_lead: bool, view: VersionView, latest: VersionView | None, action_phrase: str
) -> Refusal | None:
    """Return why this person cannot revoke ``view`` or change its review date; None if they can.

    ``action_phrase`` names the action mid-sentence, for example "revoke" or "change the review
    date of".
    """
    if not is_lead:
        return Refusal(f"Only an equality lead can {action_phrase} an equality approval.", 403)
    if view.status != "approved":
        return Refusal(
            f"{named(view.kind, view.number)} is {status_words(view)}, not approved, so you "
            f"cannot {action_phrase} it."
        )
    if view.revoked_at is not None:
        return Refusal(f"{named(view.kind, view.number)} is already revoked.")
    if latest is not None and latest.number != view.number:
        return Refusal(
            f"{named(view.kind, view.number)} is not the latest: version {latest.number} is on "
            "record.",
            extra={"latest_version": latest.number},
        )
    return None
