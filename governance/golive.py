"""Enforcement of the go-live gate on stage moves, and the hook for readiness changes.

``authorise_move`` runs inside the move's write transaction. Because write transactions are
serialised, nothing the checks read can change between the evaluation and the commit.
"""

from __future__ import annotations

import logging
from typing import Any

from governance import gate
from governance.audit import Actor
from governance.errors import Conflict
from governance.gate import UseCaseRef
from governance.stages import Stage

logger = logging.getLogger(__name__)


async def authorise_move(
    actor: Actor, use_case: UseCaseRef, target: Stage, reason: str
) -> dict[str, Any] | None:
    """Raise ``Conflict`` with the blockers unless the use case is ready; return the decision record."""
    readiness = await gate.evaluate(use_case)
    if not readiness.ready:
        logger.warning(
            "go-live refused: %s to %s requested by %s; blockers: %s",
            use_case.reference,
            target.value,
            actor.username,
            ", ".join(check.name for check in readiness.blockers),
        )
        raise Conflict(
            f"{use_case.reference} cannot move to {target.label.lower()}: "
            f"{len(readiness.blockers)} readiness check(s) failed",
            extra={"blockers": [check.as_dict() for check in readiness.blockers]},
        )
    return {
        "evaluated_at": readiness.evaluated_at.isoformat(),
        "checks": [check.as_dict() for check in readiness.checks],
    }


async def after_move(actor: Actor, use_case: UseCaseRef, previous: Stage, target: Stage) -> None:
    """Hook run in the move's transaction after the stage changed."""


async def readiness_may_have_changed(actor: Actor, use_case_id: int, reason: str) -> None:
    """Re-check a live use case after a change to something its readiness depends on.

    Domain packages call this inside their write transaction whenever an approval is revoked, a new
    assessment version is started, a review date moves or an ICO consultation reopens.
    """
