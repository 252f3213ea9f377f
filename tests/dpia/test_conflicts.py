"""A DPIA form that meets a 409 comes back with what was typed and what changed meanwhile.

Pages fetched before a change stand for open tabs; another person's change is made through the
service. A repeat of one's own step, such as a double click, is treated as done.
"""

from __future__ import annotations

import datetime as dt
import re

import lxml.html
import pytest

from governance import assessments
from governance.clock import london_today
from governance.roles import Role
from tests.support import DEFAULT_DEPARTMENT, post_form, sign_in, token_headers

from dpia import conflicts, rules, service
from dpia.tables import Condition, IcoConsultation
from tests.dpia.helpers import advised, approved, complete_content, submitted


# Merging, as pure functions -------------------------------------------------------------------------


def test_merge_takes_their_change_to_untouched_field():
    merge = conflicts.merge_form({"a": "1", "b": "1"}, {"a": "2", "b": "1"}, {"a": "1", "b": "mine"})
    assert merge.values == {"a": "2", "b": "mine"}


def test_merge_keeps_yours_where_both_changed():
    merge = conflicts.merge_form({"a": "1"}, {"a": "theirs"}, {"a": "mine"})
    assert merge.values == {"a": "mine"}
    assert [item.name for item in merge.clashes] == ["a"]


def test_merge_adds_their_new_row():
    merge = conflicts.merge_form({}, {"risks[1].description": "New"}, {"risks[0].description": "Old"})
    assert merge.values["risks[1].description"] == "New"


def test_merge_unticks_box_they_cleared():
    merge = conflicts.merge_form({"box": "yes"}, {}, {"box": "yes"})
    assert "box" not in merge.values


def test_merge_ignores_windows_line_ends():
    merge = conflicts.merge_form({"a": "one\ntwo"}, {"a": "one\ntwo"}, {"a": "one\r\ntwo"})
    assert merge.fields == []


def test_double_click_has_nothing_to_save():
    saved = {"a": "mine", "b": "1"}
    merge = conflicts.merge_form({"a": "1", "b": "1"}, saved, {"a": "mine", "b": "1"})
    assert conflicts.nothing_to_save(merge, saved, {"a", "b"})


def test_compare_lists_every_difference():
    merge = conflicts.compare_form({"a": "saved", "b": "same"}, {"a": "mine", "b": "same"})
    assert [(item.name, item.clash) for item in merge.fields] == [("a", True)]
    assert merge.values == {"a": "mine", "b": "same"}


def _entry(action: str, before=None, after=None) -> dict:
    return {"action": action, "before": before, "after": after}


def test_entries_since_follow_the_lock():
    entries = [
        _entry("dpia.version_started", after={"status": "draft", "version": 1}),
        _entry("dpia.draft_saved", before={"n": 0}, after={"n": 1}),
        _entry("dpia.draft_saved", before={"n": 1}, after={"n": 2}),
        _entry("dpia.submit", after={"status": "submitted", "version": 4}),
        _entry("dpia.signed", after={"meaning": "x"}),
    ]
    later, base = conflicts.version_entries_since(entries, 2)
    assert [entry["action"] for entry in later] == ["dpia.draft_saved", "dpia.submit", "dpia.signed"]
    assert base == {"n": 1}


def test_entries_since_first_version():
    entries = [
        _entry("dpia.version_started", after={"status": "draft", "version": 1}),
        _entry("dpia.draft_saved", before={"n": 0}, after={"n": 1}),
    ]
    _, base = conflicts.version_entries_since(entries, 1)
    assert base == {"n": 0}


def test_record_entries_since_use_snapshot_version():
    entries = [_entry("dpia.condition_added", after={"version": 1}), _entry("dpia.condition_met", after={"version": 2})]
    assert [entry["action"] for entry in conflicts.record_entries_since(entries, 1)] == ["dpia.condition_met"]


# Pages --------------------------------------------------------------------------------------------


