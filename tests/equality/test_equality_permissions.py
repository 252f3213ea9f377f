"""Pure rules on who may start, edit, decide, revoke or re-date an equality version."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from equality.permissions import (
    approval_refusal,
    approved_change_refusal,
    decision_refusal,
    edit_refusal,
    start_refusal,
)
from equality.rules import ASSESSMENT, SCREENING
from governance.assessments import VersionView

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
AUTHOR, LEAD, OTHER_LEAD = 1, 2, 3


def version(
    kind: str = SCREENING,
    number: int = 1,
    status: str = "submitted",
    *,
    impacts: dict[str, str] | None = None,
    covered: tuple[str, ...] = (),
    revoked: bool = False,
) -> VersionView:
    """Return a version written and submitted by AUTHOR; ``impacts`` are a screening's answers."""
    if kind == SCREENING:
        answers = impacts or {"age": "neutral"}
        content = {
            "characteristics_screened": [{"key": key, "label": key.title()} for key in answers],
            "characteristics": {key: {"impact": value} for key, value in answers.items()},
        }
    else:
        content = {"impacts": {key: {} for key in covered}}
    return VersionView(
        id=number,
        assessment_id=1,
        kind=kind,
        use_case_id=1,
        use_case_ref="UC-001",
        number=number,
        status=status,
        schema="test/1",
        content=content,
        content_hash=None if status == "draft" else "a" * 64,
        author_id=AUTHOR,
        author="author",
        editor_ids=(AUTHOR,),
        created_at=NOW,
        updated_at=NOW,
        submitted_by_id=None if status == "draft" else AUTHOR,
        submitted_by=None if status == "draft" else "author",
        submitted_at=None if status == "draft" else NOW,
        decision=status if status in ("approved", "changes_requested", "rejected") else None,
        decided_at=NOW if status in ("approved", "changes_requested", "rejected") else None,
        review_date=NOW.date() if status == "approved" else None,
        revoked_at=NOW if revoked else None,
        revoked_by="lead" if revoked else None,
        revocation_reason="Withdrawn" if revoked else None,
        version=3,
    )


FLAGGED_SCREENING = version(impacts={"age": "negative", "race": "neutral"}, status="approved")


# Starting ------------------------------------------------------------------------------------------


def test_start_needs_author():
    refusal = start_refusal(SCREENING, False, [], [])
    assert refusal is not None
    assert refusal.status_code == 403


def test_start_first_screening_allowed():
    assert start_refusal(SCREENING, True, [], []) is None


def test_start_refused_while_draft_open():
    draft = version(status="draft")
    refusal = start_refusal(SCREENING, True, [draft], [draft])
    assert refusal is not None
    assert refusal.extra == {"draft_version": 1}


@pytest.mark.parametrize("status", ["submitted", "approved", "changes_requested", "rejected"])
def test_start_next_screening_allowed(status):
    latest = version(status=status)
    assert start_refusal(SCREENING, True, [latest], [latest]) is None


def test_assessment_start_needs_flagged_screening():
    neutral = version(status="approved")
    refusal = start_refusal(ASSESSMENT, True, [], [neutral])
    assert refusal is not None
    assert "no full equality impact assessment is needed" in refusal.message


def test_assessment_start_refused_after_screening_sent_back():
    sent_back = version(impacts={"age": "negative"}, status="changes_requested")
    refusal = start_refusal(ASSESSMENT, True, [], [sent_back])
    assert refusal is not None
    assert refusal.message.startswith("Equality screening version 1 is changes requested")


def test_assessment_start_allowed_on_flagged_screening():
    assert start_refusal(ASSESSMENT, True, [], [FLAGGED_SCREENING]) is None


# Editing -------------------------------------------------------------------------------------------


def test_edit_draft_allowed():
    assert edit_refusal(True, version(status="draft"), []) is None


def test_edit_needs_author():
    refusal = edit_refusal(False, version(status="draft"), [])
    assert refusal is not None
    assert refusal.status_code == 403


