"""The use-case register: validation, creation, edits with optimistic locking, and stage moves."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from governance import audit, golive, submissions
from governance.audit import Actor
from governance.clock import utcnow
from governance.database import text_contains, write_transaction
from governance.errors import (
    Conflict,
    ErrorCollector,
    Forbidden,
    InvalidInput,
    NotFound,
    StaleVersion,
)
from governance.gate import UseCaseRef
from governance.roles import Role
from governance.stages import (
    GATED,
    MoveNotAllowed,
    Stage,
    allowed_moves,
    check_move,
    held_from_after_move,
    parse_stage,
)
from governance.tables import BotIdentity, Department, UseCase

logger = logging.getLogger(__name__)

REFERENCE_PATTERN = re.compile(r"^UC-\d{3,6}$")
BOT_IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/ -]{0,119}$")

REGIMES: dict[str, str] = {
    "uk_gdpr": "UK GDPR (general processing)",
    "dpa_2018_part_3": "DPA 2018 Part 3 (law enforcement processing)",
}

PLATFORMS: dict[str, str] = {
    "uipath": "UiPath",
    "blue_prism": "Blue Prism",
    "power_automate": "Microsoft Power Automate",
    "automation_anywhere": "Automation Anywhere",
    "other": "Other",
}

EDITABLE_FIELDS = (
    "title",
    "department",
    "business_owner",
    "description",
    "systems",
    "data_categories",
    "purposes",
    "rpa_platform",
    "bot_identifiers",
)
# The fields that describe what the processing is. Assessments record them when they are submitted,
# so a change after approval shows up as a difference between the register and what was assessed.
SCOPE_FIELDS = ("rpa_platform", "bot_identifiers", "purposes", "data_categories", "systems")
SCOPE_LABELS = {
    "rpa_platform": "RPA platform",
    "bot_identifiers": "bot identifiers",
    "purposes": "purposes and regimes",
    "data_categories": "data categories",
    "systems": "systems touched",
}
LIST_LIMIT = 50
TEXT_ITEM_LIMIT = 120
DESCRIPTION_LIMIT = 10_000

# Roles that may create and edit use cases; business owners only within their own department.
EDITOR_ROLES = (Role.CENTRAL_TEAM, Role.BUSINESS_OWNER)
MOVER_ROLES = (Role.CENTRAL_TEAM,)


@dataclass(frozen=True)
class UseCaseView:
    """A use case as the API and pages show it."""

    id: int
    reference: str
    title: str
    department: str
    business_owner: str
    description: str
    systems: list[str]
    data_categories: list[str]
    purposes: list[dict[str, str]]
    rpa_platform: str
    bot_identifiers: list[str]
    stage: Stage
    held_from: Stage | None
    illustrative: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    went_live_at: dt.datetime | None = None

    @property
    def ref(self) -> UseCaseRef:
        return UseCaseRef(self.id, self.reference, self.stage, self.department, self.went_live_at)

    @property
    def allowed_moves(self) -> list[Stage]:
        return allowed_moves(self.stage, self.held_from)

    def snapshot(self) -> dict[str, Any]:
        """Return the editable values plus stage, as stored in audit entries."""
        return {
            "reference": self.reference,
            "title": self.title,
            "department": self.department,
            "business_owner": self.business_owner,
            "description": self.description,
            "systems": self.systems,
            "data_categories": self.data_categories,
            "purposes": self.purposes,
            "rpa_platform": self.rpa_platform,
            "bot_identifiers": self.bot_identifiers,
            "stage": self.stage.value,
            "held_from": self.held_from.value if self.held_from else None,
            "version": self.version,
        }

    def processing_scope(self) -> dict[str, Any]:
        """Return what the processing is, in a canonical order, for assessments to record."""
        return {
            "rpa_platform": self.rpa_platform,
            "bot_identifiers": sorted(self.bot_identifiers, key=str.casefold),
            "purposes": sorted(self.purposes, key=lambda item: (item["purpose"].casefold(), item["regime"])),
            "data_categories": sorted(self.data_categories, key=str.casefold),
            "systems": sorted(self.systems, key=str.casefold),
        }

    def as_api(self) -> dict[str, Any]:
        data = self.snapshot()
        data.update(
            {
                "stage_label": self.stage.label,
                "allowed_moves": [stage.value for stage in self.allowed_moves],
                "illustrative": self.illustrative,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
            }
        )
        return data


# Validation (pure) ---------------------------------------------------------------------------------


def _scope_item(name: str, item: Any) -> str:
    if name == "purposes" and isinstance(item, dict):
        return f"{item.get('purpose', '')} ({REGIMES.get(item.get('regime', ''), item.get('regime', ''))})"
    return str(item)


def scope_changes(assessed: Any, current: dict[str, Any]) -> list[str]:
    """Describe how the register's ``current`` processing scope differs from the ``assessed`` one.

    Returns one sentence per changed field, or an empty list when nothing changed. ``assessed`` is
    what an assessment recorded when it was submitted. A missing or malformed record counts as a
    change, so a gate built on this fails closed.
    """
    if not isinstance(assessed, dict):
        return ["the assessment does not record the processing it covered"]

    changes = []
    for name in SCOPE_FIELDS:
        label = SCOPE_LABELS[name]
        before, after = assessed.get(name), current.get(name)
        if name == "rpa_platform":
            if before != after:
                changes.append(
                    f"{label} changed from {PLATFORMS.get(before or '', before or 'none')} to "
                    f"{PLATFORMS.get(after or '', after or 'none')}"
                )
            continue
        before_items = [_scope_item(name, item) for item in before or []]
        after_items = [_scope_item(name, item) for item in after or []]
        added = [item for item in after_items if item not in before_items]
        removed = [item for item in before_items if item not in after_items]
        parts = []
        if added:
            parts.append("added " + ", ".join(added))
        if removed:
            parts.append("removed " + ", ".join(removed))
        if parts:
            changes.append(f"{label}: {'; '.join(parts)}")
    return changes


def _clean_text(
    errors: ErrorCollector, name: str, value: Any, *, required: bool, limit: int
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(name, "must be text")
        return ""
    value = value.strip()
    if required and not value:
        errors.add(name, "cannot be empty; enter a value")
    elif len(value) > limit:
        errors.add(name, f"must be at most {limit} characters (it has {len(value)})")
    return value


def _clean_list(errors: ErrorCollector, name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors.add(name, "must be a list of text values")
        return []
    items = []
    for item in value:
        item = item.strip()
        if not item:
            continue
        if len(item) > TEXT_ITEM_LIMIT:
            errors.add(name, f"each entry must be at most {TEXT_ITEM_LIMIT} characters")
            return []
        if item not in items:
            items.append(item)
    if len(items) > LIST_LIMIT:
        errors.add(name, f"must have at most {LIST_LIMIT} entries")
    return items


def _clean_purposes(errors: ErrorCollector, value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add("purposes", 'must be a list of {"purpose": ..., "regime": ...} objects')
        return []

    purposes = []
    for index, item in enumerate(value):
        field_name = f"purposes[{index}]"
        if not isinstance(item, dict) or set(item) - {"purpose", "regime"}:
            errors.add(field_name, 'must be an object with only "purpose" and "regime"')
            continue
        purpose = _clean_text(
            errors, f"{field_name}.purpose", item.get("purpose"), required=True, limit=300
        )
        regime = item.get("regime")
        if regime not in REGIMES:
            errors.add(
                f"{field_name}.regime",
                f"unknown regime {regime!r}; use one of: {', '.join(REGIMES)}",
            )
            continue
        purposes.append({"purpose": purpose, "regime": regime})

    if len(purposes) > LIST_LIMIT:
        errors.add("purposes", f"must have at most {LIST_LIMIT} entries")
    return purposes


def validate_fields(
    data: dict[str, Any], *, partial: bool, errors: ErrorCollector | None = None
) -> dict[str, Any]:
    """Check and normalise use-case fields; raise ``InvalidInput`` naming every bad field.

    With ``partial`` only the fields present are checked (for PATCH). Given ``errors``, problems are
    added to it instead of raised, so the caller can add the checks that need the database
    (department existence, bot-identifier uniqueness) and report everything at once.
    """
    collect_only = errors is not None
    errors = errors if errors is not None else ErrorCollector()
    clean: dict[str, Any] = {}

    def present(name: str) -> bool:
        return not partial or name in data

    if present("title"):
        clean["title"] = _clean_text(errors, "title", data.get("title"), required=True, limit=200)
    if present("department"):
        clean["department"] = _clean_text(
            errors, "department", data.get("department"), required=True, limit=120
        )
    if present("business_owner"):
        clean["business_owner"] = _clean_text(
            errors, "business_owner", data.get("business_owner"), required=True, limit=120
        )
    if present("description"):
        clean["description"] = _clean_text(
            errors, "description", data.get("description"), required=False, limit=DESCRIPTION_LIMIT
        )
    if present("systems"):
        clean["systems"] = _clean_list(errors, "systems", data.get("systems"))
    if present("data_categories"):
        clean["data_categories"] = _clean_list(errors, "data_categories", data.get("data_categories"))
    if present("purposes"):
        clean["purposes"] = _clean_purposes(errors, data.get("purposes"))
    if present("rpa_platform"):
        platform = data.get("rpa_platform") or ""
        if platform and platform not in PLATFORMS:
            errors.add(
                "rpa_platform", f"unknown platform {platform!r}; use one of: {', '.join(PLATFORMS)}"
            )
        clean["rpa_platform"] = platform
    if present("bot_identifiers"):
        identifiers = _clean_list(errors, "bot_identifiers", data.get("bot_identifiers"))
        for identifier in identifiers:
            if not BOT_IDENTIFIER_PATTERN.match(identifier):
                errors.add(
                    "bot_identifiers",
                    f"{identifier!r} is not a valid identifier: use letters, digits, spaces and "
                    ". _ : / -, starting with a letter or digit",
                )
        folded = [identifier.casefold() for identifier in identifiers]
        if len(set(folded)) != len(folded):
            errors.add(
                "bot_identifiers",
                "lists the same identifier twice with different capitals; identifiers are compared "
                "without regard to capitals, so keep one",
            )
        clean["bot_identifiers"] = identifiers
        if identifiers and "rpa_platform" in clean and not clean["rpa_platform"]:
            errors.add("rpa_platform", "choose the RPA platform the bots run on")

    if not collect_only:
        errors.raise_if_any()
    return clean


# Reading -------------------------------------------------------------------------------------------


async def _view_from_row(row: dict[str, Any]) -> UseCaseView:
    identifiers = (
        await BotIdentity.select(BotIdentity.identifier)
        .where(BotIdentity.use_case == row["id"])
        .order_by(BotIdentity.identifier)
        .run()
    )
    return UseCaseView(
        id=row["id"],
        reference=row["reference"],
        title=row["title"],
        department=row["department.name"],
        business_owner=row["business_owner"],
        description=row["description"],
        systems=json.loads(row["systems"]),
        data_categories=json.loads(row["data_categories"]),
        purposes=json.loads(row["purposes"]),
        rpa_platform=row["rpa_platform"],
        bot_identifiers=[item["identifier"] for item in identifiers],
        stage=Stage(row["stage"]),
        held_from=Stage(row["held_from"]) if row["held_from"] else None,
        illustrative=row["illustrative"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        went_live_at=row["went_live_at"],
    )


def _select():
    return UseCase.select(UseCase.all_columns(), UseCase.department.name)


async def get_use_case(reference: str) -> UseCaseView:
    """Return the use case; raise ``NotFound`` for an unknown reference."""
    row = await _select().where(UseCase.reference == reference.strip().upper()).first().run()
    if row is None:
        raise NotFound(f"No use case has the reference {reference!r}.")
    return await _view_from_row(row)


async def get_use_case_by_id(use_case_id: int) -> UseCaseView:
    """Return the use case with this row id; raise ``NotFound`` if there is none."""
    row = await _select().where(UseCase.id == use_case_id).first().run()
    if row is None:
        raise NotFound(f"No use case has the id {use_case_id}.")
    return await _view_from_row(row)


async def _bot_owner(platform: str, identifier: str) -> dict[str, Any] | None:
    """Return the bot row matching ``identifier`` on ``platform`` ignoring case, or None.

    Identifiers are unique per platform regardless of case, so a pipeline that spells a bot with
    other capitals still reads that bot's gate and never another use case's.
    """
    wanted = identifier.strip().casefold()
    rows = await BotIdentity.select(
        BotIdentity.identifier, BotIdentity.use_case, BotIdentity.use_case.reference
    ).where(BotIdentity.platform == platform).run()
    return next((row for row in rows if row["identifier"].casefold() == wanted), None)


async def find_by_bot(platform: str, identifier: str) -> UseCaseView:
    """Return the use case that owns a bot identifier on a platform; ``NotFound`` otherwise."""
    row = await _bot_owner(platform, identifier)
    if row is None:
        raise NotFound(f"No use case has the bot {identifier!r} on platform {platform!r}.")
    return await get_use_case(row["use_case.reference"])


@dataclass(frozen=True)
class RegisterFilter:
    department: str = ""
    stage: str = ""
    search: str = ""


async def list_use_cases(filters: RegisterFilter | None = None) -> list[UseCaseView]:
    filters = filters or RegisterFilter()
    query = _select().order_by(UseCase.reference)
    if filters.department:
        query = query.where(UseCase.department.name == filters.department)
    if filters.stage:
        query = query.where(UseCase.stage == filters.stage)
    if filters.search:
        query = query.where(text_contains(UseCase.title, filters.search))
    return [await _view_from_row(row) for row in await query.run()]


# Permissions ---------------------------------------------------------------------------------------


async def _account_department(actor: Actor) -> str | None:
    from governance.tables import Account

    if actor.account_id is None:
        return None
    row = (
        await Account.select(Account.department.name)
        .where(Account.id == actor.account_id)
        .first()
        .run()
    )
    return row["department.name"] if row else None


async def can_edit(actor: Actor, department: str) -> bool:
    """Return whether ``actor`` may change use cases of ``department`` (for showing edit links)."""
    try:
        await ensure_can_edit(actor, department)
    except Forbidden:
        return False
    return True


async def own_department(actor: Actor) -> str | None:
    """Return the department recorded on the actor's account, if any."""
    return await _account_department(actor)


