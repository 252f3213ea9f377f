"""Emergency go-live: two approvals by different people in the IA and DPO roles, neither the
requester; it covers only the checks failing when requested, and lapses at its expiry."""

import datetime as dt

import pytest

from governance import golive, overrides, register
from governance.clock import utcnow
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.roles import Role
from governance.stages import Stage
from governance.tables import EmergencyOverride
from tests.gate_support import audit_actions, place_at
from tests.support import make_use_case, token_headers


@pytest.fixture
async def people(make_person):
    return {
        "central": await make_person(Role.CENTRAL_TEAM, username="requester"),
        "ia": await make_person(Role.INFORMATION_ASSURANCE, username="ia"),
        "dpo": await make_person(Role.DATA_PROTECTION_OFFICER, username="dpo"),
    }


async def blocked_use_case(checks, central):
    view = await make_use_case(central)
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    checks.stub.passed = False
    return await register.get_use_case(view.reference)


def in_days(days: float) -> dt.datetime:
    return utcnow() + dt.timedelta(days=days)


async def approved_override(people, reference):
    requested = await overrides.request_override(people["central"], reference, "urgent", in_days(7))
    await overrides.approve(people["ia"], requested.id, "information_assurance")
    return await overrides.approve(people["dpo"], requested.id, "data_protection_officer")


async def test_request_covers_failing_checks(checks, people):
    view = await blocked_use_case(checks, people["central"])
    requested = await overrides.request_override(people["central"], view.reference, "urgent", in_days(7))
    assert requested.covered_checks == ("stub_assessment",)


async def test_request_needs_reason(checks, people):
    view = await blocked_use_case(checks, people["central"])
    with pytest.raises(InvalidInput):
        await overrides.request_override(people["central"], view.reference, " ", in_days(7))


async def test_request_needs_central_team(checks, people):
    view = await blocked_use_case(checks, people["central"])
    with pytest.raises(Forbidden):
        await overrides.request_override(people["ia"], view.reference, "urgent", in_days(7))


async def test_request_when_ready_rejected(checks, people):
    view = await blocked_use_case(checks, people["central"])
    checks.stub.passed = True
    with pytest.raises(Conflict):
        await overrides.request_override(people["central"], view.reference, "urgent", in_days(7))


async def test_second_open_request_rejected(checks, people):
    view = await blocked_use_case(checks, people["central"])
    await overrides.request_override(people["central"], view.reference, "urgent", in_days(7))
    with pytest.raises(Conflict):
        await overrides.request_override(people["central"], view.reference, "again", in_days(7))


async def test_one_approval_not_enough(checks, people):
    view = await blocked_use_case(checks, people["central"])
    requested = await overrides.request_override(people["central"], view.reference, "urgent", in_days(7))
    await overrides.approve(people["ia"], requested.id, "information_assurance")
    with pytest.raises(Conflict):
        await register.move_use_case(people["central"], view.reference, "live")


async def test_two_approvals_let_move_through(checks, people):
    view = await blocked_use_case(checks, people["central"])
    await approved_override(people, view.reference)
    moved = await register.move_use_case(people["central"], view.reference, "live")
    assert moved.stage is Stage.LIVE


async def test_move_under_override_records_it(checks, people):
    view = await blocked_use_case(checks, people["central"])
    approved = await approved_override(people, view.reference)
    await register.move_use_case(people["central"], view.reference, "live")
    decision = await golive.latest_granted(view.id, Stage.LIVE)
    assert (decision.basis, decision.emergency_override_id) == ("emergency_override", approved.id)


async def test_move_under_override_marks_it_used(checks, people):
    view = await blocked_use_case(checks, people["central"])
    approved = await approved_override(people, view.reference)
    await register.move_use_case(people["central"], view.reference, "live")
    assert (await overrides.get_override(approved.id)).status == "used"


async def test_override_does_not_cover_new_blocker(checks, people, make_person):
    from governance import manual_checks

    view = await blocked_use_case(checks, people["central"])
    await approved_override(people, view.reference)
    admin = await make_person(Role.ADMINISTRATOR)
    await manual_checks.create_definition(
        admin, {"key": "uat", "title": "User acceptance testing", "signing_role": "business_owner"}
    )
    with pytest.raises(Conflict) as caught:
        await register.move_use_case(people["central"], view.reference, "live")
    assert "covers only" in caught.value.message


async def test_requester_cannot_approve(checks, people, make_person):
    both = await make_person(Role.CENTRAL_TEAM, Role.INFORMATION_ASSURANCE)
    view = await blocked_use_case(checks, people["central"])
    requested = await overrides.request_override(both, view.reference, "urgent", in_days(7))
    with pytest.raises(Forbidden):
        await overrides.approve(both, requested.id, "information_assurance")


