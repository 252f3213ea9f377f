"""The core's own readiness checks: manual sign-offs and suspension.

``gate.evaluate`` runs these after the package checks, whatever packages are installed.
"""

from __future__ import annotations

import datetime as dt

from governance import manual_checks
from governance.clock import format_date
from governance.gate import SUSPENSION_CHECK, CheckResult, RegisteredCheck, UseCaseRef
from governance.roles import Role
from governance.stages import Stage
from governance.tables import AuditEntry


async def _suspension_since(reference: str) -> AuditEntry | None:
    return (
        await AuditEntry.select(AuditEntry.occurred_at, AuditEntry.actor, AuditEntry.note)
        .where(
            (AuditEntry.use_case_ref == reference)
            & (AuditEntry.action == "use_case.moved")
            & AuditEntry.after.like('%"stage":"suspended"%')
        )
        .order_by(AuditEntry.seq, ascending=False)
        .first()
        .run()
    )


async def check_suspension(use_case: UseCaseRef, now: dt.datetime) -> list[CheckResult]:
    """Fail while the use case is suspended; reinstating it is a move through the gate."""
    if use_case.stage is not Stage.SUSPENDED:
        return [
            CheckResult(
                name=SUSPENSION_CHECK,
                title="Not suspended",
                passed=True,
                detail="The use case is not suspended.",
            )
        ]

    detail = "The central team suspended this use case."
    entry = await _suspension_since(use_case.reference)
    if entry is not None:
        detail = (
            f"Suspended on {format_date(entry['occurred_at'])} by {entry['actor']}"
            + (f": {entry['note']}" if entry["note"] else "")
            + "."
        )
    return [
        CheckResult(
            name=SUSPENSION_CHECK,
            title="Not suspended",
            passed=False,
            detail=detail + " It stays not ready until the central team reinstates it through the gate.",
            clearing_role=Role.CENTRAL_TEAM,
        )
    ]


CORE_CHECKS: list[RegisteredCheck] = [
    RegisteredCheck("manual_checks", "Manual checks", manual_checks.run_check),
    RegisteredCheck(SUSPENSION_CHECK, "Not suspended", check_suspension),
]