@pytest.fixture
async def people(make_person):
    return {
        "owner": await make_person(Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT),
        "co.author": await make_person(Role.CENTRAL_TEAM, username="co.author"),
        "assurer": await make_person(Role.INFORMATION_ASSURANCE, username="assurer"),
        "assurer.two": await make_person(Role.INFORMATION_ASSURANCE, username="assurer.two"),
        "adviser": await make_person(Role.DATA_PROTECTION_OFFICER, username="adviser"),
    }


@pytest.fixture
def tabs(client):
    """Return a function that signs the test's browser in as a person; its pages stand for open tabs.

    Pages fetched before a change keep the record version they were opened on, as a tab does. A
    change by someone else is made through the service.
    """

    async def open_as(username: str):
        client.cookies.clear()
        await sign_in(client, username)
        return client

    return open_as


def _doc(html: str):
    return lxml.html.fromstring(html)


def _form_values(html: str, action: str) -> dict[str, str]:
    """Return the fields a browser would send from the form ``action`` on the page, as filled in."""
    [form] = _doc(html).xpath(f"//form[@action='{action}']")
    values: dict[str, str] = {}
    for field in form.xpath(".//input | .//textarea | .//select"):
        name = field.get("name")
        if not name or name == "_csrf_token":
            continue
        if field.tag == "textarea":
            values[name] = field.text or ""
        elif field.tag == "select":
            selected = field.xpath("./option[@selected]")
            values[name] = selected[0].get("value") if selected else ""
        elif field.get("type") in ("radio", "checkbox"):
            if field.get("checked") is not None:
                values[name] = field.get("value")
        else:
            values[name] = field.get("value") or ""
    return values


def _field(html: str, name: str) -> str:
    [field] = _doc(html).xpath(f"//*[@name='{name}']")
    return field.text or "" if field.tag == "textarea" else field.get("value")


async def _draft(people, reference: str):
    view = await service.start_version(people["owner"], reference)
    return await service.save_draft(people["owner"], reference, 1, view.version, complete_content())


async def _saved_by_owner(people, use_case, change) -> None:
    """Save the draft as the owner, with ``change`` applied to its content, as another tab would."""
    view = await assessments.latest_version(use_case.id, rules.KIND)
    content = complete_content()
    change(content)
    await service.save_draft(people["owner"], use_case.reference, 1, view.version, content)


async def test_assessment_conflict_keeps_typed_text(tabs, people, use_case):
    await _draft(people, use_case.reference)
    action = f"/use-cases/{use_case.reference}/dpia/assessment"
    tab = await tabs("co.author")
    page = await tab.get(action)
    await _saved_by_owner(people, use_case, lambda content: content["processing"].update(scope="Scope saved by the owner"))

    response = await post_form(tab, action, {**_form_values(page.text, action), "processing.nature": "Nature typed late"})

    assert response.status_code == 409
    assert _field(response.text, "processing.nature") == "Nature typed late"
    assert _field(response.text, "processing.scope") == "Scope saved by the owner"
    assert "Someone else saved DPIA version 1 after you opened this page" in response.text
    assert "you sent version" not in response.text
    assert "Owner saved the draft" in response.text


async def test_assessment_conflict_resave_keeps_both(tabs, people, use_case):
    await _draft(people, use_case.reference)
    action = f"/use-cases/{use_case.reference}/dpia/assessment"
    tab = await tabs("co.author")
    page = await tab.get(action)
    await _saved_by_owner(people, use_case, lambda content: content["processing"].update(scope="Scope saved by the owner"))
    conflict = await post_form(tab, action, {**_form_values(page.text, action), "processing.nature": "Nature typed late"})

    again = await post_form(tab, action, _form_values(conflict.text, action))

    assert again.status_code == 303
    content = (await assessments.latest_version(use_case.id, rules.KIND)).content
    assert content["processing"]["scope"] == "Scope saved by the owner"
    assert content["processing"]["nature"] == "Nature typed late"