async def test_same_person_cannot_approve_twice(checks, people, make_person):
    both = await make_person(Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER)
    view = await blocked_use_case(checks, people["central"])
    requested = await overrides.request_override(people["central"], view.reference, "urgent", in_days(7))
    await overrides.approve(both, requested.id, "information_assurance")
    with pytest.raises(Forbidden):
        await overrides.approve(both, requested.id, "data_protection_officer")


async def test_wrong_role_cannot_approve(checks, people):
    view = await blocked_use_case(checks, people["central"])
    requested = await overrides.request_override(people["central"], view.reference, "urgent", in_days(7))
    with pytest.raises(Forbidden):
        await overrides.approve(people["ia"], requested.id, "data_protection_officer")


async def test_expired_override_does_not_let_move_through(checks, people):
    view = await blocked_use_case(checks, people["central"])
    approved = await approved_override(people, view.reference)
    await EmergencyOverride.update({EmergencyOverride.expires_at: utcnow() - dt.timedelta(minutes=1)}).where(
        EmergencyOverride.id == approved.id
    ).run()
    with pytest.raises(Conflict):
        await register.move_use_case(people["central"], view.reference, "live")


async def test_expiry_makes_live_use_case_lapsed(checks, people):
    view = await blocked_use_case(checks, people["central"])
    await approved_override(people, view.reference)
    await register.move_use_case(people["central"], view.reference, "live")
    report = await golive.sweep(utcnow() + dt.timedelta(days=8))
    assert report.lapsed == [view.reference]


async def test_sweep_marks_override_expired(checks, people):
    view = await blocked_use_case(checks, people["central"])
    approved = await approved_override(people, view.reference)
    await golive.sweep(utcnow() + dt.timedelta(days=8))
    assert (await overrides.get_override(approved.id)).status == "expired"


async def test_live_under_override_is_not_lapsed(checks, people):
    view = await blocked_use_case(checks, people["central"])
    await approved_override(people, view.reference)
    await register.move_use_case(people["central"], view.reference, "live")
    report = await golive.sweep()
    assert report.lapsed == []


async def test_withdrawal_lapses_live_use_case(checks, people):
    view = await blocked_use_case(checks, people["central"])
    approved = await approved_override(people, view.reference)
    await register.move_use_case(people["central"], view.reference, "live")
    await overrides.withdraw(people["ia"], approved.id, "no longer justified")
    assert await golive.open_lapse(view.id) is not None


async def test_override_actions_are_audited(checks, people):
    view = await blocked_use_case(checks, people["central"])
    await approved_override(people, view.reference)
    await register.move_use_case(people["central"], view.reference, "live")
    actions = await audit_actions(view.reference)
    assert [action for action in actions if action.startswith("emergency_override.")] == [
        "emergency_override.requested",
        "emergency_override.approval_added",
        "emergency_override.approved",
        "emergency_override.used",
    ]


# API -----------------------------------------------------------------------------------------------


async def test_api_override_flow(client, web_checks, people):
    view = await blocked_use_case(web_checks, people["central"])
    central = await token_headers("requester", "api:write")
    created = await client.post(
        f"/api/v1/use-cases/{view.reference}/emergency-overrides",
        json={"reason": "urgent", "expires_at": in_days(5).isoformat()},
        headers=central,
    )
    assert created.status_code == 201, created.text
    override_id = created.json()["id"]
    for username, role in (("ia", "information_assurance"), ("dpo", "data_protection_officer")):
        response = await client.post(
            f"/api/v1/emergency-overrides/{override_id}/approvals",
            json={"role": role},
            headers=await token_headers(username, "api:write"),
        )
        assert response.status_code == 200, response.text
    moved = await client.post(f"/api/v1/use-cases/{view.reference}/transitions", json={"to": "live"}, headers=central)
    assert moved.json()["stage"] == "live"


async def test_api_expiry_without_zone_rejected(client, web_checks, people):
    view = await blocked_use_case(web_checks, people["central"])
    response = await client.post(
        f"/api/v1/use-cases/{view.reference}/emergency-overrides",
        json={"reason": "urgent", "expires_at": "2026-12-10T12:00:00"},
        headers=await token_headers("requester", "api:write"),
    )
    assert response.json()["errors"][0]["field"] == "expires_at"


async def test_api_requester_approval_forbidden(client, web_checks, people):
    view = await blocked_use_case(web_checks, people["central"])
    requested = await overrides.request_override(people["central"], view.reference, "urgent", in_days(7))
    response = await client.post(
        f"/api/v1/emergency-overrides/{requested.id}/approvals",
        json={"role": "information_assurance"},
        headers=await token_headers("requester", "api:write"),
    )
    assert response.status_code == 403
