"""Pages of the go-live gate: the readiness board, decisions, suspension, emergency go-lives and
manual checks. Each handler parses the form, calls one service function and renders.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from governance import accounts, audit, conflicts, golive, manual_checks, overrides, readiness_board, register
from governance.auth import CurrentActor, allow, allow_everyone
from governance.clock import LONDON, utcnow
from governance.errors import Conflict, FieldError, Forbidden, InvalidInput, StaleVersion
from governance.roles import Role
from governance.stages import Stage
from governance.web.forms import FormState, parse_int, read_form, read_form_or_errors
from governance.web.gate_api import BOARD_ROLES
from governance.web.templating import page

logger = logging.getLogger(__name__)


def parse_expiry_day(value: str) -> dt.datetime:
    """Return the end of the given day in UK time (the start of the next day), as UTC.

    An override "until 11 December" therefore stays in force through 11 December.
    """
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput.single("expires_on", "enter the last day of the override as YYYY-MM-DD") from None
    next_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=LONDON)
    return next_day.astimezone(dt.timezone.utc)


class BoardPages(Controller):
    include_in_schema = False

    @get("/readiness", opt=allow(*BOARD_ROLES))
    async def board(
        self,
        actor: CurrentActor,
        department: Annotated[str, QueryParameter(name="department", required=False)] = "",
        blocker: Annotated[str, QueryParameter(name="blocker", required=False)] = "",
    ) -> Template:
        filters = readiness_board.BoardFilter(department=department.strip(), blocker=blocker.strip())
        departments = await accounts.list_departments()
        checks = await readiness_board.known_checks()
        board = await readiness_board.build_board(filters)
        # A bookmarked filter on a check that blocks nothing now still shows as chosen.
        if filters.blocker in checks and filters.blocker not in dict(board.blocker_options):
            board.blocker_options.append((filters.blocker, checks[filters.blocker]))
        problems = readiness_board.filter_problems(filters, departments, checks)
        return page(
            "gate/board.html",
            board=board,
            filters=filters,
            filter_errors=problems,
            department_options=[(name, name) for name in departments],
            can_suspend=actor.has_any(*golive.SUSPENDER_ROLES),
            status_code=400 if problems else 200,
        )

    @get("/readiness.csv", opt=allow(*BOARD_ROLES))
    async def board_csv(
        self,
        department: Annotated[str, QueryParameter(name="department", required=False)] = "",
        blocker: Annotated[str, QueryParameter(name="blocker", required=False)] = "",
    ) -> Response[str]:
        filters = readiness_board.BoardFilter(department=department.strip(), blocker=blocker.strip())
        stamp = utcnow().astimezone(LONDON).strftime("%Y-%m-%d")
        return Response(
            await readiness_board.board_csv(filters),
            # Litestar adds "; charset=utf-8" to text media types itself.
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="readiness-{stamp}.csv"'},
        )


class UseCaseGatePages(Controller):
    path = "/use-cases"
    include_in_schema = False

    @get("/{reference:str}/go-live-decisions", opt=allow_everyone())
    async def decisions(self, reference: FromPath[str]) -> Template:
        view = await register.get_use_case(reference)
        decisions = await golive.list_decisions(view.id)
        proofs = {decision.id: await golive.verify_decision(decision) for decision in decisions}
        return page(
            "gate/decisions.html",
            use_case=view,
            decisions=decisions,
            proofs=proofs,
            lapses=await golive.lapse_history(view.id),
        )

    @get("/{reference:str}/suspend", opt=allow(*golive.SUSPENDER_ROLES))
    async def suspend_form(self, reference: FromPath[str]) -> Template:
        view = await register.get_use_case(reference)
        return page(
            "gate/suspend.html",
            use_case=view,
            form=FormState(values={"version": view.version}),
            can_suspend=view.stage is Stage.LIVE,
        )

    @post("/{reference:str}/suspend", opt=allow(*golive.SUSPENDER_ROLES))
    async def suspend(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        values, rejected = await read_form_or_errors(request)
        try:
            if rejected:
                raise InvalidInput(rejected)
            view = await golive.suspend(
                actor, reference, values.get("reason", ""), expected_version=parse_int(values.get("version"))
            )
        except InvalidInput as error:
            current = await register.get_use_case(reference)
            return page(
                "gate/suspend.html",
                use_case=current,
                form=FormState.from_error(values, error),
                can_suspend=current.stage is Stage.LIVE,
                status_code=422,
            )
        except StaleVersion:
            # The use case changed after the page was opened: show it as it is now, with the reason
            # kept, so suspending it is decided on what is current.
            current = await register.get_use_case(reference)
            return page(
                "gate/suspend.html",
                use_case=current,
                form=FormState(values={**values, "version": current.version}),
                can_suspend=current.stage is Stage.LIVE,
                changed_since=True,
                status_code=409,
            )
        except Conflict as error:
            current = await register.get_use_case(reference)
            return page(
                "use_cases/move_refused.html",
                use_case=current,
                message=error.message,
                blockers=error.extra.get("blockers", []),
                # A refused move's message lists the allowed moves itself.
                allowed=[],
                status_code=409,
            )
        return Redirect(path=f"/use-cases/{view.reference}?moved={view.stage.value}", status_code=303)

    @post("/{reference:str}/manual-checks/{key:str}/sign", opt=allow(*manual_checks.SIGNING_ROLES))
    async def sign(self, request: Request, reference: FromPath[str], key: FromPath[str], actor: CurrentActor) -> Redirect:
        values = await read_form(request)
        view = await manual_checks.sign(actor, reference, key, values.get("note", ""))
        return Redirect(path=f"/use-cases/{view.use_case_ref}?signed={key}#go-live-readiness", status_code=303)

    @get("/{reference:str}/emergency-override", opt=allow(Role.CENTRAL_TEAM))
    async def override_form(self, reference: FromPath[str]) -> Template:
        view = await register.get_use_case(reference)
        return await self._override_page(view, FormState())

    async def _override_page(
        self, view: register.UseCaseView, form: FormState, *, problem: str = "", status_code: int = 200
    ) -> Template:
        now = utcnow()
        readiness = await golive.evaluate(view.reference, now)
        existing = await overrides.open_override(view.id, now)
        blocked_reason = overrides.request_blocked_reason(
            view.reference, view.stage, readiness.ready, existing, now
        )
        return page(
            "gate/override_form.html",
            use_case=view,
            readiness=readiness,
            form=form,
            blocked_reason=blocked_reason,
            problem=problem,
            max_days=overrides.MAX_OVERRIDE_DAYS,
            status_code=status_code,
        )

    @post("/{reference:str}/emergency-override", opt=allow(Role.CENTRAL_TEAM))
    async def request_override(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        values, rejected = await read_form_or_errors(request)
        view = await register.get_use_case(reference)
        try:
            if rejected:
                raise InvalidInput(rejected)
            try:
                expires_at = parse_expiry_day(values.get("expires_on", ""))
            except InvalidInput as unreadable:
                # Report the reason's problem with the date's, rather than on the next submit.
                problem = overrides.reason_problem(values.get("reason", ""))
                reason_errors = [FieldError("reason", problem)] if problem else []
                raise InvalidInput([*reason_errors, *unreadable.errors]) from None
            created = await overrides.request_override(actor, reference, values.get("reason", ""), expires_at)
        except InvalidInput as error:
            # The service validates expires_at, but the form's field is expires_on (the last day).
            errors = [
                FieldError("expires_on", item.message) if item.field == "expires_at" else item
                for item in error.errors
            ]
            return await self._override_page(view, FormState(values=values, errors=errors), status_code=422)
        except Conflict as error:
            current = await register.get_use_case(reference)
            return await self._override_page(
                current, FormState(values=values), problem=error.message, status_code=409
            )
        return Redirect(path=f"/emergency-overrides/{created.id}?requested=1", status_code=303)


class OverridePages(Controller):
    path = "/emergency-overrides"
    include_in_schema = False

    # Every role may read emergency go-lives: the use-case page already warns of one to everyone,
    # and its business owner needs to see who approved it and when it ends.
    @get("/", opt=allow_everyone())
    async def list_page(self) -> Template:
        return page("gate/overrides.html", items=await overrides.list_overrides(), now=utcnow())

    @get("/{override_id:int}", opt=allow_everyone())
    async def detail(self, request: Request, override_id: FromPath[int], actor: CurrentActor) -> Template:
        return await self._detail(request, override_id, actor, FormState())

    async def _detail(
        self, request: Request, override_id: int, actor: CurrentActor, form: FormState, *, problem: str = "", status_code: int = 200
    ) -> Template:
        view = await overrides.get_override(override_id)
        now = utcnow()
        approvable = []
        for role in overrides.APPROVER_ROLES:
            try:
                overrides.check_approval(view, actor, role, now)
            except (Forbidden, Conflict, InvalidInput):
                continue
            approvable.append(role)
        can_withdraw = view.is_open(now) and (
            actor.has_any(Role.CENTRAL_TEAM, *overrides.APPROVER_ROLES) or actor.account_id == view.requested_by_id
        )
        return page(
            "gate/override_detail.html",
            item=view,
            now=now,
            approvable=approvable,
            can_withdraw=can_withdraw,
            form=form,
            problem=problem,
            requested=request.query_params.get("requested") == "1",
            status_code=status_code,
        )

    @post("/{override_id:int}/approve", opt=allow(*overrides.APPROVER_ROLES))
    async def approve(self, request: Request, override_id: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        values = await read_form(request)
        try:
            await overrides.approve(actor, override_id, values.get("role", ""), values.get("note", ""))
        except (Forbidden, Conflict) as error:
            return await self._detail(
                request, override_id, actor, FormState(values=values), problem=error.message, status_code=error.status_code
            )
        return Redirect(path=f"/emergency-overrides/{override_id}", status_code=303)

    @post("/{override_id:int}/withdraw", opt=allow(Role.CENTRAL_TEAM, *overrides.APPROVER_ROLES))
    async def withdraw(self, request: Request, override_id: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        values, rejected = await read_form_or_errors(request)
        try:
            if rejected:
                raise InvalidInput(rejected)
            await overrides.withdraw(actor, override_id, values.get("reason", ""))
        except InvalidInput as error:
            return await self._detail(
                request, override_id, actor, FormState.from_error(values, error), status_code=422
            )
        return Redirect(path=f"/emergency-overrides/{override_id}", status_code=303)


class SignOffPages(Controller):
    path = "/manual-check-sign-offs"
    include_in_schema = False

    @post("/{sign_off_id:int}/revoke", opt=allow(*manual_checks.SIGNING_ROLES))
    async def revoke(self, request: Request, sign_off_id: FromPath[int], actor: CurrentActor) -> Redirect:
        values = await read_form(request)
        view = await manual_checks.revoke_sign_off(actor, sign_off_id, values.get("reason", ""))
        return Redirect(path=f"/use-cases/{view.use_case_ref}#go-live-readiness", status_code=303)


ROLE_OPTIONS = [(role.value, role.label) for role in manual_checks.SIGNING_ROLES]


def _definition_values(view: manual_checks.ManualCheckView | None) -> dict[str, object]:
    if view is None:
        return {"active": "yes"}
    return {
        "key": view.key,
        "title": view.title,
        "description": view.description,
        "signing_role": view.signing_role.value,
        "active": "yes" if view.active else "",
        "version": view.version,
    }


def _definition_from_form(values: dict[str, str]) -> dict[str, object]:
    return {
        "title": values.get("title", ""),
        "description": values.get("description", ""),
        "signing_role": values.get("signing_role", ""),
        "active": values.get("active") == "yes",
    }


DEFINITION_LABELS = [
    ("title", "Title"),
    ("description", "What the signer confirms"),
    ("signing_role", "Role that signs it"),
    ("active", "Active"),
]


def _definition_state(view: manual_checks.ManualCheckView) -> dict[str, object]:
    return {
        "title": view.title,
        "description": view.description,
        "signing_role": view.signing_role.value,
        "active": view.active,
    }


def _definition_sent(data: dict[str, object]) -> dict[str, object]:
    """Return the form's values as a definition stores them (trimmed)."""
    return {name: value.strip() if isinstance(value, str) else value for name, value in data.items()}