async def test_assessment_conflict_lists_clash(tabs, people, use_case):
    await _draft(people, use_case.reference)
    action = f"/use-cases/{use_case.reference}/dpia/assessment"
    tab = await tabs("co.author")
    page = await tab.get(action)
    await _saved_by_owner(people, use_case, lambda content: content["risks"][0].update(harm="Harm saved by the owner"))

    response = await post_form(tab, action, {**_form_values(page.text, action), "risks[0].harm": "Harm typed late"})

    assert response.status_code == 409
    assert _field(response.text, "risks[0].harm") == "Harm typed late"
    row = _doc(response.text).xpath("//table[caption='Fields saved since you opened this page']//tbody/tr")[0]
    assert row.xpath("./th/a")[0].text_content() == "Risk 1: harm to people"
    assert "You both changed this field" in row.text_content()
    assert "Harm saved by the owner" in row.text_content()


async def test_own_second_tab_named_as_you(tabs, people, use_case):
    await _draft(people, use_case.reference)
    action = f"/use-cases/{use_case.reference}/dpia/assessment"
    tab = await tabs("owner")
    first_tab = await tab.get(action)
    second_tab = await tab.get(action)
    await post_form(tab, action, {**_form_values(second_tab.text, action), "processing.scope": "Saved in the second tab"})

    response = await post_form(tab, action, {**_form_values(first_tab.text, action), "processing.nature": "Typed in the first tab"})

    assert response.status_code == 409
    assert "You saved DPIA version 1 again, in another tab or window, after you opened this page" in response.text


async def test_assessment_double_click_saves_once(tabs, people, use_case):
    await _draft(people, use_case.reference)
    action = f"/use-cases/{use_case.reference}/dpia/assessment"
    tab = await tabs("owner")
    page = await tab.get(action)
    fields = {**_form_values(page.text, action), "processing.scope": "Scope typed once"}
    first = await post_form(tab, action, fields)
    second = await post_form(tab, action, fields)
    assert first.status_code == 303
    assert second.status_code == 303
    assert second.headers["location"].endswith("?done=saved")


async def test_screening_conflict_after_submission_is_read_only(tabs, people, use_case):
    await _draft(people, use_case.reference)
    action = f"/use-cases/{use_case.reference}/dpia/screening"
    tab = await tabs("co.author")
    page = await tab.get(action)
    view = await assessments.latest_version(use_case.id, rules.KIND)
    await service.submit(people["owner"], use_case.reference, 1, view.version)

    response = await post_form(tab, action, {**_form_values(page.text, action), "screening.reasons": "Reasons typed late"})

    assert response.status_code == 409
    assert _field(response.text, "screening.reasons") == "Reasons typed late"
    assert "DPIA version 1 can no longer be changed" in response.text
    assert "Save screening" not in response.text


async def test_dpo_advice_conflict_lists_change(tabs, people, use_case):
    view = await submitted(people["owner"], use_case.reference)
    await service.start_review(people["assurer"], use_case.reference, 1, view.version)
    base = f"/use-cases/{use_case.reference}/dpia/versions/1"
    tab = await tabs("adviser")
    page = await tab.get(base)
    view = await assessments.latest_version(use_case.id, rules.KIND)
    await service.request_changes(people["assurer"], use_case.reference, 1, view.version, "Score risk 1 again.")

    fields = {**_form_values(page.text, f"{base}/dpo-advice"), "advises_approval": "yes", "summary": "Advice typed by the DPO"}
    response = await post_form(tab, f"{base}/dpo-advice", fields)

    assert response.status_code == 409
    assert "Someone else changed DPIA version 1 after you opened this page" in response.text
    assert "Assurer requested changes" in response.text
    assert "Score risk 1 again." in response.text
    assert "Advice typed by the DPO" in response.text
    assert "Go to the home page" not in response.text


