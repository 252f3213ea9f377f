"""Equality pages through real HTTP: forms, error summaries, the lead's queue and the whole journey."""

from __future__ import annotations

import io

from docx import Document

from equality import service
from equality.rules import SCREENING
from governance.roles import Role
from tests.equality.helpers import (
    ACTION_DUE,
    MITIGATION_DUE,
    approved_assessment,
    approved_screening,
    hidden_version,
    post_form,
    screening_data,
    screening_form,
    sign_in,
    submitted_screening,
)
from tests.support import DEFAULT_DEPARTMENT, make_use_case

SCREENING_PATH = "/use-cases/UC-001/equality/screening/versions/1"


# Error summaries -----------------------------------------------------------------------------------


async def test_invalid_impact_shows_error_summary(people, browser):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    fields = screening_form(1, {"race": "awful"})
    response = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    assert 'href="#characteristics-race-impact"' in response.text
    assert "Race: likely impact" in response.text


async def test_submit_incomplete_lists_unanswered(people, browser):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    fields = screening_form(1, action="submit")
    del fields["characteristics.sexual_orientation.impact"]
    response = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert response.status_code == 422
    assert 'href="#characteristics-sexual_orientation-impact"' in response.text
    assert "Sexual orientation: likely impact" in response.text
    saved = await service.get_version("UC-001", SCREENING, 1)
    assert saved.status == "draft"
    assert saved.content["characteristics"]["age"]["impact"] == "neutral"


async def test_outcome_cannot_be_chosen_on_page(people, browser):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    response = await owner.get(f"{SCREENING_PATH}/edit")
    assert 'name="outcome"' not in response.text


async def test_decision_without_choice_shows_error(people, browser):
    await submitted_screening(people["owner"], "UC-001")
    lead = await browser("lead")
    page = await lead.get(SCREENING_PATH)
    response = await post_form(
        lead, f"{SCREENING_PATH}/decision", {"version": hidden_version(page.text)}
    )
    assert response.status_code == 422
    assert 'href="#action"' in response.text


async def test_request_changes_needs_reasons_on_page(people, browser):
    await submitted_screening(people["owner"], "UC-001")
    lead = await browser("lead")
    page = await lead.get(SCREENING_PATH)
    response = await post_form(
        lead,
        f"{SCREENING_PATH}/decision",
        {"version": hidden_version(page.text), "action": "request_changes"},
    )
    assert response.status_code == 422
    assert 'href="#reasons"' in response.text


async def test_stale_decision_shows_conflict(people, browser):
    await submitted_screening(people["owner"], "UC-001")
    lead = await browser("lead")
    response = await post_form(
        lead, f"{SCREENING_PATH}/decision", {"version": "1", "action": "approve"}
    )
    assert response.status_code == 409
    assert "Someone else changed equality screening version 1" in response.text


async def test_self_approval_refused_on_page(make_person, central, browser):
    await make_use_case(central)
    both = await make_person(
        Role.BUSINESS_OWNER, Role.EQUALITY_LEAD, username="both", department=DEFAULT_DEPARTMENT
    )
    view = await submitted_screening(both, "UC-001")
    client = await browser("both")
    page = await client.get(SCREENING_PATH)
    assert "another equality lead must decide it" in page.text
    response = await post_form(
        client, f"{SCREENING_PATH}/decision", {"version": str(view.version), "action": "approve"}
    )
    assert response.status_code == 403


async def test_author_cannot_post_decision(people, browser):
    view = await submitted_screening(people["owner"], "UC-001")
    owner = await browser("owner")
    response = await post_form(
        owner, f"{SCREENING_PATH}/decision", {"version": str(view.version), "action": "approve"}
    )
    assert response.status_code == 403


async def test_review_date_error_on_page(people, browser):
    view = await approved_screening(people["owner"], people["lead"], "UC-001")
    lead = await browser("lead")
    response = await post_form(
        lead,
        f"{SCREENING_PATH}/review-date",
        {"version": str(view.version), "review_date": "2001-01-01", "review_reason": ""},
    )
    assert response.status_code == 422
    assert 'href="#review_date"' in response.text


# Lead's pages and local characteristics -------------------------------------------------------------


async def test_lead_sees_nav_and_queue(people, browser):
    await submitted_screening(people["owner"], "UC-001")
    lead = await browser("lead")
    home = await lead.get("/")
    assert 'href="/equality"' in home.text
    assert "Decide: UC-001 equality screening version 1" in home.text
    queue = await lead.get("/equality")
    assert "First version" in queue.text


async def test_board_cannot_open_lead_queue(people, browser):
    board = await browser("board")
    response = await board.get("/equality")
    assert response.status_code == 403


async def test_author_queue_shows_changes_requested(people, browser):
    view = await submitted_screening(people["owner"], "UC-001")
    await service.decide(
        people["lead"],
        "UC-001",
        SCREENING,
        1,
        view.version,
        "request_changes",
        reasons="More evidence",
    )
    owner = await browser("owner")
    home = await owner.get("/")
    assert "Changes requested: UC-001 equality screening version 1" in home.text


async def test_local_characteristic_added_on_page(people, browser):
    admin = await browser("admin")
    empty = await post_form(admin, "/equality/local-characteristics", {"label": ""})
    assert empty.status_code == 422
    assert 'href="#label"' in empty.text
    added = await post_form(
        admin, "/equality/local-characteristics", {"label": "Socio-economic status"}
    )
    assert added.status_code == 303
    listing = await admin.get("/equality/local-characteristics")
    assert "socio_economic_status" in listing.text


