"""Word (.docx) exports in the service's house style, built with python-docx.

Every export carries the protective marking in its header and footer, the record's version number
and content hash, and a sign-off table. Text from users passes through ``clean_text`` first:
python-docx rejects control characters (a vertical tab pasted from Word, for example), so they are
replaced rather than allowed to fail the export.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.table import Table

from governance.clock import format_datetime
from governance.settings import get_settings

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Characters XML 1.0 forbids, plus the other C0/C1 controls; tab and newline are handled separately.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_LONG_WORD = 60


class Verbatim(str):
    """Text whose characters must survive exactly, such as a hash that a reader copies to compare.

    ``clean_text`` still removes control characters from it but adds no break opportunities; Word
    wraps an over-long word at the table cell's edge by itself.
    """


def clean_text(value: Any) -> str:
    """Return ``value`` as text that Word accepts: controls become spaces, tabs become spaces.

    Word's manual line break (vertical tab) and page break (form feed) become line breaks, so text
    pasted from Word keeps its lines. Words longer than 60 characters (pasted URLs, hashes) get
    zero-width break opportunities so that they wrap inside table cells instead of widening the page.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = text.replace("\x0b", "\n").replace("\x0c", "\n")
    text = _FORBIDDEN.sub(" ", text)
    # Lone surrogates (from badly decoded input) cannot be encoded in XML either.
    text = text.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, Verbatim):
        return text
    return re.sub(r"\S{%d,}" % _LONG_WORD, _add_break_opportunities, text)


def _add_break_opportunities(match: re.Match[str]) -> str:
    word = match.group(0)
    return "\u200b".join(word[index : index + 30] for index in range(0, len(word), 30))


def _style_base(document: Any) -> None:
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)


def _marking_paragraph(container: Any, marking: str) -> None:
    paragraph = container.paragraphs[0] if container.paragraphs else container.add_paragraph()
    paragraph.text = ""
    run = paragraph.add_run(clean_text(marking))
    run.bold = True
    run.font.size = Pt(12)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def new_document(title: str, *, subtitle: str = "", marking: str | None = None) -> Any:
    """Start a document with the protective marking in its header and footer and a title."""
    marking = marking or get_settings().protective_marking
    document = Document()
    _style_base(document)

    section = document.sections[0]
    _marking_paragraph(section.header, marking)
    _marking_paragraph(section.footer, marking)

    document.core_properties.title = clean_text(title)
    document.core_properties.subject = clean_text(subtitle)
    document.core_properties.keywords = clean_text(marking)
    document.add_heading(clean_text(title), level=0)
    if subtitle:
        document.add_paragraph(clean_text(subtitle))
    return document


def add_heading(document: Any, text: str, level: int = 1) -> None:
    document.add_heading(clean_text(text), level=level)


def add_paragraph(document: Any, text: Any, *, bold: bool = False, italic: bool = False) -> None:
    """Add text; blank lines in it become separate paragraphs."""
    for block in clean_text(text).split("\n") or [""]:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(block)
        run.bold = bold
        run.italic = italic


def add_note(document: Any, text: str) -> None:
    paragraph = document.add_paragraph()
    run = paragraph.add_run(clean_text(text))
    run.italic = True
    run.font.color.rgb = RGBColor(0x50, 0x5A, 0x5F)


def _shade(cell: Any, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def add_table(document: Any, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """Add a bordered table with a shaded header row; cells are cleaned text.

    Uses the "Table Grid" style, which python-docx's default template contains (a style missing from
    the template raises KeyError).
    """
    rows = [list(row) for row in rows]
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER

    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(clean_text(header))
        run.bold = True
        _shade(cell, "E5E6E7")

    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = clean_text(value)
    document.add_paragraph()
    return table


def add_summary(document: Any, pairs: Iterable[tuple[str, Any]]) -> Table:
    """Add a two-column key/value table (the document form of a summary list)."""
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for key, value in pairs:
        cells = table.add_row().cells
        cells[0].text = ""
        run = cells[0].paragraphs[0].add_run(clean_text(key))
        run.bold = True
        _shade(cells[0], "F3F2F1")
        cells[1].text = clean_text(value)
    document.add_paragraph()
    return table


def add_version_block(document: Any, *, number: int, content_hash: str | None, status: str) -> None:
    """State which version this is and the SHA-256 that identifies its content."""
    add_summary(
        document,
        [
            ("Version", str(number)),
            ("Status", status),
            ("Content hash (SHA-256)", Verbatim(content_hash) if content_hash else "Not yet submitted: this draft has no hash"),
        ],
    )


def add_sign_off_block(document: Any, sign_offs: Sequence[Any]) -> None:
    """Add the sign-off table: who signed, their role, what the signature means, when, and on what hash.

    ``sign_offs`` are ``governance.assessments.SignOffView`` objects.
    """
    from governance.roles import ROLE_LABELS, Role

    def role_label(value: str) -> str:
        try:
            return ROLE_LABELS[Role(value)]
        except ValueError:
            return value

    if not sign_offs:
        add_note(document, "No sign-offs have been recorded for this version.")
        return
    add_table(
        document,
        ["Signed by", "Role", "Meaning of signature", "Decision", "Signed (UK time)", "On content hash", "Summary or reasons"],
        [
            (
                item.signer_name,
                role_label(item.signer_role),
                item.meaning,
                item.decision.replace("_", " "),
                format_datetime(item.signed_at),
                Verbatim(item.content_hash),
                "\n".join(part for part in (item.summary, item.reasons) if part),
            )
            for item in sign_offs
        ],
    )


def to_bytes(document: Any) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def attachment_headers(filename: str) -> dict[str, str]:
    """Headers for a download; ``filename`` must be plain ASCII (references and numbers only)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", filename)
    return {"Content-Disposition": f'attachment; filename="{safe}"'}
