"""The pure readiness decision over snapshots of screening and full-assessment versions."""

from __future__ import annotations

import datetime as dt

from equality.readiness import ReadinessSnapshot, VersionFacts, decide_readiness
from equality.rules import OUTCOME_NOT_NEEDED, OUTCOME_REQUIRED
from governance.roles import Role

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
HASH_S = "1" * 64
HASH_A = "2" * 64
FLAGGED = (("age", "Age"), ("disability", "Disability"))


def screening(
    number: int = 1,
    status: str = "approved",
    *,
    outcome: str = OUTCOME_NOT_NEEDED,
    decided: dt.datetime | None = NOW - dt.timedelta(days=30),
    review: dt.date | None = TODAY + dt.timedelta(days=300),
    revoked: dt.datetime | None = None,
    impacts: tuple[tuple[str, str], ...] = (),
    hash_matches: bool = True,
) -> VersionFacts:
    return VersionFacts(
        number=number,
        status=status,
        content_hash=HASH_S,
        decided_at=decided if status in ("approved", "changes_requested", "rejected") else None,
        review_date=review if status == "approved" else None,
        revoked_at=revoked,
        revocation_reason="New evidence of harm" if revoked else None,
        outcome=outcome,
        impacts=impacts,
        hash_matches=hash_matches,
    )


def assessment(
    number: int = 1,
    status: str = "approved",
    *,
    decided: dt.datetime | None = NOW - dt.timedelta(days=20),
    review: dt.date | None = TODAY + dt.timedelta(days=150),
    revoked: dt.datetime | None = None,
    impacts: tuple[tuple[str, str], ...] = FLAGGED,
) -> VersionFacts:
    return VersionFacts(
        number=number,
        status=status,
        content_hash=HASH_A,
        decided_at=decided if status == "approved" else None,
        review_date=review if status == "approved" else None,
        revoked_at=revoked,
        revocation_reason="Mitigation withdrawn" if revoked else None,
        impacts=impacts,
    )


def decide(screenings=(), assessments=(), went_live_at=None):
    snapshot = ReadinessSnapshot(
        reference="UC-001",
        screening=tuple(screenings),
        assessment=tuple(assessments),
        now=NOW,
        today=TODAY,
        went_live_at=went_live_at,
    )
    return decide_readiness(snapshot)


def required_screening(**kwargs) -> VersionFacts:
    return screening(outcome=OUTCOME_REQUIRED, impacts=FLAGGED, **kwargs)


def test_no_screening_blocks():
    [result] = decide()
    assert not result.passed
    assert "No equality screening" in result.detail
    assert result.clearing_role is Role.BUSINESS_OWNER


def test_approved_screening_passes():
    [result] = decide([screening()])
    assert result.passed


def test_pass_evidence_has_version_and_hash():
    [result] = decide([screening(number=3)])
    assert result.evidence["screening"]["version"] == 3
    assert result.evidence["screening"]["content_hash"] == HASH_S
    assert result.evidence["full_assessment"] is None


def test_draft_screening_blocks_with_status():
    [result] = decide([screening(status="draft")])
    assert "version 1 is a draft" in result.detail
    assert result.clearing_role is Role.BUSINESS_OWNER


def test_submitted_screening_waits_for_lead():
    [result] = decide([screening(status="submitted")])
    assert "waiting for the equality lead's decision" in result.detail
    assert result.clearing_role is Role.EQUALITY_LEAD


def test_changes_requested_screening_blocks():
    [result] = decide([screening(status="changes_requested")])
    assert "Start version 2" in result.detail


def test_newer_draft_replaces_approval():
    [result] = decide([screening(), screening(number=2, status="draft")])
    assert not result.passed
    assert "Version 1 was approved, but version 2 is now the version on record" in result.detail


def test_revoked_screening_blocks_with_date():
    [result] = decide([screening(revoked=NOW - dt.timedelta(days=1))])
    assert "revoked on 3 December 2026: New evidence of harm" in result.detail


def test_screening_past_review_blocks_with_date():
    [result] = decide([screening(review=dt.date(2026, 12, 3))])
    assert "passed its review date on 3 December 2026" in result.detail
    assert result.clearing_role is Role.EQUALITY_LEAD


def test_review_date_today_still_in_force():
    [result] = decide([screening(review=TODAY)])
    assert result.passed


def test_tampered_screening_blocks():
    [result] = decide([screening(hash_matches=False)])
    assert "no longer matches the content hash" in result.detail
    assert result.clearing_role is Role.ADMINISTRATOR


