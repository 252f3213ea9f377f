"""Every equality link and form a page offers works for the person who sees it.

For each state of the screening and the full assessment, and for each demo role and some accounts
holding two roles, the test opens the equality pages, follows every equality link and sends every
form with plausible answers. A link that gets 403 or 404, or a form that gets 403 or 409, is a
control offered to someone the server then refuses.
"""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import html

from governance.clock import london_today
from governance.roles import Role
from tests.equality.helpers import (
    REFERENCE,
    STATES,
    assessment_before_screening_approved,
    post_form,
    submitted_screening,
)
from tests.support import DEFAULT_DEPARTMENT, make_use_case

EQUALITY = f"/use-cases/{REFERENCE}/equality"

# Viewers: each demo role, and accounts holding two roles. "author" marks the viewer who wrote
# every version; other viewers see versions written by the department's business owner.
VIEWERS: dict[str, tuple[tuple[Role, ...], str, bool]] = {
    "business owner (author)": ((Role.BUSINESS_OWNER,), DEFAULT_DEPARTMENT, True),
    "business owner of another department": ((Role.BUSINESS_OWNER,), "Vetting Unit", False),
    "central team": ((Role.CENTRAL_TEAM,), DEFAULT_DEPARTMENT, False),
    "equality lead": ((Role.EQUALITY_LEAD,), DEFAULT_DEPARTMENT, False),
    "central team and equality lead (author)": (
        (Role.CENTRAL_TEAM, Role.EQUALITY_LEAD),
        DEFAULT_DEPARTMENT,
        True,
    ),
    "central team and equality lead": (
        (Role.CENTRAL_TEAM, Role.EQUALITY_LEAD),
        DEFAULT_DEPARTMENT,
        False,
    ),
    "information assurance": ((Role.INFORMATION_ASSURANCE,), DEFAULT_DEPARTMENT, False),
    "data protection officer": ((Role.DATA_PROTECTION_OFFICER,), DEFAULT_DEPARTMENT, False),
    "programme board": ((Role.PROGRAMME_BOARD,), DEFAULT_DEPARTMENT, False),
    "administrator": ((Role.ADMINISTRATOR,), DEFAULT_DEPARTMENT, False),
}


# The order in which the test sends the forms it found. Each form changes the record. Forms that end
# a version's current state (revoking, starting the next version) go last, because the other forms
# would disappear before the test reaches them.
FORM_ORDER = ("/review-date", "/decision", "/edit", "/submit", "/revoke", "/start")


def form_rank(action: str) -> int:
    for rank, ending in enumerate(FORM_ORDER):
        if action.endswith(ending):
            return rank
    return len(FORM_ORDER)


def equality_links(page: str) -> set[str]:
    """Return the addresses of the page's links into the equality pages, without fragments."""
    tree = html.fromstring(page)
    links = set()
    for href in tree.xpath("//a/@href"):
        address = href.split("#")[0]
        if address.startswith((EQUALITY, "/equality")):
            links.add(address)
    return links


def form_actions(page: str) -> list[str]:
    tree = html.fromstring(page)
    return [
        form.get("action")
        for form in tree.xpath("//form")
        if form.get("action", "").startswith((EQUALITY, "/equality"))
    ]


def filled(page: str, action: str) -> dict[str, str] | None:
    """Return plausible values for the form posting to ``action``, or None if ``page`` lacks it."""
    tree = html.fromstring(page)
    forms = [form for form in tree.xpath("//form") if form.get("action") == action]
    if not forms:
        return None
    fields: dict[str, str] = {}
    later = (london_today() + dt.timedelta(days=30)).isoformat()
    for element in forms[0].xpath(".//input|.//textarea|.//select|.//button"):
        name = element.get("name")
        kind = element.get("type", "")
        if not name or name == "_csrf_token" or name in fields:
            continue
        if element.tag == "button":
            fields[name] = element.get("value", "")
        elif kind == "hidden":
            fields[name] = element.get("value", "")
        elif kind == "radio":
            fields[name] = element.get("value", "")  # the first option
        elif kind == "date":
            fields[name] = later
        elif element.tag == "select":
            options = element.xpath(".//option[@value!='']/@value")
            fields[name] = options[0] if options else ""
        else:
            fields[name] = "Answer given in the test."
    return fields


@pytest.mark.parametrize("viewer", list(VIEWERS))
@pytest.mark.parametrize("state", list(STATES))
async def test_offered_controls_work(make_person, central, browser, state, viewer):
    await make_use_case(central)
    roles, department, is_author = VIEWERS[viewer]
    person = await make_person(*roles, username="viewer", department=department)
    # The author and the deciding lead never sign in, so they need no password (hashing is slow).
    owner = await make_person(
        Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT, password=None
    )
    lead = await make_person(Role.EQUALITY_LEAD, username="lead", password=None)
    await STATES[state](person if is_author else owner, lead)
    client = await browser("viewer")

    pages = ["/", f"/use-cases/{REFERENCE}", EQUALITY]
    seen: set[str] = set()
    forms: list[tuple[str, str]] = []
    while pages:
        address = pages.pop()
        if address in seen or address.endswith(".docx"):
            continue
        seen.add(address)
        response = await client.get(address)
        assert response.status_code == 200, (
            f"{viewer} was offered {address}: {response.status_code}"
        )
        forms += [(address, action) for action in form_actions(response.text)]
        pages += sorted(equality_links(response.text) - seen)

    tried = set()
    for address, action in sorted(forms, key=lambda item: form_rank(item[1])):
        if action in tried:
            continue
        tried.add(action)
        page = await client.get(address)
        fields = filled(page.text, action)
        if fields is None:
            continue  # An earlier form changed the record, and the page no longer offers this one.
        response = await post_form(client, action, fields)
        assert response.status_code in (200, 303, 422), (
            f"{viewer} was offered the form {action} on {address}: {response.status_code}"
        )


async def test_author_lead_not_asked_to_decide_own_version(make_person, central, browser):
    await make_use_case(central)
    both = await make_person(
        Role.CENTRAL_TEAM, Role.EQUALITY_LEAD, username="both", department=DEFAULT_DEPARTMENT
    )
    await submitted_screening(both, REFERENCE)
    client = await browser("both")
    home = await client.get("/")
    assert "Decide: UC-001" not in home.text
    queue = await client.get("/equality")
    assert "so another equality lead must decide it" in queue.text


async def test_approve_hidden_until_screening_approved(make_person, central, browser):
    await make_use_case(central)
    owner = await make_person(Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT)
    await make_person(Role.EQUALITY_LEAD, username="lead")
    await assessment_before_screening_approved(owner, owner)
    client = await browser("lead")
    page = await client.get(f"{EQUALITY}/full-assessment/versions/1")
    tree = html.fromstring(page.text)
    choices = tree.xpath('//input[@name="action"]/@value')
    assert choices == ["request_changes", "reject"]
    assert "You cannot approve this version now." in page.text
