"""Emergency go-live: the only way past a failing gate, and a narrow one.

The central team requests an override for a use case, with a reason and an expiry. The request
covers exactly the checks failing at that moment. It takes effect only when two different people,
neither the requester, approve it: one holding the Information Assurance role and one holding the
Data Protection Officer role. A gated move may then go through although those checks fail; any other
failing check still blocks. After the expiry the override no longer counts, so a use case that is
still not ready is flagged as lapsed.

Statuses: requested, approved, used (a move into live relied on it), expired and withdrawn.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from governance import audit, golive, register
from governance.audit import Actor
from governance.clock import utcnow
from governance.database import write_transaction
from governance.errors import Conflict, ErrorCollector, Forbidden, InvalidInput, NotFound, StaleVersion
from governance.roles import Role
from governance.stages import Stage
from governance.tables import EmergencyOverride

logger = logging.getLogger(__name__)

# An emergency go-live is a stopgap while the assessments catch up, so it is kept short.
MAX_OVERRIDE_DAYS = 30
OPEN_STATUSES = ("requested", "approved", "used")
# Stages from which a gated move can follow: test (to ready for live), ready for live (to live)
# and suspended (reinstatement to live).
REQUESTABLE_STAGES = frozenset({Stage.TEST, Stage.READY_FOR_LIVE, Stage.SUSPENDED})
APPROVER_ROLES = (Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER)


@dataclass(frozen=True)
class OverrideView:
    id: int
    use_case_id: int
    use_case_ref: str
    status: str
    reason: str
    covered_checks: tuple[str, ...]
    expires_at: dt.datetime
    requested_by_id: int
    requested_by: str
    requested_at: dt.datetime
    ia_approved_by_id: int | None
    ia_approved_by: str | None
    ia_approved_at: dt.datetime | None
    dpo_approved_by_id: int | None
    dpo_approved_by: str | None
    dpo_approved_at: dt.datetime | None
    used_at: dt.datetime | None
    closed_at: dt.datetime | None
    closed_by: str | None
    close_reason: str | None
    version: int

    def status_at(self, now: dt.datetime) -> str:
        """Return the status, counting an open override past its expiry as expired."""
        if self.status in OPEN_STATUSES and self.expires_at <= now:
            return "expired"
        return self.status

    def in_force(self, now: dt.datetime) -> bool:
        """True when both approvals are in and the expiry has not passed."""
        return self.status_at(now) in ("approved", "used")

    def is_open(self, now: dt.datetime) -> bool:
        return self.status_at(now) in OPEN_STATUSES

    def as_api(self, now: dt.datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        return {
            "id": self.id,
            "use_case": self.use_case_ref,
            "status": self.status_at(now),
            "reason": self.reason,
            "covered_checks": list(self.covered_checks),
            "expires_at": self.expires_at.isoformat(),
            "requested_by": self.requested_by,
            "requested_at": self.requested_at.isoformat(),
            "information_assurance_approval": {
                "by": self.ia_approved_by,
                "at": self.ia_approved_at.isoformat() if self.ia_approved_at else None,
            },
            "data_protection_officer_approval": {
                "by": self.dpo_approved_by,
                "at": self.dpo_approved_at.isoformat() if self.dpo_approved_at else None,
            },
            "used_at": self.used_at.isoformat() if self.used_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "closed_by": self.closed_by,
            "close_reason": self.close_reason,
            "version": self.version,
        }


# Rules (pure) --------------------------------------------------------------------------------------


def expiry_problem(expires_at: dt.datetime | None, now: dt.datetime) -> str:
    """Return what is wrong with an override's end, or "" when it is aware, ahead and within the limit."""
    if expires_at is None:
        return "give the date and time the override ends"
    if expires_at.tzinfo is None:
        return "give a time zone, for example 2026-12-11T17:00:00+00:00"
    if expires_at <= now:
        return "must be in the future"
    if expires_at > now + dt.timedelta(days=MAX_OVERRIDE_DAYS):
        return f"must be at most {MAX_OVERRIDE_DAYS} days ahead; request a new override later"
    return ""


