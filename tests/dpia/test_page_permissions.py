"""Each DPIA page offers a form exactly when the server then accepts it, for every mix of roles.

For each combination of roles, each step gets a use case of its own in the state the step needs.
The page is opened and the step is sent. The page must show the form if and only if the step then
succeeds. A step that the page did not offer must get 403 or 409 and change nothing.
"""

from __future__ import annotations

import datetime as dt

import lxml.html
import pytest

from governance import assessments
from governance.clock import london_today
from governance.roles import Role
from tests.support import DEFAULT_DEPARTMENT, audit_head, make_use_case, post_form, sign_in

from dpia import rules, service
from tests.dpia.helpers import advised, approved, complete_content, submitted

VIEWERS: dict[str, tuple[Role, ...]] = {
    "ia": (Role.INFORMATION_ASSURANCE,),
    "dpo": (Role.DATA_PROTECTION_OFFICER,),
    "ia_dpo": (Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER),
    "ia_dpo_adviser": (Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER),
    "author_ia": (Role.BUSINESS_OWNER, Role.INFORMATION_ASSURANCE),
    "central_viewer": (Role.CENTRAL_TEAM,),
    "owner": (Role.BUSINESS_OWNER,),
    "other_owner": (Role.BUSINESS_OWNER,),
    "board": (Role.PROGRAMME_BOARD,),
}


@pytest.fixture
async def cast(make_person):
    """The viewers, plus the people who write, review, advise and decide when the viewer does not."""
    people = {}
    for name, roles in VIEWERS.items():
        department = None
        if Role.BUSINESS_OWNER in roles:
            department = DEFAULT_DEPARTMENT
        if name == "other_owner":
            department = "Vetting Unit"
        people[name] = await make_person(*roles, username=name.replace("_", "."), department=department)
    people["writer"] = await make_person(Role.CENTRAL_TEAM, username="writer")
    people["reviewer"] = await make_person(Role.INFORMATION_ASSURANCE, username="reviewer")
    people["adviser"] = await make_person(Role.DATA_PROTECTION_OFFICER, username="adviser")
    return people


def _actions(html: str) -> set[str]:
    return set(lxml.html.fromstring(html).xpath("//form/@action"))


def _hidden(html: str, action: str) -> dict[str, str]:
    [form] = lxml.html.fromstring(html).xpath(f"//form[@action='{action}']")
    return {field.get("name"): field.get("value") or "" for field in form.xpath(".//input[@type='hidden']")}


async def _offered_and_accepted(client, viewer: str, page: str, action: str, fields: dict[str, str], fallback: dict[str, str]):
    """Open ``page`` as ``viewer``, send ``action``; return (form offered, response, audit unchanged)."""
    client.cookies.clear()
    await sign_in(client, viewer)
    opened = await client.get(page)
    assert opened.status_code == 200
    offered = action in _actions(opened.text)
    hidden = _hidden(opened.text, action) if offered else fallback
    before = await audit_head()
    response = await post_form(client, action, {**hidden, **fields})
    return offered, response, await audit_head() == before


# Review steps on the version page ------------------------------------------------------------------

REVIEW_CASES = {
    "start_review": ("submitted", {}),
    "dpo_advice": ("in_review", {"advises_approval": "yes", "summary": "Proportionate."}),
    "decision": ("dpo_advice_recorded", {"decision": "approve"}),
    "request_changes": ("dpo_advice_recorded", {"reasons": "Score risk 1 again."}),
}

ROUTES = {"start_review": "start-review", "dpo_advice": "dpo-advice", "decision": "decision", "request_changes": "request-changes"}


async def _review_state(state: str, viewer: str, cast, reference: str) -> None:
    writer = cast["author_ia"] if viewer == "author_ia" else cast["writer"]
    adviser = cast["ia_dpo_adviser"] if viewer == "ia_dpo_adviser" else cast["adviser"]
    if state == "submitted":
        await submitted(writer, reference)
    elif state == "in_review":
        view = await submitted(writer, reference)
        await service.start_review(cast["reviewer"], reference, 1, view.version)
    else:
        await advised(writer, cast["reviewer"], adviser, reference)


@pytest.mark.parametrize("viewer", list(VIEWERS))
async def test_review_forms_offered_iff_accepted(client, cast, central, viewer):
    for step, (state, fields) in REVIEW_CASES.items():
        use_case = await make_use_case(central, title=f"Use case for {step}")
        await _review_state(state, viewer, cast, use_case.reference)
        view = await assessments.latest_version(use_case.id, rules.KIND)
        base = f"/use-cases/{use_case.reference}/dpia/versions/1"
        offered, response, unchanged = await _offered_and_accepted(
            client, viewer.replace("_", "."), base, f"{base}/{ROUTES[step]}", fields, {"version": str(view.version)}
        )
        if offered:
            assert response.status_code == 303, (step, response.text)
        else:
            assert response.status_code in (403, 409), step
            assert unchanged, step


