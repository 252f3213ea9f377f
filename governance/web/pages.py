"""Server-rendered pages for the core: sign-in, home, the register, a use case, the programme, audit.

These controllers are hidden from the OpenAPI schema; the JSON API covers the same actions.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from governance import accounts, audit, conflicts, golive, register, submissions
from governance.audit import Actor
from governance.auth import CurrentActor, PUBLIC, SESSION_COOKIE, allow, allow_everyone
from governance.clock import LONDON
from governance.errors import Conflict, FieldError, Forbidden, InvalidInput, StaleVersion, TooManyRequests
from governance.packages import Contribution, UseCasePanel
from governance.programme import business_case_summary
from governance.roles import Role
from governance.settings import get_settings
from governance.stages import PIPELINE
from governance.web.forms import FormState, lines_to_list, parse_int, read_form, read_form_or_errors, safe_next
from governance.web.templating import page

logger = logging.getLogger(__name__)

PURPOSE_ROWS_SPARE = 2


def _contributions(request: Request) -> list[Contribution]:
    return request.app.state.contributions


def _log_section_failure(package: str, section: str, actor: Actor) -> str:
    """Log a package's page section that raised, with a new error id, and return the id."""
    error_id = uuid.uuid4().hex[:12]
    logger.exception(
        "the %s package's %s failed for %s (error id %s)", package, section, actor.username, error_id
    )
    return error_id


def _session_cookie(value: str, max_age: int | None) -> Cookie:
    settings = get_settings()
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        httponly=True,
        secure=not settings.development,
        samesite="lax",
        path="/",
        max_age=max_age,
    )


class SessionPages(Controller):
    include_in_schema = False

    @get("/sign-in", opt=PUBLIC)
    async def sign_in_form(self, next_path: Annotated[str, QueryParameter(name="next", required=False)] = "/") -> Template:
        return page("sign_in.html", form=FormState(values={"next": safe_next(next_path)}))

    @post("/sign-in", opt=PUBLIC)
    async def sign_in(self, request: Request) -> Template | Redirect:
        values, rejected = await read_form_or_errors(request)
        target = safe_next(values.get("next"))
        username = values.get("username", "")
        password = values.get("password", "")
        remote = request.client.host if request.client else ""

        if rejected or not username.strip() or not password:
            errors = list(rejected)
            if not username.strip():
                errors.append(FieldError("username", "Enter your username"))
            if not password:
                errors.append(FieldError("password", "Enter your password"))
            state = FormState(values={"username": username, "next": target}, errors=errors)
            return page("sign_in.html", form=state, status_code=422)

        try:
            session = await accounts.sign_in(username, password, remote)
        except InvalidInput as error:
            state = FormState.from_error({"username": username, "next": target}, error)
            return page("sign_in.html", form=state, status_code=422)
        except TooManyRequests as error:
            state = FormState(values={"username": username, "next": target})
            return page("sign_in.html", form=state, throttled=error.message, status_code=429)

        # A session the browser already had is ended, so one browser never has two.
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:
            await accounts.sign_out(previous)

        max_age = get_settings().session_absolute_hours * 3600
        return Redirect(path=target, status_code=303, cookies=[_session_cookie(session.cookie_value, max_age)])

    @post("/sign-out", opt=allow_everyone())
    async def sign_out(self, request: Request) -> Redirect:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await accounts.sign_out(cookie)
        return Redirect(path="/sign-in?signed_out=1", status_code=303, cookies=[_session_cookie("", 0)])


class HomePages(Controller):
    include_in_schema = False

    @get("/", opt=allow_everyone())
    async def home(self, request: Request, actor: CurrentActor) -> Template:
        """Show the signed-in person's work queue, gathered from every package."""
        items = []
        failures = []
        for contribution in _contributions(request):
            for provider in contribution.queues:
                try:
                    items.extend(await provider(actor))
                except Exception:
                    failures.append(_log_section_failure(contribution.name, "work queue", actor))
        items.sort(key=lambda item: (item.waiting_since is None, item.waiting_since or 0))
        return page("home.html", queue=items, queue_failures=failures, actor=actor)