def test_edit_frozen_refused():
    refusal = edit_refusal(True, version(status="submitted"), [])
    assert refusal is not None
    assert refusal.message.startswith("Equality screening version 1 is submitted")


def test_edit_assessment_needs_basis():
    draft = version(ASSESSMENT, status="draft")
    revoked = dataclasses.replace(FLAGGED_SCREENING, revoked_at=NOW)
    refusal = edit_refusal(True, draft, [revoked])
    assert refusal is not None
    assert "is revoked" in refusal.message


# Deciding ------------------------------------------------------------------------------------------


def test_lead_may_decide_submitted():
    submitted = version()
    assert decision_refusal(LEAD, True, submitted, submitted) is None


def test_decision_needs_lead_role():
    submitted = version()
    refusal = decision_refusal(LEAD, False, submitted, submitted)
    assert refusal is not None
    assert refusal.status_code == 403


def test_author_lead_may_not_decide():
    submitted = version()
    refusal = decision_refusal(AUTHOR, True, submitted, submitted)
    assert refusal is not None
    assert refusal.status_code == 403
    assert refusal.message.startswith("You wrote, edited or submitted equality screening version 1")


def test_editor_lead_may_not_decide():
    submitted = dataclasses.replace(version(), editor_ids=(AUTHOR, OTHER_LEAD))
    refusal = decision_refusal(OTHER_LEAD, True, submitted, submitted)
    assert refusal is not None
    assert refusal.status_code == 403


def test_decision_refused_on_older_version():
    older, latest = version(number=1), version(number=2, status="draft")
    refusal = decision_refusal(LEAD, True, older, latest)
    assert refusal is not None
    assert refusal.extra == {"latest_version": 2}


@pytest.mark.parametrize("status", ["draft", "approved", "changes_requested", "rejected"])
def test_decision_refused_unless_submitted(status):
    view = version(status=status)
    refusal = decision_refusal(LEAD, True, view, view)
    assert refusal is not None
    assert refusal.status_code == 409


def test_screening_approval_unconditional():
    assert approval_refusal(version(), None) is None


def test_assessment_approval_needs_approved_screening():
    submitted_screening = dataclasses.replace(FLAGGED_SCREENING, status="submitted")
    refusal = approval_refusal(version(ASSESSMENT, covered=("age",)), submitted_screening)
    assert refusal is not None
    assert refusal.message.startswith("The equality screening on record is submitted")


def test_assessment_approval_needs_every_impact_covered():
    screening = version(impacts={"age": "negative", "race": "not_known"}, status="approved")
    refusal = approval_refusal(version(ASSESSMENT, covered=("age",)), screening)
    assert refusal is not None
    assert "does not cover Race" in refusal.message


def test_assessment_approval_allowed():
    assert approval_refusal(version(ASSESSMENT, covered=("age",)), FLAGGED_SCREENING) is None


# Revoking and review dates -------------------------------------------------------------------------


def test_lead_may_change_approval():
    approved = version(status="approved")
    assert approved_change_refusal(True, approved, approved, "revoke") is None


def test_approval_change_needs_lead():
    approved = version(status="approved")
    refusal = approved_change_refusal(False, approved, approved, "revoke")
    assert refusal is not None
    assert refusal.status_code == 403


def test_revoked_approval_cannot_change():
    revoked = version(status="approved", revoked=True)
    refusal = approved_change_refusal(True, revoked, revoked, "revoke")
    assert refusal is not None
    assert refusal.message == "Equality screening version 1 is already revoked."


def test_approval_change_refused_when_not_latest():
    approved, draft = version(status="approved"), version(number=2, status="draft")
    refusal = approved_change_refusal(True, approved, draft, "change the review date of")
    assert refusal is not None
    assert refusal.extra == {"latest_version": 2}


@pytest.mark.parametrize("status", ["draft", "submitted", "changes_requested", "rejected"])
def test_approval_change_needs_approved(status):
    view = version(status=status)
    refusal = approved_change_refusal(True, view, view, "revoke")
    assert refusal is not None
    assert refusal.message.endswith("not approved, so you cannot revoke it.")
