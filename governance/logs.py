"""Log formatting shared by the service and the command line: one line per log record.

Log messages carry values that callers control, such as request paths (a path may hold ``%0a``,
which decodes to a newline). Written as they are, such values could start a line that looks like a
separate record. ``SingleLineFormatter`` escapes control characters in every formatted message, so
each record starts exactly one line that begins with its timestamp.
"""

from __future__ import annotations

import logging
import re

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# C0 and C1 control characters, DEL, the Unicode line and paragraph separators, and the
# bidirectional overrides and isolates, which can make a terminal show text in another order.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
TRACEBACK_INDENT = "  "


def _escape_one(match: re.Match[str]) -> str:
    character = match.group()
    if character in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control_characters(text: str) -> str:
    """Return ``text`` with control characters written as Python escapes (``\\n``, ``\\x00``)."""
    return _CONTROL_CHARACTERS.sub(_escape_one, text)


def _indent(block: str) -> str:
    return "\n".join(
        TRACEBACK_INDENT + escape_control_characters(line) for line in block.splitlines()
    )


class SingleLineFormatter(logging.Formatter):
    """Format a record as one line with control characters escaped.

    A traceback or stack follows on its own lines, each indented by two spaces, so only the first
    line of a record starts with a timestamp. Exception messages inside a traceback are escaped
    line by line as well.
    """

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        lines = [escape_control_characters(self.formatMessage(record))]

        # The traceback is formatted here rather than taken from ``record.exc_text``, which another
        # handler's formatter may have filled without indenting it.
        if record.exc_info:
            lines.append(_indent(self.formatException(record.exc_info)))
        elif record.exc_text:
            lines.append(_indent(record.exc_text))
        if record.stack_info:
            lines.append(_indent(self.formatStack(record.stack_info)))
        return "\n".join(lines)


def stream_handler() -> logging.Handler:
    """Return a handler writing single-line records to standard error, for the command line."""
    handler = logging.StreamHandler()
    handler.setFormatter(SingleLineFormatter(LOG_FORMAT))
    return handler


# The ``formatters`` entry for ``logging.config.dictConfig`` and Litestar's ``LoggingConfig``.
DICT_CONFIG_FORMATTER = {"()": f"{__name__}.SingleLineFormatter", "fmt": LOG_FORMAT}
