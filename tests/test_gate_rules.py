"""Pure rules of the go-live gate: combining results, reinstatement, override coverage and approval,
manual checks, baselines, the board and flags."""

import datetime as dt
from dataclasses import replace

import pytest

from benefits import baselines
from governance import gate, golive, manual_checks, overrides, readiness_board
from governance.audit import Actor
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.gate import CheckResult, Readiness
from governance.roles import Role
from governance.stages import Stage

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)


def result(name: str, passed: bool) -> CheckResult:
    return CheckResult(name, name.title(), passed, "detail", None if passed else Role.CENTRAL_TEAM)


def test_combine_all_passed_is_ready():
    assert gate.combine("UC-001", [result("a", True), result("b", True)], NOW).ready


def test_combine_one_failure_is_not_ready():
    assert not gate.combine("UC-001", [result("a", True), result("b", False)], NOW).ready


def test_combine_no_results_is_not_ready():
    assert not gate.combine("UC-001", [], NOW).ready


def test_blocker_names_are_unique_in_order():
    readiness = gate.combine("UC-001", [result("b", False), result("a", False), result("b", False)], NOW)
    assert readiness.blocker_names == ["b", "a"]


def test_for_move_reinstatement_clears_suspension():
    readiness = gate.combine("UC-001", [result("dpia", True), result("suspension", False)], NOW)
    adjusted = gate.for_move(readiness, Stage.SUSPENDED, Stage.LIVE)
    assert adjusted.ready


def test_for_move_reinstatement_keeps_other_blockers():
    readiness = gate.combine("UC-001", [result("dpia", False), result("suspension", False)], NOW)
    adjusted = gate.for_move(readiness, Stage.SUSPENDED, Stage.LIVE)
    assert adjusted.blocker_names == ["dpia"]


def test_for_move_other_moves_keep_suspension():
    readiness = gate.combine("UC-001", [result("suspension", False)], NOW)
    assert not gate.for_move(readiness, Stage.TEST, Stage.READY_FOR_LIVE).ready


def test_uncovered_blockers_without_override_are_all():
    readiness = gate.combine("UC-001", [result("dpia", False), result("equality", False)], NOW)
    assert len(gate.uncovered_blockers(readiness, None)) == 2


def test_uncovered_blockers_outside_coverage():
    readiness = gate.combine("UC-001", [result("dpia", False), result("equality", False)], NOW)
    uncovered = gate.uncovered_blockers(readiness, frozenset({"dpia"}))
    assert [check.name for check in uncovered] == ["equality"]


def test_assessment_references_found_nested():
    evidence = {"assessments": [{"kind": "dpia", "number": 2, "content_hash": "ab"}], "other": 1}
    assert gate.assessment_references(evidence) == [{"kind": "dpia", "number": 2, "content_hash": "ab"}]


def test_assessment_references_ignore_partial():
    assert gate.assessment_references({"kind": "dpia", "number": 2}) == []


# Emergency override rules --------------------------------------------------------------------------


def override(**changes) -> overrides.OverrideView:
    base = overrides.OverrideView(
        id=1,
        use_case_id=1,
        use_case_ref="UC-001",
        status="requested",
        reason="urgent",
        covered_checks=("dpia",),
        expires_at=NOW + dt.timedelta(days=3),
        requested_by_id=10,
        requested_by="requester",
        requested_at=NOW,
        ia_approved_by_id=None,
        ia_approved_by=None,
        ia_approved_at=None,
        dpo_approved_by_id=None,
        dpo_approved_by=None,
        dpo_approved_at=None,
        used_at=None,
        closed_at=None,
        closed_by=None,
        close_reason=None,
        version=1,
    )
    return replace(base, **changes)


def person(account_id: int, *roles: Role) -> Actor:
    return Actor(account_id=account_id, username=f"p{account_id}", roles=frozenset(roles))


def test_approval_by_ia_holder_allowed():
    overrides.check_approval(override(), person(11, Role.INFORMATION_ASSURANCE), Role.INFORMATION_ASSURANCE, NOW)


def test_approval_requester_rejected():
    with pytest.raises(Forbidden):
        overrides.check_approval(override(), person(10, Role.INFORMATION_ASSURANCE), Role.INFORMATION_ASSURANCE, NOW)


def test_approval_without_role_rejected():
    with pytest.raises(Forbidden):
        overrides.check_approval(override(), person(11, Role.CENTRAL_TEAM), Role.INFORMATION_ASSURANCE, NOW)


def test_approval_in_other_role_rejected():
    with pytest.raises(InvalidInput):
        overrides.check_approval(override(), person(11, Role.CENTRAL_TEAM), Role.CENTRAL_TEAM, NOW)


def test_approval_same_person_both_roles_rejected():
    both = person(11, Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER)
    view = override(ia_approved_by_id=11)
    with pytest.raises(Forbidden):
        overrides.check_approval(view, both, Role.DATA_PROTECTION_OFFICER, NOW)


def test_approval_role_twice_rejected():
    view = override(ia_approved_by_id=12)
    with pytest.raises(Conflict):
        overrides.check_approval(view, person(11, Role.INFORMATION_ASSURANCE), Role.INFORMATION_ASSURANCE, NOW)


