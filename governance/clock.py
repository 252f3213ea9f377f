"""Time and money helpers: UTC in storage, Europe/London and pounds sterling on screen."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
UTC = dt.timezone.utc


_record_time: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("record_time", default=None)


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime, or the time set by ``records_dated``."""
    pinned = _record_time.get()
    return pinned if pinned is not None else dt.datetime.now(UTC)


def wall_clock_now() -> dt.datetime:
    """Return the real current time, ignoring ``records_dated`` (the audit log always uses this)."""
    return dt.datetime.now(UTC)


@contextlib.contextmanager
def records_dated(moment: dt.datetime) -> Iterator[None]:
    """Stamp records written by this task inside the block with ``moment`` instead of now.

    For loading illustrative history (the demo programme). The setting is per task, so requests
    served at the same time are unaffected, and audit entries keep the real time.
    """
    token = _record_time.set(as_utc(moment))
    try:
        yield
    finally:
        _record_time.reset(token)


def london_today(now: dt.datetime | None = None) -> dt.date:
    """Return today's date in Europe/London, which is the date that review deadlines use."""
    return (now or utcnow()).astimezone(LONDON).date()


def as_utc(value: dt.datetime) -> dt.datetime:
    """Return ``value`` in UTC; raise ``ValueError`` for naive datetimes instead of guessing."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: attach a time zone before storing it")
    return value.astimezone(UTC)


def format_date(value: dt.date | dt.datetime | None) -> str:
    """Format as "4 December 2026" (GOV.UK style), converting datetimes to Europe/London first."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(LONDON)
    return f"{value.day} {value:%B %Y}"


def format_datetime(value: dt.datetime | None) -> str:
    """Format as "4 December 2026, 7:55pm" in Europe/London."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{local.day} {local:%B %Y}, {hour}:{local:%M}{suffix}"


def format_pence(pence: int | None, *, short: bool = False) -> str:
    """Format integer pence as pounds: "£1,540,000.00", or "£1.54m" with ``short`` (from £100,000 up)."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pence = abs(pence)
    if short and pence >= 10_000_000:
        millions = pence / 100_000_000
        text = f"{millions:,.3f}".rstrip("0").rstrip(".")
        if len(text.split(".")[-1]) < 2 and "." in text:
            text += "0"
        return f"{sign}£{text}m"
    pounds, remainder = divmod(pence, 100)
    return f"{sign}£{pounds:,}.{remainder:02d}"


def financial_year_of(day: dt.date) -> str:
    """Return the UK financial year ("2025/26") that contains ``day``; years start on 1 April."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"
