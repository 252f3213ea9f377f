"""The lapse watch: a live use case that stops being ready is flagged on the change and in the
daily sweep; suspension and reinstatement go through the gate."""

import datetime as dt
import logging

import pytest

from governance import assessments, golive, manual_checks, register
from governance.clock import london_today, utcnow
from governance.errors import Conflict, InvalidInput
from governance.gate import RegisteredCheck
from governance.roles import Role
from governance.stages import Stage
from governance.tables import GoLiveDecision
from tests.gate_support import DPIA_CHECK, TEST_WORKFLOW, approve_dpia, audit_actions, place_at
from tests.support import make_use_case


@pytest.fixture
async def people(make_person):
    return {
        "central": await make_person(Role.CENTRAL_TEAM, username="central"),
        "author": await make_person(Role.BUSINESS_OWNER, username="author"),
        "ia": await make_person(Role.INFORMATION_ASSURANCE, username="ia"),
        "admin": await make_person(Role.ADMINISTRATOR, username="admin"),
    }


async def live_with_dpia(checks, people, **approval):
    """A use case taken live through the gate on an approved test DPIA; return (view, version)."""
    checks.use(DPIA_CHECK)
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    version = await approve_dpia(people["author"], people["ia"], view.id, **approval)
    await register.move_use_case(people["central"], view.reference, "live")
    return await register.get_use_case(view.reference), version


async def test_revocation_flags_lapse(checks, people):
    view, version = await live_with_dpia(checks, people)
    await assessments.revoke(people["ia"], version, version.version, "processing changed")
    lapse = await golive.open_lapse(view.id)
    assert "revoked" in lapse.reason


async def test_lapse_records_blockers(checks, people):
    view, version = await live_with_dpia(checks, people)
    await assessments.revoke(people["ia"], version, version.version, "processing changed")
    lapse = await golive.open_lapse(view.id)
    assert [item["name"] for item in lapse.blockers] == ["dpia"]


async def test_lapse_is_audited(checks, people):
    view, version = await live_with_dpia(checks, people)
    await assessments.revoke(people["ia"], version, version.version, "processing changed")
    assert "readiness.lapsed" in await audit_actions(view.reference)


async def test_lapse_is_logged(checks, people, caplog):
    caplog.set_level(logging.WARNING, logger="governance.golive")
    view, version = await live_with_dpia(checks, people)
    await assessments.revoke(people["ia"], version, version.version, "processing changed")
    assert any("readiness lapsed" in record.message and view.reference in record.message for record in caplog.records)


async def test_new_version_flags_lapse(checks, people):
    view, _ = await live_with_dpia(checks, people)
    await assessments.start_version(people["author"], view.id, "dpia", "test-1", TEST_WORKFLOW)
    assert await golive.open_lapse(view.id) is not None


async def test_new_version_lapse_reason_says_how_to_restore(checks, people):
    view, _ = await live_with_dpia(checks, people)
    await assessments.start_version(people["author"], view.id, "dpia", "test-1", TEST_WORKFLOW)
    lapse = await golive.open_lapse(view.id)
    assert lapse.reason == (
        "a new DPIA version (2) was started and replaces version 1 on record, "
        "so readiness returns only when version 2 is approved"
    )


async def test_new_version_lapse_in_readiness_report(checks, people):
    view, _ = await live_with_dpia(checks, people)
    await assessments.start_version(people["author"], view.id, "dpia", "test-1", TEST_WORKFLOW)
    report = await golive.readiness_report(view.reference)
    assert report["ready"] is False
    assert "readiness returns only when version 2 is approved" in report["lapse"]["reason"]


async def test_new_version_ready_once_approved(checks, people):
    view, _ = await live_with_dpia(checks, people)
    await assessments.start_version(people["author"], view.id, "dpia", "test-1", TEST_WORKFLOW)
    draft = await assessments.latest_version(view.id, "dpia")
    submitted = await assessments.apply_action(people["author"], draft, draft.version, TEST_WORKFLOW, "submit")
    await assessments.apply_action(
        people["ia"], submitted, submitted.version, TEST_WORKFLOW, "approve", decision="approved"
    )
    report = await golive.readiness_report(view.reference)
    assert report["ready"] is True


async def test_lapse_clears_when_ready_again(checks, people):
    view, _ = await live_with_dpia(checks, people)
    await assessments.start_version(people["author"], view.id, "dpia", "test-1", TEST_WORKFLOW)
    draft = await assessments.latest_version(view.id, "dpia")
    submitted = await assessments.apply_action(people["author"], draft, draft.version, TEST_WORKFLOW, "submit")
    await assessments.apply_action(
        people["ia"], submitted, submitted.version, TEST_WORKFLOW, "approve", decision="approved"
    )
    await golive.readiness_may_have_changed(people["ia"], view.id, "DPIA version 2 approved")
    assert await golive.open_lapse(view.id) is None


