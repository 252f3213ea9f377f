"""Word (.docx) exports in the service's house style, built with python-docx.

Every export carries the protective marking in its header and footer, the record's version number
and content hash, and a sign-off table. Pages are A4, the proofing language is British English, and
the document properties name the service and the time of export. (python-docx's template would
otherwise give US Letter, en-US, "python-docx" and 2013.) Text from users passes through
``clean_text`` first: python-docx rejects control characters (a vertical tab pasted from Word, for
example), so they are replaced rather than allowed to fail the export, and invisible characters
that reorder or hide text (a right-to-left override, for example) are removed.
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
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import Table

from governance.audit import SYSTEM
from governance.clock import format_datetime, utcnow
from governance.settings import get_settings

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Characters XML 1.0 forbids, plus the other C0/C1 controls; tab and newline are handled separately.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")

# Invisible format characters that reorder or hide the text around them, which exports remove.
# They are the bidirectional embeddings and overrides (U+202A to U+202E) and isolates (U+2066 to
# U+2069), and the deprecated controls that swap digit shapes and Arabic shaping (U+206A to U+206F).
# The interlinear annotation marks (U+FFF9 to U+FFFB) hide text, and U+FEFF inside text is an
# invisible word joiner. NOTE: the directional marks LRM, RLM and ALM (U+200E, U+200F, U+061C) stay, because
# Arabic and Hebrew text uses them to place punctuation and digits, and they move no letters.
# Joiners (U+200C, U+200D) stay too, because Persian, Indic scripts and emoji need them.
_REORDERING_OR_HIDING = re.compile("[\u202a-\u202e\u2066-\u2069\u206a-\u206f\ufff9-\ufffb\ufeff]")
# Tag characters (U+E0000 to U+E007F) are invisible and can carry hidden text. They are kept only
# in an emoji tag sequence, such as the flag of Wales: a black flag, tag letters, a cancel tag.
_TAG_CHARACTER = re.compile("[\U000e0000-\U000e007f]")
_EMOJI_TAG_SEQUENCE = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)")

LANGUAGE = "en-GB"
PAGE_WIDTH = Mm(210)
PAGE_HEIGHT = Mm(297)
MARGIN = Cm(2.5)


def _remove_tag_characters(text: str) -> str:
    """Remove tag characters, except those that form an emoji tag sequence."""
    parts = _EMOJI_TAG_SEQUENCE.split(text)
    # split() with one group puts the sequences at the odd positions.
    return "".join(part if index % 2 else _TAG_CHARACTER.sub("", part) for index, part in enumerate(parts))


def clean_text(value: Any) -> str:
    """Return ``value`` as text that Word accepts and that reads as it was typed.

    Controls and tabs become spaces. Invisible characters that would reorder or hide text in Word
    (right-to-left overrides, for example) are removed. Word's manual line break (vertical tab),
    page break (form feed) and the Unicode line and paragraph separators become line breaks, so
    text pasted from Word keeps its lines. Everything else stays as it was, because a hash or a URL
    copied out of the document must match the original. Word itself breaks a word too long for its
    line or table cell, and ``_fit_to_page`` gives tables the fixed layout that makes it do so.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = text.replace("\x0b", "\n").replace("\x0c", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _FORBIDDEN.sub(" ", text)
    text = _REORDERING_OR_HIDING.sub("", text)
    text = _remove_tag_characters(text)
    # Lone surrogates (from badly decoded input) cannot be encoded in XML either.
    return text.encode("utf-8", "replace").decode("utf-8")


def _style_base(document: Any) -> None:
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    _set_language(document)


def _set_language(document: Any) -> None:
    """Make British English the proofing language of every style and of the theme fonts."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    properties = run_defaults.find(qn("w:rPr")) if run_defaults is not None else None
    if properties is None:
        properties = document.styles.element.get_or_add_docDefaults().get_or_add_rPrDefault().get_or_add_rPr()
    language = properties.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        properties.append(language)
    language.set(qn("w:val"), LANGUAGE)
    language.set(qn("w:eastAsia"), LANGUAGE)

    theme_language = document.settings.element.find(qn("w:themeFontLang"))
    if theme_language is not None:
        theme_language.set(qn("w:val"), LANGUAGE)
        theme_language.set(qn("w:eastAsia"), LANGUAGE)


def _set_page(section: Any) -> None:
    section.page_width = PAGE_WIDTH
    section.page_height = PAGE_HEIGHT
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, MARGIN)


SERVICE_NAME = SYSTEM.name


def _set_properties(document: Any, title: str, subtitle: str, marking: str, author: str | None) -> None:
    """Describe the export in the document properties: the service made it, just now, as revision 1."""
    now = utcnow().replace(microsecond=0)
    properties = document.core_properties
    properties.title = clean_text(title)
    properties.subject = clean_text(subtitle)
    properties.keywords = clean_text(marking)
    properties.author = clean_text(author or SERVICE_NAME)
    properties.last_modified_by = clean_text(author or SERVICE_NAME)
    properties.comments = f"Exported from {SERVICE_NAME}."
    properties.language = LANGUAGE
    properties.created = now
    properties.modified = now
    properties.revision = 1


def _marking_paragraph(container: Any, marking: str) -> None:
    paragraph = container.paragraphs[0] if container.paragraphs else container.add_paragraph()
    paragraph.text = ""
    run = paragraph.add_run(clean_text(marking))
    run.bold = True
    run.font.size = Pt(12)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def new_document(
    title: str, *, subtitle: str = "", marking: str | None = None, author: str | None = None
) -> Any:
    """Start an A4 document with the protective marking in its header and footer and a title.

    ``author`` (the exporting person's name) becomes the document's author; without it, the
    service's name does.
    """
    marking = marking or get_settings().protective_marking
    document = Document()
    _style_base(document)

    section = document.sections[0]
    _set_page(section)
    _marking_paragraph(section.header, marking)
    _marking_paragraph(section.footer, marking)

    _set_properties(document, title, subtitle, marking, author)
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


def _fit_to_page(document: Any, table: Table) -> None:
    """Give ``table`` a fixed layout as wide as the text, shared equally between its columns.

    With a fixed layout Word keeps the column widths and breaks a word too long for its cell (a hash
    or a URL) at the cell's edge, so no text can push the table off the page.
    """
    width = document._block_width
    table.autofit = False
    properties = table._tbl.tblPr
    table_width = properties.find(qn("w:tblW"))
    if table_width is None:
        table_width = OxmlElement("w:tblW")
        properties.append(table_width)
    table_width.set(qn("w:type"), "dxa")
    table_width.set(qn("w:w"), str(width.twips))
    column_width = width // len(table.columns)
    for column in table.columns:
        column.width = column_width
    for row in table.rows:
        for cell in row.cells:
            cell.width = column_width


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
    _fit_to_page(document, table)
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
    _fit_to_page(document, table)
    document.add_paragraph()
    return table


def add_version_block(document: Any, *, number: int, content_hash: str | None, status: str) -> None:
    """State which version this is and the SHA-256 that identifies its content."""
    add_summary(
        document,
        [
            ("Version", str(number)),
            ("Status", status),
            ("Content hash (SHA-256)", content_hash or "Not yet submitted: this draft has no hash"),
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
                item.content_hash,
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
