"""JSON API of the go-live gate: readiness for release pipelines, decisions, overrides, manual checks.

The two readiness routes need the ``readiness:read`` scope and nothing else, so a release pipeline's
token can read readiness and do nothing more. An ``api:read`` token does not include that scope.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from governance import golive, manual_checks, overrides, readiness_board, register
from governance.auth import CurrentActor, allow, allow_everyone
from governance.errors import FieldError, InvalidInput
from governance.roles import Role, Scope

logger = logging.getLogger(__name__)

BOARD_ROLES = (
    Role.CENTRAL_TEAM,
    Role.PROGRAMME_BOARD,
    Role.INFORMATION_ASSURANCE,
    Role.DATA_PROTECTION_OFFICER,
    Role.ADMINISTRATOR,
)
READINESS = allow_everyone(scope=Scope.READINESS_READ)


class Suspension(msgspec.Struct, forbid_unknown_fields=True):
    """The reason for suspending a live use case. ``version``, when given, must be current."""

    reason: str
    version: int | msgspec.UnsetType = msgspec.UNSET


class OverrideRequest(msgspec.Struct, forbid_unknown_fields=True):
    """An emergency go-live: why, and when it ends (ISO 8601 with a time zone)."""

    reason: str
    expires_at: str


class OverrideApproval(msgspec.Struct, forbid_unknown_fields=True):
    """``role`` is information_assurance or data_protection_officer."""

    role: str
    note: str = ""


class Withdrawal(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class ManualCheckCreate(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    title: str
    signing_role: str
    description: str = ""
    active: bool = True


class ManualCheckPatch(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    title: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    signing_role: str | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class SignOffCreate(msgspec.Struct, forbid_unknown_fields=True):
    note: str = ""


class Revocation(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


def parse_expiry(value: str) -> dt.datetime:
    """Parse an ISO 8601 date-time that carries a time zone; raise ``InvalidInput`` otherwise."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput.single(
            "expires_at", "use ISO 8601 with a time zone, for example 2026-12-11T17:00:00+00:00"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInput.single(
            "expires_at", "give a time zone, for example 2026-12-11T17:00:00+00:00"
        )
    return parsed


class ReadinessApi(Controller):
    path = "/api/v1"
    tags = ["go-live readiness"]

    @get("/use-cases/{reference:str}/readiness", opt=READINESS)
    async def use_case_readiness(self, reference: FromPath[str]) -> dict[str, Any]:
        """Return whether the use case may go live: 200 with ``ready`` true or false, and every check."""
        return await golive.readiness_report(reference)

    @get("/bots/{platform:str}/{identifier:str}/readiness", opt=READINESS)
    async def bot_readiness(self, platform: FromPath[str], identifier: FromPath[str]) -> dict[str, Any]:
        """Readiness of the use case that owns the bot ``identifier`` on ``platform``."""
        return await golive.readiness_report_for_bot(platform, identifier)

    @get("/bots/{platform:str}/readiness", opt=READINESS)
    async def bot_readiness_by_query(
        self,
        platform: FromPath[str],
        identifier: Annotated[str, QueryParameter(name="identifier", required=True)],
    ) -> dict[str, Any]:
        """As the route above, for identifiers that contain a slash."""
        return await golive.readiness_report_for_bot(platform, identifier)

    @get("/readiness", opt=allow(*BOARD_ROLES))
    async def board(
        self,
        department: Annotated[str, QueryParameter(name="department", required=False)] = "",
        blocker: Annotated[str, QueryParameter(name="blocker", required=False)] = "",
    ) -> list[dict[str, Any]]:
        """Return every use case with its readiness, flagged ones first (the readiness board).

        A ``department`` or ``blocker`` that names no department or check gets 400.
        """
        filters = readiness_board.BoardFilter(department, blocker)
        await readiness_board.check_filters(filters)
        board = await readiness_board.build_board(filters)
        seen: set[int] = set()
        items = []
        for row in [*board.attention, *(row for _, rows in board.by_stage for row in rows)]:
            if row.use_case.id in seen:
                continue
            seen.add(row.use_case.id)
            body = row.status.as_api()
            body["department"] = row.use_case.department
            body["flags"] = [flag.label for flag in row.flags]
            items.append(body)
        return items

    @get("/use-cases/{reference:str}/go-live-decisions", opt=allow_everyone())
    async def decisions(self, reference: FromPath[str]) -> list[dict[str, Any]]:
        """Return every go-live decision on the use case, granted and refused, newest first."""
        view = await register.get_use_case(reference)
        return [decision.as_api() for decision in await golive.list_decisions(view.id)]

    @get("/go-live-decisions/{decision_id:int}", opt=allow_everyone())
    async def decision(self, decision_id: FromPath[int]) -> dict[str, Any]:
        """Return one decision, verifying its hash and the assessment versions it relied on."""
        decision = await golive.get_decision(decision_id)
        body = decision.as_api()
        body["verification"] = (await golive.verify_decision(decision)).as_api()
        return body

    @post("/use-cases/{reference:str}/suspension", opt=allow(*golive.SUSPENDER_ROLES), status_code=200)
    async def suspend(self, reference: FromPath[str], data: JSONBody[Suspension], actor: CurrentActor) -> dict[str, Any]:
        """Suspend a live use case; reinstate it by moving it to live through the gate."""
        expected = None if data.version is msgspec.UNSET else data.version
        view = await golive.suspend(actor, reference, data.reason, expected_version=expected)
        return view.as_api()


