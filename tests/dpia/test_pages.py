"""DPIA pages: forms with CSRF and error summaries, and the journey from screening to Word export."""

from __future__ import annotations

import datetime as dt
import io
import re

import docx
import pytest

from governance import assessments
from governance.clock import london_today
from governance.roles import Role
from tests.support import DEFAULT_DEPARTMENT, post_form, sign_in

from dpia import rules, service
from dpia.forms import flatten
from tests.dpia.helpers import complete_content


async def _as(client, username: str):
    """Sign ``client`` in as ``username``, dropping any earlier session (one browser, several people)."""
    client.cookies.clear()
    await sign_in(client, username)
    return client


def _assessment_form(content: dict) -> dict[str, str]:
    """The assessment form's fields as a browser posts them for ``content``."""
    fields: dict[str, str] = {}
    for path, value in flatten({key: content[key] for key in content if key not in ("matrix", "screening")}).items():
        if path == "data_subjects.categories":
            for key in value:
                fields[f"data_subjects.categories.{key}"] = "yes"
        else:
            fields[path] = "" if value is None else str(value)
    return fields


def _screening_form(content: dict) -> dict[str, str]:
    return {path: str(value) for path, value in flatten({"screening": content["screening"]}).items()}


def _hidden_version(html: str) -> str:
    """Return the record version a page's first form carries, as a browser would send it."""
    return re.search(r'name="version" value="(\d+)"', html).group(1)


@pytest.fixture
async def people(make_person):
    await make_person(Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT)
    await make_person(Role.INFORMATION_ASSURANCE, username="assurer")
    await make_person(Role.DATA_PROTECTION_OFFICER, username="adviser")


