"""Equality forms over HTTP: due dates, every problem at once, repeats and conflicts (409)."""

from __future__ import annotations

import datetime as dt

from lxml import html

from equality import characteristics, service
from equality.rules import ASSESSMENT, SCREENING
from governance.clock import format_date, london_today
from governance.roles import Role
from tests.equality.helpers import (
    ACTION_DUE,
    MITIGATION_DUE,
    approved_screening,
    hidden_version,
    post_form,
    screening_form,
    submitted_screening,
)

SCREENING_PATH = "/use-cases/UC-001/equality/screening/versions/1"
ASSESSMENT_PATH = "/use-cases/UC-001/equality/full-assessment/versions/1"
# Elements with the error-summary class, in XPath (lxml comes with python-docx, cssselect does not).
SUMMARY = "//*[contains(concat(' ', normalize-space(@class), ' '), ' error-summary ')]"


def summary_links(page: str) -> list[str]:
    """Return the targets of the links in the page's error summary, in order."""
    tree = html.fromstring(page)
    return [link.get("href") for link in tree.xpath(f"{SUMMARY}//a")]


def summary_texts(page: str) -> list[str]:
    tree = html.fromstring(page)
    return [item.text_content().strip() for item in tree.xpath(f"{SUMMARY}//li")]


def difference_rows(page: str) -> list[tuple[str, str, str]]:
    """Return (field, current value, your value) for each row of the page's table of differences."""
    tree = html.fromstring(page)
    rows = []
    for row in tree.xpath(f"{SUMMARY}//table/tbody/tr"):
        cells = [cell.text_content().strip() for cell in row.xpath("./th|./td")]
        rows.append((cells[0], cells[1], cells[2]))
    return rows


def field_value(page: str, name: str) -> str:
    """Return what a form field shows: an input's value, a textarea's text or the checked radio."""
    tree = html.fromstring(page)
    [element, *_] = tree.xpath(f'//*[@name="{name}"][not(@type="radio") or @checked]')
    if element.tag == "textarea":
        return element.text or ""
    return element.get("value", "")


async def assessment_form(people, browser, impacts: dict[str, str]):
    """Approve a screening with ``impacts``, then start the full assessment as the owner."""
    await approved_screening(people["owner"], people["lead"], "UC-001", impacts)
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/full-assessment/start", {})
    form = await owner.get(f"{ASSESSMENT_PATH}/edit")
    return owner, hidden_version(form.text)


def assessment_fields(version: str, action: str = "save") -> dict[str, str]:
    return {
        "version": version,
        "action": action,
        "impacts.disability.mitigation": "Route crimes with a communication need to staff.",
        "impacts.disability.owner": "Nadia Hussain",
        "impacts.disability.due_date": MITIGATION_DUE.isoformat(),
        "impacts.disability.remains": "no",
        "impacts.disability.justification": "",
        "action_plan[0].action": "Add the communication needs field.",
        "action_plan[0].owner": "Head of Crime Recording",
        "action_plan[0].due_date": ACTION_DUE.isoformat(),
        "engagement": "Disability advisory group consulted.",
    }


# Due dates -----------------------------------------------------------------------------------------


async def test_past_due_dates_named_by_label(people, browser):
    owner, version = await assessment_form(people, browser, {"disability": "negative"})
    fields = assessment_fields(version)
    fields["impacts.disability.due_date"] = "2020-02-03"
    fields["action_plan[0].due_date"] = "2019-01-01"
    response = await post_form(owner, f"{ASSESSMENT_PATH}/edit", fields)
    assert response.status_code == 422
    today = format_date(london_today())
    assert summary_texts(response.text) == [
        f"Disability: mitigation due by: must be today ({today}) or later",
        f"Action 1: due by: must be today ({today}) or later",
    ]
    assert summary_links(response.text) == [
        "#impacts-disability-due_date",
        "#action_plan-0-due_date",
    ]


async def test_past_due_date_not_stored(people, browser):
    owner, version = await assessment_form(people, browser, {"disability": "negative"})
    fields = assessment_fields(version)
    fields["action_plan[0].due_date"] = "2020-02-03"
    await post_form(owner, f"{ASSESSMENT_PATH}/edit", fields)
    stored = await service.get_version("UC-001", ASSESSMENT, 1)
    assert stored.content["action_plan"] == []


async def test_due_date_today_saved(people, browser):
    owner, version = await assessment_form(people, browser, {"disability": "negative"})
    fields = assessment_fields(version)
    fields["impacts.disability.due_date"] = london_today().isoformat()
    response = await post_form(owner, f"{ASSESSMENT_PATH}/edit", fields)
    assert response.status_code == 303


# Every problem at once -----------------------------------------------------------------------------


async def test_screening_submit_lists_value_and_blank_together(people, browser):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    fields = screening_form(1, {"age": "terrible"}, action="submit")
    for name in ("impact", "affected", "evidence"):
        fields[f"characteristics.race.{name}"] = ""
    response = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert response.status_code == 422
    assert summary_links(response.text) == [
        "#characteristics-age-impact",
        "#characteristics-race-impact",
        "#characteristics-race-affected",
        "#characteristics-race-evidence",
    ]


