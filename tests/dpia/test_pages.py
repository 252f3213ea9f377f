"""DPIA pages: forms with CSRF and error summaries, and the journey from screening to Word export."""

from __future__ import annotations

import io
import re

import docx
import pytest

from governance import assessments
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
