"""Markup checks on every equality page state: unique ids, a label for every input, and
error-summary links that lead somewhere.

Each state of the screening and the full assessment is opened by the author and by an equality lead
(who see different forms), together with the pages that show form errors (422) and conflicts (409).
"""

from __future__ import annotations

from collections import Counter

import pytest
from lxml import html

from equality import characteristics, service
from equality.rules import SCREENING
from governance.roles import Role
from tests.equality.helpers import (
    REFERENCE,
    STATES,
    approved_screening,
    hidden_version,
    post_form,
    screening_form,
    submitted_screening,
)
from tests.support import DEFAULT_DEPARTMENT, make_use_case

EQUALITY = f"/use-cases/{REFERENCE}/equality"
SCREENING_PATH = f"{EQUALITY}/screening/versions/1"
# Controls that a person fills in or chooses, so each needs a label.
LABELLED = "//input[not(@type='hidden' or @type='submit' or @type='button')]|//textarea|//select"
SUMMARY = "//*[contains(concat(' ', normalize-space(@class), ' '), ' error-summary ')]"


def markup_problems(page: str) -> list[str]:
    """Return each duplicate id, unlabelled control and link or reference to a missing id."""
    tree = html.fromstring(page)
    ids = tree.xpath("//@id")
    problems = [f"duplicate id {name!r}" for name, count in Counter(ids).items() if count > 1]
    known = set(ids)
    labelled = set(tree.xpath("//label/@for"))
    for control in tree.xpath(LABELLED):
        name = control.get("name")
        if control.get("aria-label") or control.xpath("ancestor::label"):
            continue
        if control.get("id") not in labelled:
            problems.append(f"no label for the control {name!r}")
    for href in tree.xpath(f"{SUMMARY}//a/@href"):
        if not href.startswith("#") or href[1:] not in known:
            problems.append(f"error summary link {href!r} has no target")
    for attribute in ("aria-describedby", "aria-labelledby"):
        for value in tree.xpath(f"//@{attribute}"):
            for name in value.split():
                if name not in known:
                    problems.append(f"{attribute} names the missing id {name!r}")
    return problems


async def page_addresses(client) -> list[str]:
    """Return the equality pages reachable from the overview: versions, edit forms and changes."""
    overview = await client.get(EQUALITY)
    addresses = {EQUALITY}
    for href in html.fromstring(overview.text).xpath("//a/@href"):
        if href.startswith(f"{EQUALITY}/") and not href.endswith(".docx"):
            addresses.add(href)
    for address in sorted(addresses):
        if "/versions/" in address and not address.endswith(("/edit", "/changes")):
            addresses.add(f"{address}/changes")
            page = await client.get(address)
            for href in html.fromstring(page.text).xpath("//a/@href"):
                if href.endswith("/edit"):
                    addresses.add(href)
    return sorted(addresses)


@pytest.mark.parametrize("state", list(STATES))
async def test_state_pages_markup(make_person, central, browser, state):
    await make_use_case(central)
    owner = await make_person(Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT)
    lead = await make_person(Role.EQUALITY_LEAD, username="lead")
    await STATES[state](owner, lead)
    for username in ("owner", "lead"):
        client = await browser(username)
        for address in await page_addresses(client):
            response = await client.get(address)
            assert response.status_code == 200, address
            assert markup_problems(response.text) == [], f"{address} as {username}"


async def test_lead_and_admin_pages_markup(make_person, central, browser):
    await make_use_case(central)
    owner = await make_person(Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT)
    await make_person(Role.EQUALITY_LEAD, username="lead")
    admin = await make_person(Role.ADMINISTRATOR, username="admin")
    await submitted_screening(owner, REFERENCE)
    await characteristics.create_local(admin, label="Care experience")
    for username in ("lead", "admin"):
        client = await browser(username)
        for address in ("/", "/equality", "/equality/local-characteristics"):
            response = await client.get(address)
            assert markup_problems(response.text) == [], f"{address} as {username}"
    client = await browser("admin")
    response = await client.get("/equality/local-characteristics/care_experience")
    assert markup_problems(response.text) == []


# Pages that show errors and conflicts --------------------------------------------------------------