async def ensure_can_edit(actor: Actor, department: str) -> None:
    """Allow the central team anywhere and business owners within their own department."""
    if actor.has_any(Role.CENTRAL_TEAM):
        return
    if actor.has_any(Role.BUSINESS_OWNER):
        own = await _account_department(actor)
        if own == department:
            return
        raise Forbidden(
            f"Business owners may only change use cases of their own department "
            f"({own or 'none recorded'}), and this one belongs to {department}."
        )
    raise Forbidden("Changing use cases needs the central automation team or business owner role.")


# Writing -------------------------------------------------------------------------------------------


async def _department_id(name: str, errors: ErrorCollector) -> int | None:
    """Return the department's id, or record that it is unknown and return None."""
    row = await Department.select(Department.id).where(Department.name == name).first().run()
    if row is None:
        known = [item["name"] for item in await Department.select(Department.name).run()]
        errors.add(
            "department",
            f"unknown department {name!r}; use one of: {', '.join(sorted(known)) or 'none yet'}",
        )
        return None
    return row["id"]


async def _check_bot_identifiers(
    platform: str, identifiers: list[str], use_case_id: int | None, errors: ErrorCollector
) -> None:
    """Record each identifier that another use case already has on ``platform``."""
    if errors.has("rpa_platform") or errors.has("bot_identifiers"):
        return
    if identifiers and not platform:
        errors.add("rpa_platform", "choose the RPA platform the bots run on")
        return
    for identifier in identifiers:
        owner = await _bot_owner(platform, identifier)
        if owner and owner["use_case"] != use_case_id:
            same = "" if owner["identifier"] == identifier else f" (as {owner['identifier']!r})"
            errors.add(
                "bot_identifiers",
                f"{identifier!r} on {platform} already belongs to {owner['use_case.reference']}{same}; "
                "identifiers are compared without regard to capitals",
            )


