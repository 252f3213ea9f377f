"""DPIA pages: screening and assessment forms, the review steps, conditions, ICO and the queue.

Each handler reads the form, calls one service function, then renders or redirects. A 422 from the
service re-renders the form with an error summary. A 409 re-renders the page with what the person
typed and a notice of what changed after they opened it (``dpia.conflicts``), and a repeat of the
person's own step is treated as done. A 403 reaches the error page; the pages offer only the forms
that the viewer may use (``dpia.page_context``), so it follows only a tampered or outdated request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from governance import register, submissions
from governance.audit import Actor
from governance.auth import CurrentActor, allow, allow_everyone
from governance.errors import Conflict, FieldError, InvalidInput, NotFound, StaleVersion
from governance.roles import Role
from governance.web.forms import FormState, parse_int, read_form
from governance.web.templating import page

from dpia import conflicts, forms, page_context, permissions, queues, rules, service
from dpia.api import export_response
from dpia.page_context import DECISION_LABELS, ConflictNotice, form_kind
from dpia.service import ICO_OUTCOMES, NewCondition
from dpia.workflow import (
    ADVISER_ROLE,
    APPROVED,
    AUTHOR_ROLES,
    CONDITION_MET_ROLES,
    ICO_ROLES,
    REVIEWER_ROLE,
    status_label,
)

logger = logging.getLogger(__name__)

REPEAT_MESSAGE = "Your earlier request had already done this, so the repeat changed nothing."

OVERVIEW_MESSAGES = {
    "started": "A new draft version was started.",
    "saved": "Your draft was saved.",
    "submitted": "The DPIA was submitted for review. Its content is now frozen and hashed.",
    "condition": "The condition was updated.",
    "ico": "The ICO consultation was updated.",
    "review_date": "The review date was changed.",
    "revoked": "The approval was revoked.",
    "repeat": REPEAT_MESSAGE,
}

VERSION_MESSAGES = {"repeat": REPEAT_MESSAGE}


def _draft_labels(errors: list[FieldError]) -> dict[str, str]:
    return {error.field: forms.form_label("", error.field) for error in errors}


def _form_labels(form_name: str, errors: list[FieldError], number: int | str = "") -> dict[str, str]:
    return {error.field: forms.form_label(form_kind(form_name), error.field, number) for error in errors}


def _base(reference: str) -> str:
    return f"/use-cases/{reference}/dpia"


def _log_rejected(request: Request, actor: Actor, error: Exception) -> None:
    """Log a request whose error the page shows back to the person instead of an error page."""
    logger.info(
        "%s %s by %s rejected (%s): %s",
        request.method,
        request.url.path,
        actor.username,
        type(error).__name__,
        getattr(error, "message", error),
    )


def _entered(values: dict[str, str]) -> dict[str, str]:
    """Return the fields the person typed, without the hidden ones that name the record."""
    return {name: value for name, value in values.items() if name not in page_context.HIDDEN_FIELDS}


def _step_detail(error: Conflict) -> str:
    """Return the error's message for a notice, or "" when the error only reports that the record moved on.

    The notice lists those changes itself, and the service's stale-record message is written for
    API clients that resend the record's ``version``.
    """
    if isinstance(error, submissions.RepeatedSubmission):
        return "This form had already been used to send a different request, so yours was not recorded. Send it again from the form below."
    return "" if isinstance(error, StaleVersion) else error.message


class DpiaPages(Controller):
    path = "/use-cases/{reference:str}/dpia"
    include_in_schema = False

    # Overview -------------------------------------------------------------------------------------

    async def _overview_page(
        self,
        reference: str,
        actor: Actor,
        *,
        status_code: int = 200,
        submit_errors: list[FieldError] | None = None,
        form: FormState | None = None,
        form_name: str = "",
        message: str = "",
        conflict: ConflictNotice | None = None,
    ) -> Template:
        state = await service.overview(reference)
        latest = state.latest
        form = form or FormState()
        numbers = {f"{step}-{item.id}": item.number for item in state.conditions for step in ("met", "reopen", "withdraw")}
        return page(
            "dpia/overview.html",
            state=state,
            use_case=state.use_case,
            latest=latest,
            review_owner=await service.get_review_owner(latest.id) if latest else None,
            matrix=state.matrix,
            allowed=await page_context.overview_allowed(actor, state),
            ico_required=bool(latest and state.matrix and latest.status in APPROVED and rules.ico_consultation_required(latest.content, state.matrix)),
            ico_outcomes=ICO_OUTCOMES,
            status_label=status_label,
            form_label=forms.form_label,
            outcome=rules.outcome_of(latest.content) if latest else "",
            submit_errors=[
                (error, forms.field_label(error.field), f"{_base(reference)}/{forms.form_page_for(error.field)}#{forms.field_id(error.field)}")
                for error in submit_errors or []
            ],
            form=form,
            labels=_form_labels(form_name, form.errors, numbers.get(form_name, "")),
            blank_form=FormState(),
            form_name=form_name,
            form_id=submissions.new_form_id(),
            message=message,
            conflict=conflict,
            status_code=status_code,
        )

    @get("/", opt=allow_everyone())
    async def overview(
        self,
        reference: FromPath[str],
        actor: CurrentActor,
        done: Annotated[str, QueryParameter(name="done", required=False)] = "",
    ) -> Template:
        return await self._overview_page(reference, actor, message=OVERVIEW_MESSAGES.get(done, ""))

    @post("/start", opt=allow(*AUTHOR_ROLES))
    async def start(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        try:
            view = await service.start_version(actor, reference)
        except Conflict as error:
            _log_rejected(request, actor, error)
            latest = (await service.overview(reference)).latest
            if latest is not None and latest.status == "draft" and latest.author_id == actor.account_id:
                # A double click: the first click started the draft this one would have started.
                return Redirect(path=f"{_base(reference)}/screening", status_code=303)
            notice = ConflictNotice(title="A new version could not be started", message=error.message)
            return await self._overview_page(reference, actor, status_code=409, conflict=notice)
        return Redirect(path=f"{_base(view.use_case_ref)}/screening?started={view.number}", status_code=303)

    @post("/submit", opt=allow(*AUTHOR_ROLES))
    async def submit(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        values = await read_form(request)
        number = parse_int(values.get("number")) or 0
        expected = parse_int(values.get("version"))
        try:
            await service.submit(actor, reference, number, expected)
        except InvalidInput as error:
            _log_rejected(request, actor, error)
            # A lost hidden version is the form's problem, not the draft's, so it gets the form's own summary.
            lost = [item for item in error.errors if item.field == "version"]
            incomplete = [item for item in error.errors if item.field != "version"]
            return await self._overview_page(
                reference,
                actor,
                status_code=422,
                submit_errors=incomplete,
                form=FormState(values=values, errors=lost),
                form_name="submit",
            )
        except Conflict as error:
            _log_rejected(request, actor, error)
            render = self._overview_conflict(reference, actor, "submit")
            return await self._step_conflict(reference, actor, "submit", values, error, ("version", number), render)
        return Redirect(path=f"{_base(reference)}?done=submitted", status_code=303)

    # Drafting -------------------------------------------------------------------------------------

    async def _form_page(
        self,
        template: str,
        section: str,
        reference: str,
        actor: Actor,
        number: int | None = None,
        form: FormState | None = None,
        status_code: int = 200,
        conflict: ConflictNotice | None = None,
    ) -> Template | Redirect:
        """Render the screening or assessment form of draft ``number`` (the latest when None).

        A version that is no longer a draft is shown only with a conflict notice, which gives back
        what the person typed. Without a notice, the page goes back to the overview.
        """
        state = await service.overview(reference)
        latest = state.latest
        if latest is None:
            return Redirect(path=_base(state.use_case.reference), status_code=303)
        view = state.version(number) if number is not None else latest
        editable, _ = await service.may_edit(actor, state.use_case)
        rejection = permissions.edit_rejection(actor, editable, view, latest.number)
        if rejection is not None and rejection.forbidden:
            raise rejection.error()
        if rejection is not None and conflict is None:
            return Redirect(path=_base(state.use_case.reference), status_code=303)
        matrix = await service.matrix_for(view.content)
        if form is None:
            form = FormState(values={**forms.form_fields(view.content, section), "version": str(view.version)})
        return page(
            template,
            use_case=state.use_case,
            draft=view,
            matrix=matrix,
            rules=rules,
            regimes=register.REGIMES,
            form=form,
            field_label=forms.field_label,
            labels=_draft_labels(form.errors),
            risk_rows=forms.row_count(form.values, "risks") + forms.SPARE_RISK_ROWS,
            measure_rows=forms.row_count(form.values, "measures") + forms.SPARE_MEASURE_ROWS,
            purpose_rows=forms.row_count(form.values, "screening.regimes") + forms.SPARE_PURPOSE_ROWS,
            conflict=conflict,
            read_only=rejection is not None,
            status_code=status_code,
        )

    @get("/screening", opt=allow(*AUTHOR_ROLES))
    async def screening_form(self, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        return await self._form_page("dpia/screening.html", "screening", reference, actor)

    @get("/assessment", opt=allow(*AUTHOR_ROLES))
    async def assessment_form(self, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        return await self._form_page("dpia/assessment.html", "assessment", reference, actor)

    async def _save(self, request: Request, reference: str, actor: Actor, section: str) -> Template | Redirect:
        template = f"dpia/{section}.html"
        values = await read_form(request)
        state = await service.overview(reference)
        if state.latest is None:
            return Redirect(path=_base(state.use_case.reference), status_code=303)
        # A form without the hidden number field edits the latest version.
        number = parse_int(values.get("number")) or state.latest.number
        view = state.version(number)
        form_errors: list[FieldError] = []
        if section == "screening":
            content = {**view.content, "screening": forms.screening_from_form(values)}
        else:
            assessment, form_errors = forms.assessment_from_form(values)
            content = {**view.content, **assessment}
        expected = parse_int(values.get("version"))
        try:
            saved = await service.save_draft(actor, reference, number, expected, content, form_errors=form_errors)
        except InvalidInput as error:
            _log_rejected(request, actor, error)
            return await self._form_page(template, section, reference, actor, number, FormState.from_error(values, error), 422)
        except Conflict as error:
            _log_rejected(request, actor, error)
            return await self._draft_conflict(template, section, reference, actor, number, values, expected)
        if section == "screening" and rules.outcome_of(saved.content) == "required" and values.get("next") == "assessment":
            return Redirect(path=f"{_base(reference)}/assessment", status_code=303)
        return Redirect(path=f"{_base(reference)}?done=saved", status_code=303)

    async def _draft_conflict(
        self,
        template: str,
        section: str,
        reference: str,
        actor: Actor,
        number: int,
        values: dict[str, str],
        expected: int | None,
    ) -> Template | Redirect:
        """Bring a draft form back after a 409, merged with what was saved after it was opened."""
        state = await service.overview(reference)
        view = state.version(number)
        matrix = await service.matrix_for(view.content)
        meanwhile = await conflicts.version_changes(reference, number, expected) if expected is not None else conflicts.Meanwhile()
        yours = _entered(values)
        read_only = view.status != "draft"
        merge = None
        form_values = yours
        if not read_only and meanwhile.base_content is not None:
            saved = forms.form_fields(view.content, section)
            merge = conflicts.merge_form(forms.form_fields(meanwhile.base_content, section), saved, yours)
            if conflicts.nothing_to_save(merge, saved, {*yours, *saved}):
                # A double click or a second tab saved exactly this already.
                return Redirect(path=f"{_base(reference)}?done=saved", status_code=303)
            form_values = merge.values
        elif not read_only:
            # The content the form was opened on is unknown, so list every field that differs.
            merge = conflicts.compare_form(forms.form_fields(view.content, section), yours)
        notice = page_context.notice_for_draft(
            section, f"DPIA version {number}", meanwhile, actor, merge, matrix, read_only
        )
        # The form now carries the saved record's version, so saving it again replaces what is saved now.
        form = FormState(values={**form_values, "number": str(number), "version": str(view.version)})
        return await self._form_page(template, section, reference, actor, number, form, 409, notice)

    @post("/screening", opt=allow(*AUTHOR_ROLES))
    async def save_screening(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        return await self._save(request, reference, actor, "screening")

    @post("/assessment", opt=allow(*AUTHOR_ROLES))
    async def save_assessment(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        return await self._save(request, reference, actor, "assessment")

    # A version and its review ---------------------------------------------------------------------

    async def _version_page(
        self,
        reference: str,
        number: int,
        actor: Actor,
        *,
        form: FormState | None = None,
        form_name: str = "",
        status_code: int = 200,
        message: str = "",
        conflict: ConflictNotice | None = None,
    ) -> Template:
        state = await service.overview(reference)
        view = state.version(number)
        matrix = await service.matrix_for(view.content)
        base, changes = await service.changes_since_approval(view)
        latest_number = state.latest.number if state.latest else number
        sign_offs = state.sign_offs.get(number, [])
        form = form or FormState()
        return page(
            "dpia/version.html",
            state=state,
            use_case=state.use_case,
            view=view,
            matrix=matrix,
            rules=rules,
            regimes=register.REGIMES,
            scored=rules.score_risks(view.content, matrix),
            highest_residual=rules.highest_residual_level(view.content, matrix),
            ico_required=rules.ico_consultation_required(view.content, matrix),
            outcome=rules.outcome_of(view.content),
            sign_offs=sign_offs,
            outcome_rows=await service.sign_off_and_outcomes(state, view),
            review_owners=await service.review_owner_choices() if view.status == "dpo_advice_recorded" else [],
            conditions=state.conditions_of(number),
            base=base,
            changes=changes,
            is_latest=view.number == latest_number,
            allowed=page_context.review_allowed(actor, view, latest_number, sign_offs),
            decisions=DECISION_LABELS,
            status_label=status_label,
            form_label=forms.form_label,
            field_label=forms.field_label,
            form=form,
            labels=_form_labels(form_name, form.errors),
            blank_form=FormState(),
            form_name=form_name,
            condition_rows=forms.row_count(form.values, "conditions") + forms.SPARE_CONDITION_ROWS,
            message=message,
            conflict=conflict,
            status_code=status_code,
        )

    @get("/versions/{number:int}", opt=allow_everyone())
    async def version(
        self,
        reference: FromPath[str],
        number: FromPath[int],
        actor: CurrentActor,
        done: Annotated[str, QueryParameter(name="done", required=False)] = "",
    ) -> Template:
        return await self._version_page(reference, number, actor, message=VERSION_MESSAGES.get(done, ""))

    @get("/versions/{number:int}/export.docx", opt=allow_everyone())
    async def export(self, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Response[bytes]:
        return await export_response(reference, number, actor)

    async def _review_step(
        self,
        request: Request,
        reference: str,
        number: int,
        actor: Actor,
        form_name: str,
        call: Callable[[dict[str, str], int | None], Awaitable[Any]],
    ) -> Template | Redirect:
        values = await read_form(request)
        expected = parse_int(values.get("version"))
        try:
            await call(values, expected)
        except InvalidInput as error:
            _log_rejected(request, actor, error)
            return await self._version_page(
                reference, number, actor, form=FormState.from_error(values, error), form_name=form_name, status_code=422
            )
        except Conflict as error:
            _log_rejected(request, actor, error)

            async def render(notice: ConflictNotice, form: FormState) -> Template:
                return await self._version_page(
                    reference, number, actor, form=form, form_name=form_name, status_code=409, conflict=notice
                )

            return await self._step_conflict(reference, actor, form_name, values, error, ("version", number), render)
        return Redirect(path=f"{_base(reference)}/versions/{number}", status_code=303)

    async def _step_conflict(
        self,
        reference: str,
        actor: Actor,
        form_name: str,
        values: dict[str, str],
        error: Conflict,
        record: tuple[str, int | None],
        render: Callable[..., Awaitable[Template]],
    ) -> Template | Redirect:
        """Handle a 409 on a review or after-approval form: treat a repeat as done, else show a notice.

        ``record`` names what the form's hidden ``version`` locks: ("version", DPIA version number),
        ("condition", condition id), ("ico", None) or ("none", None) for a form without a lock.
        """
        state = await service.overview(reference)
        expected = parse_int(values.get("version"))
        kind, key = record
        meanwhile = conflicts.Meanwhile()
        name = "this record"
        condition_number: int | str = ""
        if kind == "version" and key is not None:
            name = f"DPIA version {key}"
            if expected is not None:
                meanwhile = await conflicts.version_changes(reference, key, expected)
        elif kind == "condition" and key is not None:
            condition = next((item for item in state.conditions if item.id == key), None)
            if condition is None:
                raise NotFound(f"No DPIA condition with id {key} belongs to {reference}.")
            name = f"condition {condition.number} of DPIA version {condition.version_number}"
            condition_number = condition.number
            if expected is not None:
                meanwhile = await conflicts.condition_changes(reference, key, expected)
        elif kind == "ico" and state.latest is not None:
            name = "the prior consultation with the ICO"
            if expected is not None:
                meanwhile = await conflicts.ico_changes(reference, state.latest.number, expected)

        action = page_context.repeated_action(form_name, values)
        if action and meanwhile.only_by(actor.username) and meanwhile.first_action() == action:
            if kind == "version" and form_kind(form_name) in permissions.REVIEW_STEPS:
                return Redirect(path=f"{_base(reference)}/versions/{key}?done=repeat", status_code=303)
            return Redirect(path=f"{_base(reference)}?done=repeat", status_code=303)

        form = FormState(values=_entered(values))
        form_offered = await self._form_shown(actor, state, form_name, key)
        notice = page_context.notice_for_step(
            form_name,
            name,
            meanwhile,
            actor,
            _step_detail(error),
            form.values,
            form_offered,
            lambda field: forms.form_label(form_kind(form_name), field, condition_number),
        )
        return await render(notice, form)

    async def _form_shown(self, actor: Actor, state: service.Overview, form_name: str, key: int | None) -> bool:
        """Return whether the page shown after a 409 still offers the form ``form_name``."""
        kind = form_kind(form_name)
        if kind in permissions.REVIEW_STEPS:
            if state.latest is None or key is None:
                return False
            view = state.version(key)
            allowed = page_context.review_allowed(actor, view, state.latest.number, state.sign_offs.get(key, []))
            return bool(allowed.get(kind))
        allowed = await page_context.overview_allowed(actor, state)
        if kind in ("met", "reopen", "withdraw"):
            return bool(allowed["conditions"].get(key, {}).get(kind))
        if kind == "submit":
            return bool(allowed["edit"])
        return bool(allowed.get(kind))

    def _overview_conflict(
        self, reference: str, actor: Actor, form_name: str
    ) -> Callable[[ConflictNotice, FormState], Awaitable[Template]]:
        async def render(notice: ConflictNotice, form: FormState) -> Template:
            return await self._overview_page(
                reference, actor, status_code=409, form=form, form_name=form_name, conflict=notice
            )

        return render

    @post("/versions/{number:int}/start-review", opt=allow(REVIEWER_ROLE))
    async def start_review(self, request: Request, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.start_review(actor, reference, number, expected)

        return await self._review_step(request, reference, number, actor, "start_review", call)

    @post("/versions/{number:int}/request-changes", opt=allow(REVIEWER_ROLE))
    async def request_changes(self, request: Request, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.request_changes(actor, reference, number, expected, values.get("reasons", ""))

        return await self._review_step(request, reference, number, actor, "request_changes", call)

    @post("/versions/{number:int}/dpo-advice", opt=allow(ADVISER_ROLE))
    async def dpo_advice(self, request: Request, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.record_dpo_advice(
                actor,
                reference,
                number,
                expected,
                advises_approval=values.get("advises_approval", ""),
                summary=values.get("summary", ""),
            )

        return await self._review_step(request, reference, number, actor, "dpo_advice", call)

    @post("/versions/{number:int}/decision", opt=allow(REVIEWER_ROLE))
    async def decide(self, request: Request, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            decision = values.get("decision", "")
            approving = decision in ("approve", "approve_with_conditions")
            rows, conditions = _conditions_from_form(values) if decision == "approve_with_conditions" else ([], [])
            try:
                await service.decide(
                    actor,
                    reference,
                    number,
                    expected,
                    action=decision,
                    reasons=values.get("reasons", ""),
                    conditions=conditions,
                    review_owner=values.get("review_owner") if approving else None,
                    consultation_reasons=values.get("consultation_reasons", ""),
                )
            except InvalidInput as error:
                raise InvalidInput([_on_form_row(item, rows) for item in error.errors]) from None

        return await self._review_step(request, reference, number, actor, "decision", call)

    # After approval -------------------------------------------------------------------------------

    async def _after_approval(
        self,
        request: Request,
        reference: str,
        actor: Actor,
        form_name: str,
        done: str,
        call: Callable[[dict[str, str], int | None], Awaitable[Any]],
        record: tuple[str, int | None],
    ) -> Template | Redirect:
        """Run an overview form's step; ``record`` is as ``_step_conflict`` takes it.

        ("version", None) means the DPIA version that the form names in its hidden ``number`` field.
        """
        values = await read_form(request)
        expected = parse_int(values.get("version"))
        if record == ("version", None):
            record = ("version", parse_int(values.get("number")) or 0)
        try:
            await call(values, expected)
        except InvalidInput as error:
            _log_rejected(request, actor, error)
            return await self._overview_page(
                reference, actor, status_code=422, form=FormState.from_error(values, error), form_name=form_name
            )
        except Conflict as error:
            _log_rejected(request, actor, error)
            render = self._overview_conflict(reference, actor, form_name)
            return await self._step_conflict(reference, actor, form_name, values, error, record, render)
        return Redirect(path=f"{_base(reference)}?done={done}", status_code=303)

    @post("/review-date", opt=allow(REVIEWER_ROLE))
    async def review_date(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.change_review_date(
                actor,
                reference,
                parse_int(values.get("number")) or 0,
                expected,
                values.get("review_date", ""),
                values.get("reason", ""),
            )

        return await self._after_approval(request, reference, actor, "review_date", "review_date", call, ("version", None))

    @post("/revoke", opt=allow(REVIEWER_ROLE))
    async def revoke(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.revoke(actor, reference, parse_int(values.get("number")) or 0, expected, values.get("reason", ""))

        return await self._after_approval(request, reference, actor, "revoke", "revoked", call, ("version", None))

    @post("/conditions", opt=allow(REVIEWER_ROLE))
    async def add_condition(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            item = NewCondition(
                values.get("text", ""), values.get("owner", ""), values.get("due_date", ""), values.get("before_go_live") == "yes"
            )
            await service.add_condition(actor, reference, item, form_id=_form_id(values))

        return await self._after_approval(request, reference, actor, "condition", "condition", call, ("none", None))

    @post("/conditions/{condition_id:int}/met", opt=allow(*CONDITION_MET_ROLES))
    async def condition_met(self, request: Request, reference: FromPath[str], condition_id: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.mark_condition_met(actor, reference, condition_id, expected, values.get("note", ""))

        return await self._after_approval(
            request, reference, actor, f"met-{condition_id}", "condition", call, ("condition", condition_id)
        )

    @post("/conditions/{condition_id:int}/withdraw", opt=allow(REVIEWER_ROLE))
    async def condition_withdraw(self, request: Request, reference: FromPath[str], condition_id: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.withdraw_condition(actor, reference, condition_id, expected, values.get("reason", ""))

        return await self._after_approval(
            request, reference, actor, f"withdraw-{condition_id}", "condition", call, ("condition", condition_id)
        )

    @post("/conditions/{condition_id:int}/reopen", opt=allow(REVIEWER_ROLE))
    async def condition_reopen(self, request: Request, reference: FromPath[str], condition_id: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.reopen_condition(actor, reference, condition_id, expected, values.get("reason", ""))

        return await self._after_approval(
            request, reference, actor, f"reopen-{condition_id}", "condition", call, ("condition", condition_id)
        )

    @post("/ico", opt=allow(*ICO_ROLES))
    async def ico_record(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.record_ico_consultation(
                actor,
                reference,
                submitted_on=values.get("submitted_on", ""),
                ico_reference=values.get("ico_reference", ""),
                notes=values.get("notes", ""),
                form_id=_form_id(values),
            )

        return await self._after_approval(request, reference, actor, "ico", "ico", call, ("none", None))

    @post("/ico/response", opt=allow(*ICO_ROLES))
    async def ico_response(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.record_ico_response(
                actor,
                reference,
                expected,
                response=values.get("response", ""),
                response_received_on=values.get("response_received_on", ""),
                outcome=values.get("outcome", ""),
            )

        return await self._after_approval(request, reference, actor, "ico_response", "ico", call, ("ico", None))

    @post("/ico/reopen", opt=allow(*ICO_ROLES))
    async def ico_reopen(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str], expected: int | None) -> None:
            await service.reopen_ico_consultation(actor, reference, expected, values.get("reason", ""))

        return await self._after_approval(request, reference, actor, "ico_reopen", "ico", call, ("ico", None))

    # Comparing versions ---------------------------------------------------------------------------

    @get("/diff", opt=allow_everyone())
    async def diff(
        self,
        reference: FromPath[str],
        before: Annotated[int, QueryParameter(name="from", ge=1)],
        after: Annotated[int, QueryParameter(name="to", ge=1)],
    ) -> Template:
        left, right, changes = await service.diff_versions(reference, before, after)
        use_case = await register.get_use_case(reference)
        return page(
            "dpia/diff.html",
            use_case=use_case,
            left=left,
            right=right,
            changes=[(change, forms.field_label(change.path)) for change in changes],
            status_label=status_label,
        )


def _form_id(values: dict[str, str]) -> str:
    """Return the form's one-time id, or "" when it is missing or unusable (no double-click guard then)."""
    form_id = values.get("form_id", "")
    return form_id if submissions.is_valid_key(form_id) else ""


