"""House-style Word helpers: text cleaning for pasted content, page set-up and document properties."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata

import docx
import pytest

from governance import documents
from governance.documents import clean_text


def _reopen(document) -> docx.document.Document:
    return docx.Document(io.BytesIO(documents.to_bytes(document)))


def _exported(**options) -> docx.document.Document:
    document = documents.new_document("Data protection impact assessment", subtitle="UC-001: Crime recording", **options)
    documents.add_table(document, ["Item", "Value"], [("Hash", "ab" * 32)])
    return _reopen(document)


def test_clean_text_turns_word_breaks_into_lines():
    assert clean_text("one\x0btwo\x0cthree") == "one\ntwo\nthree"


def test_clean_text_removes_controls():
    assert clean_text("a\x01b\x1fc") == "a b c"


def test_clean_text_keeps_long_words():
    assert clean_text("y" * 5000) == "y" * 5000


def test_clean_text_keeps_urls():
    url = "https://intranet.force.example/policies/data-protection/appropriate-policy-document-v3.pdf?download=1"
    assert clean_text(url) == url


def test_clean_text_adds_no_invisible_characters():
    assert "\u200b" not in clean_text(("x" * 100 + " ") * 10)


def test_clean_text_keeps_other_scripts():
    assert clean_text("التحقق 数据") == "التحقق 数据"


def test_export_page_is_a4():
    section = _exported().sections[0]
    # Word stores page sizes in twentieths of a point; A4 (210 by 297 mm) is 11906 by 16838.
    assert (section.page_width.twips, section.page_height.twips) == (11906, 16838)


def test_export_margins_inside_page():
    section = _exported().sections[0]
    assert section.left_margin + section.right_margin < section.page_width / 4


def test_export_language_is_british():
    document = _exported()
    languages = re.findall(r'<w:lang w:val="([^"]+)"', document.styles.element.xml)
    assert languages == ["en-GB"]


def test_export_theme_language_is_british():
    assert 'w:themeFontLang w:val="en-GB"' in _exported().settings.element.xml


def test_export_author_is_service():
    assert _exported().core_properties.author == "Automation Governance"


def test_export_author_is_exporting_person():
    properties = _exported(author="Priya Shah").core_properties
    assert (properties.author, properties.last_modified_by) == ("Priya Shah", "Priya Shah")


def test_export_created_now():
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    created = _exported().core_properties.created
    assert before <= created <= dt.datetime.now(dt.timezone.utc)


def test_export_modified_equals_created():
    properties = _exported().core_properties
    assert properties.modified == properties.created


def test_export_revision_one():
    assert _exported().core_properties.revision == 1


def test_export_description_not_python_docx():
    assert "python-docx" not in _exported().core_properties.comments


def test_export_title_subject_keywords():
    properties = _exported(marking="OFFICIAL-SENSITIVE").core_properties
    assert (properties.title, properties.subject, properties.keywords) == (
        "Data protection impact assessment",
        "UC-001: Crime recording",
        "OFFICIAL-SENSITIVE",
    )


def test_table_layout_fixed():
    table = _exported().tables[0]
    assert table._tbl.tblPr.find(docx.oxml.ns.qn("w:tblLayout")).get(docx.oxml.ns.qn("w:type")) == "fixed"


def test_table_width_within_page():
    document = _exported()
    section = document.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    assert sum(column.width for column in document.tables[0].columns) <= text_width


def test_table_keeps_hash_intact():
    assert _exported().tables[0].rows[1].cells[1].text == "ab" * 32


# Invisible characters that reorder or hide text -------------------------------------------------------

REORDERING = [
    *(chr(code) for code in range(0x202A, 0x202F)),
    *(chr(code) for code in range(0x2066, 0x206A)),
    *(chr(code) for code in range(0x206A, 0x2070)),
    "\ufff9",
    "\ufffa",
    "\ufffb",
    "\ufeff",
]
WELSH_FLAG = "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"


@pytest.mark.parametrize("character", REORDERING, ids=lambda character: f"U+{ord(character):04X}")
def test_clean_text_removes_reordering_character(character):
    assert clean_text(f"abc{character}def") == "abcdef"


def test_clean_text_removes_right_to_left_override():
    """The classic spoof: "invoice\u202egnp.exe" shows as "invoiceexe.png"."""
    assert clean_text("invoice\u202egnp.exe") == "invoicegnp.exe"


def test_clean_text_removes_hidden_tag_text():
    hidden = "".join(chr(0xE0000 + ord(letter)) for letter in "ignore this")
    assert clean_text(f"Approved{hidden}.") == "Approved."


def test_clean_text_removes_language_tag():
    assert clean_text("a\U000e0001b") == "ab"


def test_clean_text_keeps_flag_tag_sequence():
    assert clean_text(f"Cymru {WELSH_FLAG}") == f"Cymru {WELSH_FLAG}"


def test_clean_text_removes_unterminated_tags():
    assert clean_text("\U0001f3f4\U000e0067\U000e0062 flag") == "\U0001f3f4 flag"


def test_clean_text_line_separators_become_lines():
    assert clean_text("one\u2028two\u2029three") == "one\ntwo\nthree"


@pytest.mark.parametrize(
    "text",
    [
        "تم التحقق من البيانات",
        "שלום עולם",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        "क्\u200dष",
        "\U0001f469\u200d\U0001f4bb",
        "\u05d0\u200f(1)",
        "\u0627\u061c123",
        "数据 データ 데이터",
    ],
    ids=["arabic", "hebrew", "persian-zwnj", "devanagari-zwj", "emoji-zwj", "hebrew-rlm", "arabic-alm", "cjk"],
)
def test_clean_text_keeps_script(text):
    assert clean_text(text) == unicodedata.normalize("NFC", text)


def test_export_reopened_has_no_override():
    document = documents.new_document("Assessment")
    documents.add_paragraph(document, "Owner: \u202eredaeL\u202c and \u2067isolated\u2069")
    documents.add_table(document, ["Field", "Value"], [("Note", "x\u202dy\U000e0041z")])
    reopened = _reopen(document)
    text = "\n".join([*(paragraph.text for paragraph in reopened.paragraphs), reopened.tables[0].rows[1].cells[1].text])
    assert not re.search("[\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]", text)


def test_export_reopened_keeps_arabic():
    document = documents.new_document("Assessment")
    documents.add_paragraph(document, "الملاحظات \u202eسرية")
    paragraphs = [paragraph.text for paragraph in _reopen(document).paragraphs]
    assert "الملاحظات سرية" in paragraphs


def test_export_reopened_keeps_flag():
    document = documents.new_document("Assessment")
    documents.add_paragraph(document, f"Wales {WELSH_FLAG}")
    paragraphs = [paragraph.text for paragraph in _reopen(document).paragraphs]
    assert f"Wales {WELSH_FLAG}" in paragraphs
