"""Enforcement: no path moves a use case into ready for live or live while a check fails."""

import json
import logging

import pytest

from benefits import baselines
from governance import golive, manual_checks, register
from governance.errors import Conflict, Forbidden
from governance.roles import Role
from governance.stages import Stage
from governance.tables import GoLiveDecision
from tests.gate_support import (
    DPIA_CHECK,
    approve_dpia,
    audit_actions,
    browser_sign_in,
    place_at,
    submit_form,
)
from tests.support import make_use_case, token_headers

BASELINE = {
    "volume_per_month": 100,
    "manual_minutes_per_item": 10,
    "residual_minutes_per_item": 1,
    "source_note": "timed sample",
}


async def ready_for_live(central, **fields):
    view = await make_use_case(central, **fields)
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    return await register.get_use_case(view.reference)


async def test_move_with_passing_checks_goes_live(checks, central):
    view = await ready_for_live(central)
    moved = await register.move_use_case(central, view.reference, "live")
    assert moved.stage is Stage.LIVE


async def test_move_records_went_live_at(checks, central):
    view = await ready_for_live(central)
    moved = await register.move_use_case(central, view.reference, "live")
    decision = await golive.latest_granted(view.id, Stage.LIVE)
    assert moved.went_live_at == decision.decided_at


async def test_failing_check_refuses_move(checks, central):
    view = await ready_for_live(central)
    checks.stub.passed = False
    with pytest.raises(Conflict) as caught:
        await register.move_use_case(central, view.reference, "live")
    assert [item["name"] for item in caught.value.extra["blockers"]] == ["stub_assessment"]


async def test_refused_move_changes_nothing(checks, central):
    view = await ready_for_live(central)
    checks.stub.passed = False
    with pytest.raises(Conflict):
        await register.move_use_case(central, view.reference, "live")
    after = await register.get_use_case(view.reference)
    assert (after.stage, after.version) == (Stage.READY_FOR_LIVE, view.version)


async def test_refused_move_is_recorded(checks, central):
    view = await ready_for_live(central)
    checks.stub.passed = False
    with pytest.raises(Conflict):
        await register.move_use_case(central, view.reference, "live")
    decisions = await golive.list_decisions(view.id)
    assert [(item.granted, item.basis) for item in decisions] == [(False, "refused")]


async def test_refused_move_is_audited(checks, central):
    view = await ready_for_live(central)
    checks.stub.passed = False
    with pytest.raises(Conflict):
        await register.move_use_case(central, view.reference, "live")
    assert "go_live.refused" in await audit_actions(view.reference)


async def test_refused_move_is_logged(checks, central, caplog):
    caplog.set_level(logging.WARNING, logger="governance.golive")
    view = await ready_for_live(central)
    checks.stub.passed = False
    with pytest.raises(Conflict):
        await register.move_use_case(central, view.reference, "live")
    assert any(
        view.reference in record.message and "stub_assessment" in record.message and "central" in record.message
        for record in caplog.records
    )


async def test_move_to_ready_for_live_is_gated(checks, central):
    view = await make_use_case(central)
    await place_at(view.reference, Stage.TEST)
    checks.stub.passed = False
    with pytest.raises(Conflict):
        await register.move_use_case(central, view.reference, "ready_for_live")


async def test_raising_check_is_blocker(checks, central):
    view = await ready_for_live(central)
    checks.stub.raises = True
    with pytest.raises(Conflict) as caught:
        await register.move_use_case(central, view.reference, "live")
    assert "error id" in caught.value.extra["blockers"][0]["detail"]


async def test_raising_check_is_logged(checks, central, caplog):
    caplog.set_level(logging.ERROR, logger="governance.gate")
    view = await ready_for_live(central)
    checks.stub.raises = True
    with pytest.raises(Conflict):
        await register.move_use_case(central, view.reference, "live")
    assert any("stub_assessment" in record.message for record in caplog.records)


async def test_check_with_failed_query_is_blocker(checks, central):
    async def broken(use_case, now):
        await GoLiveDecision.raw("SELECT no_such_column FROM no_such_table").run()
        return []

    from governance.gate import RegisteredCheck

    checks.add(RegisteredCheck("broken", "Broken", broken))
    view = await ready_for_live(central)
    with pytest.raises(Conflict) as caught:
        await register.move_use_case(central, view.reference, "live")
    assert [item["name"] for item in caught.value.extra["blockers"]] == ["broken"]