async def _replace_bot_identifiers(use_case_id: int, platform: str, identifiers: list[str]) -> None:
    await BotIdentity.delete().where(BotIdentity.use_case == use_case_id).run()
    for identifier in identifiers:
        await BotIdentity.insert(
            BotIdentity(use_case=use_case_id, platform=platform, identifier=identifier)
        ).run()


async def _next_reference() -> str:
    rows = await UseCase.select(UseCase.reference).run()
    numbers = [int(row["reference"].split("-")[1]) for row in rows]
    return f"UC-{(max(numbers, default=0) + 1):03d}"


CREATE_ACTION = "use_case.create"


async def create_use_case(
    actor: Actor,
    data: dict[str, Any],
    *,
    illustrative: bool = False,
    idempotency_key: str | None = None,
) -> UseCaseView:
    """Add a use case at the idea stage; the reference is assigned when none is given.

    With ``idempotency_key``, a repeat of the same request by the same actor returns the use case
    the first one created, and a different request with a used key raises ``RepeatedSubmission``.
    """
    unknown = set(data) - set(EDITABLE_FIELDS) - {"reference"}
    if unknown:
        raise InvalidInput.single(
            sorted(unknown)[0], f"unknown field; accepted fields are reference, {', '.join(EDITABLE_FIELDS)}"
        )
    errors = ErrorCollector()
    clean = validate_fields(data, partial=False, errors=errors)

    reference = data.get("reference")
    if reference is not None:
        if not isinstance(reference, str) or not REFERENCE_PATTERN.match(reference.strip().upper()):
            errors.add("reference", "must look like UC-001 (UC-, then 3 to 6 digits)")
            reference = None
        else:
            reference = reference.strip().upper()

    if not errors.has("department"):
        await ensure_can_edit(actor, clean["department"])
    if idempotency_key is not None:
        submissions.check_key(idempotency_key, "Idempotency-Key")
        request_hash = submissions.request_hash(data)

    async with write_transaction():
        if idempotency_key is not None and not errors.errors:
            earlier = await submissions.previous_result(
                actor, CREATE_ACTION, idempotency_key, request_hash
            )
            if earlier is not None:
                return await get_use_case(earlier)

        # The checks that need the database run even after a field error, so every problem is
        # reported at once.
        department_id = None
        if not errors.has("department"):
            department_id = await _department_id(clean["department"], errors)
        if reference is not None and await UseCase.exists().where(UseCase.reference == reference).run():
            errors.add("reference", f"{reference} is already used; references are unique and never reused")
        await _check_bot_identifiers(clean["rpa_platform"], clean["bot_identifiers"], None, errors)
        errors.raise_if_any()

        if reference is None:
            reference = await _next_reference()
        now = utcnow()
        use_case = UseCase(
            reference=reference,
            title=clean["title"],
            department=department_id,
            business_owner=clean["business_owner"],
            description=clean["description"],
            systems=json.dumps(clean["systems"]),
            data_categories=json.dumps(clean["data_categories"]),
            purposes=json.dumps(clean["purposes"]),
            rpa_platform=clean["rpa_platform"],
            stage=Stage.IDEA.value,
            illustrative=illustrative,
            created_at=now,
            updated_at=now,
            version=1,
        )
        await use_case.save().run()
        await _replace_bot_identifiers(use_case.id, clean["rpa_platform"], clean["bot_identifiers"])

        view = await get_use_case(reference)
        await audit.record(
            actor, "use_case.created", "use_case", reference, after=view.snapshot(), use_case_ref=reference
        )
        if idempotency_key is not None:
            await submissions.remember(
                actor, CREATE_ACTION, idempotency_key, request_hash, reference
            )
    logger.info("use case %s created by %s", reference, actor.username)
    return view


