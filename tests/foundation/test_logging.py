"""Log output: one line per record, whatever a request's path or body contains."""

import logging
import re
import sys

import httpx
import pytest

from governance.logs import LOG_FORMAT, SingleLineFormatter, escape_control_characters
from tests.foundation.test_cli import running_server

FORGED = "2026-12-04 21:40:00,000 WARNING governance.app: forged line"
FORGED_PATH = "/nothing%0a2026-12-04%2021:40:00,000%20WARNING%20governance.app:%20forged%20line"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")


def record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("governance.test", logging.INFO, __file__, 1, message, args, exc_info)


# Escaping ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("tab\there", "tab\\there"),
        ("nul\x00", "nul\\x00"),
        ("escape\x1b[31m", "escape\\x1b[31m"),
        ("del\x7f", "del\\x7f"),
        ("next line\x85", "next line\\x85"),
        ("separator\u2028", "separator\\u2028"),
        ("override\u202e", "override\\u202e"),
        ("plain £ ŵ text", "plain £ ŵ text"),
    ],
)
def test_escape_control_characters(text, expected):
    assert escape_control_characters(text) == expected


def test_formatter_one_line():
    formatted = SingleLineFormatter(LOG_FORMAT).format(record("path %s", f"/x\n{FORGED}"))
    assert "\n" not in formatted


def test_formatter_keeps_escaped_text():
    formatted = SingleLineFormatter(LOG_FORMAT).format(record("path %s", "/x\ny"))
    assert formatted.endswith("path /x\\ny")


def test_formatter_indents_traceback():
    try:
        raise ValueError(f"bad value\n{FORGED}")
    except ValueError:
        formatted = SingleLineFormatter(LOG_FORMAT).format(record("failed", exc_info=sys.exc_info()))
    lines = formatted.splitlines()
    assert lines[1] == "  Traceback (most recent call last):"
    assert [line for line in lines[1:] if not line.startswith("  ")] == []
    assert "  " + FORGED in lines


def test_formatter_ignores_cached_traceback():
    """A traceback another formatter already rendered into ``exc_text`` is still indented."""
    try:
        raise ValueError("boom")
    except ValueError:
        item = record("failed", exc_info=sys.exc_info())
    logging.Formatter().format(item)
    formatted = SingleLineFormatter(LOG_FORMAT).format(item)
    assert [line for line in formatted.splitlines()[1:] if not line.startswith("  ")] == []


# Requests ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [FORGED_PATH, "/api/v1" + FORGED_PATH, "/nothing%0d%0aforged", "/static/x%0aforged"])
async def test_request_path_not_in_raw_log(client, caplog, path):
    caplog.set_level(logging.INFO)
    await client.get(path)
    messages = [item.getMessage() for item in caplog.records]
    assert [message for message in messages if "forged" in message] != []
    assert [message for message in messages if "\n" in message or "\r" in message] == []


async def test_served_log_one_line_per_record(db, tmp_path):
    """The running service, with uvicorn's and Litestar's own lines, writes no forged line."""
    with running_server(tmp_path, db, env={"GOVERNANCE_ENV": "development"}) as (base, output):
        for path in (FORGED_PATH, "/api/v1" + FORGED_PATH, "/static/%00", "/x%0d%0a2026-12-04%20forged"):
            httpx.get(base + path, timeout=10)
        httpx.post(f"{base}/api/v1/use-cases", content=b"[" * 100_000, timeout=10)
    lines = output.read_text().splitlines()
    assert [line for line in lines if line.startswith(FORGED[:24])] == []
    assert [line for line in lines if "forged" in line and not TIMESTAMP.match(line)] == []
    assert [line for line in lines if "\x00" in line] == []