async def test_review_date_passing_found_by_sweep(checks, people):
    tomorrow = london_today() + dt.timedelta(days=1)
    view, _ = await live_with_dpia(checks, people, review_date=tomorrow)
    report = await golive.sweep(utcnow() + dt.timedelta(days=3))
    assert report.lapsed == [view.reference]


async def test_sweep_before_review_date_finds_nothing(checks, people):
    tomorrow = london_today() + dt.timedelta(days=1)
    await live_with_dpia(checks, people, review_date=tomorrow)
    report = await golive.sweep()
    assert report.lapsed == []


async def test_sweep_clears_lapse_when_ready(checks, people):
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    await register.move_use_case(people["central"], view.reference, "live")
    checks.stub.passed = False
    await golive.sweep()
    checks.stub.passed = True
    report = await golive.sweep()
    assert report.restored == [view.reference]


async def test_sweep_ignores_stages_before_ready(checks, people):
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.BUILD)
    checks.stub.passed = False
    report = await golive.sweep()
    assert report.checked == 0


async def test_sweep_flags_ready_for_live(checks, people):
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    checks.stub.passed = False
    report = await golive.sweep()
    assert report.lapsed == [view.reference]


async def test_revoked_sign_off_flags_lapse(checks, people):
    await manual_checks.create_definition(
        people["admin"], {"key": "security", "title": "Security sign-off", "signing_role": "information_assurance"}
    )
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    signed = await manual_checks.sign(people["ia"], view.reference, "security")
    await register.move_use_case(people["central"], view.reference, "live")
    await manual_checks.revoke_sign_off(people["ia"], signed.id, "penetration test found issues")
    assert await golive.open_lapse(view.id) is not None


async def test_new_manual_check_flags_live_use_case(checks, people):
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    await register.move_use_case(people["central"], view.reference, "live")
    await manual_checks.create_definition(
        people["admin"], {"key": "uat", "title": "User acceptance testing", "signing_role": "business_owner"}
    )
    assert await golive.open_lapse(view.id) is not None


async def test_revocation_commits_despite_broken_check(checks, people):
    async def broken(use_case, now):
        await GoLiveDecision.raw("SELECT no_such_column FROM no_such_table").run()
        return []

    view, version = await live_with_dpia(checks, people)
    checks.add(RegisteredCheck("broken", "Broken", broken))
    await assessments.revoke(people["ia"], version, version.version, "processing changed")
    stored = await assessments.get_version(view.id, "dpia", version.number)
    assert stored.revoked_at is not None
    assert await golive.open_lapse(view.id) is not None


# Suspension ----------------------------------------------------------------------------------------


async def test_suspended_use_case_fails_readiness(checks, people):
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    await register.move_use_case(people["central"], view.reference, "live")
    await golive.suspend(people["central"], view.reference, "DPIA under review")
    readiness = await golive.evaluate(view.reference)
    assert readiness.blocker_names == ["suspension"]


async def test_suspension_detail_names_reason(checks, people):
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    await register.move_use_case(people["central"], view.reference, "live")
    await golive.suspend(people["central"], view.reference, "DPIA under review")
    readiness = await golive.evaluate(view.reference)
    assert "DPIA under review" in readiness.blockers[0].detail


async def test_suspension_needs_reason(checks, people):
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.LIVE)
    with pytest.raises(InvalidInput):
        await golive.suspend(people["central"], view.reference, "")


async def test_suspension_clears_lapse(checks, people):
    view, version = await live_with_dpia(checks, people)
    await assessments.revoke(people["ia"], version, version.version, "processing changed")
    await golive.suspend(people["central"], view.reference, "approval revoked")
    assert await golive.open_lapse(view.id) is None


async def test_reinstatement_goes_through_gate(checks, people):
    view, version = await live_with_dpia(checks, people)
    await assessments.revoke(people["ia"], version, version.version, "processing changed")
    await golive.suspend(people["central"], view.reference, "approval revoked")
    with pytest.raises(Conflict):
        await register.move_use_case(people["central"], view.reference, "live")


async def test_reinstatement_when_ready(checks, people):
    view, version = await live_with_dpia(checks, people)
    await golive.suspend(people["central"], view.reference, "checking a complaint")
    moved = await register.move_use_case(people["central"], view.reference, "live")
    assert moved.stage is Stage.LIVE


async def test_suspension_clears_went_live_at(checks, people):
    view, _ = await live_with_dpia(checks, people)
    suspended = await golive.suspend(people["central"], view.reference, "checking a complaint")
    assert suspended.went_live_at is None
