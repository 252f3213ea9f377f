"""JSON API for the core: health, the use-case register, departments, the business case and the audit log.

Handlers only translate HTTP to service calls; every rule lives in the service layer.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from governance import audit, register
from governance.accounts import ensure_department, list_departments
from governance.auth import CurrentActor, PUBLIC, allow, allow_everyone
from governance.database import DatabaseUnavailable, check_database, is_sqlite
from governance.programme import business_case_summary
from governance.errors import InvalidInput
from governance.roles import Role
from governance.stages import Stage, parse_stage

logger = logging.getLogger(__name__)


class Purpose(msgspec.Struct, forbid_unknown_fields=True):
    purpose: str
    regime: str


class UseCaseCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new use case. ``reference`` is assigned (UC-001 style) when left out."""

    title: str
    department: str
    business_owner: str
    description: str = ""
    systems: list[str] = []
    data_categories: list[str] = []
    purposes: list[Purpose] = []
    rpa_platform: str = ""
    bot_identifiers: list[str] = []
    reference: str | msgspec.UnsetType = msgspec.UNSET


class UseCasePatch(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a use case. ``version`` must be the version you last read."""

    version: int
    title: str | msgspec.UnsetType = msgspec.UNSET
    department: str | msgspec.UnsetType = msgspec.UNSET
    business_owner: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    systems: list[str] | msgspec.UnsetType = msgspec.UNSET
    data_categories: list[str] | msgspec.UnsetType = msgspec.UNSET
    purposes: list[Purpose] | msgspec.UnsetType = msgspec.UNSET
    rpa_platform: str | msgspec.UnsetType = msgspec.UNSET
    bot_identifiers: list[str] | msgspec.UnsetType = msgspec.UNSET


class Transition(msgspec.Struct, forbid_unknown_fields=True):
    """A stage move. ``version``, when given, must be current."""

    to: str
    reason: str = ""
    version: int | msgspec.UnsetType = msgspec.UNSET


class DepartmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str


def _set_fields(struct: msgspec.Struct) -> dict[str, Any]:
    """Return the fields a client sent, as plain JSON values."""
    return {
        name: msgspec.to_builtins(value)
        for name in struct.__struct_fields__
        if (value := getattr(struct, name)) is not msgspec.UNSET
    }


@get("/health", opt=PUBLIC, tags=["service"])
async def health() -> Response[dict[str, Any]]:
    """Report whether the service can reach its database: 200 when it can, 503 when it cannot."""
    engine = "sqlite" if is_sqlite() else "postgresql"
    try:
        await check_database()
    except DatabaseUnavailable as error:
        logger.error("health check failed: %s", error)
        return Response(
            {"status": "unavailable", "database": "unreachable", "engine": engine, "detail": str(error)},
            status_code=503,
        )
    return Response({"status": "ok", "database": "ok", "engine": engine})


class UseCaseApi(Controller):
    path = "/api/v1/use-cases"
    tags = ["use cases"]

    @get("/", opt=allow_everyone())
    async def list_use_cases(
        self,
        department: Annotated[str, QueryParameter(name="department", required=False)] = "",
        stage: Annotated[str, QueryParameter(name="stage", required=False)] = "",
    ) -> list[dict[str, Any]]:
        """List the register, optionally filtered by department name and stage."""
        if stage and parse_stage(stage) is None:
            names = ", ".join(item.value for item in Stage)
            raise InvalidInput.single("stage", f"unknown stage {stage!r}; stages are: {names}")
        stage = parse_stage(stage).value if stage else ""
        views = await register.list_use_cases(register.RegisterFilter(department=department, stage=stage))
        return [view.as_api() for view in views]

    @post("/", opt=allow(*register.EDITOR_ROLES))
    async def create_use_case(
        self,
        data: JSONBody[UseCaseCreate],
        actor: CurrentActor,
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                required=False,
                description=(
                    "A key you choose (8 to 200 printable characters, for example a UUID). Repeating "
                    "the request with the same key and body returns the use case the first request "
                    "created instead of a second one; the same key with a different body gets 409."
                ),
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Add a use case at the idea stage."""
        view = await register.create_use_case(
            actor, _set_fields(data), idempotency_key=idempotency_key
        )
        return view.as_api()

    @get("/{reference:str}", opt=allow_everyone())
    async def get_use_case(self, reference: FromPath[str]) -> dict[str, Any]:
        return (await register.get_use_case(reference)).as_api()

    @patch("/{reference:str}", opt=allow(*register.EDITOR_ROLES))
    async def update_use_case(self, reference: FromPath[str], data: JSONBody[UseCasePatch], actor: CurrentActor) -> dict[str, Any]:
        """Change fields of a use case; a stale ``version`` gets 409 and changes nothing."""
        changes = _set_fields(data)
        version = changes.pop("version")
        view = await register.update_use_case(actor, reference, version, changes)
        return view.as_api()

    @post("/{reference:str}/transitions", opt=allow(*register.MOVER_ROLES), status_code=200)
    async def move_use_case(self, reference: FromPath[str], data: JSONBody[Transition], actor: CurrentActor) -> dict[str, Any]:
        """Move a use case to another stage; moves into ready for live or live run the go-live gate."""
        expected = None if data.version is msgspec.UNSET else data.version
        view = await register.move_use_case(
            actor, reference, data.to, expected_version=expected, reason=data.reason
        )
        return view.as_api()

    @get("/{reference:str}/history", opt=allow_everyone())
    async def history(self, reference: FromPath[str]) -> list[dict[str, Any]]:
        """Every audit entry about the use case and its assessments, oldest first."""
        view = await register.get_use_case(reference)
        return [_entry_api(entry) for entry in await audit.history_for_use_case(view.reference)]


def _entry_api(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": entry["seq"],
        "occurred_at": entry["occurred_at"].isoformat(),
        "actor": entry["actor"],
        "actor_roles": [role for role in entry["actor_roles"].split(",") if role],
        "action": entry["action"],
        "entity_type": entry["entity_type"],
        "entity_ref": entry["entity_ref"],
        "use_case_ref": entry["use_case_ref"],
        "before": entry["before"],
        "after": entry["after"],
        "note": entry["note"],
        "entry_hash": entry["entry_hash"],
        "prev_hash": entry["prev_hash"],
    }


class DepartmentApi(Controller):
    path = "/api/v1/departments"
    tags = ["departments"]

    @get("/", opt=allow_everyone())
    async def list_departments(self) -> list[str]:
        return await list_departments()

    @post("/", opt=allow(Role.ADMINISTRATOR, Role.CENTRAL_TEAM))
    async def add_department(self, data: JSONBody[DepartmentCreate], actor: CurrentActor) -> dict[str, str]:
        await ensure_department(actor, data.name)
        return {"name": data.name.strip()}


class ProgrammeApi(Controller):
    path = "/api/v1/business-case"
    tags = ["programme"]

    @get("/", opt=allow_everyone())
    async def business_case(self) -> dict[str, Any]:
        """The business case's yearly lines, stated totals, computed totals and any mismatch."""
        return await business_case_summary()


class AuditApi(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/", opt=allow(Role.ADMINISTRATOR))
    async def list_entries(
        self,
        actor_name: Annotated[str, QueryParameter(name="actor", required=False)] = "",
        action: Annotated[str, QueryParameter(name="action", required=False)] = "",
        entity_type: Annotated[str, QueryParameter(name="entity_type", required=False)] = "",
        use_case: Annotated[str, QueryParameter(name="use_case", required=False)] = "",
        before_seq: Annotated[int | None, QueryParameter(name="before_seq", required=False, gt=0)] = None,
        limit: Annotated[int, QueryParameter(name="limit", required=False, ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Read the audit log newest first; page with ``before_seq`` set to the last ``seq`` seen."""
        filters = audit.AuditFilter(
            actor=actor_name, action=action, entity_type=entity_type, use_case_ref=use_case
        )
        entries = await audit.list_entries(filters, limit=limit, before_seq=before_seq)
        return [_entry_api(entry) for entry in entries]


class MeApi(Controller):
    path = "/api/v1/me"
    tags = ["service"]

    @get("/", opt=allow_everyone())
    async def me(self, actor: CurrentActor) -> dict[str, Any]:
        """Who the token belongs to and which roles it acts with."""
        return {
            "username": actor.username,
            "display_name": actor.display_name,
            "roles": sorted(role.value for role in actor.roles),
        }


ROUTES = [health, UseCaseApi, DepartmentApi, ProgrammeApi, AuditApi, MeApi]
