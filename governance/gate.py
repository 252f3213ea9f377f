"""The go-live gate: a registry of readiness checks and the evaluation that runs them.

Domain packages register checks (the core never imports them); the core adds its own checks (manual
sign-offs and suspension, in ``governance.gate_checks``). The gate runs them all and fails closed: a
check that raises counts as a blocker and is logged, and a registry without any package check is
itself a blocker.

Evidence convention: a check that passed because of an assessment version puts
``assessment_evidence(version)`` in its evidence (under ``"assessment"``, or a list under
``"assessments"``), so a go-live decision can later be verified against the stored versions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from governance.clock import utcnow
from governance.database import savepoint
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

    @property
    def blocker_names(self) -> list[str]:
        names: list[str] = []
        for check in self.blockers:
            if check.name not in names:
                names.append(check.name)
        return names


_registry: dict[str, RegisteredCheck] = {}


def register_check(check: RegisteredCheck) -> None:
    """Add ``check`` to the gate; registering the same name again replaces it."""
    _registry[check.name] = check


def registered_checks() -> list[RegisteredCheck]:
    """Return the package checks, in registration order (the core's own checks are not listed)."""
    return list(_registry.values())


@contextlib.contextmanager
def checks_replaced(checks: list[RegisteredCheck]) -> Iterator[None]:
    """Run the block with exactly ``checks`` as the package checks, then restore the registry.

    Tests use it to control what the gate sees; the core's own checks still run.
    """
    saved = dict(_registry)
    _registry.clear()
    for check in checks:
        _registry[check.name] = check
    try:
        yield
    finally:
        _registry.clear()
        _registry.update(saved)


def assessment_evidence(version: Any) -> dict[str, Any]:
    """Return the evidence that identifies an assessment version (an ``assessments.VersionView``)."""
    return {
        "kind": version.kind,
        "number": version.number,
        "content_hash": version.content_hash,
        "decision": version.decision,
        "decided_at": version.decided_at.isoformat() if version.decided_at else None,
        "review_date": version.review_date.isoformat() if version.review_date else None,
    }


def assessment_references(evidence: Any) -> list[dict[str, Any]]:
    """Find every assessment reference (a dict with kind, number and content_hash) in ``evidence``."""
    found: list[dict[str, Any]] = []
    if isinstance(evidence, dict):
        if {"kind", "number", "content_hash"} <= evidence.keys():
            found.append(evidence)
        else:
            for value in evidence.values():
                found.extend(assessment_references(value))
    elif isinstance(evidence, list):
        for item in evidence:
            found.extend(assessment_references(item))
    return found


SUSPENSION_CHECK = "suspension"


def for_move(readiness: Readiness, current: Stage, target: Stage) -> Readiness:
    """Adjust readiness for a move: reinstating a suspended use case clears the suspension check.

    A suspended use case fails readiness until it is reinstated, and reinstatement is the move from
    suspended to live, which must pass every other check.
    """
    if current is not Stage.SUSPENDED or target is not Stage.LIVE:
        return readiness
    results = [
        replace(
            result,
            passed=True,
            detail="This move reinstates the use case; every other check must pass.",
            clearing_role=None,
        )
        if result.name == SUSPENSION_CHECK
        else result
        for result in readiness.checks
    ]
    return combine(readiness.reference, results, readiness.evaluated_at)


def uncovered_blockers(readiness: Readiness, covered: frozenset[str] | None) -> list[CheckResult]:
    """Return the blockers that an emergency override covering ``covered`` check names leaves open."""
    if covered is None:
        return readiness.blockers
    return [check for check in readiness.blockers if check.name not in covered]


def combine(reference: str, results: list[CheckResult], evaluated_at: dt.datetime) -> Readiness:
    """Decide readiness from check results: ready only if there is at least one and all passed."""
    ready = bool(results) and all(result.passed for result in results)
    return Readiness(reference, ready, tuple(results), evaluated_at)


async def _run_check(check: RegisteredCheck, use_case: UseCaseRef, now: dt.datetime) -> list[CheckResult]:
    try:
        # A savepoint keeps a PostgreSQL transaction usable after a failed query inside the check.
        async with savepoint():
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
    from governance.gate_checks import CORE_CHECKS

    now = now or utcnow()
    results: list[CheckResult] = []

    if not _registry:
        results.append(
            CheckResult(
                name="configuration",
                title="Gate configuration",
                passed=False,
                detail="No assessment checks are installed, so nothing can be shown to be ready.",
                clearing_role=Role.ADMINISTRATOR,
            )
        )

    for check in [*_registry.values(), *CORE_CHECKS]:
        results.extend(await _run_check(check, use_case, now))

    return combine(use_case.reference, results, now)