async def test_decision_conflict_keeps_typed_reasons(tabs, people, use_case):
    await advised(people["owner"], people["assurer"], people["adviser"], use_case.reference)
    base = f"/use-cases/{use_case.reference}/dpia/versions/1"
    tab = await tabs("assurer.two")
    page = await tab.get(base)
    view = await assessments.latest_version(use_case.id, rules.KIND)
    await service.decide(people["assurer"], use_case.reference, 1, view.version, action="approve")

    fields = {**_form_values(page.text, f"{base}/decision"), "decision": "reject", "reasons": "Reasons typed in vain"}
    response = await post_form(tab, f"{base}/decision", fields)

    assert response.status_code == 409
    assert "Assurer approved it" in response.text
    assert "Reasons typed in vain" in response.text
    assert (await assessments.latest_version(use_case.id, rules.KIND)).status == "approved"


async def test_decision_double_click_is_done(tabs, people, use_case):
    await advised(people["owner"], people["assurer"], people["adviser"], use_case.reference)
    base = f"/use-cases/{use_case.reference}/dpia/versions/1"
    tab = await tabs("assurer")
    page = await tab.get(base)
    fields = {**_form_values(page.text, f"{base}/decision"), "decision": "approve"}
    first = await post_form(tab, f"{base}/decision", fields)
    second = await post_form(tab, f"{base}/decision", fields)
    assert first.status_code == 303
    assert second.status_code == 303
    assert second.headers["location"].endswith("/versions/1?done=repeat")


async def test_repeat_shows_message(tabs, people, use_case):
    await advised(people["owner"], people["assurer"], people["adviser"], use_case.reference)
    tab = await tabs("assurer")
    page = await tab.get(f"/use-cases/{use_case.reference}/dpia/versions/1?done=repeat")
    assert "Your earlier request had already done this" in page.text


async def test_decision_double_click_signs_once(tabs, people, use_case):
    await advised(people["owner"], people["assurer"], people["adviser"], use_case.reference)
    base = f"/use-cases/{use_case.reference}/dpia/versions/1"
    tab = await tabs("assurer")
    page = await tab.get(base)
    fields = {**_form_values(page.text, f"{base}/decision"), "decision": "approve"}
    await post_form(tab, f"{base}/decision", fields)
    await post_form(tab, f"{base}/decision", fields)
    view = await assessments.latest_version(use_case.id, rules.KIND)
    decisions = [item for item in await assessments.list_sign_offs(view.id) if item.decision == "approved"]
    assert len(decisions) == 1


async def test_other_decision_is_not_a_repeat(tabs, people, use_case):
    await advised(people["owner"], people["assurer"], people["adviser"], use_case.reference)
    base = f"/use-cases/{use_case.reference}/dpia/versions/1"
    tab = await tabs("assurer")
    page = await tab.get(base)
    fields = _form_values(page.text, f"{base}/decision")
    await post_form(tab, f"{base}/decision", {**fields, "decision": "approve"})
    second = await post_form(tab, f"{base}/decision", {**fields, "decision": "reject", "reasons": "Changed my mind."})
    assert second.status_code == 409
    assert "You changed DPIA version 1 again, in another tab or window" in second.text


async def test_submit_double_click_is_done(tabs, people, use_case):
    await _draft(people, use_case.reference)
    base = f"/use-cases/{use_case.reference}/dpia"
    tab = await tabs("owner")
    page = await tab.get(base)
    fields = _form_values(page.text, f"{base}/submit")
    first = await post_form(tab, f"{base}/submit", fields)
    second = await post_form(tab, f"{base}/submit", fields)
    assert first.status_code == 303
    assert second.headers["location"].endswith("?done=repeat")


async def test_start_double_click_opens_draft(tabs, people, use_case):
    base = f"/use-cases/{use_case.reference}/dpia"
    tab = await tabs("owner")
    await post_form(tab, f"{base}/start", {})
    second = await post_form(tab, f"{base}/start", {})
    assert second.status_code == 303
    assert second.headers["location"].endswith("/dpia/screening")


