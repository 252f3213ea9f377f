"""Enforcement of the go-live gate on stage moves, go-live decisions, and the lapse watch.

``authorise_move`` runs inside the move's write transaction. Because write transactions are
serialised, nothing the checks read can change between the evaluation and the commit. A granted
move writes a go-live decision (append-only, hashed) with every check's evidence. A refused move
rolls back, and ``record_refusal`` then writes the refusal in a transaction of its own.

The lapse watch re-evaluates a live (or ready for live) use case whenever something its readiness
depends on changes, and in the daily ``sweep``. A use case that stops being ready gets an open
readiness lapse, which heads the central team's board until it is ready again or moved on.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from governance import audit, gate, overrides, register
from governance.audit import SYSTEM, Actor
from governance.canonical import canonical_json, content_hash
from governance.clock import UTC, format_date, utcnow
from governance.database import savepoint, write_transaction
from governance.errors import Conflict, Forbidden, InvalidInput, NotFound
from governance.gate import CheckResult, Readiness, UseCaseRef
from governance.roles import Role
from governance.stages import GATED, Stage
from governance.tables import GoLiveDecision, ReadinessLapse, UseCase

logger = logging.getLogger(__name__)

# Stages whose use cases the lapse watch re-checks.
WATCHED: frozenset[Stage] = frozenset({Stage.READY_FOR_LIVE, Stage.LIVE})
SUSPENDER_ROLES = (Role.CENTRAL_TEAM,)

_watch_paused: contextvars.ContextVar[bool] = contextvars.ContextVar("lapse_watch_paused", default=False)


@contextlib.contextmanager
def lapse_watch_paused() -> Iterator[None]:
    """Skip the lapse watch in this task while bulk-loading records (the demo loader uses it).

    Moves still run the gate. Call ``settle_imported_use_cases`` afterwards so the watch catches up.
    """
    token = _watch_paused.set(True)
    try:
        yield
    finally:
        _watch_paused.reset(token)


class GoLiveRefused(Conflict):
    """A gated move was refused; carries what ``record_refusal`` needs to record it."""

    def __init__(
        self,
        message: str,
        *,
        actor: Actor,
        use_case: UseCaseRef,
        target: Stage,
        readiness: Readiness,
        reason: str,
    ) -> None:
        super().__init__(message, extra={"blockers": [check.as_dict() for check in readiness.blockers]})
        self.actor = actor
        self.use_case = use_case
        self.target = target
        self.readiness = readiness
        self.reason = reason


# Views ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LapseView:
    id: int
    use_case_id: int
    lapsed_at: dt.datetime
    reason: str
    blockers: list[dict[str, Any]]
    cleared_at: dt.datetime | None
    cleared_by: str | None
    cleared_reason: str | None

    def as_api(self) -> dict[str, Any]:
        return {
            "lapsed_at": self.lapsed_at.isoformat(),
            "reason": self.reason,
            "blockers": self.blockers,
            "cleared_at": self.cleared_at.isoformat() if self.cleared_at else None,
            "cleared_by": self.cleared_by,
            "cleared_reason": self.cleared_reason,
        }


@dataclass(frozen=True)
class GateStatus:
    """Everything the pages, the board and the API show about one use case's readiness."""

    use_case: register.UseCaseView
    readiness: Readiness
    override: overrides.OverrideView | None
    lapse: LapseView | None

    @property
    def covered(self) -> frozenset[str] | None:
        return overrides.covered_names(self.override, self.readiness.evaluated_at)

    @property
    def open_blockers(self) -> list[CheckResult]:
        """Blockers not covered by an emergency override in force."""
        return gate.uncovered_blockers(self.readiness, self.covered)

    @property
    def ready(self) -> bool:
        """Checks all pass, or an emergency override in force covers every failing check."""
        return self.readiness.ready or (self.covered is not None and not self.open_blockers)

    @property
    def under_override(self) -> bool:
        return not self.readiness.ready and self.ready

    def as_api(self) -> dict[str, Any]:
        evaluated_at = self.readiness.evaluated_at
        return {
            "reference": self.use_case.reference,
            "ready": self.ready,
            "checks": [
                {
                    "name": check.name,
                    "passed": check.passed,
                    "detail": check.detail,
                    "title": check.title,
                    "clearing_role": check.clearing_role.value if check.clearing_role else None,
                }
                for check in self.readiness.checks
            ],
            "evaluated_at": evaluated_at.isoformat(),
            "stage": self.use_case.stage.value,
            "checks_passed": self.readiness.ready,
            "lapsed": self.lapse is not None,
            "lapse": self.lapse.as_api() if self.lapse else None,
            "emergency_override": self.override.as_api(evaluated_at) if self.override else None,
        }