async def update_use_case(
    actor: Actor, reference: str, expected_version: int, changes: dict[str, Any]
) -> UseCaseView:
    """Apply ``changes`` if ``expected_version`` is current; raise ``StaleVersion`` otherwise."""
    if "reference" in changes:
        raise InvalidInput.single("reference", "a use case's reference never changes")
    if "stage" in changes:
        raise InvalidInput.single(
            "stage", "change the stage with POST /api/v1/use-cases/{reference}/transitions"
        )
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput.single(
            sorted(unknown)[0], f"unknown field; editable fields are {', '.join(EDITABLE_FIELDS)}"
        )
    if not changes:
        raise InvalidInput.single("body", f"send at least one of: {', '.join(EDITABLE_FIELDS)}")
    errors = ErrorCollector()
    clean = validate_fields(changes, partial=True, errors=errors)

    async with write_transaction():
        before = await get_use_case(reference)
        await ensure_can_edit(actor, before.department)
        changes_department = "department" in clean and not errors.has("department")
        if changes_department and clean["department"] != before.department:
            await ensure_can_edit(actor, clean["department"])

        # Field problems, including those that need the database, come before a stale version:
        # the person fixes them in one go, and the conflict check then compares valid values.
        values: dict[Any, Any] = {}
        if changes_department:
            department_id = await _department_id(clean["department"], errors)
            if department_id is not None:
                values[UseCase.department] = department_id
        platform = clean.get("rpa_platform", before.rpa_platform)
        identifiers = clean.get("bot_identifiers", before.bot_identifiers)
        await _check_bot_identifiers(platform, identifiers, before.id, errors)
        errors.raise_if_any()

        if before.version != expected_version:
            raise StaleVersion(f"use case {before.reference}", expected_version, before.version)

        for name in ("title", "business_owner", "description", "rpa_platform"):
            if name in clean:
                values[getattr(UseCase, name)] = clean[name]
        for name in ("systems", "data_categories", "purposes"):
            if name in clean:
                values[getattr(UseCase, name)] = json.dumps(clean[name])

        values[UseCase.version] = before.version + 1
        values[UseCase.updated_at] = utcnow()
        updated = (
            await UseCase.update(values)
            .where((UseCase.id == before.id) & (UseCase.version == expected_version))
            .returning(UseCase.id)
            .run()
        )
        if not updated:
            current = await get_use_case(reference)
            raise StaleVersion(f"use case {before.reference}", expected_version, current.version)
        if "bot_identifiers" in clean or "rpa_platform" in clean:
            await _replace_bot_identifiers(before.id, platform, identifiers)

        after = await get_use_case(reference)
        await audit.record(
            actor,
            "use_case.updated",
            "use_case",
            after.reference,
            before=before.snapshot(),
            after=after.snapshot(),
            use_case_ref=after.reference,
        )
        await _after_scope_change(actor, before, after)
    logger.info("use case %s updated by %s", after.reference, actor.username)
    return after