async def test_condition_note_kept_after_conflict(tabs, people, use_case):
    condition = service.NewCondition("Brief the crime recorders.", "Training lead", None, True)
    await approved(
        people["owner"], people["assurer"], people["adviser"], use_case.reference, action="approve_with_conditions", conditions=[condition]
    )
    [recorded] = await service.list_conditions(use_case.id)
    base = f"/use-cases/{use_case.reference}/dpia"
    action = f"{base}/conditions/{recorded.id}/met"
    tab = await tabs("owner")
    page = await tab.get(base)
    met = await service.mark_condition_met(people["co.author"], use_case.reference, recorded.id, recorded.version, "Briefed.")
    await service.reopen_condition(people["assurer"], use_case.reference, recorded.id, met.version, "Half the team missed it.")

    response = await post_form(tab, action, {**_form_values(page.text, action), "note": "Note typed by the owner"})

    assert response.status_code == 409
    assert "Someone else changed condition 1 of DPIA version 1 after you opened this page" in response.text
    assert _field(response.text, "note") == "Note typed by the owner"
    assert "Half the team missed it." in response.text


async def test_added_condition_double_click_adds_once(tabs, people, use_case):
    await approved(people["owner"], people["assurer"], people["adviser"], use_case.reference)
    base = f"/use-cases/{use_case.reference}/dpia"
    tab = await tabs("assurer")
    page = await tab.get(base)
    fields = {**_form_values(page.text, f"{base}/conditions"), "text": "Pen test the bot account.", "owner": "Security"}
    first = await post_form(tab, f"{base}/conditions", fields)
    second = await post_form(tab, f"{base}/conditions", fields)
    assert first.status_code == 303
    assert second.status_code == 303
    assert await Condition.count().run() == 1


async def test_ico_double_click_records_once(tabs, people, use_case):
    await approved(people["owner"], people["assurer"], people["adviser"], use_case.reference, complete_content(residual="high"))
    base = f"/use-cases/{use_case.reference}/dpia"
    tab = await tabs("adviser")
    page = await tab.get(base)
    fields = {**_form_values(page.text, f"{base}/ico"), "submitted_on": london_today().isoformat()}
    first = await post_form(tab, f"{base}/ico", fields)
    second = await post_form(tab, f"{base}/ico", fields)
    assert first.status_code == 303
    assert second.status_code == 303
    assert await IcoConsultation.count().run() == 1


async def test_review_date_conflict_keeps_typed_values(tabs, people, use_case):
    await approved(people["owner"], people["assurer"], people["adviser"], use_case.reference)
    base = f"/use-cases/{use_case.reference}/dpia"
    tab = await tabs("assurer.two")
    page = await tab.get(base)
    view = await assessments.latest_version(use_case.id, rules.KIND)
    await service.add_condition(people["assurer"], use_case.reference, service.NewCondition("Pen test.", "Security", None, True))
    await service.change_review_date(
        people["assurer"], use_case.reference, 1, view.version, london_today() + dt.timedelta(days=90), "Align with the contract."
    )
    typed = (london_today() + dt.timedelta(days=200)).isoformat()
    action = f"{base}/review-date"
    response = await post_form(tab, action, {**_form_values(page.text, action), "review_date": typed, "reason": "Reason typed late"})

    assert response.status_code == 409
    assert _field(response.text, "review_date") == typed
    assert "Reason typed late" in response.text
    assert "Assurer changed the review date" in response.text


async def test_stale_api_message_keeps_versions_apart(client, people, use_case):
    view = await submitted(people["owner"], use_case.reference)
    headers = await token_headers("assurer")
    await service.start_review(people["assurer.two"], use_case.reference, 1, view.version)
    response = await client.post(
        f"/api/v1/use-cases/{use_case.reference}/dpia/versions/1/request-changes",
        json={"version": view.version, "reasons": "Late."},
        headers=headers,
    )
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail.startswith("DPIA version 1 was changed by someone else after you read it.")
    assert re.search(r'You sent "version": \d+, but the record is now at \d+', detail)