@dataclass(frozen=True)
class DecisionView:
    id: int
    use_case_ref: str
    from_stage: Stage
    target_stage: Stage
    granted: bool
    ready: bool
    basis: str
    checks: list[dict[str, Any]]
    emergency_override_id: int | None
    decided_by: str
    decided_by_roles: str
    decided_at: dt.datetime
    reason: str
    decision_hash: str

    def payload(self) -> dict[str, Any]:
        return decision_payload(
            use_case_ref=self.use_case_ref,
            from_stage=self.from_stage,
            target_stage=self.target_stage,
            granted=self.granted,
            ready=self.ready,
            basis=self.basis,
            checks=self.checks,
            emergency_override_id=self.emergency_override_id,
            decided_by=self.decided_by,
            decided_by_roles=self.decided_by_roles,
            decided_at=self.decided_at,
            reason=self.reason,
        )

    @property
    def assessments(self) -> list[dict[str, Any]]:
        """The assessment versions (kind, number, content hash) the passed checks relied on."""
        found = []
        for check in self.checks:
            if check.get("passed"):
                found.extend(gate.assessment_references(check.get("evidence", {})))
        return found

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "use_case": self.use_case_ref,
            "from_stage": self.from_stage.value,
            "target_stage": self.target_stage.value,
            "granted": self.granted,
            "ready": self.ready,
            "basis": self.basis,
            "checks": self.checks,
            "assessments": self.assessments,
            "emergency_override": self.emergency_override_id,
            "decided_by": self.decided_by,
            "decided_by_roles": [role for role in self.decided_by_roles.split(",") if role],
            "decided_at": self.decided_at.isoformat(),
            "reason": self.reason,
            "decision_hash": self.decision_hash,
        }


def decision_payload(
    *,
    use_case_ref: str,
    from_stage: Stage,
    target_stage: Stage,
    granted: bool,
    ready: bool,
    basis: str,
    checks: list[dict[str, Any]],
    emergency_override_id: int | None,
    decided_by: str,
    decided_by_roles: str,
    decided_at: dt.datetime,
    reason: str,
) -> dict[str, Any]:
    """Return what a decision's hash covers: every stored field except the id and the hash."""
    return {
        "use_case": use_case_ref,
        "from_stage": from_stage.value,
        "target_stage": target_stage.value,
        "granted": granted,
        "ready": ready,
        "basis": basis,
        "checks": checks,
        "emergency_override": emergency_override_id,
        "decided_by": decided_by,
        "decided_by_roles": decided_by_roles,
        "decided_at": decided_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "reason": reason,
    }


# Reading -------------------------------------------------------------------------------------------


async def evaluate(reference: str, now: dt.datetime | None = None) -> Readiness:
    """Run every check for the use case ``reference`` (read-only)."""
    view = await register.get_use_case(reference)
    return await gate.evaluate(view.ref, now or utcnow())


def _lapse_view(row: dict[str, Any]) -> LapseView:
    return LapseView(
        id=row["id"],
        use_case_id=row["use_case"],
        lapsed_at=row["lapsed_at"],
        reason=row["reason"],
        blockers=json.loads(row["blockers"]),
        cleared_at=row["cleared_at"],
        cleared_by=row["cleared_by"],
        cleared_reason=row["cleared_reason"],
    )


async def open_lapse(use_case_id: int) -> LapseView | None:
    row = (
        await ReadinessLapse.select()
        .where((ReadinessLapse.use_case == use_case_id) & ReadinessLapse.cleared_at.is_null())
        .order_by(ReadinessLapse.id, ascending=False)
        .first()
        .run()
    )
    return _lapse_view(row) if row else None