async def _after_scope_change(actor: Actor, before: UseCaseView, after: UseCaseView) -> None:
    """Let the gate see an edit that changes what was assessed or who signs for the use case.

    Assessments compare the register with the scope they recorded, so the re-check finds the
    difference. A business owner's manual sign-off speaks for one department, so moving the use case
    to another department revokes it.
    """
    changes = scope_changes(before.processing_scope(), after.processing_scope())
    if after.department != before.department:
        from governance import manual_checks  # imported here: manual_checks imports this module

        await manual_checks.revoke_for_department_change(actor, after, before.department)
        changes.append(f"department changed from {before.department} to {after.department}")
    if changes:
        await golive.readiness_may_have_changed(
            actor, after.id, f"the use case was edited ({'; '.join(changes)})"
        )


async def move_use_case(
    actor: Actor,
    reference: str,
    to: str,
    *,
    expected_version: int | None = None,
    reason: str = "",
) -> UseCaseView:
    """Move a use case to another stage; a refused go-live is recorded after the move rolls back."""
    try:
        moved = await _move_use_case(actor, reference, to, expected_version=expected_version, reason=reason)
    except golive.GoLiveRefused as refusal:
        await golive.record_refusal(refusal)
        raise
    # Read again: the gate's hook set went_live_at after the move's own read.
    return await get_use_case(moved.reference)