async def _departments_for(actor: Actor) -> list[str]:
    """Departments the actor may file use cases under: all for the central team, else their own."""
    departments = await accounts.list_departments()
    if actor.has_any(Role.CENTRAL_TEAM):
        return departments
    own = await register.own_department(actor)
    return [name for name in departments if name == own]


def _use_case_form_values(view: register.UseCaseView | None) -> dict[str, Any]:
    if view is None:
        return {"purposes": [], "systems": "", "data_categories": "", "bot_identifiers": ""}
    return {
        "title": view.title,
        "department": view.department,
        "business_owner": view.business_owner,
        "description": view.description,
        "systems": "\n".join(view.systems),
        "data_categories": "\n".join(view.data_categories),
        "purposes": view.purposes,
        "rpa_platform": view.rpa_platform,
        "bot_identifiers": "\n".join(view.bot_identifiers),
        "version": view.version,
    }


USE_CASE_LABELS: dict[str, str] = {
    "title": "Title",
    "department": "Department",
    "business_owner": "Business owner",
    "description": "Description",
    "systems": "Systems touched",
    "data_categories": "Data categories",
    "purposes": "Purposes and processing regime",
    "rpa_platform": "RPA platform",
    "bot_identifiers": "Bot identifiers",
}


def _use_case_text(name: str, value: Any) -> str:
    """Return a use-case field's value as the conflict comparison shows it."""
    if name == "purposes":
        lines = [f"{item.get('purpose', '')} ({register.REGIMES.get(item.get('regime', ''), 'no regime')})" for item in value or []]
        return "\n".join(lines) or "(none)"
    if name == "rpa_platform":
        return register.PLATFORMS.get(value or "", "Not chosen yet")
    if isinstance(value, list):
        return "\n".join(value) or "(none)"
    return value or "(empty)"


def _editable_values(view: register.UseCaseView) -> dict[str, Any]:
    snapshot = view.snapshot()
    return {name: snapshot[name] for name in register.EDITABLE_FIELDS}


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    """Return form data as the register stores it (trimmed, duplicates removed), or as sent if invalid."""
    try:
        return register.validate_fields(data, partial=False)
    except InvalidInput:
        return data


async def _changed_by_others(
    current: register.UseCaseView, data: dict[str, Any], loaded_version: int | None
) -> list[conflicts.ChangedField]:
    """Compare what the person sent with the current use case and the version they loaded."""
    loaded = None
    if loaded_version is not None:
        loaded = await audit.recorded_state("use_case", current.reference, loaded_version, register.EDITABLE_FIELDS)
    return conflicts.changed_fields(
        list(USE_CASE_LABELS.items()), _editable_values(current), _normalised(data), loaded, _use_case_text
    )


_PURPOSE_FIELD = re.compile(r"(purpose|regime)_(\d+)")


def _use_case_errors(errors: list[FieldError]) -> list[FieldError]:
    """Name form errors by the register's fields: ``purpose_0`` becomes ``purposes[0].purpose``."""
    named = []
    for error in errors:
        match = _PURPOSE_FIELD.fullmatch(error.field)
        field_name = f"purposes[{match.group(2)}].{match.group(1)}" if match else error.field
        named.append(FieldError(field_name, error.message))
    return named


