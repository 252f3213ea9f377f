"""Word export of a DPIA version: reopened with python-docx and checked cell by cell."""

from __future__ import annotations

import io

import docx
import pytest

from governance.settings import get_settings

from dpia import rules, service
from dpia.export import export_version
from tests.dpia.helpers import approved, complete_content
from tests.support import make_use_case, token_headers


async def _export(reference: str):
    _, body = await export_version(reference, 1)
    return docx.Document(io.BytesIO(body))


def _all_text(document) -> str:
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _table_with_header(document, first_header: str):
    for table in document.tables:
        if table.rows[0].cells[0].text == first_header and len(table.rows[0].cells) > 2:
            return table
    raise AssertionError(f"no table starting with {first_header!r}")


@pytest.fixture
async def exported(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference, complete_content(residual="medium"))
    return view, await _export(use_case.reference)


async def test_export_has_seven_steps(exported):
    _, document = exported
    headings = [paragraph.text for paragraph in document.paragraphs if paragraph.style.name.startswith("Heading")]
    for _, step in rules.STEPS:
        assert step in headings


async def test_export_risk_table_values(exported):
    _, document = exported
    row = [cell.text for cell in _table_with_header(document, "No.").rows[1].cells]
    assert row == [
        "1",
        "Wrong person linked to a crime",
        "Matching on name and date of birth",
        "Innocent person recorded as suspect",
        "Possible",
        "Severe",
        "High",
    ]


async def test_export_measures_table_values(exported):
    _, document = exported
    row = [cell.text for cell in _table_with_header(document, "Risk").rows[1].cells]
    assert row == ["1", "Human check of every match", "Reduced", "Medium (Possible, Significant)", "Yes"]


async def test_export_sign_off_names_and_meanings(exported, ia, dpo):
    _, document = exported
    table = _table_with_header(document, "Signed by")
    rows = [[cell.text for cell in row.cells] for row in table.rows[1:]]
    assert [row[0] for row in rows] == [dpo.display_name, ia.display_name, ia.display_name, ia.display_name]
    assert [row[2] for row in rows] == [
        "DPO advice given",
        "DPO advice accepted",
        "Consultation responses reviewed",
        "Measures and residual risks approved",
    ]


async def test_export_version_and_hash(exported):
    view, document = exported
    text = _all_text(document)
    assert view.content_hash in text
    assert "Version\n1" in text


async def test_export_default_marking(exported):
    _, document = exported
    assert document.sections[0].header.paragraphs[0].text == "OFFICIAL"
    assert document.sections[0].footer.paragraphs[0].text == "OFFICIAL"


async def test_export_configured_marking(author, ia, dpo, use_case, monkeypatch):
    await approved(author, ia, dpo, use_case.reference)
    monkeypatch.setenv("GOVERNANCE_PROTECTIVE_MARKING", "OFFICIAL-SENSITIVE")
    get_settings.cache_clear()
    try:
        document = await _export(use_case.reference)
    finally:
        monkeypatch.delenv("GOVERNANCE_PROTECTIVE_MARKING")
        get_settings.cache_clear()
    assert document.sections[0].header.paragraphs[0].text == "OFFICIAL-SENSITIVE"


async def test_export_pasted_text_survives(author, use_case):
    long_word = "x" * 5000
    pasted = f"Line one\x0bLine two\x0cPage two\tafter a tab {long_word} التحقق من الهوية 数据保护影响评估 \x01\x1f"
    content = complete_content()
    content["processing"]["nature"] = pasted
    content["risks"][0]["description"] = pasted
    view = await service.start_version(author, use_case.reference)
    await service.save_draft(author, use_case.reference, 1, view.version, content)

    text = _all_text(await _export(use_case.reference))
    assert "Line one\nLine two\nPage two after a tab" in text
    assert "التحقق من الهوية" in text
    assert "数据保护影响评估" in text
    assert long_word in text
    assert "\u200b" not in text
    assert "\x01" not in text


async def test_export_of_draft_says_no_hash(author, use_case):
    view = await service.start_version(author, use_case.reference)
    await service.save_draft(author, use_case.reference, 1, view.version, complete_content())
    text = _all_text(await _export(use_case.reference))
    assert "Not yet submitted: this draft has no hash" in text


def _rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows[1:]]


async def test_export_outcomes_in_ico_order(exported):
    _, document = exported
    items = [row[0] for row in _rows(_table_with_header(document, "Item"))]
    assert items == [
        "Measures approved by",
        "Residual risks approved by",
        "DPO advice provided",
        "DPO advice accepted or overruled by",
        "Consultation responses reviewed by",
        "This DPIA will be kept under review by",
    ]


async def test_export_outcomes_name_signers(exported, ia, dpo):
    _, document = exported
    signers = [row[1].split(",")[0] for row in _rows(_table_with_header(document, "Item"))]
    assert signers == [ia.display_name, ia.display_name, dpo.display_name, ia.display_name, ia.display_name, ia.display_name]


async def test_export_outcomes_dpo_summary(exported):
    _, document = exported
    rows = {row[0]: row for row in _rows(_table_with_header(document, "Item"))}
    assert rows["DPO advice provided"][2] == "Advises approval. Summary: Measures are proportionate."


async def test_export_outcomes_heading(exported):
    _, document = exported
    headings = [paragraph.text for paragraph in document.paragraphs if paragraph.style.name.startswith("Heading")]
    assert "Sign-off and outcomes" in headings


async def test_export_conditions_numbered_from_one(author, ia, dpo, central, use_case):
    # A condition on another use case first, so that database ids and numbers differ.
    other = await make_use_case(central, title="Another bot")
    await approved(
        author, ia, dpo, other.reference, action="approve_with_conditions",
        conditions=[service.NewCondition("Unrelated condition.", "Someone", None, True)],
    )
    conditions = [
        service.NewCondition("Brief the crime recorders.", "Training lead", None, True),
        service.NewCondition("Report link errors monthly.", "Dan Okafor", None, False),
    ]
    await approved(author, ia, dpo, use_case.reference, action="approve_with_conditions", conditions=conditions)
    document = await _export(use_case.reference)
    table = next(table for table in document.tables if [cell.text for cell in table.rows[0].cells][:2] == ["No.", "Condition"])
    assert [row[0] for row in _rows(table)] == ["1", "2"]


async def test_export_hash_has_no_invisible_characters(exported):
    view, document = exported
    rows = {row.cells[0].text: row.cells[1].text for table in document.tables for row in table.rows if len(row.cells) == 2}
    assert rows["Content hash (SHA-256)"] == view.content_hash


async def test_export_page_is_a4(exported):
    _, document = exported
    assert (document.sections[0].page_width.twips, document.sections[0].page_height.twips) == (11906, 16838)


async def test_export_by_person_names_them(client, author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    response = await client.get(
        f"/api/v1/use-cases/{use_case.reference}/dpia/versions/1/export", headers=await token_headers("ia.one")
    )
    document = docx.Document(io.BytesIO(response.content))
    assert document.core_properties.author == ia.display_name


async def test_export_shows_processing_assessed(exported):
    _, document = exported
    assert "Recording crime (DPA 2018 Part 3 (law enforcement processing))" in _all_text(document)


async def test_export_of_draft_says_scope_recorded_on_submission(author, use_case):
    await service.start_version(author, use_case.reference)
    text = _all_text(await _export(use_case.reference))
    assert "Recorded from the use-case register when this version is submitted." in text