async def open_lapses() -> dict[int, LapseView]:
    rows = await ReadinessLapse.select().where(ReadinessLapse.cleared_at.is_null()).run()
    return {row["use_case"]: _lapse_view(row) for row in rows}


async def lapse_history(use_case_id: int) -> list[LapseView]:
    rows = (
        await ReadinessLapse.select()
        .where(ReadinessLapse.use_case == use_case_id)
        .order_by(ReadinessLapse.id, ascending=False)
        .run()
    )
    return [_lapse_view(row) for row in rows]


async def status_for(view: register.UseCaseView, now: dt.datetime | None = None) -> GateStatus:
    """Evaluate a use case and gather its override and lapse (read-only)."""
    now = now or utcnow()
    readiness = await gate.evaluate(view.ref, now)
    return GateStatus(
        use_case=view,
        readiness=readiness,
        override=await overrides.open_override(view.id, now),
        lapse=await open_lapse(view.id),
    )


async def readiness_report(reference: str) -> dict[str, Any]:
    """Return the readiness API body for a use case; evaluating is read-only and not audited."""
    view = await register.get_use_case(reference)
    status = await status_for(view)
    logger.debug("readiness read for %s: ready=%s", view.reference, status.ready)
    return status.as_api()


async def readiness_report_for_bot(platform: str, identifier: str) -> dict[str, Any]:
    """Return the readiness API body for the use case that owns a bot."""
    if platform not in register.PLATFORMS:
        raise NotFound(f"Unknown platform {platform!r}. Use one of: {', '.join(register.PLATFORMS)}.")
    view = await register.find_by_bot(platform, identifier)
    return await readiness_report(view.reference)


def _decision_view(row: dict[str, Any]) -> DecisionView:
    return DecisionView(
        id=row["id"],
        use_case_ref=row["use_case_ref"],
        from_stage=Stage(row["from_stage"]),
        target_stage=Stage(row["target_stage"]),
        granted=row["granted"],
        ready=row["ready"],
        basis=row["basis"],
        checks=json.loads(row["checks"]),
        emergency_override_id=row["emergency_override"],
        decided_by=row["decided_by"],
        decided_by_roles=row["decided_by_roles"],
        decided_at=row["decided_at"],
        reason=row["reason"],
        decision_hash=row["decision_hash"],
    )


async def list_decisions(use_case_id: int) -> list[DecisionView]:
    """Return the use case's go-live decisions, granted and refused, newest first."""
    rows = (
        await GoLiveDecision.select()
        .where(GoLiveDecision.use_case == use_case_id)
        .order_by(GoLiveDecision.id, ascending=False)
        .run()
    )
    return [_decision_view(row) for row in rows]


async def get_decision(decision_id: int) -> DecisionView:
    row = await GoLiveDecision.select().where(GoLiveDecision.id == decision_id).first().run()
    if row is None:
        raise NotFound(f"No go-live decision has the id {decision_id}.")
    return _decision_view(row)


async def latest_granted(use_case_id: int, target: Stage) -> DecisionView | None:
    row = (
        await GoLiveDecision.select()
        .where(
            (GoLiveDecision.use_case == use_case_id)
            & (GoLiveDecision.target_stage == target.value)
            & (GoLiveDecision.granted == True)  # noqa: E712 (Piccolo builds SQL from ==)
        )
        .order_by(GoLiveDecision.id, ascending=False)
        .first()
        .run()
    )
    return _decision_view(row) if row else None


@dataclass(frozen=True)
class AssessmentProof:
    kind: str
    number: int
    recorded_hash: str
    stored_hash: str | None
    content_intact: bool

    @property
    def ok(self) -> bool:
        return self.stored_hash == self.recorded_hash and self.content_intact


@dataclass(frozen=True)
class DecisionProof:
    decision_hash_ok: bool
    assessments: list[AssessmentProof] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.decision_hash_ok and all(item.ok for item in self.assessments)

    def as_api(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "decision_hash_ok": self.decision_hash_ok,
            "assessments": [
                {
                    "kind": item.kind,
                    "number": item.number,
                    "recorded_hash": item.recorded_hash,
                    "stored_hash": item.stored_hash,
                    "content_intact": item.content_intact,
                    "ok": item.ok,
                }
                for item in self.assessments
            ],
        }