async def test_screening_submit_with_blank_keeps_draft(people, browser):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    fields = screening_form(1, action="submit")
    fields["characteristics.race.evidence"] = ""
    response = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert response.status_code == 422
    stored = await service.get_version("UC-001", SCREENING, 1)
    assert stored.status == "draft"
    assert stored.content["characteristics"]["age"]["evidence"] == "Evidence about age."
    assert hidden_version(response.text) == str(stored.version)


async def test_assessment_submit_lists_dates_and_justification(people, browser):
    owner, version = await assessment_form(people, browser, {"disability": "negative"})
    fields = assessment_fields(version, action="submit")
    fields["impacts.disability.due_date"] = "2020-02-03"
    fields["impacts.disability.remains"] = "yes"
    fields["action_plan[0].due_date"] = "31/01/2027"
    response = await post_form(owner, f"{ASSESSMENT_PATH}/edit", fields)
    assert response.status_code == 422
    assert summary_links(response.text) == [
        "#impacts-disability-due_date",
        "#impacts-disability-justification",
        "#action_plan-0-due_date",
    ]


async def test_decision_form_lists_choice_and_reasons(people, browser):
    await submitted_screening(people["owner"], "UC-001")
    lead = await browser("lead")
    page = await lead.get(SCREENING_PATH)
    response = await post_form(
        lead,
        f"{SCREENING_PATH}/decision",
        {"version": hidden_version(page.text), "summary": "x" * 8_001, "reasons": "y" * 8_001},
    )
    assert response.status_code == 422
    assert summary_links(response.text) == ["#action", "#summary", "#reasons"]


async def test_review_date_form_lists_date_and_reason(people, browser):
    view = await approved_screening(people["owner"], people["lead"], "UC-001")
    lead = await browser("lead")
    response = await post_form(
        lead,
        f"{SCREENING_PATH}/review-date",
        {"version": str(view.version), "review_date": "2001-01-01", "review_reason": ""},
    )
    assert response.status_code == 422
    assert summary_links(response.text) == ["#review_date", "#review_reason"]


async def test_local_characteristic_form_lists_every_problem(people, browser):
    await characteristics.create_local(people["admin"], label="Care experience")
    admin = await browser("admin")
    form = await admin.get("/equality/local-characteristics/care_experience")
    response = await post_form(
        admin,
        "/equality/local-characteristics/care_experience",
        {"version": hidden_version(form.text), "label": "Age", "description": "", "active": ""},
    )
    assert response.status_code == 422
    assert summary_links(response.text) == ["#label", "#active"]


async def test_form_without_version_listed_with_answers(people, browser):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    fields = screening_form(1, {"age": "terrible"})
    del fields["version"]
    response = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert response.status_code == 422
    assert summary_texts(response.text)[0].startswith("Version: the form was incomplete")
    assert summary_links(response.text) == ["#characteristics-age-impact"]


# Repeats -------------------------------------------------------------------------------------------


async def test_double_approval_shows_approved_once(people, browser):
    await submitted_screening(people["owner"], "UC-001")
    lead = await browser("lead")
    page = await lead.get(SCREENING_PATH)
    fields = {"version": hidden_version(page.text), "action": "approve"}
    first = await post_form(lead, f"{SCREENING_PATH}/decision", fields)
    second = await post_form(lead, f"{SCREENING_PATH}/decision", fields)
    assert first.status_code == 303
    assert second.status_code == 303
    shown = await lead.get(second.headers["location"])
    assert "You had already approved this version" in shown.text
    assert len(await service.sign_offs(await service.get_version("UC-001", SCREENING, 1))) == 1


async def test_double_submit_shows_submitted_once(people, browser):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    fields = screening_form(1, action="submit")
    first = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    second = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert first.status_code == 303
    assert second.status_code == 303
    shown = await owner.get(second.headers["location"])
    assert "You had already submitted this version" in shown.text


async def test_double_start_opens_the_draft(people, browser):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    again = await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    assert again.status_code == 303
    assert again.headers["location"] == f"{SCREENING_PATH}/edit"


async def test_double_revoke_shows_revoked_once(people, browser):
    view = await approved_screening(people["owner"], people["lead"], "UC-001")
    lead = await browser("lead")
    fields = {"version": str(view.version), "reason": "New evidence of harm"}
    await post_form(lead, f"{SCREENING_PATH}/revoke", fields)
    second = await post_form(lead, f"{SCREENING_PATH}/revoke", fields)
    assert second.status_code == 303
    assert second.headers["location"].endswith("?done=already_revoked")


async def test_decision_after_other_lead_keeps_reasons(people, browser, make_person):
    await make_person(Role.EQUALITY_LEAD, username="lead2")
    await submitted_screening(people["owner"], "UC-001")
    first, second = await browser("lead"), await browser("lead2")
    page = await second.get(SCREENING_PATH)
    version = hidden_version(page.text)
    await post_form(first, f"{SCREENING_PATH}/decision", {"version": version, "action": "approve"})
    response = await post_form(
        second,
        f"{SCREENING_PATH}/decision",
        {"version": version, "action": "request_changes", "reasons": "Say more about age."},
    )
    assert response.status_code == 409
    assert "Equality screening version 1 is approved, not waiting for a decision." in response.text
    assert difference_rows(response.text) == [
        (
            "Decision on equality screening version 1",
            "Approve: due regard has been shown",
            "Request changes",
        ),
        ("Reasons", "Not given", "Say more about age."),
    ]


