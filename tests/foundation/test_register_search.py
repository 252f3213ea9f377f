"""Register search: the text typed is matched literally, so % and _ are not wildcards."""

import pytest

from governance import register
from governance.database import like_substring_pattern
from governance.roles import Role
from tests.support import make_use_case, sign_in


def test_pattern_plain_text():
    assert like_substring_pattern("crime") == "%crime%"


def test_pattern_escapes_percent():
    assert like_substring_pattern("50%") == "%50\\%%"


def test_pattern_escapes_underscore():
    assert like_substring_pattern("a_b") == "%a\\_b%"


def test_pattern_escapes_escape_character():
    assert like_substring_pattern("a\\b") == "%a\\\\b%"


@pytest.fixture
async def titles(central):
    for title in ("Online crime reports", "Warrants 50% faster", "Crime_log transfer", "Path C:\\exports\\daily"):
        await make_use_case(central, title=title)


async def found(text: str) -> list[str]:
    views = await register.list_use_cases(register.RegisterFilter(search=text))
    return [view.title for view in views]


@pytest.mark.parametrize("text", ["%", "_", "\\", "%%", "__"])
async def test_wildcard_alone_matches_literally(titles, text):
    expected = [title for title in await found("") if text in title]
    assert await found(text) == expected


async def test_percent_matches_title_with_percent(titles):
    assert await found("50%") == ["Warrants 50% faster"]


async def test_underscore_not_single_character(titles):
    assert await found("crime_") == ["Crime_log transfer"]


async def test_backslash_matches_title_with_backslash(titles):
    assert await found("C:\\exports") == ["Path C:\\exports\\daily"]


async def test_search_ignores_case(titles):
    assert await found("ONLINE") == ["Online crime reports"]


async def test_percent_alone_finds_one(titles):
    assert await found("%") == ["Warrants 50% faster"]


async def test_register_page_percent_search(client, make_person, titles):
    await make_person(Role.PROGRAMME_BOARD, username="board.viewer")
    await sign_in(client, "board.viewer")
    response = await client.get("/use-cases", params={"q": "_"})
    assert "1 use case." in response.text