async def verify_decision(decision: DecisionView) -> DecisionProof:
    """Check that a decision is unaltered and that each assessment version it relied on is intact.

    An assessment passes when the stored version still has the hash the decision recorded and its
    stored content still hashes to that value.
    """
    from governance import assessments

    decision_ok = content_hash(decision.payload()) == decision.decision_hash
    use_case_id = await assessments.use_case_id_for(decision.use_case_ref)

    proofs = []
    for reference in decision.assessments:
        kind = str(reference["kind"])
        number = int(reference["number"])
        try:
            version = await assessments.get_version(use_case_id, kind, number)
        except NotFound:
            proofs.append(AssessmentProof(kind, number, reference["content_hash"], None, False))
            continue
        proofs.append(
            AssessmentProof(
                kind, number, reference["content_hash"], version.content_hash, version.hash_matches()
            )
        )
    return DecisionProof(decision_ok, proofs)


# Writing decisions ---------------------------------------------------------------------------------


async def _write_decision(
    actor: Actor,
    use_case: UseCaseRef,
    target: Stage,
    readiness: Readiness,
    *,
    granted: bool,
    basis: str,
    override_id: int | None,
    reason: str,
    now: dt.datetime,
) -> DecisionView:
    checks = json.loads(canonical_json([check.as_dict() for check in readiness.checks]))
    roles = ",".join(sorted(role.value for role in actor.roles))
    payload = decision_payload(
        use_case_ref=use_case.reference,
        from_stage=use_case.stage,
        target_stage=target,
        granted=granted,
        ready=readiness.ready,
        basis=basis,
        checks=checks,
        emergency_override_id=override_id,
        decided_by=actor.username,
        decided_by_roles=roles,
        decided_at=now,
        reason=reason,
    )
    row = GoLiveDecision(
        use_case=use_case.id,
        use_case_ref=use_case.reference,
        from_stage=use_case.stage.value,
        target_stage=target.value,
        granted=granted,
        ready=readiness.ready,
        basis=basis,
        checks=canonical_json(checks),
        emergency_override=override_id,
        decided_by=actor.username,
        decided_by_roles=roles,
        decided_at=now,
        reason=reason,
        decision_hash=content_hash(payload),
    )
    await row.save().run()
    decision = await get_decision(row.id)
    await audit.record(
        actor,
        "go_live.granted" if granted else "go_live.refused",
        "go_live_decision",
        str(decision.id),
        after={
            "target_stage": target.value,
            "basis": basis,
            "ready": readiness.ready,
            "blockers": readiness.blocker_names,
            "assessments": decision.assessments,
            "emergency_override": override_id,
            "decision_hash": decision.decision_hash,
        },
        use_case_ref=use_case.reference,
        note=reason,
    )
    return decision


def _refusal_message(use_case: UseCaseRef, target: Stage, readiness: Readiness, override: Any) -> str:
    message = (
        f"{use_case.reference} cannot move to {target.label.lower()}: "
        f"{len(readiness.blockers)} readiness check{'' if len(readiness.blockers) == 1 else 's'} failed"
    )
    if override is not None and override.in_force(readiness.evaluated_at):
        message += (
            f", and emergency override {override.id} covers only "
            f"{', '.join(override.covered_checks) or 'no checks'}"
        )
    return message + "."


