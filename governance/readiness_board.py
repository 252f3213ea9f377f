"""The central team's readiness board: every use case by stage with its blockers, and its CSV export.

Lapsed use cases and those under an emergency go-live come first, flagged. Filters narrow the board
to one department or to the use cases blocked by one check.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection
from dataclasses import dataclass, field

from governance import accounts, gate, golive, manual_checks, register
from governance.clock import format_datetime, utcnow
from governance.errors import BadRequest, FieldError
from governance.golive import Flag, GateStatus
from governance.stages import PIPELINE, Stage


@dataclass(frozen=True)
class BoardFilter:
    department: str = ""
    blocker: str = ""


@dataclass(frozen=True)
class BoardRow:
    status: GateStatus
    flags: list[Flag]

    @property
    def use_case(self) -> register.UseCaseView:
        return self.status.use_case

    @property
    def blocker_names(self) -> list[str]:
        return [check.name for check in self.status.readiness.blockers]

    @property
    def needs_attention(self) -> bool:
        return bool(self.flags)


@dataclass
class Board:
    attention: list[BoardRow] = field(default_factory=list)
    by_stage: list[tuple[Stage, list[BoardRow]]] = field(default_factory=list)
    blocker_options: list[tuple[str, str]] = field(default_factory=list)
    evaluated_at: dt.datetime | None = None

    @property
    def count(self) -> int:
        return sum(len(rows) for _, rows in self.by_stage)


# Pure parts ----------------------------------------------------------------------------------------


def filter_problems(
    filters: BoardFilter, departments: Collection[str], check_names: Collection[str]
) -> list[FieldError]:
    """Return an error for each filter value that names no department or check.

    An unknown value would match nothing, and an empty board would look like the filtered result.
    """
    problems = []
    if filters.department and filters.department not in departments:
        problems.append(
            FieldError(
                "department",
                f"The department {filters.department!r} is not recognised. Choose one from the list.",
            )
        )
    if filters.blocker and filters.blocker not in check_names:
        problems.append(
            FieldError("blocker", f"The check {filters.blocker!r} is not recognised. Choose one from the list.")
        )
    return problems


def matches(row: BoardRow, filters: BoardFilter) -> bool:
    if filters.department and row.use_case.department != filters.department:
        return False
    if filters.blocker and filters.blocker not in row.blocker_names:
        return False
    return True


def arrange(rows: list[BoardRow], filters: BoardFilter) -> Board:
    """Filter rows and group them: flagged rows first, then every row under its stage."""
    options: dict[str, str] = {}
    for row in rows:
        for check in row.status.readiness.blockers:
            options.setdefault(check.name, check.title)

    matching = [row for row in rows if matches(row, filters)]
    grouped = [
        (stage, [row for row in matching if row.use_case.stage is stage])
        for stage in PIPELINE
    ]
    return Board(
        attention=[row for row in matching if row.needs_attention],
        by_stage=[(stage, items) for stage, items in grouped if items],
        blocker_options=sorted(options.items(), key=lambda item: item[1].lower()),
    )


CSV_COLUMNS = (
    "reference",
    "title",
    "department",
    "stage",
    "ready",
    "checks_passed",
    "flags",
    "lapsed_since",
    "lapse_reason",
    "emergency_override",
    "blockers",
    "blocker_details",
    "clearing_roles",
    "evaluated_at",
)


BYTE_ORDER_MARK = "\ufeff"


def _cell(value: object) -> str:
    """Return text safe for spreadsheets: a leading =, +, - or @ would start a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(rows: list[BoardRow]) -> str:
    """Return the board as CSV, one line per use case, times in UK time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        status = row.status
        blockers = status.readiness.blockers
        override = status.override
        writer.writerow(
            [
                _cell(value)
                for value in (
                    status.use_case.reference,
                    status.use_case.title,
                    status.use_case.department,
                    status.use_case.stage.label,
                    "yes" if status.ready else "no",
                    "yes" if status.readiness.ready else "no",
                    "; ".join(flag.label for flag in row.flags),
                    format_datetime(status.lapse.lapsed_at) if status.lapse else "",
                    status.lapse.reason if status.lapse else "",
                    (
                        f"{override.id} {override.status_at(status.readiness.evaluated_at)} until "
                        f"{format_datetime(override.expires_at)}"
                        if override
                        else ""
                    ),
                    "; ".join(check.name for check in blockers),
                    " | ".join(f"{check.title}: {check.detail}" for check in blockers),
                    "; ".join(
                        sorted({check.clearing_role.label for check in blockers if check.clearing_role})
                    ),
                    format_datetime(status.readiness.evaluated_at),
                )
            ]
        )
    return buffer.getvalue()


# Reading -------------------------------------------------------------------------------------------


async def known_checks() -> dict[str, str]:
    """Return the name and title of every check the gate can report, failing now or not."""
    from governance.gate_checks import CORE_CHECKS

    checks = {check.name: check.title for check in [*gate.registered_checks(), *CORE_CHECKS]}
    checks["configuration"] = "Gate configuration"
    for definition in await manual_checks.list_definitions():
        checks[definition.check_name] = definition.title
    return checks


async def check_filters(filters: BoardFilter) -> None:
    """Raise ``BadRequest`` naming each filter value that names no department or check (API, CSV)."""
    checks = await known_checks()
    problems = filter_problems(filters, await accounts.list_departments(), checks)
    if not problems:
        return
    message = " ".join(problem.message for problem in problems)
    if any(problem.field == "blocker" for problem in problems):
        message += f" Known checks: {', '.join(sorted(checks))}."
    raise BadRequest(message, errors=problems)


async def board_rows(now: dt.datetime | None = None) -> list[BoardRow]:
    """Evaluate every use case on the register (read-only)."""
    now = now or utcnow()
    flags = await golive.flags_by_use_case(now)
    rows = []
    for view in await register.list_use_cases():
        status = await golive.status_for(view, now)
        rows.append(BoardRow(status, flags.get(view.id, [])))
    return rows


async def build_board(filters: BoardFilter, now: dt.datetime | None = None) -> Board:
    now = now or utcnow()
    board = arrange(await board_rows(now), filters)
    board.evaluated_at = now
    return board


async def board_csv(filters: BoardFilter) -> str:
    """Return the CSV file's text, starting with a byte order mark.

    Excel on Windows reads a CSV file without the mark in the local code page, which garbles Welsh
    letters such as ŵ and ŷ, other non-Latin text and dashes. With the mark it reads UTF-8. Raises
    ``BadRequest`` for a filter value that names no department or check.
    """
    await check_filters(filters)
    rows = [row for row in await board_rows() if matches(row, filters)]
    rows.sort(key=lambda row: (not row.needs_attention, PIPELINE.index(row.use_case.stage), row.use_case.reference))
    return BYTE_ORDER_MARK + to_csv(rows)