class OverrideApi(Controller):
    path = "/api/v1"
    tags = ["emergency go-live"]

    # Readable by every role, as the pages are.
    @get("/emergency-overrides", opt=allow_everyone())
    async def list_overrides(self) -> list[dict[str, Any]]:
        return [item.as_api() for item in await overrides.list_overrides()]

    @get("/emergency-overrides/{override_id:int}", opt=allow_everyone())
    async def get_override(self, override_id: FromPath[int]) -> dict[str, Any]:
        return (await overrides.get_override(override_id)).as_api()

    @post("/use-cases/{reference:str}/emergency-overrides", opt=allow(Role.CENTRAL_TEAM))
    async def request_override(
        self, reference: FromPath[str], data: JSONBody[OverrideRequest], actor: CurrentActor
    ) -> dict[str, Any]:
        """Request an emergency go-live covering the checks that fail now."""
        try:
            expires_at = parse_expiry(data.expires_at)
        except InvalidInput as unreadable:
            # Report the reason's problem with the date's, rather than on the next request.
            problem = overrides.reason_problem(data.reason)
            reason_errors = [FieldError("reason", problem)] if problem else []
            raise InvalidInput([*reason_errors, *unreadable.errors]) from None
        view = await overrides.request_override(actor, reference, data.reason, expires_at)
        return view.as_api()

    @post(
        "/emergency-overrides/{override_id:int}/approvals",
        opt=allow(*overrides.APPROVER_ROLES),
        status_code=200,
    )
    async def approve(
        self, override_id: FromPath[int], data: JSONBody[OverrideApproval], actor: CurrentActor
    ) -> dict[str, Any]:
        return (await overrides.approve(actor, override_id, data.role, data.note)).as_api()

    @post(
        "/emergency-overrides/{override_id:int}/withdrawal",
        opt=allow(Role.CENTRAL_TEAM, *overrides.APPROVER_ROLES),
        status_code=200,
    )
    async def withdraw(
        self, override_id: FromPath[int], data: JSONBody[Withdrawal], actor: CurrentActor
    ) -> dict[str, Any]:
        return (await overrides.withdraw(actor, override_id, data.reason)).as_api()


class ManualCheckApi(Controller):
    path = "/api/v1"
    tags = ["manual checks"]

    @get("/manual-checks", opt=allow_everyone())
    async def list_definitions(self) -> list[dict[str, Any]]:
        return [item.as_api() for item in await manual_checks.list_definitions()]

    @post("/manual-checks", opt=allow(Role.ADMINISTRATOR))
    async def create_definition(self, data: JSONBody[ManualCheckCreate], actor: CurrentActor) -> dict[str, Any]:
        """Add a manual go-live check; an active one applies to live use cases at once."""
        view = await manual_checks.create_definition(actor, msgspec.to_builtins(data))
        return view.as_api()

    @patch("/manual-checks/{key:str}", opt=allow(Role.ADMINISTRATOR))
    async def update_definition(
        self, key: FromPath[str], data: JSONBody[ManualCheckPatch], actor: CurrentActor
    ) -> dict[str, Any]:
        changes = {
            name: getattr(data, name)
            for name in manual_checks.EDITABLE_FIELDS
            if getattr(data, name) is not msgspec.UNSET
        }
        return (await manual_checks.update_definition(actor, key, data.version, changes)).as_api()

    @get("/use-cases/{reference:str}/manual-check-sign-offs", opt=allow_everyone())
    async def sign_offs(self, reference: FromPath[str]) -> list[dict[str, Any]]:
        """Return every sign-off on the use case's manual checks, revoked ones included."""
        view = await register.get_use_case(reference)
        return [item.as_api() for item in await manual_checks.sign_offs_for(view.id)]

    @post(
        "/use-cases/{reference:str}/manual-checks/{key:str}/sign-offs",
        opt=allow(*manual_checks.SIGNING_ROLES),
    )
    async def sign(
        self, reference: FromPath[str], key: FromPath[str], data: JSONBody[SignOffCreate], actor: CurrentActor
    ) -> dict[str, Any]:
        """Sign a manual check; only holders of the check's signing role may."""
        return (await manual_checks.sign(actor, reference, key, data.note)).as_api()

    @post(
        "/manual-check-sign-offs/{sign_off_id:int}/revocation",
        opt=allow(*manual_checks.SIGNING_ROLES),
        status_code=200,
    )
    async def revoke(
        self, sign_off_id: FromPath[int], data: JSONBody[Revocation], actor: CurrentActor
    ) -> dict[str, Any]:
        return (await manual_checks.revoke_sign_off(actor, sign_off_id, data.reason)).as_api()


ROUTES = [ReadinessApi, OverrideApi, ManualCheckApi]
