"""DPIA pages in every state, parsed: unique ids, labels that reach a field, error links into the right form.

Each DPIA status is built through the service, then every DPIA page is fetched by the people who
see the most forms on it. Each form is also sent empty or invalid, and its error summary must link
to fields of that same form and name each field by the label the page shows for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import lxml.html
import pytest

from governance.clock import london_today
from governance.roles import Role
from tests.support import DEFAULT_DEPARTMENT, post_form, sign_in

from dpia import service
from tests.dpia.helpers import advised, approved, complete_content, submitted

PEOPLE = {
    "owner": (Role.BUSINESS_OWNER,),
    "central.viewer": (Role.CENTRAL_TEAM,),
    "assurer": (Role.INFORMATION_ASSURANCE,),
    "adviser": (Role.DATA_PROTECTION_OFFICER,),
    "adviser.assurer": (Role.DATA_PROTECTION_OFFICER, Role.INFORMATION_ASSURANCE),
    "board": (Role.PROGRAMME_BOARD,),
}


# Parsing -----------------------------------------------------------------------------------------


def parse(html: str):
    return lxml.html.fromstring(html)


def duplicate_ids(doc) -> list[str]:
    ids = [element.get("id") for element in doc.iter() if isinstance(element.tag, str) and element.get("id")]
    return sorted({item for item in ids if ids.count(item) > 1})


def _ids(doc) -> set[str]:
    return {element.get("id") for element in doc.iter() if isinstance(element.tag, str) and element.get("id")}


def labels_without_target(doc) -> list[str]:
    ids = _ids(doc)
    return [label.get("for") for label in doc.iter("label") if label.get("for") not in ids]


def descriptions_without_target(doc) -> list[str]:
    ids = _ids(doc)
    missing = []
    for element in doc.xpath("//*[@aria-describedby]"):
        missing.extend(item for item in element.get("aria-describedby").split() if item not in ids)
    return missing


def controls_without_label(doc) -> list[str]:
    """List the visible form controls that no <label for> names."""
    targets = {label.get("for") for label in doc.iter("label")}
    controls = doc.xpath("//input[not(@type='hidden') and not(@type='submit')] | //select | //textarea")
    return [control.get("name") for control in controls if control.get("id") not in targets]


def visible_label(doc, target_id: str) -> str:
    """Return the visible label of the element with ``target_id``.

    A radio group's first radio carries the group's id, so its label is the group's legend. A
    fieldset is named by its legend, and any other element by its own text.
    """
    [element] = doc.xpath(f"//*[@id='{target_id}']")
    if element.tag == "input" and element.get("type") == "radio":
        return element.xpath("ancestor::fieldset[1]/legend")[0].text_content().strip()
    if element.tag in ("input", "select", "textarea"):
        [label] = doc.xpath(f"//label[@for='{target_id}']")
        return label.text_content().strip()
    if element.tag == "fieldset":
        return element.xpath("./legend")[0].text_content().strip()
    return " ".join(element.text_content().split()).removeprefix("Error: ")


@dataclass(frozen=True)
class SummaryLink:
    target: str
    text: str


def summary_links(doc) -> list[SummaryLink]:
    links = doc.xpath("//div[contains(@class, 'error-summary')]//ul[contains(@class, 'error-summary__list')]//a")
    return [SummaryLink(link.get("href").removeprefix("#"), link.text_content().strip()) for link in links]


def form_of(doc, target_id: str):
    forms = doc.xpath(f"//*[@id='{target_id}']/ancestor::form[1]")
    return forms[0] if forms else None


def hidden_fields(doc, action: str) -> dict[str, str]:
    [form] = doc.xpath(f"//form[@action='{action}']")
    return {field.get("name"): field.get("value") or "" for field in form.xpath(".//input[@type='hidden']")}


# Building every state ----------------------------------------------------------------------------


@pytest.fixture
async def people(make_person):
    accounts = {}
    for username, roles in PEOPLE.items():
        department = DEFAULT_DEPARTMENT if Role.BUSINESS_OWNER in roles else None
        accounts[username] = await make_person(*roles, username=username, department=department)
    accounts["writer"] = await make_person(Role.CENTRAL_TEAM, username="writer")
    accounts["ia.decider"] = await make_person(Role.INFORMATION_ASSURANCE, username="ia.decider")
    return accounts


async def _state(name: str, people, reference: str) -> None:
    """Take the use case's DPIA to the state ``name``.

    In "advised_by_viewer" the DPO advice comes from "adviser.assurer", who also has the IA role.
    """
    writer, ia, dpo = people["writer"], people["ia.decider"], people["adviser.assurer"]
    if name == "none":
        return

    if name == "draft":
        view = await service.start_version(writer, reference)
        await service.save_draft(writer, reference, 1, view.version, complete_content())
        return

    if name == "submitted":
        await submitted(writer, reference)
        return

    if name == "in_review":
        view = await submitted(writer, reference)
        await service.start_review(ia, reference, 1, view.version)
        return

    if name == "dpo_advice_recorded":
        await advised(writer, ia, people["adviser"], reference)
        return

    if name == "advised_by_viewer":
        await advised(writer, ia, dpo, reference)
        return

    if name == "changes_requested":
        view = await submitted(writer, reference)
        await service.request_changes(ia, reference, 1, view.version, "Score risk 1 again.")
        return

    if name == "rejected":
        view = await advised(writer, ia, people["adviser"], reference)
        await service.decide(ia, reference, 1, view.version, action="reject", reasons="Not proportionate.")
        return

    if name == "superseded":
        await submitted(writer, reference)
        await service.start_version(writer, reference)
        return

    if name in ("approved_with_conditions", "revoked"):
        conditions = [
            service.NewCondition("Brief the crime recorders.", "Training lead", london_today() + dt.timedelta(days=30), True),
            service.NewCondition("Pen test the bot account.", "Security", None, True),
            service.NewCondition("Report link errors monthly.", "Dan Okafor", None, False),
        ]
        view = await approved(
            writer,
            ia,
            people["adviser"],
            reference,
            complete_content(residual="high"),
            action="approve_with_conditions",
            conditions=conditions,
        )
        first, second, third = await service.list_conditions((await service.overview(reference)).use_case.id)
        await service.mark_condition_met(writer, reference, first.id, first.version, "Briefed on 1 December.")
        await service.withdraw_condition(ia, reference, third.id, third.version, "Covered by monthly reporting.")
        await service.record_ico_consultation(people["adviser"], reference, submitted_on=london_today())
        if name == "revoked":
            view = (await service.overview(reference)).latest
            await service.revoke(ia, reference, 1, view.version, "The matching rule changed.")
        return

    if name == "ico_concluded":
        await approved(writer, ia, people["adviser"], reference, complete_content(residual="high"))
        ico = await service.record_ico_consultation(people["adviser"], reference, submitted_on=london_today())
        await service.record_ico_response(
            people["adviser"], reference, ico.version, response="No objection.", response_received_on=london_today(), outcome="no_objection"
        )
        return
    raise AssertionError(f"unknown state {name}")


STATES = [
    "none",
    "draft",
    "submitted",
    "in_review",
    "dpo_advice_recorded",
    "advised_by_viewer",
    "changes_requested",
    "rejected",
    "superseded",
    "approved_with_conditions",
    "revoked",
    "ico_concluded",
]


async def _pages(client, reference: str, username: str) -> dict[str, str]:
    """Fetch every DPIA page ``username`` can open in the current state, keyed by address."""
    client.cookies.clear()
    await sign_in(client, username)
    base = f"/use-cases/{reference}/dpia"
    addresses = [base, f"/use-cases/{reference}"]
    state = await service.overview(reference)
    addresses += [f"{base}/versions/{view.number}" for view in state.versions]
    if len(state.versions) > 1:
        addresses.append(f"{base}/diff?from=1&to=2")
    if state.latest and state.latest.status == "draft":
        addresses += [f"{base}/screening", f"{base}/assessment"]
    addresses.append("/dpia")
    pages = {}
    for address in addresses:
        response = await client.get(address)
        if response.status_code == 200:
            pages[address] = response.text
    return pages


@pytest.mark.parametrize("state_name", STATES)
async def test_pages_sound_in_every_state(client, people, use_case, state_name):
    await _state(state_name, people, use_case.reference)
    for username in ("owner", "central.viewer", "assurer", "adviser", "adviser.assurer", "board"):
        pages = await _pages(client, use_case.reference, username)
        assert pages, username
        for address, html in pages.items():
            doc = parse(html)
            where = f"{address} as {username}"
            assert duplicate_ids(doc) == [], where
            assert labels_without_target(doc) == [], where
            assert descriptions_without_target(doc) == [], where
            assert controls_without_label(doc) == [], where


# Error summaries ---------------------------------------------------------------------------------


async def _send(client, page_address: str, action: str, fields: dict[str, str]):
    """Open the page, then send its form ``action`` with its hidden fields and ``fields``."""
    page = await client.get(page_address)
    assert page.status_code == 200, page_address
    return await post_form(client, action, {**hidden_fields(parse(page.text), action), **fields})


def _check_summary(html: str, action: str) -> None:
    doc = parse(html)
    links = summary_links(doc)
    assert links
    for link in links:
        form = form_of(doc, link.target)
        assert form is not None, link
        assert form.get("action") == action, link
        assert _names_target(doc, link), link
    assert duplicate_ids(doc) == []


def _names_target(doc, link: SummaryLink) -> bool:
    """True when the link's text starts with the label of the field it links to.

    A message shown in place of a hidden field starts with the same words as the summary line.
    """
    [element] = doc.xpath(f"//*[@id='{link.target}']")
    label = visible_label(doc, link.target)
    if element.tag in ("input", "select", "textarea", "fieldset"):
        return link.text.startswith(f"{label}: ")
    return label.startswith(f"{link.text.split(': ', 1)[0]} ")


# (state, person, page, form action under the DPIA's address, fields sent)
FORM_CASES = [
    ("in_review", "adviser", "versions/1", "versions/1/dpo-advice", {"advises_approval": "maybe", "summary": ""}),
    ("submitted", "assurer", "versions/1", "versions/1/request-changes", {"reasons": ""}),
    ("dpo_advice_recorded", "assurer", "versions/1", "versions/1/request-changes", {"reasons": ""}),
    ("dpo_advice_recorded", "assurer", "versions/1", "versions/1/decision", {"decision": ""}),
    (
        "dpo_advice_recorded",
        "assurer",
        "versions/1",
        "versions/1/decision",
        {
            "decision": "approve_with_conditions",
            "conditions[0].text": "",
            "conditions[0].owner": "Training lead",
            "conditions[0].due_date": "2020-01-01",
            "conditions[1].text": "Pen test.",
        },
    ),
    ("approved_with_conditions", "assurer", "", "review-date", {"review_date": "2019-01-01", "reason": ""}),
    ("approved_with_conditions", "assurer", "", "revoke", {"reason": ""}),
    ("approved_with_conditions", "assurer", "", "conditions", {"text": "", "owner": "", "due_date": "2019-01-01"}),
    ("approved_with_conditions", "owner", "", "conditions/2/met", {"note": ""}),
    ("approved_with_conditions", "assurer", "", "conditions/1/reopen", {"reason": ""}),
    ("approved_with_conditions", "assurer", "", "conditions/2/withdraw", {"reason": ""}),
    ("approved_with_conditions", "adviser", "", "ico/response", {"response": "", "response_received_on": "2099-01-01"}),
    ("ico_concluded", "adviser", "", "ico/reopen", {"reason": ""}),
    ("draft", "owner", "screening", "screening", {"screening.regimes[0].regime": "gdpr_99"}),
    ("draft", "owner", "assessment", "assessment", {"risks[0].likelihood": "certain", "measures[0].risk": "99"}),
]


@pytest.mark.parametrize(("state_name", "username", "page", "action", "fields"), FORM_CASES)
async def test_error_summary_reaches_submitted_form(client, people, use_case, state_name, username, page, action, fields):
    await _state(state_name, people, use_case.reference)
    client.cookies.clear()
    await sign_in(client, username)
    base = f"/use-cases/{use_case.reference}/dpia"
    page_address = f"{base}/{page}" if page else base
    full_action = f"{base}/{action}"
    response = await _send(client, page_address, full_action, fields)
    assert response.status_code == 422, response.text
    _check_summary(response.text, full_action)


async def test_missing_version_names_the_form(client, people, use_case):
    await _state("submitted", people, use_case.reference)
    client.cookies.clear()
    await sign_in(client, "assurer")
    action = f"/use-cases/{use_case.reference}/dpia/versions/1/request-changes"
    response = await post_form(client, action, {"reasons": ""})
    assert response.status_code == 422
    doc = parse(response.text)
    assert [link.target for link in summary_links(doc)] == ["request_changes-reasons", "request_changes-version"]
    _check_summary(response.text, action)


async def test_request_changes_summary_names_changes_needed(client, people, use_case):
    await _state("dpo_advice_recorded", people, use_case.reference)
    client.cookies.clear()
    await sign_in(client, "assurer")
    base = f"/use-cases/{use_case.reference}/dpia"
    response = await _send(client, f"{base}/versions/1", f"{base}/versions/1/request-changes", {"reasons": ""})
    links = summary_links(parse(response.text))
    assert [link.target for link in links] == ["request_changes-reasons"]
    assert links[0].text.startswith("Changes needed: ")


async def test_decision_summary_uses_condition_labels(client, people, use_case):
    await _state("dpo_advice_recorded", people, use_case.reference)
    client.cookies.clear()
    await sign_in(client, "assurer")
    base = f"/use-cases/{use_case.reference}/dpia"
    fields = {
        "decision": "approve_with_conditions",
        "conditions[0].text": "Brief the crime recorders.",
        "conditions[0].owner": "Training lead",
        "conditions[0].due_date": "2020-01-01",
    }
    response = await _send(client, f"{base}/versions/1", f"{base}/versions/1/decision", fields)
    texts = [link.text for link in summary_links(parse(response.text))]
    assert texts == [f"Condition 1: due date: must be today ({london_today():%-d %B %Y}) or later"]


async def test_submit_summary_links_reach_fields(client, people, use_case):
    await _state("none", people, use_case.reference)
    client.cookies.clear()
    await sign_in(client, "owner")
    base = f"/use-cases/{use_case.reference}/dpia"
    await post_form(client, f"{base}/start", {})
    response = await _send(client, base, f"{base}/submit", {})
    assert response.status_code == 422
    pages = {}
    for link in parse(response.text).xpath("//div[@aria-labelledby='submit-errors-title']//a"):
        address, _, target = link.get("href").partition("#")
        if address not in pages:
            pages[address] = parse((await client.get(address)).text)
        assert target in _ids(pages[address]), link.get("href")
        assert _names_target(pages[address], SummaryLink(target, link.text_content().strip())), link.get("href")


async def test_one_missing_field_reads_singular(client, people, use_case):
    await _state("draft", people, use_case.reference)
    content = complete_content()
    content["processing"]["nature"] = ""
    view = (await service.overview(use_case.reference)).latest
    await service.save_draft(people["writer"], use_case.reference, 1, view.version, content)
    client.cookies.clear()
    await sign_in(client, "owner")
    base = f"/use-cases/{use_case.reference}/dpia"
    response = await _send(client, base, f"{base}/submit", {})
    assert "Complete this field, then submit again." in response.text
    assert "these 1 field" not in response.text


async def test_submit_without_version_names_the_form(client, people, use_case):
    await _state("draft", people, use_case.reference)
    client.cookies.clear()
    await sign_in(client, "owner")
    action = f"/use-cases/{use_case.reference}/dpia/submit"
    response = await post_form(client, action, {"number": "1"})
    assert response.status_code == 422
    assert [link.target for link in summary_links(parse(response.text))] == ["submit-version"]
    _check_summary(response.text, action)