def _definition_text(name: str, value: object) -> str:
    if name == "signing_role":
        try:
            return Role(str(value)).label
        except ValueError:
            return str(value)
    if name == "active":
        return "Active" if value else "Not in use"
    return str(value) if value else "(empty)"


async def _definition_changes(
    current: manual_checks.ManualCheckView, data: dict[str, object], loaded_version: int | None
) -> list[conflicts.ChangedField]:
    """Compare what the administrator sent with the current check and the version they loaded."""
    loaded = None
    if loaded_version is not None:
        fields = [name for name, _ in DEFINITION_LABELS]
        loaded = await audit.recorded_state("manual_check", current.key, loaded_version, fields)
    return conflicts.changed_fields(
        DEFINITION_LABELS, _definition_state(current), _definition_sent(data), loaded, _definition_text
    )


class ManualCheckPages(Controller):
    path = "/admin/manual-checks"
    include_in_schema = False

    async def _list(self, form: FormState, status_code: int = 200) -> Template:
        return page(
            "gate/manual_checks.html",
            definitions=await manual_checks.list_definitions(),
            role_options=ROLE_OPTIONS,
            form=form,
            status_code=status_code,
        )

    @get("/", opt=allow(Role.ADMINISTRATOR))
    async def list_page(self) -> Template:
        return await self._list(FormState(values=_definition_values(None)))

    @post("/", opt=allow(Role.ADMINISTRATOR))
    async def create(self, request: Request, actor: CurrentActor) -> Template | Redirect:
        values, rejected = await read_form_or_errors(request)
        data = {"key": values.get("key", ""), **_definition_from_form(values)}
        try:
            if rejected:
                raise InvalidInput(rejected)
            await manual_checks.create_definition(actor, data)
        except InvalidInput as error:
            return await self._list(FormState.from_error(values, error), status_code=422)
        return Redirect(path="/admin/manual-checks?saved=1", status_code=303)

    @get("/{key:str}", opt=allow(Role.ADMINISTRATOR))
    async def edit_form(self, key: FromPath[str]) -> Template:
        view = await manual_checks.get_definition(key)
        return self._edit_page(view, FormState(values=_definition_values(view)))

    def _edit_page(
        self,
        definition: manual_checks.ManualCheckView,
        form: FormState,
        *,
        changed: list[conflicts.ChangedField] | None = None,
        conflict: str = "",
        status_code: int = 200,
    ) -> Template:
        hidden = {key: form.values.get(key, "") for key in (conflicts.FIELDS_KEY, conflicts.BASE_VERSION_KEY)}
        return page(
            "gate/manual_check_edit.html",
            definition=definition,
            role_options=ROLE_OPTIONS,
            form=form,
            changed=changed or [],
            changed_hidden=hidden,
            labels=dict(DEFINITION_LABELS),
            conflict=conflict,
            status_code=status_code,
        )

    @post("/{key:str}", opt=allow(Role.ADMINISTRATOR))
    async def edit(self, request: Request, key: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        """Save a check's changes; a save based on an old version gets the comparison of
        ``governance.conflicts`` and a choice per field changed by someone else."""
        values, rejected = await read_form_or_errors(request)
        view = await manual_checks.get_definition(key)
        version = parse_int(values.get("version"))
        data = _definition_from_form(values)
        compared = conflicts.compared_names(values, manual_checks.EDITABLE_FIELDS)
        loaded_version = conflicts.base_version(values, version)
        try:
            if rejected:
                raise InvalidInput(rejected)
            if version is None:
                raise InvalidInput.single("version", "the form is missing its version; reload the page")
            to_save = data
            if compared:
                current = await manual_checks.get_definition(key)
                to_save, missing = conflicts.apply_choices(compared, values, _definition_state(current), data)
                if missing:
                    raise InvalidInput(missing)
            await manual_checks.update_definition(actor, key, version, to_save)
        except InvalidInput as error:
            state = FormState.from_error(values, error)
            changed = []
            if compared:
                current = await manual_checks.get_definition(key)
                changed = [item for item in await _definition_changes(current, data, loaded_version) if item.name in compared]
                state.values[conflicts.FIELDS_KEY] = ",".join(item.name for item in changed)
                state.values[conflicts.BASE_VERSION_KEY] = loaded_version
            return self._edit_page(view, state, changed=changed, status_code=422)
        except StaleVersion:
            current = await manual_checks.get_definition(key)
            changed = await _definition_changes(current, data, loaded_version)
            # Choices made against an earlier comparison do not carry over to this one.
            without_choices = {name: value for name, value in values.items() if not name.startswith(conflicts.CHOICE_PREFIX)}
            state = FormState(values={**without_choices, "version": current.version})
            state.values.update(conflicts.form_values(changed, loaded_version or current.version))
            return self._edit_page(
                current,
                state,
                changed=changed,
                conflict="Someone else saved a change to this check after you opened the form, so your change is not saved yet.",
                status_code=409,
            )
        return Redirect(path="/admin/manual-checks?saved=1", status_code=303)


ROUTES = [BoardPages, UseCaseGatePages, OverridePages, SignOffPages, ManualCheckPages]