# Conflicts -----------------------------------------------------------------------------------------


async def test_draft_conflict_keeps_answers_and_lists_changes(people, browser, central):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    opened = await owner.get(f"{SCREENING_PATH}/edit")
    stale = hidden_version(opened.text)

    # Someone else saves the draft with a positive impact on age meanwhile.
    partial = {"characteristics": {"age": {"impact": "positive"}}}
    await service.save_draft(central, "UC-001", SCREENING, 1, int(stale), partial)

    fields = screening_form(int(stale))
    fields["characteristics.sex.evidence"] = "Staff rota data."
    response = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert response.status_code == 409
    assert "Someone else saved this draft after you opened it" in response.text
    rows = difference_rows(response.text)
    assert ("Age: likely impact", "Positive", "Neutral") in rows
    assert ("Sex: evidence", "Not given", "Staff rota data.") in rows
    assert field_value(response.text, "characteristics.sex.evidence") == "Staff rota data."
    current = await service.get_version("UC-001", SCREENING, 1)
    assert hidden_version(response.text) == str(current.version)
    assert current.content["characteristics"]["age"]["impact"] == "positive"


async def test_second_save_after_conflict_replaces_draft(people, browser, central):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    view = await service.get_version("UC-001", SCREENING, 1)
    await service.save_draft(
        central, "UC-001", SCREENING, 1, view.version, {"proposal": "Written by someone else."}
    )
    conflict = await post_form(owner, f"{SCREENING_PATH}/edit", screening_form(view.version))
    assert conflict.status_code == 409
    fields = screening_form(int(hidden_version(conflict.text)))
    again = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert again.status_code == 303


async def test_edit_after_submission_shows_unsaved_answers(people, browser):
    owner = await browser("owner")
    await post_form(owner, "/use-cases/UC-001/equality/screening/start", {})
    opened = await owner.get(f"{SCREENING_PATH}/edit")
    version = int(hidden_version(opened.text))
    await post_form(owner, f"{SCREENING_PATH}/edit", screening_form(version, action="submit"))
    response = await post_form(
        owner, f"{SCREENING_PATH}/edit", screening_form(version, {"race": "negative"})
    )
    assert response.status_code == 409
    assert "is submitted, so it can no longer be changed" in response.text
    assert difference_rows(response.text) == [("Race: likely impact", "Neutral", "Negative")]


async def test_review_date_conflict_keeps_input(people, browser, make_person):
    await make_person(Role.EQUALITY_LEAD, username="lead2")
    view = await approved_screening(people["owner"], people["lead"], "UC-001")
    sooner = london_today() + dt.timedelta(days=30)
    later = london_today() + dt.timedelta(days=60)
    await service.change_review_date(
        people["lead"], "UC-001", SCREENING, 1, view.version, sooner, "Survey results due"
    )
    lead2 = await browser("lead2")
    response = await post_form(
        lead2,
        f"{SCREENING_PATH}/review-date",
        {
            "version": str(view.version),
            "review_date": later.isoformat(),
            "review_reason": "Pilot extended",
        },
    )
    assert response.status_code == 409
    assert "so your new review date was not recorded" in response.text
    assert ("New review date", format_date(sooner), format_date(later)) in difference_rows(
        response.text
    )
    assert field_value(response.text, "review_reason") == "Pilot extended"


async def test_revoke_conflict_keeps_reason(people, browser, make_person):
    await make_person(Role.EQUALITY_LEAD, username="lead2")
    view = await approved_screening(people["owner"], people["lead"], "UC-001")
    await service.revoke(people["lead"], "UC-001", SCREENING, 1, view.version, "Process changed")
    lead2 = await browser("lead2")
    response = await post_form(
        lead2,
        f"{SCREENING_PATH}/revoke",
        {"version": str(view.version), "reason": "Complaint received"},
    )
    assert response.status_code == 409
    assert difference_rows(response.text) == [
        ("Reason for revoking", "Process changed", "Complaint received")
    ]


async def test_local_characteristic_conflict_lists_changes(people, browser):
    view = await characteristics.create_local(people["admin"], label="Care experience")
    await characteristics.update_local(
        people["admin"], view.key, view.version, description="Includes kinship care."
    )
    admin = await browser("admin")
    response = await post_form(
        admin,
        "/equality/local-characteristics/care_experience",
        {"version": str(view.version), "label": "Care leavers", "description": "", "active": "yes"},
    )
    assert response.status_code == 409
    assert difference_rows(response.text) == [
        ("Name", "Care experience", "Care leavers"),
        ("Description (optional)", "Includes kinship care.", "Not given"),
    ]
    assert field_value(response.text, "label") == "Care leavers"
    current = await characteristics.get_local("care_experience")
    assert hidden_version(response.text) == str(current.version)
