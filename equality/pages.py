"""Server-rendered pages for equality screenings, full assessments, the equality lead's queue and
local characteristics. Hidden from the OpenAPI schema; the JSON API covers the same actions."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from equality import characteristics as local_characteristics
from equality import queues, service
from equality.check import run as run_check
from equality.export import build_export, export_filename, status_label
from equality.permissions import outcome_of
from equality.rules import (
    AFFECTED,
    AIMS,
    ASSESSMENT,
    IMPACTS,
    KIND_LABELS,
    KIND_SLUGS,
    OUTCOMES,
    SCREENING,
    SLUG_KINDS,
    Characteristic,
    FlaggedImpact,
    flagged_impacts,
    parse_date,
    screened_characteristics,
)
from governance import register
from governance.auth import CurrentActor, allow, allow_everyone
from governance.clock import format_date, utcnow
from governance.documents import DOCX_MEDIA_TYPE, attachment_headers
from governance.errors import Conflict, FieldError, InvalidInput, NotFound
from governance.roles import Role
from governance.web.forms import FormState, parse_int, read_form
from governance.web.templating import page

logger = logging.getLogger(__name__)

ACTION_PLAN_SPARE_ROWS = 2
_PLAN_FIELD = re.compile(r"^action_plan\[(\d+)\]\.(action|owner|due_date)$")


def kind_for_slug(slug: str) -> str:
    try:
        return SLUG_KINDS[slug]
    except KeyError:
        raise NotFound(
            f"no equality record called {slug!r}; use screening or full-assessment"
        ) from None


def version_path(reference: str, kind: str, number: int, suffix: str = "") -> str:
    return f"/use-cases/{reference}/equality/{KIND_SLUGS[kind]}/versions/{number}{suffix}"


def log_rejected(request: Request, actor: Any, error: Exception) -> None:
    """Log a request whose error the page shows back to the user instead of raising it."""
    logger.info(
        "%s %s by %s rejected (%s): %s",
        request.method,
        request.url.path,
        getattr(actor, "username", "unknown"),
        type(error).__name__,
        error,
    )


# Form <-> content ----------------------------------------------------------------------------------


def screening_from_form(values: Mapping[str, str]) -> dict[str, Any]:
    """Return screening input from form fields named like ``characteristics.age.impact``."""
    data: dict[str, Any] = {
        "proposal": values.get("proposal", ""),
        "characteristics": {},
        "aims": {},
    }
    for name, value in values.items():
        parts = name.split(".")
        if parts[0] == "characteristics" and len(parts) == 3:
            data["characteristics"].setdefault(parts[1], {})[parts[2]] = value
        elif parts[0] == "aims" and len(parts) == 2:
            data["aims"][parts[1]] = value
    return data


def screening_form_values(content: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"proposal": content.get("proposal", "")}
    for key, answer in (content.get("characteristics") or {}).items():
        for name in ("impact", "affected", "evidence"):
            values[f"characteristics.{key}.{name}"] = (answer or {}).get(name, "")
    for key in AIMS:
        values[f"aims.{key}"] = (content.get("aims") or {}).get(key, "")
    return values


def assessment_from_form(values: Mapping[str, str]) -> dict[str, Any]:
    """Return full-assessment input from fields like ``impacts.age.owner`` and ``action_plan[0].action``."""
    impacts: dict[str, dict[str, Any]] = {}
    rows: dict[int, dict[str, str]] = {}
    for name, value in values.items():
        parts = name.split(".")
        if parts[0] == "impacts" and len(parts) == 3:
            impacts.setdefault(parts[1], {})[parts[2]] = value
            continue
        match = _PLAN_FIELD.match(name)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    plan = [rows.get(index, {}) for index in range(max(rows, default=-1) + 1)]
    return {"impacts": impacts, "action_plan": plan, "engagement": values.get("engagement", "")}


def assessment_form_values(content: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"engagement": content.get("engagement", "")}
    for key, entry in (content.get("impacts") or {}).items():
        for name in ("mitigation", "owner", "due_date", "justification"):
            values[f"impacts.{key}.{name}"] = entry.get(name, "") or ""
        remains = entry.get("remains")
        values[f"impacts.{key}.remains"] = {True: "yes", False: "no"}.get(remains, remains or "")
    for index, row in enumerate(content.get("action_plan") or []):
        for name in ("action", "owner", "due_date"):
            values[f"action_plan[{index}].{name}"] = row.get(name, "")
    return values


def _plan_rows(values: Mapping[str, Any]) -> int:
    indexes = [int(match.group(1)) for name in values if (match := _PLAN_FIELD.match(name))]
    return max(indexes, default=-1) + 1 + ACTION_PLAN_SPARE_ROWS


def screening_labels(characteristics: list[Characteristic]) -> dict[str, str]:
    """Return the error-summary label of each screening form field."""
    labels = {"proposal": "What the automation changes", "outcome": "Outcome", "version": "Version"}
    for item in characteristics:
        labels[f"characteristics.{item.key}.impact"] = f"{item.label}: likely impact"
        labels[f"characteristics.{item.key}.affected"] = f"{item.label}: who is affected"
        labels[f"characteristics.{item.key}.evidence"] = f"{item.label}: evidence"
    labels.update({f"aims.{key}": label for key, label in AIMS.items()})
    return labels


def assessment_labels(impacts: list[FlaggedImpact], rows: int) -> dict[str, str]:
    """Return the error-summary label of each full-assessment form field."""
    labels = {
        "action_plan": "Action plan",
        "engagement": "Engagement or consultation",
        "version": "Version",
    }
    for impact in impacts:
        labels[f"impacts.{impact.key}.mitigation"] = f"{impact.label}: mitigation"
        labels[f"impacts.{impact.key}.owner"] = f"{impact.label}: owner"
        labels[f"impacts.{impact.key}.due_date"] = f"{impact.label}: due date"
        labels[f"impacts.{impact.key}.remains"] = f"{impact.label}: impact remains"
        labels[f"impacts.{impact.key}.justification"] = f"{impact.label}: justification"
    for index in range(rows):
        labels[f"action_plan[{index}].action"] = f"Action {index + 1}"
        labels[f"action_plan[{index}].owner"] = f"Action {index + 1}: owner"
        labels[f"action_plan[{index}].due_date"] = f"Action {index + 1}: due date"
    return labels


def long_date(value: Any) -> str:
    """Return an ISO date as "31 March 2027", or the value unchanged if it is not a date."""
    day = parse_date(value)
    return format_date(day) if day else (value or "")


def _shared_context() -> dict[str, Any]:
    return {
        "impact_options": list(IMPACTS.items()),
        "affected_options": list(AFFECTED.items()),
        "long_date": long_date,
        "impacts": IMPACTS,
        "affected": AFFECTED,
        "aims": AIMS,
        "outcomes": OUTCOMES,
        "kind_labels": KIND_LABELS,
        "kind_slugs": KIND_SLUGS,
        "SCREENING": SCREENING,
        "ASSESSMENT": ASSESSMENT,
        "status_label": status_label,
    }


# Use-case pages ------------------------------------------------------------------------------------


class EqualityPages(Controller):
    path = "/use-cases/{reference:str}/equality"
    include_in_schema = False

    @get("/", opt=allow_everyone())
    async def overview(self, reference: FromPath[str], actor: CurrentActor) -> Template:
        record = await service.load_record(reference)
        basis = record.basis
        return page(
            "equality/overview.html",
            record=record,
            use_case=record.use_case,
            basis=basis,
            basis_impacts=flagged_impacts(basis.content) if basis else [],
            readiness=await run_check(record.use_case.ref, utcnow()),
            can_author=await service.may_author(actor, record.use_case),
            outcome_of=outcome_of,
            **_shared_context(),
        )

    @post("/{slug:str}/start", opt=allow(*service.AUTHOR_ROLES))
    async def start(
        self, request: Request, reference: FromPath[str], slug: FromPath[str], actor: CurrentActor
    ) -> Redirect | Template:
        kind = kind_for_slug(slug)
        try:
            view = await service.start_version(actor, reference, kind)
        except Conflict as error:
            log_rejected(request, actor, error)
            return page(
                "error.html", title="This could not be done", message=error.message, status_code=409
            )
        return Redirect(
            path=version_path(view.use_case_ref, kind, view.number, "/edit"), status_code=303
        )

    async def _version_page(
        self,
        actor: Any,
        reference: str,
        kind: str,
        number: int,
        *,
        status_code: int = 200,
        decision_form: FormState | None = None,
        revoke_form: FormState | None = None,
        review_form: FormState | None = None,
        problem: str = "",
        notice: str = "",
    ) -> Template:
        record = await service.load_record(reference)
        versions = record.versions(kind)
        view = next((item for item in versions if item.number == number), None)
        if view is None:
            raise NotFound(
                f"no {KIND_LABELS[kind].lower()} version {number} for {record.use_case.reference}"
            )
        latest = versions[-1]
        return page(
            "equality/version.html",
            use_case=record.use_case,
            view=view,
            kind=kind,
            latest=latest,
            sign_offs=await service.sign_offs(view),
            outcome=outcome_of(view) if kind == SCREENING else None,
            flagged=flagged_impacts(view.content) if kind == SCREENING else [],
            characteristics=screened_characteristics(view.content) if kind == SCREENING else [],
            hash_matches=view.hash_matches() if view.frozen else None,
            can_author=await service.may_author(actor, record.use_case),
            is_lead=actor.has_any(*service.LEAD_ROLES),
            involved=actor.account_id in view.involved_account_ids(),
            decision_form=decision_form or FormState(),
            revoke_form=revoke_form or FormState(),
            review_form=review_form or FormState(),
            problem=problem,
            notice=notice,
            status_code=status_code,
            **_shared_context(),
        )

    @get("/{slug:str}/versions/{number:int}", opt=allow_everyone())
    async def version(
        self,
        request: Request,
        reference: FromPath[str],
        slug: FromPath[str],
        number: FromPath[int],
        actor: CurrentActor,
    ) -> Template:
        notices = {
            "saved": "Draft saved.",
            "submitted": "Submitted to the equality lead. The content is now frozen and its hash recorded.",
            "approved": "Approved and signed.",
            "changes_requested": "Changes requested. The author can now start the next version.",
            "rejected": "Rejected and signed.",
            "revoked": "Approval revoked.",
            "review_date": "Review date changed.",
        }
        notice = notices.get(request.query_params.get("done", ""), "")
        return await self._version_page(
            actor, reference, kind_for_slug(slug), number, notice=notice
        )

    async def _form_page(
        self,
        reference: str,
        kind: str,
        number: int,
        state: FormState | None,
        *,
        status_code: int = 200,
        conflict: str = "",
    ) -> Template:
        record = await service.load_record(reference)
        view = next((item for item in record.versions(kind) if item.number == number), None)
        if view is None:
            raise NotFound(
                f"no {KIND_LABELS[kind].lower()} version {number} for {record.use_case.reference}"
            )
        if kind == SCREENING:
            characteristics = await local_characteristics.current_characteristics()
            values = screening_form_values(view.content)
            template = "equality/screening_form.html"
            extra: dict[str, Any] = {
                "characteristics": characteristics,
                "labels": screening_labels(characteristics),
            }
        else:
            basis = record.basis
            values = assessment_form_values(view.content)
            template = "equality/assessment_form.html"
            entries = view.content.get("impacts") or {}
            impacts = flagged_impacts(basis.content) if basis else []
            extra = {"basis": basis, "basis_impacts": impacts, "entries": entries}
        if state is None:
            state = FormState(values=values)
        if kind == ASSESSMENT:
            extra["plan_rows"] = _plan_rows(state.values)
            extra["labels"] = assessment_labels(extra["basis_impacts"], extra["plan_rows"])
        return page(
            template,
            use_case=record.use_case,
            view=view,
            kind=kind,
            form=state,
            conflict=conflict,
            status_code=status_code,
            **extra,
            **_shared_context(),
        )

    @get("/{slug:str}/versions/{number:int}/edit", opt=allow(*service.AUTHOR_ROLES))
    async def edit_form(
        self,
        reference: FromPath[str],
        slug: FromPath[str],
        number: FromPath[int],
        actor: CurrentActor,
    ) -> Template | Redirect:
        kind = kind_for_slug(slug)
        use_case = await register.get_use_case(reference)
        await service.ensure_author(actor, use_case)
        view = await service.get_version(reference, kind, number)
        if view.status != "draft":
            return Redirect(path=version_path(use_case.reference, kind, number), status_code=303)
        return await self._form_page(reference, kind, number, None)

    @post("/{slug:str}/versions/{number:int}/edit", opt=allow(*service.AUTHOR_ROLES))
    async def save(
        self,
        request: Request,
        reference: FromPath[str],
        slug: FromPath[str],
        number: FromPath[int],
        actor: CurrentActor,
    ) -> Template | Redirect:
        kind = kind_for_slug(slug)
        values = await read_form(request)
        data = screening_from_form(values) if kind == SCREENING else assessment_from_form(values)
        display = dict(values)
        version = parse_int(values.get("version"))
        try:
            if version is None:
                raise InvalidInput.single(
                    "version", "the form is missing its version; reload the page"
                )
            view = await service.save_draft(actor, reference, kind, number, version, data)
            if values.get("action") == "submit":
                display["version"] = view.version
                view = await service.submit(actor, reference, kind, number, view.version)
                return Redirect(
                    path=version_path(view.use_case_ref, kind, number, "?done=submitted"),
                    status_code=303,
                )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            return await self._form_page(
                reference, kind, number, FormState.from_error(display, error), status_code=422
            )
        except Conflict as error:
            log_rejected(request, actor, error)
            current = await service.get_version(reference, kind, number)
            if current.status != "draft":
                raise
            display["version"] = current.version
            return await self._form_page(
                reference,
                kind,
                number,
                FormState(values=display),
                status_code=409,
                conflict=error.message,
            )
        return Redirect(
            path=version_path(view.use_case_ref, kind, number, "?done=saved"), status_code=303
        )

    @post("/{slug:str}/versions/{number:int}/submit", opt=allow(*service.AUTHOR_ROLES))
    async def submit(
        self,
        request: Request,
        reference: FromPath[str],
        slug: FromPath[str],
        number: FromPath[int],
        actor: CurrentActor,
    ) -> Template | Redirect:
        kind = kind_for_slug(slug)
        values = await read_form(request)
        try:
            view = await service.submit(
                actor, reference, kind, number, parse_int(values.get("version")) or 0
            )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            current = await service.get_version(reference, kind, number)
            form_values = (
                screening_form_values(current.content)
                if kind == SCREENING
                else assessment_form_values(current.content)
            )
            form_values["version"] = current.version
            return await self._form_page(
                reference, kind, number, FormState.from_error(form_values, error), status_code=422
            )
        except Conflict as error:
            log_rejected(request, actor, error)
            return await self._version_page(
                actor, reference, kind, number, status_code=409, problem=error.message
            )
        return Redirect(
            path=version_path(view.use_case_ref, kind, number, "?done=submitted"), status_code=303
        )

    @post("/{slug:str}/versions/{number:int}/decision", opt=allow(*service.LEAD_ROLES))
    async def decide(
        self,
        request: Request,
        reference: FromPath[str],
        slug: FromPath[str],
        number: FromPath[int],
        actor: CurrentActor,
    ) -> Template | Redirect:
        kind = kind_for_slug(slug)
        values = await read_form(request)
        action = values.get("action", "")
        try:
            if not action:
                raise InvalidInput.single("action", "choose approve, request changes or reject")
            view = await service.decide(
                actor,
                reference,
                kind,
                number,
                parse_int(values.get("version")) or 0,
                action,
                summary=values.get("summary", ""),
                reasons=values.get("reasons", ""),
            )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            return await self._version_page(
                actor,
                reference,
                kind,
                number,
                status_code=422,
                decision_form=FormState.from_error(values, error),
            )
        except Conflict as error:
            log_rejected(request, actor, error)
            return await self._version_page(
                actor,
                reference,
                kind,
                number,
                status_code=409,
                problem=error.message,
                decision_form=FormState(values=values),
            )
        return Redirect(
            path=version_path(view.use_case_ref, kind, number, f"?done={view.status}"),
            status_code=303,
        )

    @post("/{slug:str}/versions/{number:int}/revoke", opt=allow(*service.LEAD_ROLES))
    async def revoke(
        self,
        request: Request,
        reference: FromPath[str],
        slug: FromPath[str],
        number: FromPath[int],
        actor: CurrentActor,
    ) -> Template | Redirect:
        kind = kind_for_slug(slug)
        values = await read_form(request)
        try:
            view = await service.revoke(
                actor,
                reference,
                kind,
                number,
                parse_int(values.get("version")) or 0,
                values.get("reason", ""),
            )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            return await self._version_page(
                actor,
                reference,
                kind,
                number,
                status_code=422,
                revoke_form=FormState.from_error(values, error),
            )
        except Conflict as error:
            log_rejected(request, actor, error)
            return await self._version_page(
                actor, reference, kind, number, status_code=409, problem=error.message
            )
        return Redirect(
            path=version_path(view.use_case_ref, kind, number, "?done=revoked"), status_code=303
        )

    @post("/{slug:str}/versions/{number:int}/review-date", opt=allow(*service.LEAD_ROLES))
    async def change_review_date(
        self,
        request: Request,
        reference: FromPath[str],
        slug: FromPath[str],
        number: FromPath[int],
        actor: CurrentActor,
    ) -> Template | Redirect:
        kind = kind_for_slug(slug)
        values = await read_form(request)
        try:
            view = await service.change_review_date(
                actor,
                reference,
                kind,
                number,
                parse_int(values.get("version")) or 0,
                values.get("review_date", ""),
                values.get("review_reason", ""),
            )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            errors = [
                FieldError("review_reason" if item.field == "reason" else item.field, item.message)
                for item in error.errors
            ]
            return await self._version_page(
                actor,
                reference,
                kind,
                number,
                status_code=422,
                review_form=FormState(values=values, errors=errors),
            )
        except Conflict as error:
            log_rejected(request, actor, error)
            return await self._version_page(
                actor, reference, kind, number, status_code=409, problem=error.message
            )
        return Redirect(
            path=version_path(view.use_case_ref, kind, number, "?done=review_date"), status_code=303
        )

    @get("/{slug:str}/versions/{number:int}/changes", opt=allow_everyone())
    async def changes(
        self, request: Request, reference: FromPath[str], slug: FromPath[str], number: FromPath[int]
    ) -> Template:
        kind = kind_for_slug(slug)
        against = parse_int(request.query_params.get("against"))
        view, base, changes = await service.diff_version(reference, kind, number, against)
        use_case = await register.get_use_case(reference)
        return page(
            "equality/changes.html",
            use_case=use_case,
            view=view,
            base=base,
            changes=changes,
            kind=kind,
            **_shared_context(),
        )

    @get("/{slug:str}/versions/{number:int}/export.docx", opt=allow_everyone())
    async def export(
        self, reference: FromPath[str], slug: FromPath[str], number: FromPath[int], actor: CurrentActor
    ) -> Response[bytes]:
        kind = kind_for_slug(slug)
        use_case = await register.get_use_case(reference)
        view = await service.get_version(reference, kind, number)
        content = build_export(use_case, view, await service.sign_offs(view), author=actor.name)
        return Response(
            content,
            media_type=DOCX_MEDIA_TYPE,
            headers=attachment_headers(export_filename(use_case, view)),
        )


# The equality lead's pages and local characteristics -----------------------------------------------


class EqualityLeadPages(Controller):
    path = "/equality"
    include_in_schema = False

    @get("/", opt=allow(Role.EQUALITY_LEAD, Role.ADMINISTRATOR))
    async def queue(self, actor: CurrentActor) -> Template:
        """Versions waiting for a decision, oldest first, and approvals due for review."""
        return page(
            "equality/queue.html",
            waiting=await queues.decisions_waiting(),
            reviews=await queues.reviews_due(),
            version_href=queues.version_href,
            is_lead=actor.has_any(Role.EQUALITY_LEAD),
            **_shared_context(),
        )

    async def _characteristics_page(
        self,
        actor: Any,
        state: FormState | None = None,
        *,
        status_code: int = 200,
        notice: str = "",
    ) -> Template:
        return page(
            "equality/local_characteristics.html",
            local=await local_characteristics.list_local(),
            protected=[
                item
                for item in await local_characteristics.current_characteristics()
                if item.kind == "protected"
            ],
            form=state or FormState(),
            can_manage=actor.has_any(Role.ADMINISTRATOR),
            notice=notice,
            status_code=status_code,
        )

    @get("/local-characteristics", opt=allow(Role.EQUALITY_LEAD, Role.ADMINISTRATOR))
    async def characteristics(self, request: Request, actor: CurrentActor) -> Template:
        notices = {
            "added": "Local characteristic added.",
            "changed": "Local characteristic changed.",
        }
        return await self._characteristics_page(
            actor, notice=notices.get(request.query_params.get("done", ""), "")
        )

    @post("/local-characteristics", opt=allow(Role.ADMINISTRATOR))
    async def add_characteristic(
        self, request: Request, actor: CurrentActor
    ) -> Template | Redirect:
        values = await read_form(request)
        try:
            await local_characteristics.create_local(
                actor,
                label=values.get("label", ""),
                description=values.get("description", ""),
                key=values.get("key") or None,
            )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            return await self._characteristics_page(
                actor, FormState.from_error(values, error), status_code=422
            )
        return Redirect(path="/equality/local-characteristics?done=added", status_code=303)

    @get("/local-characteristics/{key:str}", opt=allow(Role.ADMINISTRATOR))
    async def edit_characteristic(self, key: FromPath[str]) -> Template:
        item = await local_characteristics.get_local(key)
        values = {
            "label": item.label,
            "description": item.description,
            "active": "yes" if item.active else "no",
            "version": item.version,
        }
        return page(
            "equality/local_characteristic_form.html", item=item, form=FormState(values=values)
        )

    @post("/local-characteristics/{key:str}", opt=allow(Role.ADMINISTRATOR))
    async def save_characteristic(
        self, request: Request, key: FromPath[str], actor: CurrentActor
    ) -> Template | Redirect:
        values = await read_form(request)
        active = values.get("active")
        try:
            version = parse_int(values.get("version"))
            if version is None:
                raise InvalidInput.single(
                    "version", "the form is missing its version; reload the page"
                )
            if active not in ("yes", "no"):
                raise InvalidInput.single(
                    "active", "choose whether new screenings cover this characteristic"
                )
            await local_characteristics.update_local(
                actor,
                key,
                version,
                label=values.get("label", ""),
                description=values.get("description", ""),
                active=active == "yes",
            )
        except (InvalidInput, Conflict) as error:
            log_rejected(request, actor, error)
            item = await local_characteristics.get_local(key)
            if isinstance(error, InvalidInput):
                state, status_code, conflict = FormState.from_error(values, error), 422, ""
            else:
                state, status_code, conflict = (
                    FormState(values={**values, "version": item.version}),
                    409,
                    error.message,
                )
            return page(
                "equality/local_characteristic_form.html",
                item=item,
                form=state,
                conflict=conflict,
                status_code=status_code,
            )
        return Redirect(path="/equality/local-characteristics?done=changed", status_code=303)


ROUTES = [EqualityPages, EqualityLeadPages]
