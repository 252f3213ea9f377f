"""Action forms on gate and benefits pages: each is shown only to people the service would accept.

The service stays the authority: these tests check what each role sees, and the tests of each
service function check what it accepts.
"""

import datetime as dt

import pytest

from governance import manual_checks, overrides, register
from governance.clock import utcnow
from governance.roles import Role
from governance.stages import Stage
from tests.gate_support import browser_sign_in, place_at
from tests.support import make_use_case

UAT = {"key": "uat", "title": "User acceptance testing", "signing_role": "business_owner"}
SECURITY = {"key": "security", "title": "Security sign-off", "signing_role": "information_assurance"}

SIGN_UAT = "Sign user acceptance testing"
SIGN_SECURITY = "Sign security sign-off"


@pytest.fixture
async def people(make_person):
    """One account per role; the business owners are in two different departments."""
    return {
        "admin": await make_person(Role.ADMINISTRATOR, username="admin"),
        "central": await make_person(Role.CENTRAL_TEAM, username="central"),
        "fcc.owner": await make_person(
            Role.BUSINESS_OWNER, username="fcc.owner", department="Force Contact Centre"
        ),
        "fin.owner": await make_person(Role.BUSINESS_OWNER, username="fin.owner", department="Finance"),
        "ia": await make_person(Role.INFORMATION_ASSURANCE, username="ia"),
        "dpo": await make_person(Role.DATA_PROTECTION_OFFICER, username="dpo"),
        "board": await make_person(Role.PROGRAMME_BOARD, username="board"),
    }


async def page_as(client, username: str, url: str) -> str:
    client.cookies.clear()
    await browser_sign_in(client, username)
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return response.text


async def unsigned_use_case(people):
    """A Force Contact Centre use case at test with both manual checks unsigned."""
    await manual_checks.create_definition(people["admin"], UAT)
    await manual_checks.create_definition(people["admin"], SECURITY)
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.TEST)
    return view


async def signed_use_case(people):
    """As ``unsigned_use_case``, with both checks signed; return the use case and the sign-off ids."""
    view = await unsigned_use_case(people)
    uat = await manual_checks.sign(people["fcc.owner"], view.reference, "uat")
    security = await manual_checks.sign(people["ia"], view.reference, "security")
    return view, uat.id, security.id


# Sign forms ----------------------------------------------------------------------------------------

# (username, sees the UAT sign form, sees the security sign form)
SIGN_FORMS = [
    ("fcc.owner", True, False),
    ("fin.owner", False, False),
    ("ia", False, True),
    ("central", False, False),
    ("dpo", False, False),
    ("board", False, False),
    ("admin", False, False),
]


@pytest.mark.parametrize(("username", "uat", "security"), SIGN_FORMS)
async def test_sign_forms_by_role(client, web_checks, people, username, uat, security):
    view = await unsigned_use_case(people)
    text = await page_as(client, username, f"/use-cases/{view.reference}")
    assert (SIGN_UAT in text) is uat
    assert (SIGN_SECURITY in text) is security


async def test_sign_form_other_department_absent(client, web_checks, people):
    view = await unsigned_use_case(people)
    text = await page_as(client, "fin.owner", f"/use-cases/{view.reference}")
    assert f"/use-cases/{view.reference}/manual-checks/uat/sign" not in text


# Revoke forms --------------------------------------------------------------------------------------

# (username, sees the UAT revoke form, sees the security revoke form)
REVOKE_FORMS = [
    ("fcc.owner", True, False),
    ("fin.owner", False, False),
    ("ia", False, True),
    ("central", True, True),
    ("dpo", False, False),
    ("board", False, False),
    ("admin", False, False),
]


@pytest.mark.parametrize(("username", "uat", "security"), REVOKE_FORMS)
async def test_revoke_forms_by_role(client, web_checks, people, username, uat, security):
    view, uat_id, security_id = await signed_use_case(people)
    text = await page_as(client, username, f"/use-cases/{view.reference}")
    assert (f'action="/manual-check-sign-offs/{uat_id}/revoke"' in text) is uat
    assert (f'action="/manual-check-sign-offs/{security_id}/revoke"' in text) is security


async def test_revoke_section_absent_without_forms(client, web_checks, people):
    view, _, _ = await signed_use_case(people)
    text = await page_as(client, "fin.owner", f"/use-cases/{view.reference}")
    assert "Revoke a manual check sign-off" not in text


# Suspension ----------------------------------------------------------------------------------------


async def live_use_case(people):
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    return await register.move_use_case(people["central"], view.reference, "live")


@pytest.mark.parametrize(("username", "shown"), [("central", True), ("fcc.owner", False), ("ia", False), ("board", False)])
async def test_suspend_button_by_role(client, web_checks, people, username, shown):
    view = await live_use_case(people)
    text = await page_as(client, username, f"/use-cases/{view.reference}")
    assert (f'href="/use-cases/{view.reference}/suspend"' in text) is shown


