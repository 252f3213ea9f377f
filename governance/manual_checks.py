"""Manual go-live checks: definitions that administrators configure, and sign-offs per use case.

A manual check (for example security sign-off or user acceptance testing) names the role allowed to
sign it. Each active definition becomes one gate check, ``manual:<key>``, which passes only while the
use case has an unrevoked sign-off by a holder of that role. Revoking a sign-off keeps the row and
records who revoked it and why.

Who may sign: holders of the check's signing role. When that role is business owner, only owners of
the use case's department sign, because they run its acceptance testing.

Who may revoke: the central team on any use case, because it runs the gate and must be able to
withdraw a sign-off whose signer has left or whose tested build has changed. Otherwise the signing
rule applies, for the role the sign-off was given under. A business owner of another department may
therefore not revoke a sign-off, because that would stop a live bot in a department they do not own.
Information Assurance and the DPO revoke only sign-offs given under their own role. Their lever on a
live bot is the approval of their own assessment.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from governance import audit, golive, register
from governance.audit import Actor
from governance.clock import format_date, utcnow
from governance.database import write_transaction
from governance.errors import (
    Conflict,
    ErrorCollector,
    Forbidden,
    InvalidInput,
    NotFound,
    StaleVersion,
)
from governance.gate import CheckResult, UseCaseRef
from governance.roles import Role
from governance.tables import Account, ManualCheck, ManualCheckSignOff

logger = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
CHECK_PREFIX = "manual:"
# Administrators configure the checks and the programme board changes nothing, so neither signs.
SIGNING_ROLES: tuple[Role, ...] = (
    Role.CENTRAL_TEAM,
    Role.BUSINESS_OWNER,
    Role.INFORMATION_ASSURANCE,
    Role.DATA_PROTECTION_OFFICER,
    Role.EQUALITY_LEAD,
)
EDITABLE_FIELDS = ("title", "description", "signing_role", "active")


@dataclass(frozen=True)
class ManualCheckView:
    id: int
    key: str
    title: str
    description: str
    signing_role: Role
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @property
    def check_name(self) -> str:
        return f"{CHECK_PREFIX}{self.key}"

    def as_api(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "check_name": self.check_name,
            "title": self.title,
            "description": self.description,
            "signing_role": self.signing_role.value,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "version": self.version,
        }


@dataclass(frozen=True)
class SignOffView:
    id: int
    key: str
    title: str
    use_case_ref: str
    signer: str
    signer_name: str
    signer_role: Role
    signed_at: dt.datetime
    note: str
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revocation_reason: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check": self.key,
            "use_case": self.use_case_ref,
            "signer": self.signer,
            "signer_name": self.signer_name,
            "signer_role": self.signer_role.value,
            "signed_at": self.signed_at.isoformat(),
            "note": self.note,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
            "revocation_reason": self.revocation_reason,
        }


# Validation (pure) ---------------------------------------------------------------------------------


def validate_definition(
    data: dict[str, Any], *, partial: bool, errors: ErrorCollector | None = None
) -> dict[str, Any]:
    """Check and normalise definition fields; raise ``InvalidInput`` naming every bad field.

    Given ``errors``, problems are added to it instead of raised, so the caller can add the key's
    uniqueness, which needs the database, and report everything at once.
    """
    collect_only = errors is not None
    errors = errors if errors is not None else ErrorCollector()
    clean: dict[str, Any] = {}

    def present(name: str) -> bool:
        return not partial or name in data

    if not partial:
        key = data.get("key")
        if not isinstance(key, str) or not KEY_PATTERN.match(key.strip()):
            errors.add(
                "key",
                "use 2 to 40 lower-case letters, digits or underscores, starting with a letter "
                "(for example security_sign_off)",
            )
        else:
            clean["key"] = key.strip()

    if present("title"):
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            errors.add("title", "enter a title, for example Security sign-off")
        elif len(title.strip()) > 120:
            errors.add("title", "must be at most 120 characters")
        else:
            clean["title"] = title.strip()

    if present("description"):
        description = data.get("description") or ""
        if not isinstance(description, str):
            errors.add("description", "must be text")
        elif len(description) > 2000:
            errors.add("description", "must be at most 2000 characters")
        else:
            clean["description"] = description.strip()

    if present("signing_role"):
        value = data.get("signing_role")
        allowed = ", ".join(role.value for role in SIGNING_ROLES)
        try:
            role = Role(value)
        except ValueError:
            errors.add("signing_role", f"unknown role {value!r}; use one of: {allowed}")
        else:
            if role not in SIGNING_ROLES:
                errors.add("signing_role", f"{role.label} cannot sign go-live checks; use one of: {allowed}")
            else:
                clean["signing_role"] = role

    if present("active"):
        active = data.get("active", True)
        if not isinstance(active, bool):
            errors.add("active", "must be true or false")
        else:
            clean["active"] = active

    if not collect_only:
        errors.raise_if_any()
    return clean


def _who_signs(role: Role, department: str) -> str:
    if role is Role.BUSINESS_OWNER and department:
        return f"a business owner of {department}"
    return f"a holder of the {role.label} role"


def evaluate_definition(
    definition: ManualCheckView, sign_offs: list[SignOffView], department: str = ""
) -> CheckResult:
    """Return the check result for one definition given the use case's sign-offs on it.

    ``department`` is the use case's department, named in the blocker when a business owner signs.
    """
    current = [
        item
        for item in sign_offs
        if item.key == definition.key and not item.revoked and item.signer_role is definition.signing_role
    ]
    if current:
        latest = max(current, key=lambda item: item.signed_at)
        return CheckResult(
            name=definition.check_name,
            title=definition.title,
            passed=True,
            detail=f"Signed by {latest.signer_name} ({latest.signer_role.label}) on "
            f"{format_date(latest.signed_at)}.",
            evidence={
                "sign_off_id": latest.id,
                "signer": latest.signer,
                "signer_role": latest.signer_role.value,
                "signed_at": latest.signed_at.isoformat(),
            },
        )

    revoked = [item for item in sign_offs if item.key == definition.key and item.revoked]
    who = _who_signs(definition.signing_role, department)
    detail = f"Not signed yet; {who} signs it."
    if revoked:
        last = max(revoked, key=lambda item: item.revoked_at or item.signed_at)
        detail = (
            f"The sign-off by {last.signer_name} was revoked: {last.revocation_reason}. "
            f"{who[0].upper()}{who[1:]} must sign again."
        )
    return CheckResult(
        name=definition.check_name,
        title=definition.title,
        passed=False,
        detail=detail,
        clearing_role=definition.signing_role,
    )


# Permissions (pure) --------------------------------------------------------------------------------


def _department_forbidden_reason(actor_department: str | None, use_case_department: str) -> str:
    return (
        "Business owners may only sign or revoke manual checks of their own department's use cases "
        f"({actor_department or 'none recorded'}), and this one belongs to {use_case_department}."
    )


def sign_forbidden_reason(
    actor: Actor,
    definition: ManualCheckView,
    *,
    actor_department: str | None,
    use_case_department: str,
) -> str | None:
    """Return why ``actor`` may not sign ``definition`` on a use case, or None when they may."""
    role = definition.signing_role
    if role not in actor.roles:
        return (
            f"{definition.title} is signed by the {role.label} role, which your account does not hold."
        )
    if role is Role.BUSINESS_OWNER and not actor.has_any(Role.CENTRAL_TEAM):
        if actor_department != use_case_department:
            return _department_forbidden_reason(actor_department, use_case_department)
    return None


def revoke_forbidden_reason(
    actor: Actor,
    sign_off: SignOffView,
    *,
    actor_department: str | None,
    use_case_department: str,
) -> str | None:
    """Return why ``actor`` may not revoke ``sign_off``, or None when they may.

    The central team may revoke any sign-off. Anyone else needs the role the sign-off was given
    under, and a business owner also needs the use case to belong to their own department.
    """
    if actor.has_any(Role.CENTRAL_TEAM):
        return None
    role = sign_off.signer_role
    if role not in actor.roles:
        return (
            f"Revoking this sign-off needs the {role.label} role, which signed it, "
            "or the central automation team role."
        )
    if role is Role.BUSINESS_OWNER and actor_department != use_case_department:
        return _department_forbidden_reason(actor_department, use_case_department)
    return None


# Reading -------------------------------------------------------------------------------------------


def _definition_view(row: dict[str, Any]) -> ManualCheckView:
    return ManualCheckView(
        id=row["id"],
        key=row["key"],
        title=row["title"],
        description=row["description"],
        signing_role=Role(row["signing_role"]),
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


async def list_definitions(*, active_only: bool = False) -> list[ManualCheckView]:
    query = ManualCheck.select().order_by(ManualCheck.title)
    if active_only:
        query = query.where(ManualCheck.active == True)  # noqa: E712 (Piccolo builds SQL from ==)
    return [_definition_view(row) for row in await query.run()]


async def get_definition(key: str) -> ManualCheckView:
    row = await ManualCheck.select().where(ManualCheck.key == key).first().run()
    if row is None:
        raise NotFound(f"No manual check has the key {key!r}.")
    return _definition_view(row)


def _sign_off_query():
    return ManualCheckSignOff.select(
        ManualCheckSignOff.all_columns(),
        ManualCheckSignOff.manual_check.key.as_alias("check_key"),
        ManualCheckSignOff.manual_check.title.as_alias("check_title"),
        ManualCheckSignOff.use_case.reference.as_alias("use_case_ref"),
        ManualCheckSignOff.account.username.as_alias("signer_username"),
        ManualCheckSignOff.revoked_by.username.as_alias("revoked_by_username"),
    )


def _sign_off_view(row: dict[str, Any]) -> SignOffView:
    return SignOffView(
        id=row["id"],
        key=row["check_key"],
        title=row["check_title"],
        use_case_ref=row["use_case_ref"],
        signer=row["signer_username"],
        signer_name=row["signer_name"],
        signer_role=Role(row["signer_role"]),
        signed_at=row["signed_at"],
        note=row["note"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by_username"],
        revocation_reason=row["revocation_reason"],
    )


async def sign_offs_for(use_case_id: int) -> list[SignOffView]:
    """Return every sign-off on the use case, revoked ones included, oldest first."""
    rows = (
        await _sign_off_query()
        .where(ManualCheckSignOff.use_case == use_case_id)
        .order_by(ManualCheckSignOff.signed_at)
        .order_by(ManualCheckSignOff.id)
        .run()
    )
    return [_sign_off_view(row) for row in rows]


async def get_sign_off(sign_off_id: int) -> SignOffView:
    row = await _sign_off_query().where(ManualCheckSignOff.id == sign_off_id).first().run()
    if row is None:
        raise NotFound(f"No manual check sign-off has the id {sign_off_id}.")
    return _sign_off_view(row)


async def run_check(use_case: UseCaseRef, now: dt.datetime) -> list[CheckResult]:
    """Run the gate check: one result per active definition, or one pass when none is configured."""
    definitions = await list_definitions(active_only=True)
    if not definitions:
        return [
            CheckResult(
                name="manual_checks",
                title="Manual checks",
                passed=True,
                detail="No manual checks are configured.",
            )
        ]
    sign_offs = await sign_offs_for(use_case.id)
    return [
        evaluate_definition(definition, sign_offs, use_case.department) for definition in definitions
    ]


# Writing -------------------------------------------------------------------------------------------


def _ensure_administrator(actor: Actor) -> None:
    # The command line and the demo loader act for the operator who runs them and hold no roles.
    if not actor.has_any(Role.ADMINISTRATOR) and actor.kind not in ("cli", "system"):
        raise Forbidden("Configuring manual checks needs the administrator role.")


def _snapshot(view: ManualCheckView) -> dict[str, Any]:
    return {
        "key": view.key,
        "title": view.title,
        "description": view.description,
        "signing_role": view.signing_role.value,
        "active": view.active,
        "version": view.version,
    }


async def create_definition(actor: Actor, data: dict[str, Any]) -> ManualCheckView:
    """Add a manual check. An active check applies at once, so live use cases are re-checked."""
    _ensure_administrator(actor)
    unknown = set(data) - {"key", *EDITABLE_FIELDS}
    if unknown:
        raise InvalidInput.single(
            sorted(unknown)[0], f"unknown field; accepted fields are key, {', '.join(EDITABLE_FIELDS)}"
        )
    errors = ErrorCollector()
    clean = validate_definition({"active": True, **data}, partial=False, errors=errors)

    async with write_transaction():
        if "key" in clean and await ManualCheck.exists().where(ManualCheck.key == clean["key"]).run():
            errors.add("key", f"{clean['key']} is already used; choose another key")
        errors.raise_if_any()
        now = utcnow()
        await ManualCheck.insert(
            ManualCheck(
                key=clean["key"],
                title=clean["title"],
                description=clean.get("description", ""),
                signing_role=clean["signing_role"].value,
                active=clean["active"],
                created_at=now,
                updated_at=now,
                version=1,
            )
        ).run()
        view = await get_definition(clean["key"])
        await audit.record(
            actor, "manual_check.created", "manual_check", view.key, after=_snapshot(view)
        )
        if view.active:
            await golive.recheck_gated_use_cases(actor, f"manual check {view.title!r} was added")
    logger.info("manual check %s created by %s", view.key, actor.username)
    return view


async def update_definition(
    actor: Actor, key: str, expected_version: int, changes: dict[str, Any]
) -> ManualCheckView:
    """Change a definition if ``expected_version`` is current; live use cases are re-checked."""
    _ensure_administrator(actor)
    if "key" in changes:
        raise InvalidInput.single("key", "a manual check's key never changes; add a new check instead")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput.single(
            sorted(unknown)[0], f"unknown field; editable fields are {', '.join(EDITABLE_FIELDS)}"
        )
    if not changes:
        raise InvalidInput.single("body", f"send at least one of: {', '.join(EDITABLE_FIELDS)}")
    clean = validate_definition(changes, partial=True)

    async with write_transaction():
        before = await get_definition(key)
        if before.version != expected_version:
            raise StaleVersion(f"manual check {key}", expected_version, before.version)

        values: dict[Any, Any] = {
            ManualCheck.version: before.version + 1,
            ManualCheck.updated_at: utcnow(),
        }
        for name in ("title", "description", "active"):
            if name in clean:
                values[getattr(ManualCheck, name)] = clean[name]
        if "signing_role" in clean:
            values[ManualCheck.signing_role] = clean["signing_role"].value
        await ManualCheck.update(values).where(ManualCheck.id == before.id).run()

        after = await get_definition(key)
        await audit.record(
            actor,
            "manual_check.updated",
            "manual_check",
            key,
            before=_snapshot(before),
            after=_snapshot(after),
        )
        await golive.recheck_gated_use_cases(actor, f"manual check {after.title!r} was changed")
    logger.info("manual check %s updated by %s", key, actor.username)
    return after


async def _signer_name(actor: Actor) -> str:
    row = await Account.select(Account.display_name).where(Account.id == actor.account_id).first().run()
    return row["display_name"] if row else actor.name


async def sign(actor: Actor, reference: str, key: str, note: str = "") -> SignOffView:
    """Record the actor's sign-off of manual check ``key`` for a use case.

    Only a holder of the check's signing role may sign; a business owner only for a use case of
    their own department. Raises ``Conflict`` when a current sign-off already exists.
    """
    note = (note or "").strip()
    if len(note) > 2000:
        raise InvalidInput.single("note", "must be at most 2000 characters")
    if actor.account_id is None:
        raise Forbidden("A manual check is signed by a person. Sign in to sign it.")

    async with write_transaction():
        definition = await get_definition(key)
        use_case = await register.get_use_case(reference)
        if not definition.active:
            raise Conflict(f"Manual check {definition.title!r} is no longer in use, so it cannot be signed.")
        forbidden = sign_forbidden_reason(
            actor,
            definition,
            actor_department=await register.own_department(actor),
            use_case_department=use_case.department,
        )
        if forbidden:
            logger.warning(
                "manual check %s sign-off for %s rejected for %s: %s",
                key,
                use_case.reference,
                actor.username,
                forbidden,
            )
            raise Forbidden(forbidden)

        existing = [
            item
            for item in await sign_offs_for(use_case.id)
            if item.key == key and not item.revoked and item.signer_role is definition.signing_role
        ]
        if existing:
            raise Conflict(
                f"{definition.title} is already signed for {use_case.reference} by "
                f"{existing[-1].signer_name}. Revoke that sign-off first to sign again."
            )

        row = ManualCheckSignOff(
            manual_check=definition.id,
            use_case=use_case.id,
            account=actor.account_id,
            signer_name=await _signer_name(actor),
            signer_role=definition.signing_role.value,
            signed_at=utcnow(),
            note=note,
        )
        await row.save().run()
        view = await get_sign_off(row.id)
        await audit.record(
            actor,
            "manual_check.signed",
            "manual_check_sign_off",
            f"{use_case.reference}/{key}/{view.id}",
            after=view.as_api(),
            use_case_ref=use_case.reference,
            note=note,
        )
        await golive.readiness_may_have_changed(
            actor, use_case.id, f"{definition.title} was signed by {view.signer_name}"
        )
    logger.info("manual check %s signed for %s by %s", key, use_case.reference, actor.username)
    return view


async def revoke_sign_off(actor: Actor, sign_off_id: int, reason: str) -> SignOffView:
    """Revoke a sign-off with a reason; ``revoke_forbidden_reason`` decides who may."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.single("reason", "give the reason for revoking the sign-off")
    if len(reason) > 2000:
        raise InvalidInput.single("reason", "must be at most 2000 characters")

    async with write_transaction():
        before = await get_sign_off(sign_off_id)
        use_case = await register.get_use_case(before.use_case_ref)
        forbidden = revoke_forbidden_reason(
            actor,
            before,
            actor_department=await register.own_department(actor),
            use_case_department=use_case.department,
        )
        if forbidden:
            logger.warning(
                "revoking manual check sign-off %d of %s rejected for %s: %s",
                sign_off_id,
                use_case.reference,
                actor.username,
                forbidden,
            )
            raise Forbidden(forbidden)
        if before.revoked:
            raise Conflict(f"Sign-off {sign_off_id} is already revoked.")

        await ManualCheckSignOff.update(
            {
                ManualCheckSignOff.revoked_at: utcnow(),
                ManualCheckSignOff.revoked_by: actor.account_id,
                ManualCheckSignOff.revocation_reason: reason,
            }
        ).where(ManualCheckSignOff.id == sign_off_id).run()
        after = await get_sign_off(sign_off_id)
        await audit.record(
            actor,
            "manual_check.sign_off_revoked",
            "manual_check_sign_off",
            f"{after.use_case_ref}/{after.key}/{after.id}",
            before=before.as_api(),
            after=after.as_api(),
            use_case_ref=after.use_case_ref,
            note=reason,
        )
        await golive.readiness_may_have_changed(
            actor, use_case.id, f"the {after.title} sign-off was revoked: {reason}"
        )
    logger.info("manual check sign-off %d revoked by %s", sign_off_id, actor.username)
    return after