def _use_case_from_form(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (fields for the service, values to re-display) from the use-case form."""
    purposes = []
    index = 0
    while f"purpose_{index}" in values:
        text = values.get(f"purpose_{index}", "").strip()
        regime = values.get(f"regime_{index}", "")
        if text or regime:
            purposes.append({"purpose": text, "regime": regime})
        index += 1

    data = {
        "title": values.get("title", ""),
        "department": values.get("department", ""),
        "business_owner": values.get("business_owner", ""),
        "description": values.get("description", ""),
        "systems": lines_to_list(values.get("systems", "")),
        "data_categories": lines_to_list(values.get("data_categories", "")),
        "purposes": purposes,
        "rpa_platform": values.get("rpa_platform", ""),
        "bot_identifiers": lines_to_list(values.get("bot_identifiers", "")),
    }
    display = {**values, "purposes": purposes}
    return data, display


class UseCasePages(Controller):
    path = "/use-cases"
    include_in_schema = False

    @get("/", opt=allow_everyone())
    async def register_page(
        self,
        department: Annotated[str, QueryParameter(name="department", required=False)] = "",
        stage: Annotated[str, QueryParameter(name="stage", required=False)] = "",
        search: Annotated[str, QueryParameter(name="q", required=False)] = "",
    ) -> Template:
        filters = register.RegisterFilter(department=department, stage=stage, search=search.strip())
        return page(
            "use_cases/list.html",
            use_cases=await register.list_use_cases(filters),
            flags=await golive.flags_by_use_case(),
            departments=await accounts.list_departments(),
            stages=PIPELINE,
            filters=filters,
        )

    async def _form_page(
        self,
        *,
        actor: Actor,
        view: register.UseCaseView | None,
        state: FormState,
        status_code: int = 200,
        changed: list[conflicts.ChangedField] | None = None,
        conflict: str = "",
    ) -> Template:
        changed = changed or []
        hidden = {key: state.values.get(key, "") for key in (conflicts.FIELDS_KEY, conflicts.BASE_VERSION_KEY)}
        return page(
            "use_cases/form.html",
            use_case=view,
            form=state,
            departments=await _departments_for(actor),
            regimes=register.REGIMES,
            platforms=register.PLATFORMS,
            spare_rows=PURPOSE_ROWS_SPARE,
            changed=changed,
            changed_hidden=hidden,
            conflict=conflict,
            status_code=status_code,
        )

    @get("/new", opt=allow(*register.EDITOR_ROLES))
    async def new_form(self, actor: CurrentActor) -> Template:
        values = _use_case_form_values(None)
        # A one-time id: a second post of the same form (a double click) finds the first's use case.
        values["form_id"] = submissions.new_form_id()
        if not actor.has_any(Role.CENTRAL_TEAM):
            values["department"] = await register.own_department(actor) or ""
        return await self._form_page(actor=actor, view=None, state=FormState(values=values))

    @post("/new", opt=allow(*register.EDITOR_ROLES))
    async def create(self, request: Request, actor: CurrentActor) -> Template | Redirect:
        values, rejected = await read_form_or_errors(request)
        data, display = _use_case_from_form(values)
        # A form without a usable id (from a page served before ids existed) gets a new one, so the
        # next post of the re-displayed form is protected.
        form_id = values.get("form_id", "")
        if not submissions.is_valid_key(form_id):
            form_id = submissions.new_form_id()
        display["form_id"] = form_id
        try:
            if rejected:
                raise InvalidInput(_use_case_errors(rejected))
            view = await register.create_use_case(actor, data, idempotency_key=form_id)
        except submissions.RepeatedSubmission as error:
            # The same form was posted again after a change: show what the first post created.
            return Redirect(path=f"/use-cases/{error.reference}?created=1", status_code=303)
        except InvalidInput as error:
            state = FormState.from_error(display, error)
            return await self._form_page(actor=actor, view=None, state=state, status_code=422)
        except Forbidden as error:
            # A business owner chose another department: show it against that field.
            state = FormState(values=display, errors=[FieldError("department", error.message)])
            return await self._form_page(actor=actor, view=None, state=state, status_code=403)
        return Redirect(path=f"/use-cases/{view.reference}?created=1", status_code=303)

    @get("/{reference:str}", opt=allow_everyone())
    async def detail(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template:
        view = await register.get_use_case(reference)
        panels: list[UseCasePanel] = []
        for contribution in _contributions(request):
            for provider in contribution.panels:
                try:
                    panel = await provider(view.ref, actor)
                except Exception:
                    # Show that a section is missing rather than hide, say, a lapsed approval.
                    error_id = _log_section_failure(contribution.name, f"panel of {view.reference}", actor)
                    panel = UseCasePanel(
                        title=f"{contribution.name.upper()} section unavailable",
                        template="section_failed.html",
                        context={"error_id": error_id},
                        order=0,
                    )
                if panel is not None:
                    panels.append(panel)
        panels.sort(key=lambda panel: panel.order)
        banners: list[UseCasePanel] = []
        for contribution in _contributions(request):
            for provider in contribution.banners:
                banner = await provider(view.ref, actor)
                if banner is not None:
                    banners.append(banner)
        banners.sort(key=lambda banner: banner.order)
        return page(
            "use_cases/detail.html",
            use_case=view,
            panels=panels,
            banners=banners,
            regimes=register.REGIMES,
            platforms=register.PLATFORMS,
            can_move=actor.has_any(*register.MOVER_ROLES),
            can_edit=await register.can_edit(actor, view.department),
            created=request.query_params.get("created") == "1",
            moved=request.query_params.get("moved"),
        )

    @get("/{reference:str}/edit", opt=allow(*register.EDITOR_ROLES))
    async def edit_form(self, reference: FromPath[str], actor: CurrentActor) -> Template:
        view = await register.get_use_case(reference)
        await register.ensure_can_edit(actor, view.department)
        state = FormState(values=_use_case_form_values(view))
        return await self._form_page(actor=actor, view=view, state=state)

    @post("/{reference:str}/edit", opt=allow(*register.EDITOR_ROLES))
    async def edit(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        """Save the edit form.

        A save based on an old version gets the form back with the fields someone else changed,
        each with a choice between the current value and the person's own. The next save applies
        the choices (``governance.conflicts``).
        """
        view = await register.get_use_case(reference)
        await register.ensure_can_edit(actor, view.department)
        values, rejected = await read_form_or_errors(request)
        data, display = _use_case_from_form(values)
        version = parse_int(values.get("version"))
        compared = conflicts.compared_names(values, register.EDITABLE_FIELDS)
        loaded_version = conflicts.base_version(values, version)
        try:
            if rejected:
                raise InvalidInput(_use_case_errors(rejected))
            if version is None:
                raise InvalidInput.single("version", "the form is missing its version; reload the page")
            to_save = data
            if compared:
                current = await register.get_use_case(reference)
                to_save, missing = conflicts.apply_choices(compared, values, _editable_values(current), data)
                if missing:
                    raise InvalidInput(missing)
            await register.update_use_case(actor, reference, version, to_save)
        except InvalidInput as error:
            state = FormState.from_error({**values, **display, "version": version}, error)
            changed = []
            if compared:
                current = await register.get_use_case(reference)
                changed = [item for item in await _changed_by_others(current, data, loaded_version) if item.name in compared]
                state.values[conflicts.FIELDS_KEY] = ",".join(item.name for item in changed)
                state.values[conflicts.BASE_VERSION_KEY] = loaded_version
            return await self._form_page(actor=actor, view=view, state=state, status_code=422, changed=changed)
        except Forbidden as error:
            state = FormState(
                values={**display, "version": version},
                errors=[FieldError("department", error.message)],
            )
            return await self._form_page(actor=actor, view=view, state=state, status_code=403)
        except StaleVersion as error:
            current = await register.get_use_case(reference)
            changed = await _changed_by_others(current, data, loaded_version)
            # Choices made against an earlier comparison do not carry over to this one.
            without_choices = {key: value for key, value in display.items() if not key.startswith(conflicts.CHOICE_PREFIX)}
            state = FormState(values={**without_choices, "version": current.version})
            state.values.update(conflicts.form_values(changed, loaded_version or current.version))
            return await self._form_page(
                actor=actor, view=current, state=state, status_code=409, changed=changed, conflict=error.message
            )
        return Redirect(path=f"/use-cases/{view.reference}", status_code=303)

    @post("/{reference:str}/move", opt=allow(*register.MOVER_ROLES))
    async def move(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        values = await read_form(request)
        try:
            view = await register.move_use_case(
                actor,
                reference,
                values.get("to", ""),
                expected_version=parse_int(values.get("version")),
                reason=values.get("reason", ""),
            )
        except (Conflict, InvalidInput) as error:
            current = await register.get_use_case(reference)
            message = error.message
            if isinstance(error, InvalidInput) and not values.get("to"):
                message = "Choose the stage to move to."
            # A refused move's message already lists the allowed moves, so the page lists them only
            # for the other refusals.
            allowed = [] if "allowed_moves" in error.extra else [stage.value for stage in current.allowed_moves]
            return page(
                "use_cases/move_refused.html",
                use_case=current,
                message=message,
                blockers=error.extra.get("blockers", []),
                allowed=allowed,
                status_code=error.status_code,
            )
        return Redirect(path=f"/use-cases/{view.reference}?moved={view.stage.value}", status_code=303)

    @get("/{reference:str}/history", opt=allow_everyone())
    async def history(self, reference: FromPath[str]) -> Template:
        view = await register.get_use_case(reference)
        entries = await audit.history_for_use_case(view.reference)
        for entry in entries:
            entry["changes"] = audit.changed_fields(entry["before"], entry["after"])
        return page("use_cases/history.html", use_case=view, entries=entries)


class ProgrammePages(Controller):
    include_in_schema = False

    @get("/programme", opt=allow_everyone())
    async def programme(self) -> Template:
        summary = await business_case_summary()
        years = sorted({line["financial_year"] for line in summary["lines"]})
        table = {
            kind: {line["financial_year"]: line for line in summary["lines"] if line["kind"] == kind}
            for kind in ("capital", "revenue")
        }
        return page("programme.html", summary=summary, years=years, table=table)


def _parse_day(value: str) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON)


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/audit", opt=allow(Role.ADMINISTRATOR))
    async def audit_log(
        self,
        actor_name: Annotated[str, QueryParameter(name="actor", required=False)] = "",
        action: Annotated[str, QueryParameter(name="action", required=False)] = "",
        use_case: Annotated[str, QueryParameter(name="use_case", required=False)] = "",
        since: Annotated[str, QueryParameter(name="since", required=False)] = "",
        until: Annotated[str, QueryParameter(name="until", required=False)] = "",
        before_seq: Annotated[int | None, QueryParameter(name="before_seq", required=False)] = None,
    ) -> Template:
        """Show the audit log, newest first, filterable, 50 entries a page.

        A date filter that cannot be read shows its error and no entries, because a list that
        ignored the filter would look like the filtered result.
        """
        since_at = _parse_day(since) if since else None
        until_at = _parse_day(until) if until else None
        date_errors = []
        if since and since_at is None:
            date_errors.append(("since", "Enter the 'from' date as YYYY-MM-DD, for example 2026-12-04"))
        if until and until_at is None:
            date_errors.append(("until", "Enter the 'to' date as YYYY-MM-DD, for example 2026-12-04"))
        filter_values = {
            "actor": actor_name,
            "action": action,
            "use_case": use_case,
            "since": since,
            "until": until,
        }
        if date_errors:
            return page(
                "admin/audit.html",
                entries=[],
                filters=filter_values,
                next_before=None,
                date_errors=date_errors,
                status_code=422,
            )

        if until_at is not None:
            until_at += dt.timedelta(days=1)
        filters = audit.AuditFilter(
            actor=actor_name.strip(),
            action=action.strip(),
            use_case_ref=use_case.strip().upper(),
            since=since_at,
            until=until_at,
        )
        entries = await audit.list_entries(filters, limit=50, before_seq=before_seq)
        for entry in entries:
            entry["changes"] = audit.changed_fields(entry["before"], entry["after"])
        return page(
            "admin/audit.html",
            entries=entries,
            filters=filter_values,
            next_before=entries[-1]["seq"] if len(entries) == 50 else None,
            date_errors=[],
        )

    @get("/accounts", opt=allow(Role.ADMINISTRATOR))
    async def account_list(self) -> Template:
        return page(
            "admin/accounts.html",
            accounts=await accounts.list_accounts(),
            tokens=await accounts.list_tokens(),
        )


ROUTES = [SessionPages, HomePages, UseCasePages, ProgrammePages, AdminPages]


