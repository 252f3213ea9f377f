"""The DPIA readiness rule over snapshots: every way it can fail, and the one way it passes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from governance.roles import Role

from dpia.readiness import ConditionFacts, IcoFacts, Snapshot, VersionFacts, as_sentence, assess

TODAY = dt.date(2026, 12, 4)
APPROVED = VersionFacts(
    number=2,
    status="approved",
    outcome="required",
    content_hash="a" * 64,
    hash_matches=True,
    signed_hash_matches=True,
    decided_at=dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.timezone.utc),
    review_date=dt.date(2027, 11, 1),
    revoked=False,
)


def _snapshot(**changes) -> Snapshot:
    latest = changes.pop("latest", APPROVED)
    return Snapshot(today=TODAY, latest=latest, last_approved_number=2, **changes)


def _approved(**changes) -> VersionFacts:
    return dataclasses.replace(APPROVED, **changes)


def test_passes_with_evidence():
    findings = assess(_snapshot())
    assert [finding.passed for finding in findings] == [True]
    assert findings[0].evidence["content_hash"] == "a" * 64
    assert findings[0].evidence["version"] == 2
    assert findings[0].evidence["review_date"] == "2027-11-01"


def test_passes_with_conditions_decision():
    assert assess(_snapshot(latest=_approved(status="approved_with_conditions")))[0].passed


def test_passes_not_required_outcome():
    assert assess(_snapshot(latest=_approved(outcome="not_required")))[0].passed


def test_missing_dpia_blocks_business_owner():
    findings = assess(Snapshot(today=TODAY, latest=None))
    assert not findings[0].passed
    assert findings[0].clearing_role is Role.BUSINESS_OWNER


@pytest.mark.parametrize(
    ("status", "role"),
    [
        ("draft", Role.BUSINESS_OWNER),
        ("submitted", Role.INFORMATION_ASSURANCE),
        ("in_review", Role.DATA_PROTECTION_OFFICER),
        ("dpo_advice_recorded", Role.INFORMATION_ASSURANCE),
        ("changes_requested", Role.BUSINESS_OWNER),
        ("rejected", Role.BUSINESS_OWNER),
    ],
)
def test_unapproved_latest_blocks(status, role):
    findings = assess(_snapshot(latest=_approved(number=3, status=status)))
    assert len(findings) == 1
    assert not findings[0].passed
    assert findings[0].clearing_role is role


def test_newer_draft_names_replaced_approval():
    findings = assess(_snapshot(latest=_approved(number=3, status="draft")))
    assert "Version 2 was approved, but version 3 replaces it" in findings[0].detail


def test_revoked_blocks():
    findings = assess(_snapshot(latest=_approved(revoked=True, revocation_reason="processing changed")))
    assert findings[0].clearing_role is Role.INFORMATION_ASSURANCE
    assert "processing changed" in findings[0].detail


def test_review_date_passed_blocks():
    findings = assess(_snapshot(latest=_approved(review_date=TODAY - dt.timedelta(days=1))))
    assert not findings[0].passed
    assert "lapsed" in findings[0].detail


def test_review_date_today_passes():
    assert assess(_snapshot(latest=_approved(review_date=TODAY)))[0].passed


def test_missing_review_date_blocks():
    assert not assess(_snapshot(latest=_approved(review_date=None)))[0].passed


def test_tampered_content_blocks_administrator():
    findings = assess(_snapshot(latest=_approved(hash_matches=False)))
    assert findings[0].clearing_role is Role.ADMINISTRATOR


def test_unsigned_hash_blocks():
    findings = assess(_snapshot(latest=_approved(signed_hash_matches=False)))
    assert "no Information Assurance decision" in findings[0].detail


def test_ico_required_but_missing_blocks_dpo():
    findings = assess(_snapshot(latest=_approved(ico_required=True)))
    assert findings[0].clearing_role is Role.DATA_PROTECTION_OFFICER
    assert "no consultation has been recorded" in findings[0].detail


def test_ico_pending_blocks():
    ico = IcoFacts(status="pending", outcome=None, submitted_on=dt.date(2026, 11, 20))
    findings = assess(_snapshot(latest=_approved(ico_required=True), ico=ico))
    assert "pending" in findings[0].detail


@pytest.mark.parametrize("outcome", ["no_objection", "advice_followed"])
def test_ico_concluded_passes(outcome):
    ico = IcoFacts(status="concluded", outcome=outcome, submitted_on=dt.date(2026, 11, 20))
    assert assess(_snapshot(latest=_approved(ico_required=True), ico=ico))[0].passed


def test_ico_do_not_proceed_blocks():
    ico = IcoFacts(status="concluded", outcome="do_not_proceed", submitted_on=dt.date(2026, 11, 20))
    assert not assess(_snapshot(latest=_approved(ico_required=True), ico=ico))[0].passed


def test_ico_ignored_when_not_required():
    ico = IcoFacts(status="pending", outcome=None, submitted_on=dt.date(2026, 11, 20))
    assert assess(_snapshot(ico=ico))[0].passed


def test_open_condition_blocks_with_owner():
    condition = ConditionFacts(number=1, text="Brief the crime recorders.", owner="Training lead", due_date=dt.date(2026, 12, 1))
    findings = assess(_snapshot(open_conditions=(condition,)))
    assert "Condition 1 of DPIA version 2 must be met" in findings[0].detail
    assert "Training lead" in findings[0].detail


def test_condition_text_gets_one_full_stop():
    condition = ConditionFacts(number=1, text="Brief the crime recorders", owner="Training lead.", due_date=None)
    detail = assess(_snapshot(open_conditions=(condition,)))[0].detail
    assert detail.endswith("is not met: Brief the crime recorders. Owner: Training lead.")


def test_revocation_reason_gets_one_full_stop():
    latest = _approved(revoked=True, revocation_reason="The new matching rule invalidates measure 2.")
    detail = assess(_snapshot(latest=latest))[0].detail
    assert detail.endswith("invalidates measure 2.")
    assert ".." not in detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Done", "Done."),
        ("Done.", "Done."),
        ("Done?", "Done?"),
        ("Done!  ", "Done!"),
    ],
)
def test_as_sentence(text, expected):
    assert as_sentence(text) == expected


def test_every_failure_reported():
    condition = ConditionFacts(number=1, text="Brief.", owner="Lead", due_date=None)
    latest = _approved(revoked=True, review_date=TODAY - dt.timedelta(days=3), ico_required=True)
    findings = assess(_snapshot(latest=latest, open_conditions=(condition,)))
    assert len(findings) == 4
    assert not any(finding.passed for finding in findings)