async def revoke_for_department_change(
    actor: Actor, use_case: register.UseCaseView, old_department: str
) -> list[SignOffView]:
    """Revoke the current business-owner sign-offs of a use case that moved to another department.

    A business owner signs for their own department, so after the move the sign-off no longer speaks
    for the department that owns the use case. Runs inside the caller's write transaction; the
    caller re-checks readiness afterwards.
    """
    reason = (
        f"the use case moved from {old_department} to {use_case.department}, so a business owner of "
        f"{use_case.department} must sign again"
    )
    revoked = []
    for item in await sign_offs_for(use_case.id):
        if item.revoked or item.signer_role is not Role.BUSINESS_OWNER:
            continue
        await ManualCheckSignOff.update(
            {
                ManualCheckSignOff.revoked_at: utcnow(),
                ManualCheckSignOff.revoked_by: actor.account_id,
                ManualCheckSignOff.revocation_reason: reason,
            }
        ).where(ManualCheckSignOff.id == item.id).run()
        after = await get_sign_off(item.id)
        await audit.record(
            actor,
            "manual_check.sign_off_revoked",
            "manual_check_sign_off",
            f"{after.use_case_ref}/{after.key}/{after.id}",
            before=item.as_api(),
            after=after.as_api(),
            use_case_ref=after.use_case_ref,
            note=reason,
        )
        logger.info(
            "manual check sign-off %d of %s revoked: %s", item.id, use_case.reference, reason
        )
        revoked.append(after)
    return revoked