def _conditions_from_form(values: dict[str, str]) -> tuple[list[int], list[NewCondition]]:
    """Return the filled-in condition rows: their form row numbers and the conditions.

    The service checks each condition, due date included; blank rows are left out.
    """
    rows = []
    conditions = []
    for index in range(forms.row_count(values, "conditions")):
        text = values.get(f"conditions[{index}].text", "").strip()
        owner = values.get(f"conditions[{index}].owner", "").strip()
        due = values.get(f"conditions[{index}].due_date", "").strip()
        if not (text or owner or due):
            continue
        rows.append(index)
        conditions.append(NewCondition(text, owner, due, values.get(f"conditions[{index}].before_go_live") == "yes"))
    return rows, conditions


def _on_form_row(error: FieldError, rows: list[int]) -> FieldError:
    """Point an error on ``conditions[i]`` at the form row that condition ``i`` came from."""
    match = re.match(r"^conditions\[(\d+)\](.*)$", error.field)
    if match is None or int(match.group(1)) >= len(rows):
        return error
    return FieldError(f"conditions[{rows[int(match.group(1))]}]{match.group(2)}", error.message)


class DpiaQueuePage(Controller):
    path = "/dpia"
    include_in_schema = False

    @get("/", opt=allow(Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER))
    async def queue(self, actor: CurrentActor) -> Template:
        """Show what waits on Information Assurance and the DPO, oldest first, and the reviews coming due."""
        return page(
            "dpia/queue.html",
            entries=await queues.reviewer_entries(actor),
            reviews_due=await queues.reviews_due() if actor.has_any(Role.INFORMATION_ASSURANCE) else [],
            status_label=status_label,
        )


ROUTES = [DpiaPages, DpiaQueuePage]
