"""The go-live gate: a registry of readiness checks and the evaluation that runs them.

Domain packages register checks (the core never imports them); the gate runs every registered check
and fails closed: a check that raises counts as a blocker and is logged, and an empty registry is
itself a blocker.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from governance.clock import utcnow
from governance.roles import Role
from governance.stages import Stage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UseCaseRef:
    """The identity of a use case as checks receive it.

    ``went_live_at`` is the time of the go-live decision that put the use case live (None when it
    is not live), so a check can require that an approval came before that decision.
    """

    id: int
    reference: str
    stage: Stage
    department: str = ""
    went_live_at: dt.datetime | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: passed, or the specific blocker and the role that can clear it.

    ``evidence`` records what a pass relied on, for example the assessment version number and its
    content hash, so that a go-live decision can store exactly what was approved.
    """

    name: str
    title: str
    passed: bool
    detail: str
    clearing_role: Role | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "passed": self.passed,
            "detail": self.detail,
            "clearing_role": self.clearing_role.value if self.clearing_role else None,
            "evidence": self.evidence,
        }


CheckFunction = Callable[[UseCaseRef, dt.datetime], Awaitable[list[CheckResult]]]


@dataclass(frozen=True)
class RegisteredCheck:
    """A named check supplied by a package; ``run`` may return several results (one per item)."""

    name: str
    title: str
    run: CheckFunction


@dataclass(frozen=True)
class Readiness:
    reference: str
    ready: bool
    checks: tuple[CheckResult, ...]
    evaluated_at: dt.datetime

    @property
    def blockers(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.passed]


_registry: dict[str, RegisteredCheck] = {}


def register_check(check: RegisteredCheck) -> None:
    """Add ``check`` to the gate; registering the same name again replaces it."""
    _registry[check.name] = check


def registered_checks() -> list[RegisteredCheck]:
    return list(_registry.values())


def combine(reference: str, results: list[CheckResult], evaluated_at: dt.datetime) -> Readiness:
    """Decide readiness from check results: ready only if there is at least one and all passed."""
    ready = bool(results) and all(result.passed for result in results)
    return Readiness(reference, ready, tuple(results), evaluated_at)


async def _run_check(check: RegisteredCheck, use_case: UseCaseRef, now: dt.datetime) -> list[CheckResult]:
    try:
        results = await check.run(use_case, now)
    except Exception:
        error_id = uuid.uuid4().hex[:12]
        logger.exception(
            "readiness check %s failed for %s (error id %s)", check.name, use_case.reference, error_id
        )
        return [
            CheckResult(
                name=check.name,
                title=check.title,
                passed=False,
                detail=f"The check could not run (error id {error_id}); it counts as a blocker "
                "until it runs cleanly. The service log has the details.",
                clearing_role=Role.ADMINISTRATOR,
            )
        ]

    if not results:
        return [
            CheckResult(
                name=check.name,
                title=check.title,
                passed=False,
                detail="The check returned no result, so it counts as a blocker.",
                clearing_role=Role.ADMINISTRATOR,
            )
        ]
    return results


async def evaluate(use_case: UseCaseRef, now: dt.datetime | None = None) -> Readiness:
    """Run every registered check against ``use_case``.

    Call it inside the write transaction of a move, so that what the checks read cannot change
    before the move commits.
    """
    now = now or utcnow()
    results: list[CheckResult] = []

    if not _registry:
        results.append(
            CheckResult(
                name="configuration",
                title="Gate configuration",
                passed=False,
                detail="No readiness checks are installed, so nothing can be shown to be ready.",
                clearing_role=Role.ADMINISTRATOR,
            )
        )

    for check in _registry.values():
        results.extend(await _run_check(check, use_case, now))

    return combine(use_case.reference, results, now)