async def authorise_move(
    actor: Actor, use_case: UseCaseRef, target: Stage, reason: str
) -> dict[str, Any] | None:
    """Evaluate readiness for a gated move; record the decision or raise ``GoLiveRefused``.

    The move goes through when every check passes, or when an emergency override in force covers
    every failing check. No role bypasses this, administrators included.
    """
    now = utcnow()
    readiness = gate.for_move(await gate.evaluate(use_case, now), use_case.stage, target)

    override = None
    basis = "checks_passed"
    if not readiness.ready:
        candidate = await overrides.open_override(use_case.id, now)
        covered = overrides.covered_names(candidate, now)
        if covered is None or gate.uncovered_blockers(readiness, covered):
            logger.warning(
                "go-live refused: %s to %s requested by %s; blockers: %s",
                use_case.reference,
                target.value,
                actor.username,
                ", ".join(readiness.blocker_names),
            )
            raise GoLiveRefused(
                _refusal_message(use_case, target, readiness, candidate),
                actor=actor,
                use_case=use_case,
                target=target,
                readiness=readiness,
                reason=reason,
            )
        override = candidate
        basis = "emergency_override"

    decision = await _write_decision(
        actor,
        use_case,
        target,
        readiness,
        granted=True,
        basis=basis,
        override_id=override.id if override else None,
        reason=reason,
        now=now,
    )
    if override is not None:
        if target is Stage.LIVE and override.status == "approved":
            await overrides.mark_used(actor, override, now)
        logger.warning(
            "go-live granted under emergency override %d: %s to %s by %s despite %s",
            override.id,
            use_case.reference,
            target.value,
            actor.username,
            ", ".join(readiness.blocker_names),
        )
    else:
        logger.info("go-live granted: %s to %s by %s", use_case.reference, target.value, actor.username)

    return {
        "decision_id": decision.id,
        "decision_hash": decision.decision_hash,
        "basis": basis,
        "emergency_override": decision.emergency_override_id,
    }


async def record_refusal(refusal: GoLiveRefused) -> None:
    """Record a refused go-live after its move rolled back, so refusals are audited too."""
    try:
        async with write_transaction():
            await _write_decision(
                refusal.actor,
                refusal.use_case,
                refusal.target,
                refusal.readiness,
                granted=False,
                basis="refused",
                override_id=None,
                reason=refusal.reason,
                now=refusal.readiness.evaluated_at,
            )
    except Exception:
        logger.exception(
            "could not record the refused go-live of %s to %s by %s",
            refusal.use_case.reference,
            refusal.target.value,
            refusal.actor.username,
        )


async def after_move(actor: Actor, use_case: UseCaseRef, previous: Stage, target: Stage) -> None:
    """Hook run in the move's transaction after the stage changed.

    Keeps ``went_live_at`` in step with the go-live decision, and closes an open lapse: a gated move
    has just passed the gate, and a move out of the watched stages ends the watch.
    """
    if target is Stage.LIVE:
        decision = await latest_granted(use_case.id, Stage.LIVE)
        went_live_at = decision.decided_at if decision else utcnow()
        await UseCase.update({UseCase.went_live_at: went_live_at}).where(UseCase.id == use_case.id).run()
    elif previous is Stage.LIVE:
        await UseCase.update({UseCase.went_live_at: None}).where(UseCase.id == use_case.id).run()

    if target in GATED:
        note = f"moved to {target.label.lower()} through the go-live gate"
    else:
        note = f"moved to {target.label.lower()}"
    await _clear_lapse(actor, use_case, note)


# The lapse watch -----------------------------------------------------------------------------------


async def _clear_lapse(actor: Actor, use_case: UseCaseRef, note: str) -> bool:
    lapse = await open_lapse(use_case.id)
    if lapse is None:
        return False
    await ReadinessLapse.update(
        {
            ReadinessLapse.cleared_at: utcnow(),
            ReadinessLapse.cleared_by: actor.username,
            ReadinessLapse.cleared_reason: note,
        }
    ).where(ReadinessLapse.id == lapse.id).run()
    await audit.record(
        actor,
        "readiness.lapse_cleared",
        "use_case",
        use_case.reference,
        before={"lapsed_at": lapse.lapsed_at, "reason": lapse.reason},
        after={"cleared_reason": note},
        use_case_ref=use_case.reference,
        note=note,
    )
    logger.info("readiness lapse of %s cleared: %s", use_case.reference, note)
    return True