def check_expiry(expires_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """Return ``expires_at`` if it is aware, in the future and within the limit; else raise."""
    problem = expiry_problem(expires_at, now)
    if problem:
        raise InvalidInput.single("expires_at", problem)
    assert expires_at is not None
    return expires_at


def reason_problem(reason: str) -> str:
    """Return what is wrong with the reason for an override request, or "" if it is acceptable."""
    if not reason.strip():
        return "explain why the use case must go live before it is ready"
    if len(reason.strip()) > 4000:
        return "must be at most 4000 characters"
    return ""


def request_blocked_reason(
    reference: str, stage: Stage, ready: bool, existing: OverrideView | None, now: dt.datetime
) -> str | None:
    """Return why no emergency go-live can be requested for a use case now, or None if one can."""
    if stage not in REQUESTABLE_STAGES:
        return (
            f"{reference} is at the {stage.label.lower()} stage; an emergency go-live can be requested "
            "only at test, ready for live or suspended"
        )
    if existing is not None:
        return (
            f"{reference} already has emergency override {existing.id} ({existing.status_at(now)}); "
            "withdraw it before requesting another"
        )
    if ready:
        return f"{reference} passes every check, so it needs no emergency go-live"
    return None


def check_approval(view: OverrideView, approver: Actor, role: Role, now: dt.datetime) -> None:
    """Raise unless ``approver`` may add the ``role`` approval to ``view`` now.

    The rules: the role is Information Assurance or Data Protection Officer, and the approver has
    that role. The approver is not the requester, and that role has not approved yet. The same
    person does not approve in both roles. The override is still awaiting approval and has not
    expired.
    """
    if role not in APPROVER_ROLES:
        raise InvalidInput.single(
            "role", "approve as information_assurance or data_protection_officer"
        )
    if role not in approver.roles:
        raise Forbidden(f"Approving as {role.label} needs that role, which your account does not hold.")
    if approver.account_id is not None and approver.account_id == view.requested_by_id:
        raise Forbidden("You requested this emergency go-live, so you cannot approve it.")

    status = view.status_at(now)
    if status != "requested":
        raise Conflict(f"Emergency override {view.id} is {status}, so it cannot be approved.")

    if role is Role.INFORMATION_ASSURANCE:
        already, other = view.ia_approved_by_id, view.dpo_approved_by_id
    else:
        already, other = view.dpo_approved_by_id, view.ia_approved_by_id
    if already is not None:
        raise Conflict(f"Emergency override {view.id} already has the {role.label} approval.")
    if other is not None and other == approver.account_id:
        raise Forbidden(
            "You have already approved this override in your other role, so a different person "
            "must give the second approval."
        )


# Reading -------------------------------------------------------------------------------------------


def _query():
    return EmergencyOverride.select(
        EmergencyOverride.all_columns(),
        EmergencyOverride.use_case.reference.as_alias("use_case_ref"),
        EmergencyOverride.requested_by.username.as_alias("requested_by_username"),
        EmergencyOverride.ia_approved_by.username.as_alias("ia_username"),
        EmergencyOverride.dpo_approved_by.username.as_alias("dpo_username"),
    )


def _view(row: dict[str, Any]) -> OverrideView:
    return OverrideView(
        id=row["id"],
        use_case_id=row["use_case"],
        use_case_ref=row["use_case_ref"],
        status=row["status"],
        reason=row["reason"],
        covered_checks=tuple(json.loads(row["covered_checks"])),
        expires_at=row["expires_at"],
        requested_by_id=row["requested_by"],
        requested_by=row["requested_by_username"],
        requested_at=row["requested_at"],
        ia_approved_by_id=row["ia_approved_by"],
        ia_approved_by=row["ia_username"],
        ia_approved_at=row["ia_approved_at"],
        dpo_approved_by_id=row["dpo_approved_by"],
        dpo_approved_by=row["dpo_username"],
        dpo_approved_at=row["dpo_approved_at"],
        used_at=row["used_at"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
        close_reason=row["close_reason"],
        version=row["version"],
    )


async def get_override(override_id: int) -> OverrideView:
    row = await _query().where(EmergencyOverride.id == override_id).first().run()
    if row is None:
        raise NotFound(f"No emergency override has the id {override_id}.")
    return _view(row)


async def list_overrides(*, use_case_id: int | None = None) -> list[OverrideView]:
    """Return overrides newest first, optionally for one use case."""
    query = _query().order_by(EmergencyOverride.id, ascending=False)
    if use_case_id is not None:
        query = query.where(EmergencyOverride.use_case == use_case_id)
    return [_view(row) for row in await query.run()]


async def open_override(use_case_id: int, now: dt.datetime) -> OverrideView | None:
    """Return the use case's open override (requested, approved or used, not expired), if any."""
    rows = (
        await _query()
        .where(
            (EmergencyOverride.use_case == use_case_id)
            & EmergencyOverride.status.is_in(list(OPEN_STATUSES))
            & (EmergencyOverride.expires_at > now)
        )
        .order_by(EmergencyOverride.id, ascending=False)
        .run()
    )
    return _view(rows[0]) if rows else None


async def open_overrides_by_use_case(now: dt.datetime) -> dict[int, OverrideView]:
    """Return every open override keyed by use case id, for flags on lists and the board."""
    rows = (
        await _query()
        .where(EmergencyOverride.status.is_in(list(OPEN_STATUSES)) & (EmergencyOverride.expires_at > now))
        .order_by(EmergencyOverride.id)
        .run()
    )
    return {row["use_case"]: _view(row) for row in rows}


# Writing -------------------------------------------------------------------------------------------


async def _set(view: OverrideView, values: dict[Any, Any]) -> OverrideView:
    values[EmergencyOverride.version] = view.version + 1
    updated = (
        await EmergencyOverride.update(values)
        .where((EmergencyOverride.id == view.id) & (EmergencyOverride.version == view.version))
        .returning(EmergencyOverride.id)
        .run()
    )
    if not updated:
        current = await get_override(view.id)
        raise StaleVersion(f"emergency override {view.id}", view.version, current.version)
    return await get_override(view.id)


async def request_override(
    actor: Actor, reference: str, reason: str, expires_at: dt.datetime | None
) -> OverrideView:
    """Request an emergency go-live covering the checks that fail now."""
    if not actor.has_any(Role.CENTRAL_TEAM):
        raise Forbidden("Requesting an emergency go-live needs the central automation team role.")
    if actor.account_id is None:
        raise Forbidden("An emergency go-live is requested by a person. Sign in to request it.")
    reason = (reason or "").strip()
    now = utcnow()
    errors = ErrorCollector()
    if problem := reason_problem(reason):
        errors.add("reason", problem)
    if problem := expiry_problem(expires_at, now):
        errors.add("expires_at", problem)
    errors.raise_if_any()

    async with write_transaction():
        use_case = await register.get_use_case(reference)
        existing = await open_override(use_case.id, now)
        readiness = await golive.evaluate(use_case.reference, now)
        blocked = request_blocked_reason(
            use_case.reference, use_case.stage, readiness.ready, existing, now
        )
        if blocked:
            raise Conflict(blocked)

        row = EmergencyOverride(
            use_case=use_case.id,
            status="requested",
            reason=reason,
            covered_checks=json.dumps(readiness.blocker_names),
            expires_at=expires_at,
            requested_by=actor.account_id,
            requested_at=now,
            version=1,
        )
        await row.save().run()
        view = await get_override(row.id)
        await audit.record(
            actor,
            "emergency_override.requested",
            "emergency_override",
            str(view.id),
            after=view.as_api(now),
            use_case_ref=use_case.reference,
            note=reason,
        )
    logger.warning(
        "emergency go-live %d requested for %s by %s, covering %s, expiring %s",
        view.id,
        view.use_case_ref,
        actor.username,
        ", ".join(view.covered_checks),
        view.expires_at.isoformat(),
    )
    return view


async def approve(actor: Actor, override_id: int, role: Role | str, note: str = "") -> OverrideView:
    """Add the actor's approval in ``role``; the second approval puts the override in force."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput.single(
            "role", "approve as information_assurance or data_protection_officer"
        ) from None
    now = utcnow()

    async with write_transaction():
        before = await get_override(override_id)
        check_approval(before, actor, role, now)

        if role is Role.INFORMATION_ASSURANCE:
            values: dict[Any, Any] = {
                EmergencyOverride.ia_approved_by: actor.account_id,
                EmergencyOverride.ia_approved_at: now,
            }
            complete = before.dpo_approved_by_id is not None
        else:
            values = {
                EmergencyOverride.dpo_approved_by: actor.account_id,
                EmergencyOverride.dpo_approved_at: now,
            }
            complete = before.ia_approved_by_id is not None
        if complete:
            values[EmergencyOverride.status] = "approved"

        after = await _set(before, values)
        await audit.record(
            actor,
            "emergency_override.approved" if complete else "emergency_override.approval_added",
            "emergency_override",
            str(after.id),
            before=before.as_api(now),
            after=after.as_api(now),
            use_case_ref=after.use_case_ref,
            note=(note or "").strip() or f"approved as {role.label}",
        )
        if complete:
            await golive.readiness_may_have_changed(
                actor, after.use_case_id, f"emergency override {after.id} was approved"
            )
    logger.warning(
        "emergency go-live %d for %s: %s approval by %s%s",
        after.id,
        after.use_case_ref,
        role.value,
        actor.username,
        " (now in force)" if complete else "",
    )
    return after


async def withdraw(actor: Actor, override_id: int, reason: str) -> OverrideView:
    """End an open override early with a reason (the requester, the central team, IA or the DPO)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.single("reason", "give the reason for withdrawing the override")
    now = utcnow()

    async with write_transaction():
        before = await get_override(override_id)
        if not (
            actor.has_any(Role.CENTRAL_TEAM, *APPROVER_ROLES)
            or (actor.account_id is not None and actor.account_id == before.requested_by_id)
        ):
            raise Forbidden(
                "Withdrawing an emergency override needs the central automation team, Information "
                "Assurance or Data Protection Officer role."
            )
        if not before.is_open(now):
            raise Conflict(f"Emergency override {override_id} is {before.status_at(now)} already.")

        after = await _set(
            before,
            {
                EmergencyOverride.status: "withdrawn",
                EmergencyOverride.closed_at: now,
                EmergencyOverride.closed_by: actor.username,
                EmergencyOverride.close_reason: reason,
            },
        )
        await audit.record(
            actor,
            "emergency_override.withdrawn",
            "emergency_override",
            str(after.id),
            before=before.as_api(now),
            after=after.as_api(now),
            use_case_ref=after.use_case_ref,
            note=reason,
        )
        await golive.readiness_may_have_changed(
            actor, after.use_case_id, f"emergency override {after.id} was withdrawn: {reason}"
        )
    logger.warning("emergency go-live %d for %s withdrawn by %s", after.id, after.use_case_ref, actor.username)
    return after


async def mark_used(actor: Actor, view: OverrideView, now: dt.datetime) -> OverrideView:
    """Record that a move into live relied on the override; call it inside the move's transaction."""
    after = await _set(view, {EmergencyOverride.status: "used", EmergencyOverride.used_at: now})
    await audit.record(
        actor,
        "emergency_override.used",
        "emergency_override",
        str(after.id),
        before=view.as_api(now),
        after=after.as_api(now),
        use_case_ref=after.use_case_ref,
    )
    return after


async def expire_due(actor: Actor, now: dt.datetime) -> list[OverrideView]:
    """Mark every open override whose expiry has passed as expired; return them."""
    rows = (
        await _query()
        .where(EmergencyOverride.status.is_in(list(OPEN_STATUSES)) & (EmergencyOverride.expires_at <= now))
        .run()
    )
    expired = []
    for row in rows:
        before = _view(row)
        after = await _set(
            before,
            {
                EmergencyOverride.status: "expired",
                EmergencyOverride.closed_at: now,
                EmergencyOverride.closed_by: actor.username,
                EmergencyOverride.close_reason: "expiry passed",
            },
        )
        await audit.record(
            actor,
            "emergency_override.expired",
            "emergency_override",
            str(after.id),
            before={"status": before.status, "expires_at": before.expires_at},
            after={"status": after.status},
            use_case_ref=after.use_case_ref,
        )
        logger.warning("emergency go-live %d for %s expired", after.id, after.use_case_ref)
        expired.append(after)
    return expired


def covered_names(view: OverrideView | None, now: dt.datetime) -> frozenset[str] | None:
    """Return the check names an override in force covers, or None when none is in force."""
    if view is None or not view.in_force(now):
        return None
    return frozenset(view.covered_checks)