async def test_journey_screening_to_export(client, people, use_case):
    owner = await _as(client, "owner")
    reference = use_case.reference
    base = f"/use-cases/{reference}/dpia"

    page = await owner.get(base)
    assert "Start the DPIA screening" in page.text

    response = await post_form(owner, f"{base}/start", {})
    assert response.status_code == 303
    page = await owner.get(f"{base}/screening")
    assert page.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)

    content = complete_content()
    response = await post_form(owner, f"{base}/screening", {**_screening_form(content), "version": version, "next": "assessment"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("/assessment")

    page = await owner.get(f"{base}/assessment")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    response = await post_form(owner, f"{base}/assessment", {**_assessment_form(content), "version": version})
    assert response.status_code == 303, response.text

    view = await assessments.latest_version(use_case.id, rules.KIND)
    response = await post_form(owner, f"{base}/submit", {"number": "1", "version": str(view.version)})
    assert response.status_code == 303, response.text

    assurer = await _as(client, "assurer")
    queue = await assurer.get("/dpia")
    assert reference in queue.text
    page = await assurer.get(f"{base}/versions/1")
    assert "Start the review" in page.text
    response = await post_form(assurer, f"{base}/versions/1/start-review", {"version": _hidden_version(page.text)})
    assert response.status_code == 303

    adviser = await _as(client, "adviser")
    page = await adviser.get(f"{base}/versions/1")
    assert "Record DPO advice" in page.text
    view = await assessments.latest_version(use_case.id, rules.KIND)
    response = await post_form(
        adviser, f"{base}/versions/1/dpo-advice", {"version": str(view.version), "advises_approval": "yes", "summary": "Proportionate."}
    )
    assert response.status_code == 303, response.text

    assurer = await _as(client, "assurer")
    page = await assurer.get(f"{base}/versions/1")
    assert "Record decision" in page.text
    view = await assessments.latest_version(use_case.id, rules.KIND)
    response = await post_form(assurer, f"{base}/versions/1/decision", {"version": str(view.version), "decision": "approve", "reasons": ""})
    assert response.status_code == 303, response.text

    owner = await _as(client, "owner")
    overview = await owner.get(base)
    assert "Passes" in overview.text

    export = await owner.get(f"{base}/versions/1/export.docx")
    assert export.status_code == 200
    document = docx.Document(io.BytesIO(export.content))
    headings = [paragraph.text for paragraph in document.paragraphs if paragraph.style.name.startswith("Heading")]
    assert "Step 7: Sign off and record outcomes" in headings

    use_case_page = await owner.get(f"/use-cases/{reference}")
    assert "Data protection impact assessment" in use_case_page.text


async def _started(client, reference: str) -> str:
    await post_form(client, f"/use-cases/{reference}/dpia/start", {})
    page = await client.get(f"/use-cases/{reference}/dpia/screening")
    return _hidden_version(page.text)


async def test_screening_unknown_regime_shows_summary(client, people, use_case):
    await _as(client, "owner")
    version = await _started(client, use_case.reference)
    fields = _screening_form(complete_content())
    fields["screening.regimes[0].regime"] = "gdpr_99"
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/screening", {**fields, "version": version})
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert 'href="#screening-regimes-0-regime"' in response.text


async def test_assessment_bad_likelihood_shows_summary(client, people, use_case):
    await _as(client, "owner")
    version = await _started(client, use_case.reference)
    content = complete_content()
    await post_form(client, f"/use-cases/{use_case.reference}/dpia/screening", {**_screening_form(content), "version": version})
    page = await client.get(f"/use-cases/{use_case.reference}/dpia/assessment")
    fields = _assessment_form(content)
    fields["risks[0].likelihood"] = "certain"
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/assessment", {**fields, "version": _hidden_version(page.text)})
    assert response.status_code == 422
    assert 'href="#risks-0-likelihood"' in response.text
    assert "Risk 1: likelihood" in response.text
    assert "Wrong person linked to a crime" in response.text


async def test_incomplete_submit_lists_missing_fields(client, people, use_case):
    await _as(client, "owner")
    version = await _started(client, use_case.reference)
    content = complete_content()
    await post_form(client, f"/use-cases/{use_case.reference}/dpia/screening", {**_screening_form(content), "version": version})
    view = await assessments.latest_version(use_case.id, rules.KIND)
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/submit", {"number": "1", "version": str(view.version)})
    assert response.status_code == 422
    assert "cannot be submitted yet" in response.text
    assert f"/use-cases/{use_case.reference}/dpia/assessment#processing-nature" in response.text


async def test_dpo_advice_without_summary_shows_summary(client, people, use_case, make_person):
    author = await make_person(Role.CENTRAL_TEAM)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    from tests.dpia.helpers import submitted

    view = await submitted(author, use_case.reference)
    view = await service.start_review(ia, use_case.reference, 1, view.version)
    await _as(client, "adviser")
    response = await post_form(
        client, f"/use-cases/{use_case.reference}/dpia/versions/1/dpo-advice", {"version": str(view.version), "advises_approval": "yes", "summary": ""}
    )
    assert response.status_code == 422
    assert 'href="#dpo_advice-summary"' in response.text


async def test_decision_by_author_is_refused(client, make_person, use_case):
    from tests.dpia.helpers import advised

    writer = await make_person(Role.CENTRAL_TEAM, Role.INFORMATION_ASSURANCE, username="writer")
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    dpo = await make_person(Role.DATA_PROTECTION_OFFICER)
    view = await advised(writer, ia, dpo, use_case.reference)
    await _as(client, "writer")
    page = await client.get(f"/use-cases/{use_case.reference}/dpia/versions/1")
    assert "Record decision" not in page.text
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/versions/1/decision", {"version": str(view.version), "decision": "approve"})
    assert response.status_code == 403
    latest = await assessments.latest_version(use_case.id, rules.KIND)
    assert latest.status == "dpo_advice_recorded"


async def test_form_without_csrf_is_refused(client, people, use_case):
    await _as(client, "owner")
    response = await client.post(f"/use-cases/{use_case.reference}/dpia/start", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert await assessments.latest_version(use_case.id, rules.KIND) is None


async def test_other_department_cannot_open_form(client, make_person, use_case):
    await make_person(Role.BUSINESS_OWNER, username="vetting.owner", department="Vetting Unit")
    await _as(client, "vetting.owner")
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/start", {})
    assert response.status_code == 403


async def test_use_case_panel_shows_blocker(client, people, use_case):
    await _as(client, "owner")
    page = await client.get(f"/use-cases/{use_case.reference}")
    assert "No DPIA has been started" in page.text


async def test_queue_shows_dpo_work(client, people, use_case, make_person):
    from tests.dpia.helpers import submitted

    author = await make_person(Role.CENTRAL_TEAM)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await submitted(author, use_case.reference)
    await service.start_review(ia, use_case.reference, 1, view.version)
    await _as(client, "adviser")
    queue = await client.get("/dpia")
    assert "Give DPO advice" in queue.text
    home = await client.get("/")
    assert f"DPIA version 1 of {use_case.reference}" in home.text


async def test_queue_hidden_from_authors(client, people):
    await _as(client, "owner")
    response = await client.get("/dpia")
    assert response.status_code == 403


async def test_submit_summary_takes_focus(client, people, use_case):
    await _as(client, "owner")
    await _started(client, use_case.reference)
    view = await assessments.latest_version(use_case.id, rules.KIND)
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/submit", {"number": "1", "version": str(view.version)})
    summary = re.search(r'<div class="error-summary"[^>]*>', response.text).group(0)
    assert "autofocus" in summary
    assert 'tabindex="-1"' in summary


async def test_submit_summary_names_outcome_choices(client, people, use_case):
    await _as(client, "owner")
    await _started(client, use_case.reference)
    view = await assessments.latest_version(use_case.id, rules.KIND)
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/submit", {"number": "1", "version": str(view.version)})
    assert "choose whether a full DPIA is required or not required" in response.text
    assert "not_required" not in response.text


async def test_submit_summary_asks_yes_or_no(client, people, use_case):
    await _as(client, "owner")
    await _started(client, use_case.reference)
    view = await assessments.latest_version(use_case.id, rules.KIND)
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/submit", {"number": "1", "version": str(view.version)})
    assert "is missing; answer yes or no" in response.text


async def test_dpo_advice_reports_both_missing_fields(client, people, use_case, make_person):
    from tests.dpia.helpers import submitted

    author = await make_person(Role.CENTRAL_TEAM)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await submitted(author, use_case.reference)
    view = await service.start_review(ia, use_case.reference, 1, view.version)
    await _as(client, "adviser")
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/versions/1/dpo-advice", {"version": str(view.version), "summary": ""})
    assert response.status_code == 422
    assert 'href="#dpo_advice-advises_approval"' in response.text
    assert 'href="#dpo_advice-summary"' in response.text


async def _approved_by_assurer(client, use_case, make_person, **decision):
    from tests.dpia.helpers import advised

    author = await make_person(Role.CENTRAL_TEAM)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    dpo = await make_person(Role.DATA_PROTECTION_OFFICER)
    view = await advised(author, ia, dpo, use_case.reference)
    await _as(client, "assurer")
    fields = {"version": str(view.version), "decision": "approve", "reasons": "", **decision}
    return await post_form(client, f"/use-cases/{use_case.reference}/dpia/versions/1/decision", fields)


async def test_decision_form_offers_review_owner(client, people, use_case, make_person):
    from tests.dpia.helpers import advised

    view = await advised(await make_person(Role.CENTRAL_TEAM), await make_person(Role.INFORMATION_ASSURANCE), await make_person(Role.DATA_PROTECTION_OFFICER), use_case.reference)
    assert view.status == "dpo_advice_recorded"
    await _as(client, "assurer")
    page = await client.get(f"/use-cases/{use_case.reference}/dpia/versions/1")
    assert re.search(r'<option value="assurer" selected>', page.text)


async def test_decision_names_review_owner(client, people, use_case, make_person):
    response = await _approved_by_assurer(client, use_case, make_person, review_owner="owner")
    assert response.status_code == 303, response.text
    view = await assessments.latest_version(use_case.id, rules.KIND)
    assert (await service.get_review_owner(view.id)).username == "owner"


async def test_decision_unknown_owner_shows_summary(client, people, use_case, make_person):
    response = await _approved_by_assurer(client, use_case, make_person, review_owner="nobody")
    assert response.status_code == 422
    assert 'href="#decision-review_owner"' in response.text


async def test_decision_condition_errors_point_at_rows(client, people, use_case, make_person):
    fields = {
        "decision": "approve_with_conditions",
        "conditions[1].text": "Brief the crime recorders.",
        "conditions[1].owner": "Training lead",
        "conditions[1].due_date": "30/06/2027",
    }
    response = await _approved_by_assurer(client, use_case, make_person, **fields)
    assert response.status_code == 422
    assert 'href="#decision-conditions-1-due_date"' in response.text


async def test_version_page_shows_ico_step_7(client, people, use_case, make_person):
    await _approved_by_assurer(client, use_case, make_person, consultation_reasons="Victims' groups wanted a human check.")
    page = await client.get(f"/use-cases/{use_case.reference}/dpia/versions/1")
    table = page.text[page.text.index("Sign-off and outcomes"):]
    positions = [
        table.index(item)
        for item in (
            "Measures approved by",
            "Residual risks approved by",
            "DPO advice provided",
            "DPO advice accepted or overruled by",
            "Consultation responses reviewed by",
            "This DPIA will be kept under review by",
        )
    ]
    assert positions == sorted(positions)


async def test_version_page_shows_consultation_reasons(client, people, use_case, make_person):
    await _approved_by_assurer(client, use_case, make_person, consultation_reasons="Victims' groups wanted a human check.")
    page = await client.get(f"/use-cases/{use_case.reference}/dpia/versions/1")
    assert "Victims&#39; groups wanted a human check." in page.text


async def test_review_date_too_far_shows_summary(client, people, use_case, make_person):
    await _approved_by_assurer(client, use_case, make_person)
    view = await assessments.latest_version(use_case.id, rules.KIND)
    response = await post_form(
        client,
        f"/use-cases/{use_case.reference}/dpia/review-date",
        {"number": "1", "version": str(view.version), "review_date": "2099-01-01", "reason": "Low risk."},
    )
    assert response.status_code == 422
    assert 'href="#review_date-review_date"' in response.text
    assert 'id="review_date-review_date"' in response.text
    assert "within 36 months of today" in response.text


async def test_overview_ids_unique(client, people, use_case, make_person):
    await _approved_by_assurer(client, use_case, make_person)
    page = await client.get(f"/use-cases/{use_case.reference}/dpia")
    ids = re.findall(r'\bid="([^"]+)"', page.text)
    assert len(ids) == len(set(ids)), sorted({item for item in ids if ids.count(item) > 1})


async def test_history_names_dpia_actions(client, people, use_case, make_person):
    await _approved_by_assurer(client, use_case, make_person)
    page = await client.get(f"/use-cases/{use_case.reference}/history")
    for heading in ("DPIA version started", "DPIA submitted", "DPIA review started", "DPIA DPO advice recorded", "DPIA approved"):
        assert f'<p class="timeline__title">{heading}</p>' in page.text
    assert "Dpia" not in page.text


async def test_history_names_changed_fields(client, people, use_case, make_person):
    author = await make_person(Role.CENTRAL_TEAM)
    view = await service.start_version(author, use_case.reference)
    view = await service.save_draft(author, use_case.reference, 1, view.version, complete_content())
    content = complete_content()
    content["risks"][0]["likelihood"] = "remote"
    await service.save_draft(author, use_case.reference, 1, view.version, content)
    await _as(client, "owner")
    page = await client.get(f"/use-cases/{use_case.reference}/history")
    assert '<th scope="row">Risk 1: likelihood before measures</th><td>possible</td><td>remote</td>' in page.text


async def test_decision_past_due_date_shows_summary(client, people, use_case, make_person):
    fields = {
        "decision": "approve_with_conditions",
        "conditions[0].text": "Brief the crime recorders.",
        "conditions[0].owner": "Training lead",
        "conditions[0].due_date": "2020-01-01",
    }
    response = await _approved_by_assurer(client, use_case, make_person, **fields)
    assert response.status_code == 422
    assert "or later" in response.text
    assert (await assessments.latest_version(use_case.id, rules.KIND)).status == "dpo_advice_recorded"


async def test_added_condition_past_due_date_shows_summary(client, people, use_case, make_person):
    await _approved_by_assurer(client, use_case, make_person)
    response = await post_form(
        client,
        f"/use-cases/{use_case.reference}/dpia/conditions",
        {"text": "Pen test the bot account.", "owner": "Security", "due_date": "2019-01-01", "before_go_live": "yes"},
    )
    assert response.status_code == 422
    assert 'href="#condition-due_date"' in response.text
    assert await service.list_conditions(use_case.id) == []


async def test_unknown_advice_says_what_is_accepted(client, people, use_case, make_person):
    from tests.dpia.helpers import submitted

    view = await submitted(await make_person(Role.CENTRAL_TEAM), use_case.reference)
    view = await service.start_review(await make_person(Role.INFORMATION_ASSURANCE), use_case.reference, 1, view.version)
    await _as(client, "adviser")
    response = await post_form(
        client,
        f"/use-cases/{use_case.reference}/dpia/versions/1/dpo-advice",
        {"version": str(view.version), "advises_approval": "maybe", "summary": "Fine."},
    )
    assert response.status_code == 422
    assert "&#39;maybe&#39; is not an answer; choose yes (you advise approval) or no (you advise against it)" in response.text
    assert "is missing" not in response.text


async def test_measure_of_unknown_risk_is_not_saved(client, people, use_case):
    await _as(client, "owner")
    version = await _started(client, use_case.reference)
    content = complete_content()
    await post_form(client, f"/use-cases/{use_case.reference}/dpia/screening", {**_screening_form(content), "version": version})
    page = await client.get(f"/use-cases/{use_case.reference}/dpia/assessment")
    fields = {**_assessment_form(content), "measures[0].risk": "99", "version": _hidden_version(page.text)}
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/assessment", fields)
    assert response.status_code == 422
    assert 'href="#measures-0-risk"' in response.text
    assert "&#39;99&#39; is not a recorded risk; choose risk 1" in response.text
    assert "measures" not in (await assessments.latest_version(use_case.id, rules.KIND)).content


async def test_ico_response_reports_date_order_with_others(client, people, use_case, make_person):
    from tests.dpia.helpers import approved

    await approved(
        await make_person(Role.CENTRAL_TEAM),
        await make_person(Role.INFORMATION_ASSURANCE),
        await make_person(Role.DATA_PROTECTION_OFFICER),
        use_case.reference,
        complete_content(residual="high"),
    )
    ico = await service.record_ico_consultation(
        await make_person(Role.DATA_PROTECTION_OFFICER), use_case.reference, submitted_on=london_today()
    )
    await _as(client, "adviser")
    response = await post_form(
        client,
        f"/use-cases/{use_case.reference}/dpia/ico/response",
        {
            "version": str(ico.version),
            "response": "No objection.",
            "response_received_on": (london_today() - dt.timedelta(days=3)).isoformat(),
            "outcome": "",
        },
    )
    assert response.status_code == 422
    assert 'href="#ico_response-response_received_on"' in response.text
    assert 'href="#ico_response-outcome"' in response.text


async def test_decision_reports_overruling_with_field_errors(client, people, use_case, make_person):
    from tests.dpia.helpers import advised

    view = await advised(
        await make_person(Role.CENTRAL_TEAM),
        await make_person(Role.INFORMATION_ASSURANCE),
        await make_person(Role.DATA_PROTECTION_OFFICER),
        use_case.reference,
        advises_approval=False,
    )
    await _as(client, "assurer")
    fields = {
        "version": str(view.version),
        "decision": "approve_with_conditions",
        "reasons": "",
        "conditions[0].text": "Brief the crime recorders.",
        "conditions[0].owner": "Training lead",
        "conditions[0].due_date": "2020-01-01",
    }
    response = await post_form(client, f"/use-cases/{use_case.reference}/dpia/versions/1/decision", fields)
    assert response.status_code == 422
    assert 'href="#decision-reasons"' in response.text
    assert 'href="#decision-conditions-0-due_date"' in response.text


async def test_step_7_before_decision_reads_as_assessed(client, people, use_case, make_person):
    from tests.dpia.helpers import submitted

    await submitted(await make_person(Role.CENTRAL_TEAM), use_case.reference)
    await _as(client, "owner")
    page = await client.get(f"/use-cases/{use_case.reference}/dpia/versions/1")
    assert "As assessed in this version, the highest residual risk is low." in page.text
    assert "not required, because no high residual risk remains" not in page.text