async def _apply_watch(actor: Actor, status: GateStatus, reason: str, now: dt.datetime) -> str:
    """Open or clear the lapse flag to match ``status``; return "lapsed", "restored" or ""."""
    use_case = status.use_case
    lapse = status.lapse

    if status.ready:
        if lapse is None:
            return ""
        await _clear_lapse(actor, use_case.ref, f"ready again: {reason}")
        return "restored"

    if lapse is not None:
        return ""
    blockers = [
        {"name": check.name, "title": check.title, "detail": check.detail}
        for check in status.open_blockers
    ]
    await ReadinessLapse.insert(
        ReadinessLapse(
            use_case=use_case.id,
            lapsed_at=now,
            reason=reason,
            blockers=canonical_json(blockers),
        )
    ).run()
    await audit.record(
        actor,
        "readiness.lapsed",
        "use_case",
        use_case.reference,
        after={"stage": use_case.stage.value, "blockers": blockers},
        use_case_ref=use_case.reference,
        note=reason,
    )
    logger.warning(
        "readiness lapsed: %s (%s) is no longer ready: %s; blockers: %s",
        use_case.reference,
        use_case.stage.value,
        reason,
        ", ".join(item["name"] for item in blockers),
    )
    return "lapsed"


async def _use_case_by_id(use_case_id: int) -> register.UseCaseView:
    row = await UseCase.select(UseCase.reference).where(UseCase.id == use_case_id).first().run()
    if row is None:
        raise NotFound(f"No use case has the id {use_case_id}.")
    return await register.get_use_case(row["reference"])


async def readiness_may_have_changed(actor: Actor, use_case_id: int, reason: str) -> None:
    """Re-check a live or ready-for-live use case after a change its readiness depends on.

    Domain packages call this inside their write transaction whenever an approval is revoked, a new
    assessment version is started, a review date moves or an ICO consultation reopens. A failure
    here is logged and never undoes the caller's change; the daily sweep checks again.
    """
    if _watch_paused.get():
        logger.debug("lapse watch paused; not re-checking use case id %d after %r", use_case_id, reason)
        return
    async with write_transaction():
        try:
            async with savepoint():
                view = await _use_case_by_id(use_case_id)
                if view.stage not in WATCHED:
                    return
                now = utcnow()
                await _apply_watch(actor, await status_for(view, now), reason, now)
        except Exception:
            logger.exception(
                "lapse watch failed for use case id %d after %r; the daily sweep will check it again",
                use_case_id,
                reason,
            )


async def recheck_gated_use_cases(actor: Actor, reason: str) -> None:
    """Re-check every watched use case, after a change that applies to all of them."""
    rows = await UseCase.select(UseCase.id).where(UseCase.stage.is_in([s.value for s in WATCHED])).run()
    for row in rows:
        await readiness_may_have_changed(actor, row["id"], reason)


@dataclass
class SweepReport:
    checked: int = 0
    lapsed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    still_lapsed: list[str] = field(default_factory=list)
    expired_overrides: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def sweep(now: dt.datetime | None = None, actor: Actor = SYSTEM) -> SweepReport:
    """Expire overrides past their expiry, then re-check every live and ready-for-live use case.

    Catches what no change announces, such as a review date passing. Each use case is checked in
    its own transaction; an error on one is logged and the sweep carries on.
    """
    now = now or utcnow()
    report = SweepReport()

    async with write_transaction():
        expired = await overrides.expire_due(actor, now)
    report.expired_overrides = [item.id for item in expired]

    views = [
        view
        for view in await register.list_use_cases()
        if view.stage in WATCHED
    ]
    for view in views:
        try:
            async with write_transaction():
                current = await register.get_use_case(view.reference)
                if current.stage not in WATCHED:
                    continue
                status = await status_for(current, now)
                outcome = await _apply_watch(actor, status, "daily readiness sweep", now)
        except Exception:
            logger.exception("readiness sweep failed for %s", view.reference)
            report.errors.append(view.reference)
            continue
        report.checked += 1
        if outcome == "lapsed":
            report.lapsed.append(view.reference)
        elif outcome == "restored":
            report.restored.append(view.reference)
        elif not status.ready:
            report.still_lapsed.append(view.reference)

    logger.info(
        "readiness sweep: %d checked, %d newly lapsed, %d restored, %d still lapsed, "
        "%d overrides expired, %d errors",
        report.checked,
        len(report.lapsed),
        len(report.restored),
        len(report.still_lapsed),
        len(report.expired_overrides),
        len(report.errors),
    )
    return report