def test_approval_after_expiry_rejected():
    view = override(expires_at=NOW - dt.timedelta(seconds=1))
    with pytest.raises(Conflict):
        overrides.check_approval(view, person(11, Role.INFORMATION_ASSURANCE), Role.INFORMATION_ASSURANCE, NOW)


def test_override_past_expiry_counts_as_expired():
    view = override(status="used", expires_at=NOW)
    assert view.status_at(NOW) == "expired"


def test_override_in_force_only_when_approved():
    assert not override().in_force(NOW)


def test_covered_names_of_approved_override():
    assert overrides.covered_names(override(status="approved"), NOW) == frozenset({"dpia"})


def test_expiry_in_past_rejected():
    with pytest.raises(InvalidInput):
        overrides.check_expiry(NOW - dt.timedelta(hours=1), NOW)


def test_expiry_beyond_limit_rejected():
    with pytest.raises(InvalidInput):
        overrides.check_expiry(NOW + dt.timedelta(days=overrides.MAX_OVERRIDE_DAYS, seconds=1), NOW)


def test_expiry_naive_rejected():
    with pytest.raises(InvalidInput):
        overrides.check_expiry(dt.datetime(2026, 12, 10, 12, 0), NOW)


# Manual checks -------------------------------------------------------------------------------------


def definition(role: Role = Role.INFORMATION_ASSURANCE) -> manual_checks.ManualCheckView:
    return manual_checks.ManualCheckView(1, "security", "Security sign-off", "", role, True, NOW, NOW, 1)


def sign_off(role: Role = Role.INFORMATION_ASSURANCE, revoked: bool = False) -> manual_checks.SignOffView:
    return manual_checks.SignOffView(
        5, "security", "Security sign-off", "UC-001", "ia", "Helen", role, NOW, "",
        NOW if revoked else None, "ia" if revoked else None, "wrong system" if revoked else None,
    )


def test_manual_check_unsigned_blocks_with_role():
    outcome = manual_checks.evaluate_definition(definition(), [])
    assert outcome.clearing_role is Role.INFORMATION_ASSURANCE


def test_manual_check_signed_passes():
    assert manual_checks.evaluate_definition(definition(), [sign_off()]).passed


def test_manual_check_revoked_blocks():
    outcome = manual_checks.evaluate_definition(definition(), [sign_off(revoked=True)])
    assert "revoked" in outcome.detail


def test_manual_check_other_role_signature_blocks():
    outcome = manual_checks.evaluate_definition(definition(Role.BUSINESS_OWNER), [sign_off()])
    assert not outcome.passed


def test_manual_check_name_has_prefix():
    assert manual_checks.evaluate_definition(definition(), []).name == "manual:security"


def test_manual_check_owner_blocker_names_department():
    outcome = manual_checks.evaluate_definition(definition(Role.BUSINESS_OWNER), [], "Vetting Unit")
    assert outcome.detail == "Not signed yet; a business owner of Vetting Unit signs it."


def holder(*roles: Role) -> Actor:
    return Actor(account_id=7, username="holder", roles=frozenset(roles))


FCC = "Force Contact Centre"

# (actor's roles, actor's department, role the check or sign-off needs, allowed)
SIGN_CASES = [
    ((Role.BUSINESS_OWNER,), FCC, Role.BUSINESS_OWNER, True),
    ((Role.BUSINESS_OWNER,), "Finance", Role.BUSINESS_OWNER, False),
    ((Role.BUSINESS_OWNER,), None, Role.BUSINESS_OWNER, False),
    ((Role.BUSINESS_OWNER, Role.CENTRAL_TEAM), "Finance", Role.BUSINESS_OWNER, True),
    ((Role.CENTRAL_TEAM,), None, Role.BUSINESS_OWNER, False),
    ((Role.INFORMATION_ASSURANCE,), None, Role.INFORMATION_ASSURANCE, True),
    ((Role.BUSINESS_OWNER,), FCC, Role.INFORMATION_ASSURANCE, False),
]


@pytest.mark.parametrize(("roles", "department", "needed", "allowed"), SIGN_CASES)
def test_sign_forbidden_cases(roles, department, needed, allowed):
    reason = manual_checks.sign_forbidden_reason(
        holder(*roles), definition(needed), actor_department=department, use_case_department=FCC
    )
    assert (reason is None) is allowed


REVOKE_CASES = [
    ((Role.BUSINESS_OWNER,), FCC, Role.BUSINESS_OWNER, True),
    ((Role.BUSINESS_OWNER,), "Finance", Role.BUSINESS_OWNER, False),
    ((Role.BUSINESS_OWNER,), None, Role.BUSINESS_OWNER, False),
    ((Role.CENTRAL_TEAM,), None, Role.BUSINESS_OWNER, True),
    ((Role.CENTRAL_TEAM,), None, Role.INFORMATION_ASSURANCE, True),
    ((Role.INFORMATION_ASSURANCE,), None, Role.INFORMATION_ASSURANCE, True),
    ((Role.INFORMATION_ASSURANCE,), None, Role.BUSINESS_OWNER, False),
    ((Role.DATA_PROTECTION_OFFICER,), None, Role.INFORMATION_ASSURANCE, False),
    ((Role.ADMINISTRATOR,), None, Role.INFORMATION_ASSURANCE, False),
    ((Role.PROGRAMME_BOARD,), None, Role.BUSINESS_OWNER, False),
]