async def test_local_characteristic_deactivated_on_page(people, browser):
    admin = await browser("admin")
    await post_form(admin, "/equality/local-characteristics", {"label": "Care experience"})
    form = await admin.get("/equality/local-characteristics/care_experience")
    response = await post_form(
        admin,
        "/equality/local-characteristics/care_experience",
        {
            "version": hidden_version(form.text),
            "label": "Care experience",
            "description": "",
            "active": "no",
        },
    )
    assert response.status_code == 303
    listing = await admin.get("/equality/local-characteristics")
    assert "Inactive" in listing.text


async def test_lead_cannot_add_local_characteristic(people, browser):
    lead = await browser("lead")
    response = await post_form(
        lead, "/equality/local-characteristics", {"label": "Care experience"}
    )
    assert response.status_code == 403


# The journey ---------------------------------------------------------------------------------------


async def test_journey_screening_to_export(people, browser):
    owner = await browser("owner")
    lead = await browser("lead")

    started = await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    assert started.headers["location"] == f"{SCREENING_PATH}/edit"
    form = await owner.get(started.headers["location"])
    assert "Disability: likely impact" in form.text

    fields = screening_form(
        int(hidden_version(form.text)), {"disability": "negative"}, action="submit"
    )
    submitted = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert submitted.status_code == 303
    version_page = await owner.get(submitted.headers["location"])
    assert "Full assessment required" in version_page.text

    page = await lead.get(SCREENING_PATH)
    approved = await post_form(
        lead,
        f"{SCREENING_PATH}/decision",
        {"version": hidden_version(page.text), "action": "approve"},
    )
    assert approved.status_code == 303

    overview = await owner.get("/use-cases/UC-001/equality")
    assert "Start the full assessment" in overview.text
    started = await post_form(owner, "/use-cases/UC-001/equality/full-assessment/start", {})
    assessment_path = "/use-cases/UC-001/equality/full-assessment/versions/1"
    assert started.headers["location"] == f"{assessment_path}/edit"
    form = await owner.get(started.headers["location"])
    assert "Disability: mitigation" in form.text

    fields = {
        "version": hidden_version(form.text),
        "action": "submit",
        "impacts.disability.mitigation": "Route crimes with a communication need to staff.",
        "impacts.disability.owner": "Nadia Hussain",
        "impacts.disability.due_date": MITIGATION_DUE.isoformat(),
        "impacts.disability.remains": "no",
        "impacts.disability.justification": "",
        "action_plan[0].action": "Add the communication needs field.",
        "action_plan[0].owner": "Head of Crime Recording",
        "action_plan[0].due_date": ACTION_DUE.isoformat(),
        "action_plan[1].action": "",
        "action_plan[1].owner": "",
        "action_plan[1].due_date": "",
        "engagement": "Disability advisory group consulted.",
    }
    submitted = await post_form(owner, f"{assessment_path}/edit", fields)
    assert submitted.status_code == 303, submitted.text

    page = await lead.get(assessment_path)
    approved = await post_form(
        lead,
        f"{assessment_path}/decision",
        {
            "version": hidden_version(page.text),
            "action": "approve",
            "summary": "Mitigations are proportionate.",
        },
    )
    assert approved.status_code == 303

    use_case_page = await owner.get("/use-cases/UC-001")
    assert "Open the equality record" in use_case_page.text
    assert "Passed" in use_case_page.text

    export = await owner.get(f"{assessment_path}/export.docx")
    assert export.status_code == 200
    document = Document(io.BytesIO(export.content))
    text = "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert "Route crimes with a communication need to staff." in text
    assert "Mitigations are proportionate." in text


async def test_assessment_form_error_summary(people, browser):
    await approved_screening(people["owner"], people["lead"], "UC-001", {"disability": "negative"})
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/full-assessment/start", {})
    path = "/use-cases/UC-001/equality/full-assessment/versions/1"
    form = await owner.get(f"{path}/edit")
    response = await post_form(
        owner,
        f"{path}/edit",
        {
            "version": hidden_version(form.text),
            "action": "save",
            "impacts.disability.due_date": "next March",
        },
    )
    assert response.status_code == 422
    assert 'href="#impacts-disability-due_date"' in response.text
    assert "Disability: mitigation due by" in response.text


async def test_changes_page_lists_changes(people, browser):
    await approved_screening(people["owner"], people["lead"], "UC-001")
    view = await service.start_version(people["owner"], "UC-001", SCREENING)
    content = service.editable_input(SCREENING, view.content)
    content["characteristics"]["age"]["impact"] = "positive"
    await service.save_draft(people["owner"], "UC-001", SCREENING, 2, view.version, content)
    board = await browser("board")
    response = await board.get("/use-cases/UC-001/equality/screening/versions/2/changes")
    assert "characteristics.age.impact" in response.text
    assert "the last approved version before it" in response.text


async def test_history_names_equality_records(client, owner, lead, use_case):
    await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    await approved_assessment(owner, lead, use_case.reference, ["disability"])
    await sign_in(client, owner.username)
    page = await client.get(f"/use-cases/{use_case.reference}/history")
    assert '<p class="timeline__title">Equality screening approved</p>' in page.text
    assert '<p class="timeline__title">Full equality impact assessment approved</p>' in page.text


async def test_history_names_equality_fields(client, owner, lead, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    data = screening_data({"disability": "negative"})
    view = await service.save_draft(owner, use_case.reference, SCREENING, 1, view.version, data)
    data["characteristics"]["disability"]["impact"] = "not_known"
    await service.save_draft(owner, use_case.reference, SCREENING, 1, view.version, data)
    await sign_in(client, owner.username)
    page = await client.get(f"/use-cases/{use_case.reference}/history")
    assert '<th scope="row">Disability: likely impact</th><td>negative</td><td>not_known</td>' in page.text