# Suspension ----------------------------------------------------------------------------------------


async def suspend(
    actor: Actor, reference: str, reason: str, *, expected_version: int | None = None
) -> register.UseCaseView:
    """Suspend a live use case with a reason; it fails readiness until reinstated through the gate."""
    if not actor.has_any(*SUSPENDER_ROLES):
        raise Forbidden("Suspending a use case needs the central automation team role.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.single("reason", "give the reason for suspending the use case")
    return await register.move_use_case(
        actor, reference, Stage.SUSPENDED.value, expected_version=expected_version, reason=reason
    )


# Imported go-lives (demo data and migrations from other records) ----------------------------------


async def record_imported_go_live(actor: Actor, reference: str) -> DecisionView | None:
    """Record a go-live decision for a use case imported at the live stage without one.

    The decision records what the gate found at import, and a use case that is not ready gets a
    lapse.
    Returns None when the use case is not live or already has a granted decision.
    """
    async with write_transaction():
        view = await register.get_use_case(reference)
        if view.stage is not Stage.LIVE or await latest_granted(view.id, Stage.LIVE):
            return None
        now = utcnow()
        readiness = await gate.evaluate(view.ref, now)
        imported_ref = UseCaseRef(view.id, view.reference, Stage.READY_FOR_LIVE, view.department)
        decision = await _write_decision(
            actor,
            imported_ref,
            Stage.LIVE,
            readiness,
            granted=True,
            basis="imported",
            override_id=None,
            reason="recorded when the use case was imported at the live stage",
            now=now,
        )
        await UseCase.update({UseCase.went_live_at: now}).where(UseCase.id == view.id).run()
        status = await status_for(await register.get_use_case(reference), now)
        await _apply_watch(actor, status, "imported at the live stage", now)
    return decision


async def settle_imported_use_cases(actor: Actor) -> list[GateStatus]:
    """Record imported go-lives, then check and log every live and ready-for-live use case.

    Returns the statuses, so a loader can report which use cases are not ready and why.
    """
    for view in await register.list_use_cases():
        if view.stage is Stage.LIVE:
            await record_imported_go_live(actor, view.reference)

    statuses = []
    for view in await register.list_use_cases():
        if view.stage not in WATCHED:
            continue
        async with write_transaction():
            now = utcnow()
            status = await status_for(view, now)
            await _apply_watch(actor, status, "checked after import", now)
        statuses.append(status)
        if status.ready:
            logger.info("%s is %s and ready", view.reference, view.stage.value)
        else:
            logger.warning(
                "%s is %s but not ready: %s",
                view.reference,
                view.stage.value,
                ", ".join(check.name for check in status.open_blockers),
            )
    return statuses


# Flags for lists and reports -----------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    kind: str
    label: str
    detail: str


def flags_for(
    override: overrides.OverrideView | None, lapse: LapseView | None, now: dt.datetime
) -> list[Flag]:
    """Return the warnings every page and report shows next to a use case."""
    flags = []
    if override is not None and override.is_open(now):
        status = override.status_at(now)
        label = "Emergency go-live" if status in ("approved", "used") else "Emergency go-live requested"
        flags.append(
            Flag(
                "emergency_override",
                label,
                f"Override {override.id} ({status}) until {format_date(override.expires_at)}: "
                f"{override.reason}",
            )
        )
    if lapse is not None:
        flags.append(
            Flag("lapsed", "Readiness lapsed", f"Since {format_date(lapse.lapsed_at)}: {lapse.reason}")
        )
    return flags


async def flags_by_use_case(now: dt.datetime | None = None) -> dict[int, list[Flag]]:
    """Return the flags of every flagged use case, keyed by use case id."""
    now = now or utcnow()
    open_overrides = await overrides.open_overrides_by_use_case(now)
    lapses = await open_lapses()
    flagged: dict[int, list[Flag]] = {}
    for use_case_id in set(open_overrides) | set(lapses):
        flags = flags_for(open_overrides.get(use_case_id), lapses.get(use_case_id), now)
        if flags:
            flagged[use_case_id] = flags
    return flagged