async def test_suspend_page_not_live_has_no_form(client, web_checks, people):
    view = await make_use_case(people["central"])
    text = await page_as(client, "central", f"/use-cases/{view.reference}/suspend")
    assert "Only a live use case can be suspended" in text
    assert f'action="/use-cases/{view.reference}/suspend"' not in text


async def test_suspend_page_live_has_form(client, web_checks, people):
    view = await live_use_case(people)
    text = await page_as(client, "central", f"/use-cases/{view.reference}/suspend")
    assert f'action="/use-cases/{view.reference}/suspend"' in text


@pytest.mark.parametrize(("username", "shown"), [("central", True), ("board", False), ("ia", False)])
async def test_board_suspend_button_by_role(client, web_checks, people, username, shown):
    view = await live_use_case(people)
    web_checks.stub.passed = False
    from governance import golive

    await golive.sweep()
    text = await page_as(client, username, "/readiness")
    assert (f'href="/use-cases/{view.reference}/suspend"' in text) is shown


# Emergency go-live ---------------------------------------------------------------------------------


async def blocked_use_case(people, web_checks, stage: Stage = Stage.READY_FOR_LIVE):
    view = await make_use_case(people["central"])
    await place_at(view.reference, stage)
    web_checks.stub.passed = False
    return view


@pytest.mark.parametrize(("username", "shown"), [("central", True), ("fcc.owner", False), ("ia", False), ("board", False)])
async def test_override_link_by_role(client, web_checks, people, username, shown):
    view = await blocked_use_case(people, web_checks)
    text = await page_as(client, username, f"/use-cases/{view.reference}")
    assert (f'href="/use-cases/{view.reference}/emergency-override"' in text) is shown


async def test_override_page_wrong_stage_has_no_form(client, web_checks, people):
    view = await blocked_use_case(people, web_checks, Stage.BUILD)
    text = await page_as(client, "central", f"/use-cases/{view.reference}/emergency-override")
    assert "No emergency go-live can be requested now" in text
    assert f'action="/use-cases/{view.reference}/emergency-override"' not in text


async def test_override_page_when_ready_has_no_form(client, web_checks, people):
    view = await make_use_case(people["central"])
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    text = await page_as(client, "central", f"/use-cases/{view.reference}/emergency-override")
    assert "passes every check" in text
    assert f'action="/use-cases/{view.reference}/emergency-override"' not in text


async def test_override_page_open_override_has_no_form(client, web_checks, people):
    view = await blocked_use_case(people, web_checks)
    await overrides.request_override(people["central"], view.reference, "urgent", utcnow() + dt.timedelta(days=2))
    text = await page_as(client, "central", f"/use-cases/{view.reference}/emergency-override")
    assert "already has emergency override" in text
    assert f'action="/use-cases/{view.reference}/emergency-override"' not in text


# (username, approval buttons shown, withdraw form shown)
OVERRIDE_FORMS = [
    ("ia", ["Approve as Information Assurance"], True),
    ("dpo", ["Approve as Data Protection Officer"], True),
    ("central", [], True),
    ("fcc.owner", [], False),
    ("board", [], False),
    ("admin", [], False),
]


@pytest.mark.parametrize(("username", "approvals", "withdraw"), OVERRIDE_FORMS)
async def test_override_detail_forms_by_role(client, web_checks, people, username, approvals, withdraw):
    view = await blocked_use_case(people, web_checks)
    requested = await overrides.request_override(
        people["central"], view.reference, "urgent", utcnow() + dt.timedelta(days=2)
    )
    text = await page_as(client, username, f"/emergency-overrides/{requested.id}")
    shown = [label for label in ("Approve as Information Assurance", "Approve as Data Protection Officer") if label in text]
    assert shown == approvals
    assert (f'action="/emergency-overrides/{requested.id}/withdraw"' in text) is withdraw


async def test_override_detail_closed_has_no_forms(client, web_checks, people):
    view = await blocked_use_case(people, web_checks)
    requested = await overrides.request_override(
        people["central"], view.reference, "urgent", utcnow() + dt.timedelta(days=2)
    )
    await overrides.withdraw(people["central"], requested.id, "no longer needed")
    text = await page_as(client, "ia", f"/emergency-overrides/{requested.id}")
    assert "<form" not in text.split("<main", 1)[1]


# Benefits baseline ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "shown"), [("central", True), ("fcc.owner", False), ("ia", False), ("board", False)])
async def test_baseline_link_by_role(client, web_checks, people, username, shown):
    view = await make_use_case(people["central"])
    text = await page_as(client, username, f"/use-cases/{view.reference}")
    assert (f'href="/use-cases/{view.reference}/baseline"' in text) is shown