async def test_screening_errors_markup(people, browser):
    owner = await browser("owner")
    await post_form(owner, f"{EQUALITY}/screening/start", {})
    fields = screening_form(1, {"age": "terrible"}, action="submit")
    fields["characteristics.race.impact"] = ""
    fields["outcome"] = "no_full_assessment_needed"
    del fields["version"]
    response = await post_form(owner, f"{SCREENING_PATH}/edit", fields)
    assert response.status_code == 422
    assert markup_problems(response.text) == []


async def test_assessment_errors_markup(people, browser):
    await approved_screening(people["owner"], people["lead"], REFERENCE, {"disability": "negative"})
    owner = await browser("owner")
    await post_form(owner, f"{EQUALITY}/full-assessment/start", {})
    path = f"{EQUALITY}/full-assessment/versions/1"
    form = await owner.get(f"{path}/edit")
    response = await post_form(
        owner,
        f"{path}/edit",
        {
            "version": hidden_version(form.text),
            "action": "submit",
            "impacts.disability.due_date": "2020-02-03",
            "impacts.disability.remains": "yes",
            "action_plan[0].due_date": "soon",
        },
    )
    assert response.status_code == 422
    assert markup_problems(response.text) == []


async def test_draft_conflict_markup(people, browser, central):
    owner = await browser("owner")
    await post_form(owner, f"{EQUALITY}/screening/start", {})
    view = await service.get_version(REFERENCE, SCREENING, 1)
    await service.save_draft(central, REFERENCE, SCREENING, 1, view.version, {"proposal": "Other"})
    response = await post_form(owner, f"{SCREENING_PATH}/edit", screening_form(view.version))
    assert response.status_code == 409
    assert markup_problems(response.text) == []


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        ("decision", {"action": "reject", "summary": "x" * 8_001}),
        ("review-date", {"review_date": "2001-01-01", "review_reason": ""}),
        ("revoke", {"reason": ""}),
    ],
)
async def test_version_form_errors_markup(people, browser, form, fields):
    if form == "decision":
        view = await submitted_screening(people["owner"], REFERENCE)
    else:
        view = await approved_screening(people["owner"], people["lead"], REFERENCE)
    lead = await browser("lead")
    response = await post_form(
        lead, f"{SCREENING_PATH}/{form}", {"version": str(view.version), **fields}
    )
    assert response.status_code == 422
    assert markup_problems(response.text) == []


async def test_version_form_conflict_markup(people, browser):
    view = await approved_screening(people["owner"], people["lead"], REFERENCE)
    lead = await browser("lead")
    response = await post_form(
        lead,
        f"{SCREENING_PATH}/review-date",
        {"version": str(view.version - 1), "review_date": "2027-09-01", "review_reason": "Pilot"},
    )
    assert response.status_code == 409
    assert markup_problems(response.text) == []


async def test_start_refused_markup(people, browser):
    owner = await browser("owner")
    response = await post_form(owner, f"{EQUALITY}/full-assessment/start", {})
    assert response.status_code == 409
    assert markup_problems(response.text) == []


async def test_local_characteristic_errors_markup(people, browser):
    view = await characteristics.create_local(people["admin"], label="Care experience")
    admin = await browser("admin")
    added = await post_form(admin, "/equality/local-characteristics", {"label": "", "key": "X!"})
    assert added.status_code == 422
    assert markup_problems(added.text) == []
    changed = await post_form(
        admin,
        "/equality/local-characteristics/care_experience",
        {"version": str(view.version + 1), "label": "Care leavers", "active": "yes"},
    )
    assert changed.status_code == 409
    assert markup_problems(changed.text) == []


def test_markup_check_finds_problems():
    page = """<html><body>
      <div class="error-summary"><a href="#gone">Gone</a></div>
      <p id="twice"></p><p id="twice"></p>
      <input name="orphan" id="orphan">
      <textarea name="described" id="described" aria-describedby="missing-hint"></textarea>
      <label for="described">Described</label>
    </body></html>"""
    assert markup_problems(page) == [
        "duplicate id 'twice'",
        "no label for the control 'orphan'",
        "error summary link '#gone' has no target",
        "aria-describedby names the missing id 'missing-hint'",
    ]
