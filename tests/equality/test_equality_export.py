"""Word exports, reopened with python-docx: house style, content, sign-offs and awkward pasted text."""

from __future__ import annotations

import io

import pytest
from docx import Document

from equality import service
from equality.export import build_export
from equality.rules import ASSESSMENT, SCREENING
from governance.clock import format_date
from tests.support import token_headers
from tests.equality.helpers import (
    ACTION_DUE,
    MITIGATION_DUE,
    approved_assessment,
    approved_screening,
    screening_data,
    submitted_screening,
)

LONG_WORD = "x" * 5000
PASTED = "Line one\x0bafter a vertical tab\tand a tab\x07 bell"
NON_LATIN = "ضحايا الجريمة 受害者 पीड़ित Dioddefwyr ŵ"


def reopen(data: bytes):
    return Document(io.BytesIO(data))


def table_with_header(document, first_header: str):
    for table in document.tables:
        if table.rows and table.rows[0].cells[0].text == first_header:
            return table
    raise AssertionError(f"no table starting with {first_header!r}")


def all_text(document) -> str:
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


async def export(reference: str, kind: str, number: int):
    use_case_view = await service.load_record(reference)
    view = await service.get_version(reference, kind, number)
    return reopen(build_export(use_case_view.use_case, view, await service.sign_offs(view)))


@pytest.fixture
async def awkward_screening(owner, lead, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    data = screening_data({"race": "negative"})
    data["characteristics"]["race"]["evidence"] = PASTED
    data["characteristics"]["age"]["evidence"] = LONG_WORD
    data["characteristics"]["disability"]["evidence"] = NON_LATIN
    view = await service.save_draft(owner, use_case.reference, SCREENING, 1, view.version, data)
    view = await service.submit(owner, use_case.reference, SCREENING, 1, view.version)
    return await service.decide(lead, use_case.reference, SCREENING, 1, view.version, "approve")


async def test_export_headings(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [
        "The change being screened",
        "Impact on each characteristic",
        "The three aims of the duty",
        "Outcome",
        "Sign-off",
    ]


async def test_export_title(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    assert (
        document.paragraphs[0].text == f"Equality screening: {use_case.reference} {use_case.title}"
    )


async def test_export_marking_header_and_footer(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    section = document.sections[0]
    assert section.header.paragraphs[0].text == "OFFICIAL"
    assert section.footer.paragraphs[0].text == "OFFICIAL"


async def test_export_version_and_hash(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    block = table_with_header(document, "Version")
    values = {row.cells[0].text: row.cells[1].text for row in block.rows}
    assert values["Version"] == "1"
    assert values["Content hash (SHA-256)"] == awkward_screening.content_hash


async def test_export_characteristics_table(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    table = table_with_header(document, "Characteristic")
    rows = [[cell.text for cell in row.cells] for row in table.rows[1:]]
    assert [row[0] for row in rows][:2] == ["Age", "Disability"]
    assert len(rows) == 9
    race = next(row for row in rows if row[0] == "Race")
    assert race[1] == "Negative"
    assert race[2] == "Members of the public"


async def test_export_control_characters_replaced(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    table = table_with_header(document, "Characteristic")
    race = next(row for row in table.rows if row.cells[0].text == "Race")
    assert race.cells[3].text == "Line one\nafter a vertical tab and a tab  bell"


async def test_export_long_word_kept(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    table = table_with_header(document, "Characteristic")
    age = next(row for row in table.rows if row.cells[0].text == "Age")
    assert age.cells[3].text == LONG_WORD


async def test_export_non_latin_kept(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    assert NON_LATIN in all_text(document)


async def test_export_outcome_names_impact(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    assert (
        "Full assessment required: the screening found a negative or not known impact on Race (negative)"
        in all_text(document)
    )


async def test_export_sign_off_bound_to_hash(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    table = table_with_header(document, "Signed by")
    row = [cell.text for cell in table.rows[1].cells]
    assert row[1] == "Equality lead"
    assert row[2] == "Equality screening approved: due regard shown"
    assert row[5] == awkward_screening.content_hash


async def test_export_draft_says_no_hash(owner, use_case):
    await service.start_version(owner, use_case.reference, SCREENING)
    document = await export(use_case.reference, SCREENING, 1)
    assert "Not yet submitted: this draft has no hash" in all_text(document)


async def test_export_full_assessment(owner, lead, use_case):
    await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    view = await approved_assessment(owner, lead, use_case.reference, ["disability"], remains=True)
    document = await export(use_case.reference, ASSESSMENT, 1)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [
        "Screening this assessment responds to",
        "Impacts and mitigations",
        "Disability: negative impact",
        "Action plan",
        "Engagement and consultation",
        "Sign-off",
    ]
    mitigation = table_with_header(document, "Who is affected")
    values = {row.cells[0].text: row.cells[1].text for row in mitigation.rows}
    assert values["Mitigation"] == "Mitigation for disability."
    assert values["Owner"] == "Nadia Hussain"
    assert values["Due"] == format_date(MITIGATION_DUE)
    assert values["Impact remains after mitigation"] == "Yes"
    assert values["Justification for what remains"] == "Proportionate to a legitimate aim."
    plan = table_with_header(document, "Action")
    assert plan.rows[1].cells[2].text == format_date(ACTION_DUE)
    signer = table_with_header(document, "Signed by")
    assert signer.rows[1].cells[5].text == view.content_hash


async def test_export_revoked_status(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    await service.revoke(lead, use_case.reference, SCREENING, 1, view.version, "Process\x0bchanged")
    document = await export(use_case.reference, SCREENING, 1)
    block = table_with_header(document, "Version")
    status = {row.cells[0].text: row.cells[1].text for row in block.rows}["Status"]
    assert status.startswith("Approved (approval revoked on")
    assert "Process\nchanged" in all_text(document)


async def test_export_submitted_screening_has_no_sign_off(owner, use_case):
    await submitted_screening(owner, use_case.reference)
    document = await export(use_case.reference, SCREENING, 1)
    assert "No sign-offs have been recorded for this version." in all_text(document)


async def test_export_screening_hash_intact(owner, lead, use_case):
    screening = await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    await approved_assessment(owner, lead, use_case.reference, ["disability"])
    document = await export(use_case.reference, ASSESSMENT, 1)
    block = table_with_header(document, "Equality screening version")
    values = {row.cells[0].text: row.cells[1].text for row in block.rows}
    assert values["Screening content hash (SHA-256)"] == screening.content_hash


async def test_export_metadata_is_british_a4(awkward_screening, use_case):
    document = await export(use_case.reference, SCREENING, 1)
    section = document.sections[0]
    assert (section.page_width.twips, section.page_height.twips, document.core_properties.language) == (
        11906,
        16838,
        "en-GB",
    )


async def test_export_by_person_names_them(client, awkward_screening, lead, use_case):
    response = await client.get(
        f"/api/v1/use-cases/{use_case.reference}/equality/screening/versions/1/export.docx",
        headers=await token_headers(lead.username),
    )
    properties = reopen(response.content).core_properties
    assert (properties.author, properties.last_modified_by) == (lead.display_name, lead.display_name)
