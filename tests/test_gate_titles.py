"""Gate and benefits form pages: the page title starts with "Error: " when the form has an error.

Screen readers announce the title first, so the GOV.UK pattern puts the prefix there as well as in
the error summary. Each page is also checked without errors, so the prefix cannot be always on.
"""

import datetime as dt
import re

import pytest

from benefits import baselines
from governance import manual_checks, overrides, register
from governance.clock import utcnow
from governance.roles import Role
from governance.stages import Stage
from tests.gate_support import browser_sign_in, place_at, submit_form
from tests.support import make_use_case

BASELINE = {
    "volume_per_month": 2400,
    "manual_minutes_per_item": 18,
    "residual_minutes_per_item": 3,
    "source_note": "time-and-motion sample, October",
}
SECURITY = {"key": "security", "title": "Security sign-off", "signing_role": "information_assurance"}


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match is not None, "page has no <title>"
    return match.group(1).strip()


@pytest.fixture
async def admin(make_person):
    return await make_person(Role.ADMINISTRATOR, username="admin")


# Benefits baseline ---------------------------------------------------------------------------------


async def test_baseline_form_title_plain(client, web_checks, central):
    view = await make_use_case(central)
    await browser_sign_in(client, "central")
    response = await client.get(f"/use-cases/{view.reference}/baseline")
    assert title_of(response.text).startswith("Benefits baseline for")


async def test_baseline_error_title(client, web_checks, central):
    view = await make_use_case(central)
    await browser_sign_in(client, "central")
    response = await submit_form(
        client, f"/use-cases/{view.reference}/baseline", {**BASELINE, "manual_minutes_per_item": "ten"}
    )
    assert response.status_code == 422
    assert title_of(response.text).startswith("Error: Benefits baseline for")


async def test_baseline_conflict_title(client, web_checks, central):
    view = await make_use_case(central)
    await baselines.record_baseline(central, view.reference, BASELINE)
    await browser_sign_in(client, "central")
    response = await submit_form(client, f"/use-cases/{view.reference}/baseline", {**BASELINE, "version": 7})
    assert response.status_code == 409
    assert title_of(response.text).startswith("Error: Benefits baseline for")


# Manual checks -------------------------------------------------------------------------------------


async def test_manual_checks_title_plain(client, web_checks, admin):
    await browser_sign_in(client, "admin")
    response = await client.get("/admin/manual-checks/")
    assert title_of(response.text).startswith("Manual go-live checks")


async def test_manual_checks_error_title(client, web_checks, admin):
    await browser_sign_in(client, "admin")
    response = await submit_form(client, "/admin/manual-checks/", {"key": "", "title": "", "signing_role": ""})
    assert response.status_code == 422
    assert title_of(response.text).startswith("Error: Manual go-live checks")


async def test_manual_check_edit_error_title(client, web_checks, admin):
    created = await manual_checks.create_definition(admin, SECURITY)
    await browser_sign_in(client, "admin")
    response = await submit_form(
        client,
        "/admin/manual-checks/security",
        {"title": "", "signing_role": "information_assurance", "version": created.version},
    )
    assert response.status_code == 422
    assert title_of(response.text).startswith("Error: Change Security sign-off")


async def test_manual_check_edit_conflict_title(client, web_checks, admin):
    await manual_checks.create_definition(admin, SECURITY)
    await browser_sign_in(client, "admin")
    response = await submit_form(
        client,
        "/admin/manual-checks/security",
        {"title": "Security accreditation", "signing_role": "information_assurance", "version": 9},
    )
    assert response.status_code == 409
    assert title_of(response.text).startswith("Error: Change Security sign-off")


# Suspension and emergency go-live ------------------------------------------------------------------


async def live(central):
    view = await make_use_case(central)
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    return await register.move_use_case(central, view.reference, "live")


async def test_suspend_title_plain(client, web_checks, central):
    view = await live(central)
    await browser_sign_in(client, "central")
    response = await client.get(f"/use-cases/{view.reference}/suspend")
    assert title_of(response.text).startswith("Suspend ")


async def test_suspend_error_title(client, web_checks, central):
    view = await live(central)
    await browser_sign_in(client, "central")
    response = await submit_form(client, f"/use-cases/{view.reference}/suspend", {"reason": ""})
    assert response.status_code == 422
    assert title_of(response.text).startswith("Error: Suspend ")


async def blocked(web_checks, central):
    view = await make_use_case(central)
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    web_checks.stub.passed = False
    return view


async def test_override_request_title_plain(client, web_checks, central):
    view = await blocked(web_checks, central)
    await browser_sign_in(client, "central")
    response = await client.get(f"/use-cases/{view.reference}/emergency-override")
    assert title_of(response.text).startswith("Request an emergency go-live")


async def test_override_request_error_title(client, web_checks, central):
    view = await blocked(web_checks, central)
    await browser_sign_in(client, "central")
    response = await submit_form(
        client, f"/use-cases/{view.reference}/emergency-override", {"reason": "", "expires_on": "soon"}
    )
    assert response.status_code == 422
    assert title_of(response.text).startswith("Error: Request an emergency go-live")


async def test_override_request_conflict_title(client, web_checks, central):
    view = await blocked(web_checks, central)
    await overrides.request_override(central, view.reference, "urgent", utcnow() + dt.timedelta(days=2))
    await browser_sign_in(client, "central")
    expires = (utcnow() + dt.timedelta(days=3)).date().isoformat()
    response = await submit_form(
        client, f"/use-cases/{view.reference}/emergency-override", {"reason": "again", "expires_on": expires}
    )
    assert response.status_code == 409
    assert title_of(response.text).startswith("Error: Request an emergency go-live")
    assert "already has emergency override" in response.text


async def test_override_withdraw_error_title(client, web_checks, central):
    view = await blocked(web_checks, central)
    requested = await overrides.request_override(central, view.reference, "urgent", utcnow() + dt.timedelta(days=2))
    await browser_sign_in(client, "central")
    response = await submit_form(client, f"/emergency-overrides/{requested.id}/withdraw", {"reason": ""})
    assert response.status_code == 422
    assert title_of(response.text).startswith("Error: Emergency go-live")


async def test_override_approve_refused_title(client, web_checks, make_person):
    both = await make_person(Role.CENTRAL_TEAM, Role.INFORMATION_ASSURANCE, username="central")
    view = await blocked(web_checks, both)
    requested = await overrides.request_override(both, view.reference, "urgent", utcnow() + dt.timedelta(days=2))
    await browser_sign_in(client, "central")
    response = await submit_form(
        client, f"/emergency-overrides/{requested.id}/approve", {"role": "information_assurance"}
    )
    assert response.status_code == 403
    assert title_of(response.text).startswith("Error: Emergency go-live")