async def test_empty_result_is_blocker(checks, central):
    view = await ready_for_live(central)
    checks.stub.empty = True
    with pytest.raises(Conflict):
        await register.move_use_case(central, view.reference, "live")


async def test_no_package_checks_is_blocker(checks, central):
    checks.use()
    view = await ready_for_live(central)
    with pytest.raises(Conflict) as caught:
        await register.move_use_case(central, view.reference, "live")
    assert caught.value.extra["blockers"][0]["name"] == "configuration"


async def test_missing_baseline_blocks(checks, central):
    checks.use(baselines.CHECK)
    view = await ready_for_live(central)
    with pytest.raises(Conflict) as caught:
        await register.move_use_case(central, view.reference, "live")
    assert caught.value.extra["blockers"][0]["clearing_role"] == "central_team"


async def test_recorded_baseline_passes(checks, central):
    checks.use(baselines.CHECK)
    view = await ready_for_live(central)
    await baselines.record_baseline(central, view.reference, BASELINE)
    moved = await register.move_use_case(central, view.reference, "live")
    assert moved.stage is Stage.LIVE


async def test_unsigned_manual_check_blocks(checks, central, make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    await manual_checks.create_definition(
        admin, {"key": "security", "title": "Security sign-off", "signing_role": "information_assurance"}
    )
    view = await ready_for_live(central)
    with pytest.raises(Conflict) as caught:
        await register.move_use_case(central, view.reference, "live")
    assert caught.value.extra["blockers"][0]["name"] == "manual:security"


async def test_signed_manual_check_passes(checks, central, make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    await manual_checks.create_definition(
        admin, {"key": "security", "title": "Security sign-off", "signing_role": "information_assurance"}
    )
    view = await ready_for_live(central)
    await manual_checks.sign(ia, view.reference, "security", "reviewed")
    moved = await register.move_use_case(central, view.reference, "live")
    assert moved.stage is Stage.LIVE


async def test_inactive_manual_check_ignored(checks, central, make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    definition = await manual_checks.create_definition(
        admin, {"key": "security", "title": "Security sign-off", "signing_role": "information_assurance"}
    )
    await manual_checks.update_definition(admin, "security", definition.version, {"active": False})
    view = await ready_for_live(central)
    moved = await register.move_use_case(central, view.reference, "live")
    assert moved.stage is Stage.LIVE


async def test_unapproved_dpia_blocks(checks, central, make_person):
    checks.use(DPIA_CHECK)
    view = await ready_for_live(central)
    with pytest.raises(Conflict) as caught:
        await register.move_use_case(central, view.reference, "live")
    assert caught.value.extra["blockers"][0]["name"] == "dpia"


async def test_administrator_cannot_bypass(checks, central, make_person):
    admin = await make_person(Role.ADMINISTRATOR, Role.CENTRAL_TEAM)
    view = await ready_for_live(central)
    checks.stub.passed = False
    with pytest.raises(Conflict):
        await register.move_use_case(admin, view.reference, "live")


async def test_administrator_alone_cannot_move(checks, central, make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    view = await ready_for_live(central)
    with pytest.raises(Forbidden):
        await register.move_use_case(admin, view.reference, "live")


# Decisions -----------------------------------------------------------------------------------------


async def test_decision_records_assessment_hash(checks, central, make_person):
    checks.use(DPIA_CHECK)
    author = await make_person(Role.BUSINESS_OWNER)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await ready_for_live(central)
    approved = await approve_dpia(author, ia, view.id)
    await register.move_use_case(central, view.reference, "live")
    decision = await golive.latest_granted(view.id, Stage.LIVE)
    assert decision.assessments[0]["content_hash"] == approved.content_hash


async def test_decision_verifies(checks, central, make_person):
    checks.use(DPIA_CHECK)
    author = await make_person(Role.BUSINESS_OWNER)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await ready_for_live(central)
    await approve_dpia(author, ia, view.id)
    await register.move_use_case(central, view.reference, "live")
    decision = await golive.latest_granted(view.id, Stage.LIVE)
    assert (await golive.verify_decision(decision)).ok


async def test_decision_detects_altered_assessment(checks, central, make_person):
    from governance.tables import AssessmentVersion

    checks.use(DPIA_CHECK)
    author = await make_person(Role.BUSINESS_OWNER)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await ready_for_live(central)
    approved = await approve_dpia(author, ia, view.id)
    await register.move_use_case(central, view.reference, "live")
    await AssessmentVersion.update({AssessmentVersion.content: json.dumps({"purpose": "changed"})}).where(
        AssessmentVersion.id == approved.id
    ).run()
    decision = await golive.latest_granted(view.id, Stage.LIVE)
    assert not (await golive.verify_decision(decision)).ok


async def test_decision_rows_are_append_only(checks, central):
    view = await ready_for_live(central)
    await register.move_use_case(central, view.reference, "live")
    with pytest.raises(Exception, match="append-only"):
        await GoLiveDecision.update({GoLiveDecision.reason: "rewritten"}, force=True).run()


async def test_granted_move_is_audited(checks, central):
    view = await ready_for_live(central)
    await register.move_use_case(central, view.reference, "live")
    assert "go_live.granted" in await audit_actions(view.reference)


# Through the page and the API ----------------------------------------------------------------------


async def test_page_move_refused_shows_blockers(client, web_checks, make_person):
    central = await make_person(Role.CENTRAL_TEAM)
    view = await ready_for_live(central)
    web_checks.stub.passed = False
    await browser_sign_in(client, central.username)
    response = await submit_form(client, f"/use-cases/{view.reference}/move", {"to": "live", "version": view.version})
    assert response.status_code == 409
    assert "stub assessment is not approved" in response.text


async def test_page_move_refused_changes_nothing(client, web_checks, make_person):
    central = await make_person(Role.CENTRAL_TEAM)
    view = await ready_for_live(central)
    web_checks.stub.passed = False
    await browser_sign_in(client, central.username)
    await submit_form(client, f"/use-cases/{view.reference}/move", {"to": "live", "version": view.version})
    assert (await register.get_use_case(view.reference)).stage is Stage.READY_FOR_LIVE


async def test_page_move_with_passing_checks(client, web_checks, make_person):
    central = await make_person(Role.CENTRAL_TEAM)
    view = await ready_for_live(central)
    await browser_sign_in(client, central.username)
    response = await submit_form(client, f"/use-cases/{view.reference}/move", {"to": "live", "version": view.version})
    assert response.status_code == 303


async def test_decisions_page_names_kind(client, web_checks, make_person):
    web_checks.use(DPIA_CHECK)
    central = await make_person(Role.CENTRAL_TEAM)
    author = await make_person(Role.BUSINESS_OWNER)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await ready_for_live(central)
    await approve_dpia(author, ia, view.id)
    await register.move_use_case(central, view.reference, "live")
    await browser_sign_in(client, central.username)
    text = (await client.get(f"/use-cases/{view.reference}/go-live-decisions")).text
    assert "<li>DPIA version 1:" in text
    assert "dpia version" not in text


async def test_api_move_refused_409_with_blockers(client, web_checks, make_person):
    central = await make_person(Role.CENTRAL_TEAM)
    view = await ready_for_live(central)
    web_checks.stub.passed = False
    headers = await token_headers(central.username, "api:write")
    response = await client.post(f"/api/v1/use-cases/{view.reference}/transitions", json={"to": "live"}, headers=headers)
    assert response.status_code == 409
    assert response.json()["blockers"][0]["name"] == "stub_assessment"


async def test_api_move_by_administrator_refused(client, web_checks, make_person):
    central = await make_person(Role.CENTRAL_TEAM)
    admin = await make_person(Role.ADMINISTRATOR, Role.CENTRAL_TEAM)
    view = await ready_for_live(central)
    web_checks.stub.passed = False
    headers = await token_headers(admin.username, "api:write")
    response = await client.post(f"/api/v1/use-cases/{view.reference}/transitions", json={"to": "live"}, headers=headers)
    assert response.status_code == 409


async def test_api_suspend_then_reinstate(client, web_checks, make_person):
    central = await make_person(Role.CENTRAL_TEAM)
    view = await ready_for_live(central)
    await register.move_use_case(central, view.reference, "live")
    headers = await token_headers(central.username, "api:write")
    suspended = await client.post(
        f"/api/v1/use-cases/{view.reference}/suspension", json={"reason": "DPIA under review"}, headers=headers
    )
    assert suspended.json()["stage"] == "suspended"
    web_checks.stub.passed = False
    refused = await client.post(f"/api/v1/use-cases/{view.reference}/transitions", json={"to": "live"}, headers=headers)
    assert refused.status_code == 409