@pytest.mark.parametrize(("roles", "department", "signed_as", "allowed"), REVOKE_CASES)
def test_revoke_forbidden_cases(roles, department, signed_as, allowed):
    reason = manual_checks.revoke_forbidden_reason(
        holder(*roles), sign_off(signed_as), actor_department=department, use_case_department=FCC
    )
    assert (reason is None) is allowed


def test_revoke_forbidden_names_departments():
    reason = manual_checks.revoke_forbidden_reason(
        holder(Role.BUSINESS_OWNER), sign_off(Role.BUSINESS_OWNER), actor_department="Finance", use_case_department=FCC
    )
    assert reason is not None
    assert "(Finance)" in reason
    assert f"belongs to {FCC}" in reason


# (stage, ready, has an open override, allowed)
REQUEST_CASES = [
    (Stage.TEST, False, False, True),
    (Stage.READY_FOR_LIVE, False, False, True),
    (Stage.SUSPENDED, False, False, True),
    (Stage.LIVE, False, False, False),
    (Stage.IDEA, False, False, False),
    (Stage.READY_FOR_LIVE, True, False, False),
    (Stage.READY_FOR_LIVE, False, True, False),
]


@pytest.mark.parametrize(("stage", "ready", "open_override", "allowed"), REQUEST_CASES)
def test_override_request_blocked_cases(stage, ready, open_override, allowed):
    existing = override() if open_override else None
    reason = overrides.request_blocked_reason("UC-001", stage, ready, existing, NOW)
    assert (reason is None) is allowed


def test_definition_bad_key_rejected():
    with pytest.raises(InvalidInput):
        manual_checks.validate_definition({"key": "Bad Key", "title": "x", "signing_role": "central_team"}, partial=False)


def test_definition_administrator_cannot_sign():
    with pytest.raises(InvalidInput):
        manual_checks.validate_definition(
            {"key": "uat", "title": "UAT", "signing_role": "administrator"}, partial=False
        )


# Baselines -----------------------------------------------------------------------------------------


def test_baseline_minutes_stored_as_seconds():
    clean = baselines.validate_baseline(
        {"volume_per_month": 10, "manual_minutes_per_item": 12.5, "residual_minutes_per_item": "2.5", "source_note": "study"}
    )
    assert (clean["manual_seconds_per_item"], clean["residual_seconds_per_item"]) == (750, 150)


def test_baseline_residual_above_manual_rejected():
    with pytest.raises(InvalidInput) as caught:
        baselines.validate_baseline(
            {"volume_per_month": 10, "manual_minutes_per_item": 5, "residual_minutes_per_item": 6, "source_note": "s"}
        )
    assert caught.value.errors[0].field == "residual_minutes_per_item"


def test_baseline_two_decimals_rejected():
    with pytest.raises(InvalidInput):
        baselines.validate_baseline(
            {"volume_per_month": 10, "manual_minutes_per_item": 5.25, "residual_minutes_per_item": 0, "source_note": "s"}
        )


def test_baseline_missing_fields_all_named():
    with pytest.raises(InvalidInput) as caught:
        baselines.validate_baseline({})
    assert {error.field for error in caught.value.errors} == {
        "volume_per_month", "manual_minutes_per_item", "residual_minutes_per_item", "source_note"
    }


def test_baseline_missing_is_blocker_for_central_team():
    outcome = baselines.evaluate_baseline(None)
    assert outcome.clearing_role is Role.CENTRAL_TEAM


def test_baseline_hours_released():
    view = baselines.BaselineView(1, "UC-001", 2400, 18 * 60, 3 * 60, "s", "c", NOW, 1)
    assert str(view.hours_released_per_month) == "600.0"


# Board and flags -----------------------------------------------------------------------------------


def test_csv_cell_formula_escaped():
    assert readiness_board._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"


def test_csv_cell_plain_text_kept():
    assert readiness_board._cell("Vetting") == "Vetting"


def test_flags_for_lapse():
    lapse = golive.LapseView(1, 1, NOW, "dpia revoked", [], None, None, None)
    assert [flag.kind for flag in golive.flags_for(None, lapse, NOW)] == ["lapsed"]


def test_flags_for_approved_override():
    flags = golive.flags_for(override(status="approved"), None, NOW)
    assert flags[0].label == "Emergency go-live"


def test_flags_for_expired_override_none():
    assert golive.flags_for(override(status="used", expires_at=NOW), None, NOW) == []


def test_readiness_status_ready_under_override():
    readiness = Readiness("UC-001", False, (result("dpia", False),), NOW)
    view = type("View", (), {"reference": "UC-001"})()
    status = golive.GateStatus(view, readiness, override(status="used"), None)
    assert status.ready and status.under_override