async def _move_use_case(
    actor: Actor,
    reference: str,
    to: str,
    *,
    expected_version: int | None = None,
    reason: str = "",
) -> UseCaseView:
    """Move a use case to another stage.

    A move the state machine does not allow raises ``Conflict`` listing the allowed moves. A move
    into ready for live or live runs the go-live gate in the same transaction. If anything blocks,
    ``Conflict`` lists the blockers and nothing changes.
    """
    if not actor.has_any(*MOVER_ROLES):
        raise Forbidden("Moving a use case between stages needs the central automation team role.")
    reason = (reason or "").strip()
    errors = ErrorCollector()
    if len(reason) > 2000:
        errors.add("reason", "must be at most 2000 characters")

    async with write_transaction():
        before = await get_use_case(reference)
        if expected_version is not None and before.version != expected_version:
            raise StaleVersion(f"use case {before.reference}", expected_version, before.version)

        if parse_stage(to) is None:
            names = ", ".join(stage.value for stage in Stage)
            allowed = ", ".join(stage.value for stage in before.allowed_moves) or "none"
            errors.add(
                "to",
                f"unknown stage {to!r}; stages are: {names}. From {before.stage.value} the allowed "
                f"moves are: {allowed}",
            )
        errors.raise_if_any()
        try:
            target = check_move(before.stage, to, before.held_from)
        except MoveNotAllowed as error:
            raise Conflict(
                str(error), extra={"allowed_moves": [stage.value for stage in error.allowed]}
            ) from None

        decision = None
        if target in GATED:
            decision = await golive.authorise_move(actor, before.ref, target, reason)

        held_from = held_from_after_move(before.stage, target)
        await UseCase.update(
            {
                UseCase.stage: target.value,
                UseCase.held_from: held_from.value if held_from else None,
                UseCase.version: before.version + 1,
                UseCase.updated_at: utcnow(),
            }
        ).where(UseCase.id == before.id).run()

        after = await get_use_case(reference)
        await audit.record(
            actor,
            "use_case.moved",
            "use_case",
            after.reference,
            before={"stage": before.stage.value, "version": before.version},
            after={"stage": after.stage.value, "version": after.version, "go_live_decision": decision},
            use_case_ref=after.reference,
            note=reason,
        )
        await golive.after_move(actor, after.ref, before.stage, target)
    logger.info(
        "use case %s moved from %s to %s by %s", after.reference, before.stage, target, actor.username
    )
    return after
