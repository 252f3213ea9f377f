"""House-style Word helpers: text cleaning for pasted content."""

from __future__ import annotations

from governance.documents import Verbatim, clean_text


def test_clean_text_turns_word_breaks_into_lines():
    assert clean_text("one\x0btwo\x0cthree") == "one\ntwo\nthree"


def test_clean_text_removes_controls():
    assert clean_text("a\x01b\x1fc") == "a b c"


def test_clean_text_breaks_long_words():
    assert "\u200b" in clean_text("y" * 100)


def test_clean_text_keeps_verbatim_hash():
    digest = "ab" * 32
    assert clean_text(Verbatim(digest)) == digest


def test_clean_text_keeps_other_scripts():
    assert clean_text("التحقق 数据") == "التحقق 数据"
