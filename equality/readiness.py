"""The equality part of go-live readiness, as a pure function over a snapshot of the records.

The version on record (the latest) of the screening, and of the full assessment where one is
required, must be approved, not revoked and not past its review date. A new screening version keeps
an approved full assessment valid only while that assessment covers every negative or not known
impact the screening now finds. For a use case that went live at a known time, an approval in force
at that moment must have been given before it, because due regard has to be shown before the
decision, not after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from equality.rules import ASSESSMENT, OUTCOME_REQUIRED, SCREENING, parse_date
from governance.clock import format_date, london_today
from governance.gate import CheckResult
from governance.roles import Role

# Readiness -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionFacts:
    """The facts about one screening or full-assessment version that readiness depends on.

    ``impacts`` lists the flagged impacts of a screening, or the impacts a full assessment covers.
    ``hash_matches`` is False when a frozen version's stored content no longer matches its hash.
    """

    number: int
    status: str
    content_hash: str | None
    submitted_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    review_date: dt.date | None = None
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None
    outcome: str | None = None
    impacts: tuple[tuple[str, str], ...] = ()
    hash_matches: bool = True

    @property
    def approved(self) -> bool:
        return self.status == "approved" and self.decided_at is not None

    def in_force_at(self, moment: dt.datetime, day: dt.date) -> bool:
        """True if this version was approved by ``moment``, not revoked by then and not past review on ``day``."""
        if not self.approved or self.decided_at is None or self.decided_at > moment:
            return False
        if self.revoked_at is not None and self.revoked_at <= moment:
            return False
        return self.review_date is not None and self.review_date >= day


@dataclass(frozen=True)
class ReadinessSnapshot:
    """Everything the readiness decision reads, gathered by the caller in one go."""

    reference: str
    screening: tuple[VersionFacts, ...]
    assessment: tuple[VersionFacts, ...]
    now: dt.datetime
    today: dt.date
    went_live_at: dt.datetime | None = None


CHECK_NAME = "equality"
CHECK_TITLE = "Equality screening and impact assessment"


def _blocker(title: str, detail: str, role: Role) -> CheckResult:
    return CheckResult(
        name=CHECK_NAME, title=title, passed=False, detail=detail, clearing_role=role
    )


STATUS_PHRASES = {
    "draft": "is a draft",
    "submitted": "is waiting for the equality lead's decision",
    "changes_requested": "was sent back with changes requested",
    "rejected": "was rejected",
}


def _not_approved(what: str, versions: Sequence[VersionFacts]) -> CheckResult | None:
    """Return the blocker when the version on record (the latest) is not approved and in force."""
    latest = versions[-1]
    title = what[0].upper() + what[1:]
    if latest.status != "approved":
        phrase = STATUS_PHRASES.get(latest.status, f"has status {latest.status}")
        detail = f"{title} version {latest.number} {phrase}."
        role = Role.EQUALITY_LEAD if latest.status == "submitted" else Role.BUSINESS_OWNER
        if latest.status == "draft":
            detail += " Complete it and submit it to the equality lead."
        elif latest.status in ("changes_requested", "rejected"):
            detail += f" Start version {latest.number + 1}, address the equality lead's reasons and submit it."
        earlier = [item for item in versions[:-1] if item.approved and item.revoked_at is None]
        if earlier:
            detail += (
                f" Version {earlier[-1].number} was approved, but version {latest.number} is now the "
                "version on record."
            )
        return _blocker(title, detail, role)
    return None


def _lapsed(what: str, latest: VersionFacts, today: dt.date) -> CheckResult | None:
    """Return the blocker when the approved version on record is altered, revoked or past review."""
    title = what[0].upper() + what[1:]
    if not latest.hash_matches:
        return _blocker(
            title,
            f"{title} version {latest.number} no longer matches the content hash recorded when it "
            "was submitted, so its approval cannot be relied on. The record was changed outside "
            "the service: restore it from a backup and check the audit log.",
            Role.ADMINISTRATOR,
        )
    if latest.revoked_at is not None:
        reason = f": {latest.revocation_reason}" if latest.revocation_reason else ""
        return _blocker(
            title,
            f"{title} version {latest.number} was approved but revoked on "
            f"{format_date(latest.revoked_at)}{reason}. Start a new version and submit it.",
            Role.BUSINESS_OWNER,
        )
    if latest.review_date is None:
        return _blocker(
            title,
            f"{title} version {latest.number} has no review date. The equality lead must set one.",
            Role.EQUALITY_LEAD,
        )
    if latest.review_date < today:
        return _blocker(
            title,
            f"{title} version {latest.number} passed its review date on "
            f"{format_date(latest.review_date)}. The equality lead must review it and set a new "
            "review date, or ask for a new version.",
            Role.EQUALITY_LEAD,
        )
    return None


def _describe(impacts: Sequence[tuple[str, str]]) -> str:
    return ", ".join(label for _, label in impacts)


def _current_findings(snapshot: ReadinessSnapshot) -> tuple[list[CheckResult], dict[str, Any]]:
    """Check the versions on record now; return blockers and, when there are none, the evidence."""
    if not snapshot.screening:
        return [
            _blocker(
                "Equality screening",
                "No equality screening has been started. Screen the use case against the three aims "
                "of the duty and every protected characteristic, then submit it.",
                Role.BUSINESS_OWNER,
            )
        ], {}

    screening = snapshot.screening[-1]
    blocker = _not_approved("equality screening", snapshot.screening) or _lapsed(
        "equality screening", screening, snapshot.today
    )
    if blocker:
        return [blocker], {}

    evidence: dict[str, Any] = {
        "screening": {
            "kind": SCREENING,
            "number": screening.number,
            "version": screening.number,
            "content_hash": screening.content_hash,
            "approved_at": screening.decided_at.isoformat() if screening.decided_at else None,
            "review_date": screening.review_date.isoformat() if screening.review_date else None,
            "outcome": screening.outcome,
        },
        "full_assessment": None,
    }
    if screening.outcome != OUTCOME_REQUIRED:
        return [], evidence

    flagged = screening.impacts
    what = "full equality impact assessment"
    if not snapshot.assessment:
        return [
            _blocker(
                "Full equality impact assessment",
                f"Equality screening version {screening.number} found impacts that need a full "
                f"equality impact assessment ({_describe(flagged)}), but none has been started.",
                Role.BUSINESS_OWNER,
            )
        ], {}

    assessment = snapshot.assessment[-1]
    blocker = _not_approved(what, snapshot.assessment) or _lapsed(what, assessment, snapshot.today)
    if blocker:
        blocker = _blocker(
            blocker.title,
            f"Equality screening version {screening.number} requires a full equality impact "
            f"assessment. {blocker.detail}",
            blocker.clearing_role,
        )
        return [blocker], {}

    covered = {key for key, _ in assessment.impacts}
    missing = [(key, label) for key, label in flagged if key not in covered]
    if missing:
        return [
            _blocker(
                "Full equality impact assessment",
                f"Full equality impact assessment version {assessment.number} does not cover the "
                f"impacts that equality screening version {screening.number} found: "
                f"{_describe(missing)}. Start a new version of the full assessment that covers them.",
                Role.BUSINESS_OWNER,
            )
        ], {}

    evidence["full_assessment"] = {
        "kind": ASSESSMENT,
        "number": assessment.number,
        "version": assessment.number,
        "content_hash": assessment.content_hash,
        "approved_at": assessment.decided_at.isoformat() if assessment.decided_at else None,
        "review_date": assessment.review_date.isoformat() if assessment.review_date else None,
    }
    return [], evidence


def _in_force(
    versions: Sequence[VersionFacts], moment: dt.datetime, day: dt.date
) -> VersionFacts | None:
    candidates = [item for item in versions if item.in_force_at(moment, day)]
    return max(candidates, key=lambda item: item.decided_at) if candidates else None  # type: ignore[arg-type,return-value]


def _timing_findings(snapshot: ReadinessSnapshot) -> list[CheckResult]:
    """Check that due regard was shown before the go-live decision (when the use case is live)."""
    moment = snapshot.went_live_at
    if moment is None:
        return []
    day = london_today(moment)
    when = format_date(moment)
    title = "Equality approval before go-live"
    fix = " The central team must take the go-live decision again once the approvals are in place."

    screening = _in_force(snapshot.screening, moment, day)
    if screening is None:
        later = [
            item
            for item in snapshot.screening
            if item.approved and item.decided_at and item.decided_at > moment
        ]
        if later:
            detail = (
                f"Equality screening version {later[0].number} was approved on "
                f"{format_date(later[0].decided_at)}, after the go-live decision on {when}: due "
                "regard must be shown before the decision."
            )
        else:
            detail = f"No approved equality screening was in force when the go-live decision was taken on {when}."
        return [_blocker(title, detail + fix, Role.CENTRAL_TEAM)]

    if screening.outcome != OUTCOME_REQUIRED:
        return []

    assessment = _in_force(snapshot.assessment, moment, day)
    if assessment is None:
        later = [
            item
            for item in snapshot.assessment
            if item.approved and item.decided_at and item.decided_at > moment
        ]
        if later:
            detail = (
                f"Full equality impact assessment version {later[0].number} was approved on "
                f"{format_date(later[0].decided_at)}, after the go-live decision on {when}: due "
                "regard must be shown before the decision."
            )
        else:
            detail = (
                f"Equality screening version {screening.number} required a full equality impact "
                f"assessment, but none was approved and in force when the go-live decision was taken on {when}."
            )
        return [_blocker(title, detail + fix, Role.CENTRAL_TEAM)]

    covered = {key for key, _ in assessment.impacts}
    missing = [(key, label) for key, label in screening.impacts if key not in covered]
    if missing:
        return [
            _blocker(
                title,
                f"When the go-live decision was taken on {when}, full equality impact assessment "
                f"version {assessment.number} did not cover {_describe(missing)}, which equality "
                f"screening version {screening.number} found.{fix}",
                Role.CENTRAL_TEAM,
            )
        ]
    return []


def decide_readiness(snapshot: ReadinessSnapshot) -> list[CheckResult]:
    """Decide whether equality allows the use case to go (or stay) live.

    Passes only when the equality screening on record is approved, not revoked and not past its
    review date. When it found a negative or not known impact, the full assessment on record must
    also be approved and in force, and cover every such impact. When the use case went live at a
    known time, an approval in force at that time must have been given before it.
    """
    findings, evidence = _current_findings(snapshot)
    findings.extend(_timing_findings(snapshot))
    if findings:
        return findings

    screening = evidence["screening"]
    detail = (
        f"Equality screening version {screening['version']} is approved and in force until its "
        f"review on {format_date(parse_date(screening['review_date']))}"
    )
    assessment = evidence["full_assessment"]
    if assessment is None:
        detail += "; it found no negative or not known impact, so no full assessment is needed."
    else:
        detail += (
            f"; full equality impact assessment version {assessment['version']} is approved and in "
            f"force until its review on {format_date(parse_date(assessment['review_date']))}."
        )
    return [CheckResult(CHECK_NAME, CHECK_TITLE, True, detail, None, evidence)]