def test_required_assessment_missing_blocks():
    [result] = decide([required_screening()])
    assert "none has been started" in result.detail
    assert "Age, Disability" in result.detail


def test_required_assessment_not_approved_blocks():
    [result] = decide([required_screening()], [assessment(status="submitted")])
    assert "requires a full equality impact assessment" in result.detail
    assert "waiting for the equality lead's decision" in result.detail


def test_required_assessment_revoked_blocks():
    [result] = decide([required_screening()], [assessment(revoked=NOW - dt.timedelta(hours=1))])
    assert "revoked on 4 December 2026: Mitigation withdrawn" in result.detail


def test_required_assessment_past_review_blocks():
    [result] = decide([required_screening()], [assessment(review=dt.date(2026, 11, 30))])
    assert "passed its review date on 30 November 2026" in result.detail


def test_assessment_missing_impacts_named():
    new_screening = screening(
        number=2, outcome=OUTCOME_REQUIRED, impacts=(*FLAGGED, ("sex", "Sex"), ("race", "Race"))
    )
    [result] = decide([screening(), new_screening], [assessment()])
    assert (
        "does not cover the impacts that equality screening version 2 found: Sex, Race"
        in result.detail
    )


def test_required_assessment_approved_passes():
    [result] = decide([required_screening()], [assessment()])
    assert result.passed
    assert result.evidence["full_assessment"] == {
        "kind": "equality_assessment",
        "number": 1,
        "version": 1,
        "content_hash": HASH_A,
        "approved_at": (NOW - dt.timedelta(days=20)).isoformat(),
        "review_date": (TODAY + dt.timedelta(days=150)).isoformat(),
    }


def test_assessment_not_needed_ignores_stray_assessment():
    [result] = decide([screening()], [assessment(status="draft")])
    assert result.passed


# Approval before the go-live decision ---------------------------------------------------------------


def test_approval_before_go_live_passes():
    went_live = NOW - dt.timedelta(days=10)
    [result] = decide([screening(decided=NOW - dt.timedelta(days=30))], went_live_at=went_live)
    assert result.passed


def test_approval_after_go_live_blocks():
    went_live = NOW - dt.timedelta(days=40)
    results = decide([screening(decided=NOW - dt.timedelta(days=30))], went_live_at=went_live)
    assert [result.passed for result in results] == [False]
    assert "after the go-live decision on 25 October 2026" in results[0].detail
    assert results[0].clearing_role is Role.CENTRAL_TEAM


def test_approval_same_moment_as_go_live_passes():
    moment = NOW - dt.timedelta(days=30)
    [result] = decide([screening(decided=moment)], went_live_at=moment)
    assert result.passed


def test_go_live_when_approval_revoked_blocks():
    went_live = NOW - dt.timedelta(days=10)
    first = screening(decided=NOW - dt.timedelta(days=60), revoked=NOW - dt.timedelta(days=20))
    second = screening(number=2, decided=NOW - dt.timedelta(days=5))
    [result] = decide([first, second], went_live_at=went_live)
    assert "after the go-live decision" in result.detail


def test_go_live_when_review_lapsed_blocks():
    went_live = NOW - dt.timedelta(days=10)
    first = screening(decided=NOW - dt.timedelta(days=400), review=TODAY - dt.timedelta(days=35))
    second = screening(number=2, decided=NOW - dt.timedelta(days=5))
    [result] = decide([first, second], went_live_at=went_live)
    assert not result.passed


def test_re_approval_after_go_live_passes():
    went_live = NOW - dt.timedelta(days=200)
    first = screening(decided=NOW - dt.timedelta(days=300), review=TODAY + dt.timedelta(days=65))
    second = screening(number=2, decided=NOW - dt.timedelta(days=10))
    [result] = decide([first, second], went_live_at=went_live)
    assert result.passed


def test_assessment_approved_after_go_live_blocks():
    went_live = NOW - dt.timedelta(days=25)
    [result] = decide(
        [required_screening(decided=NOW - dt.timedelta(days=30))],
        [assessment(decided=NOW - dt.timedelta(days=20))],
        went_live_at=went_live,
    )
    assert "Full equality impact assessment version 1 was approved on" in result.detail
    assert "after the go-live decision" in result.detail


def test_no_approval_at_go_live_blocks():
    went_live = NOW - dt.timedelta(days=10)
    results = decide([screening(status="submitted")], went_live_at=went_live)
    assert len(results) == 2
    assert "No approved equality screening was in force" in results[1].detail
