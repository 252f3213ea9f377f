"""Emergency go-live pages: request, approve in each role, withdraw."""

import datetime as dt

from governance import overrides, register
from governance.clock import LONDON, utcnow
from governance.roles import Role
from governance.stages import Stage
from tests.gate_support import browser_sign_in, place_at, submit_form
from tests.support import make_use_case


def last_day(days: int) -> str:
    return (utcnow().astimezone(LONDON).date() + dt.timedelta(days=days)).isoformat()


async def blocked(web_checks, central):
    view = await make_use_case(central)
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    web_checks.stub.passed = False
    return view


async def test_request_page_lists_covered_checks(client, web_checks, central):
    view = await blocked(web_checks, central)
    await browser_sign_in(client, "central")
    response = await client.get(f"/use-cases/{view.reference}/emergency-override")
    assert "stub assessment is not approved" in response.text


async def test_request_through_page(client, web_checks, central):
    view = await blocked(web_checks, central)
    await browser_sign_in(client, "central")
    response = await submit_form(
        client, f"/use-cases/{view.reference}/emergency-override", {"reason": "urgent", "expires_on": last_day(3)}
    )
    assert response.status_code == 303
    assert (await overrides.list_overrides())[0].status == "requested"


async def test_request_page_rejects_far_expiry(client, web_checks, central):
    view = await blocked(web_checks, central)
    await browser_sign_in(client, "central")
    response = await submit_form(
        client, f"/use-cases/{view.reference}/emergency-override", {"reason": "urgent", "expires_on": last_day(60)}
    )
    assert response.status_code == 422
    assert 'href="#expires_on"' in response.text


async def test_approvals_through_pages(client, web_checks, central, make_person):
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    dpo = await make_person(Role.DATA_PROTECTION_OFFICER)
    view = await blocked(web_checks, central)
    requested = await overrides.request_override(central, view.reference, "urgent", utcnow() + dt.timedelta(days=2))
    for person, role in ((ia, "information_assurance"), (dpo, "data_protection_officer")):
        client.cookies.clear()
        await browser_sign_in(client, person.username)
        page = await client.get(f"/emergency-overrides/{requested.id}")
        assert "Approve as" in page.text
        response = await submit_form(client, f"/emergency-overrides/{requested.id}/approve", {"role": role})
        assert response.status_code == 303
    assert (await overrides.get_override(requested.id)).status == "approved"


async def test_requester_sees_no_approve_button(client, web_checks, make_person):
    both = await make_person(Role.CENTRAL_TEAM, Role.INFORMATION_ASSURANCE)
    central = await make_person(Role.CENTRAL_TEAM, username="central")
    view = await blocked(web_checks, central)
    requested = await overrides.request_override(both, view.reference, "urgent", utcnow() + dt.timedelta(days=2))
    await browser_sign_in(client, both.username)
    page = await client.get(f"/emergency-overrides/{requested.id}")
    assert "Approve as" not in page.text


async def test_withdraw_through_page(client, web_checks, central):
    view = await blocked(web_checks, central)
    requested = await overrides.request_override(central, view.reference, "urgent", utcnow() + dt.timedelta(days=2))
    await browser_sign_in(client, "central")
    response = await submit_form(client, f"/emergency-overrides/{requested.id}/withdraw", {"reason": "assessments done"})
    assert response.status_code == 303
    assert (await overrides.get_override(requested.id)).status == "withdrawn"


async def test_approval_queue_on_home_page(client, web_checks, central, make_person):
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await blocked(web_checks, central)
    await overrides.request_override(central, view.reference, "urgent", utcnow() + dt.timedelta(days=2))
    await browser_sign_in(client, ia.username)
    home = await client.get("/")
    assert f"Approve emergency go-live of {view.reference}" in home.text


async def test_moves_on_page_after_override(client, web_checks, central, make_person):
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    dpo = await make_person(Role.DATA_PROTECTION_OFFICER)
    view = await blocked(web_checks, central)
    requested = await overrides.request_override(central, view.reference, "urgent", utcnow() + dt.timedelta(days=2))
    await overrides.approve(ia, requested.id, "information_assurance")
    await overrides.approve(dpo, requested.id, "data_protection_officer")
    await browser_sign_in(client, "central")
    current = await register.get_use_case(view.reference)
    response = await submit_form(client, f"/use-cases/{view.reference}/move", {"to": "live", "version": current.version})
    assert response.status_code == 303