async def test_adviser_holding_ia_sees_why_not(client, cast, use_case):
    await _review_state("dpo_advice_recorded", "ia_dpo_adviser", cast, use_case.reference)
    client.cookies.clear()
    await sign_in(client, "ia.dpo.adviser")
    page = await client.get(f"/use-cases/{use_case.reference}/dpia/versions/1")
    assert "You gave the DPO advice on DPIA version 1, so another Information Assurance officer must decide on it." in page.text


async def test_queue_leaves_out_version_adviser_decides(client, cast, use_case):
    await _review_state("dpo_advice_recorded", "ia_dpo_adviser", cast, use_case.reference)
    client.cookies.clear()
    await sign_in(client, "ia.dpo.adviser")
    queue = await client.get("/dpia")
    assert use_case.reference not in queue.text


async def test_queue_lists_version_for_other_ia(client, cast, use_case):
    await _review_state("dpo_advice_recorded", "ia", cast, use_case.reference)
    client.cookies.clear()
    await sign_in(client, "ia")
    queue = await client.get("/dpia")
    assert use_case.reference in queue.text


# Steps on the overview -----------------------------------------------------------------------------

TODAY = london_today()

OVERVIEW_CASES = {
    "review_date": ("approved", "review-date", {"review_date": (TODAY + dt.timedelta(days=90)).isoformat(), "reason": "Align."}),
    "revoke": ("approved", "revoke", {"reason": "Processing changed."}),
    "condition": ("approved", "conditions", {"text": "Pen test the bot account.", "owner": "Security"}),
    # Condition 1 is open and condition 2 is met; the test puts in their ids.
    "met": ("approved", "conditions/1/met", {"note": "Briefed on 1 December."}),
    "reopen": ("approved", "conditions/2/reopen", {"reason": "Half the team missed it."}),
    "withdraw": ("approved", "conditions/1/withdraw", {"reason": "Covered elsewhere."}),
    "ico": ("approved", "ico", {"submitted_on": TODAY.isoformat()}),
    "ico_response": ("ico_pending", "ico/response", {"response": "No objection.", "response_received_on": TODAY.isoformat(), "outcome": "no_objection"}),
    "ico_reopen": ("ico_concluded", "ico/reopen", {"reason": "The ICO asked for more."}),
}


async def _overview_state(state: str, cast, reference: str) -> dict[str, str]:
    """Build ``state`` and return the condition ids and the record versions the forms carry."""
    conditions = [
        service.NewCondition("Brief the crime recorders.", "Training lead", None, True),
        service.NewCondition("Pen test the bot account.", "Security", None, True),
    ]
    view = await approved(
        cast["writer"],
        cast["reviewer"],
        cast["adviser"],
        reference,
        complete_content(residual="high"),
        action="approve_with_conditions",
        conditions=conditions,
    )
    first, second = await service.list_conditions(view.use_case_id)
    await service.mark_condition_met(cast["writer"], reference, second.id, second.version, "Tested.")
    if state in ("ico_pending", "ico_concluded"):
        ico = await service.record_ico_consultation(cast["adviser"], reference, submitted_on=TODAY)
        if state == "ico_concluded":
            await service.record_ico_response(
                cast["adviser"], reference, ico.version, response="Fine.", response_received_on=TODAY, outcome="no_objection"
            )
    state_now = await service.overview(reference)
    return {
        "number": "1",
        "version": str(state_now.latest.version),
        "condition_ids": [item.id for item in state_now.conditions],
        "condition_versions": {item.id: item.version for item in state_now.conditions},
        "ico_version": str(state_now.ico.version) if state_now.ico else "",
    }


@pytest.mark.parametrize("viewer", ["ia", "dpo", "ia_dpo", "central_viewer", "owner", "other_owner", "board"])
async def test_overview_forms_offered_iff_accepted(client, cast, central, viewer):
    for step, (state, route, fields) in OVERVIEW_CASES.items():
        use_case = await make_use_case(central, title=f"Use case for {step}")
        facts = await _overview_state(state, cast, use_case.reference)
        fallback = {"number": facts["number"], "version": facts["version"]}
        if route.startswith("conditions/"):
            condition_id = facts["condition_ids"][int(route.split("/")[1]) - 1]
            route = f"conditions/{condition_id}/{route.split('/')[2]}"
            fallback = {"version": str(facts["condition_versions"][condition_id])}
        elif route.startswith("ico/"):
            fallback = {"version": facts["ico_version"]}
        base = f"/use-cases/{use_case.reference}/dpia"
        offered, response, unchanged = await _offered_and_accepted(
            client, viewer.replace("_", "."), base, f"{base}/{route}", fields, fallback
        )
        if offered:
            assert response.status_code == 303, (step, response.text)
        else:
            assert response.status_code in (403, 409), step
            assert unchanged, step
