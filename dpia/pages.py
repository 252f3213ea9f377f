"""DPIA pages: screening and assessment forms, the review steps, conditions, ICO and the queue.

Each handler reads the form, calls one service function, then renders or redirects. A 422 from the
service re-renders the form with an error summary. A 403 or 409 reaches the error page.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from governance import register
from governance.auth import CurrentActor, allow, allow_everyone
from governance.audit import Actor
from governance.errors import FieldError, InvalidInput
from governance.roles import Role
from governance.web.forms import FormState, parse_int, read_form
from governance.web.templating import page

from dpia import forms, queues, rules, service
from dpia.api import export_response
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

DECISION_LABELS = {
    "approve": "Approve",
    "approve_with_conditions": "Approve with conditions",
    "reject": "Reject",
}


def _labels(errors: list[FieldError]) -> dict[str, str]:
    return {error.field: forms.field_label(error.field) for error in errors}


def _version_field(values: dict[str, str]) -> int:
    version = parse_int(values.get("version"))
    if version is None:
        raise InvalidInput.single("version", "the form is missing its version; reload the page and try again")
    return version


async def _can_author(actor: Actor, use_case: register.UseCaseView) -> bool:
    if not actor.has_any(*AUTHOR_ROLES):
        return False
    try:
        await register.ensure_can_edit(actor, use_case.department)
    except Exception:  # Forbidden: a business owner of another department
        return False
    return True


def _base(reference: str) -> str:
    return f"/use-cases/{reference}/dpia"


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
    ) -> Template:
        state = await service.overview(reference)
        latest = state.latest
        return page(
            "dpia/overview.html",
            state=state,
            use_case=state.use_case,
            latest=latest,
            review_owner=await service.get_review_owner(latest.id) if latest else None,
            matrix=state.matrix,
            can_author=await _can_author(actor, state.use_case),
            is_reviewer=actor.has_any(REVIEWER_ROLE),
            can_ico=actor.has_any(*ICO_ROLES),
            can_mark_met=actor.has_any(*CONDITION_MET_ROLES) and (actor.has_any(REVIEWER_ROLE) or await _can_author(actor, state.use_case)),
            ico_required=bool(latest and state.matrix and latest.status in APPROVED and rules.ico_consultation_required(latest.content, state.matrix)),
            ico_outcomes=ICO_OUTCOMES,
            status_label=status_label,
            outcome=rules.outcome_of(latest.content) if latest else "",
            submit_errors=[
                (error, forms.field_label(error.field), f"{_base(reference)}/{forms.form_page_for(error.field)}#{forms.field_id(error.field)}")
                for error in submit_errors or []
            ],
            form=form or FormState(),
            blank_form=FormState(),
            form_name=form_name,
            message=message,
            status_code=status_code,
        )

    @get("/", opt=allow_everyone())
    async def overview(
        self,
        reference: FromPath[str],
        actor: CurrentActor,
        done: Annotated[str, QueryParameter(name="done", required=False)] = "",
    ) -> Template:
        messages = {
            "started": "A new draft version was started.",
            "saved": "Your draft was saved.",
            "submitted": "The DPIA was submitted for review. Its content is now frozen and hashed.",
            "condition": "The condition was updated.",
            "ico": "The ICO consultation was updated.",
            "review_date": "The review date was changed.",
            "revoked": "The approval was revoked.",
        }
        return await self._overview_page(reference, actor, message=messages.get(done, ""))

    @post("/start", opt=allow(*AUTHOR_ROLES))
    async def start(self, reference: FromPath[str], actor: CurrentActor) -> Redirect:
        view = await service.start_version(actor, reference)
        return Redirect(path=f"{_base(view.use_case_ref)}/screening?started={view.number}", status_code=303)

    @post("/submit", opt=allow(*AUTHOR_ROLES))
    async def submit(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        values = await read_form(request)
        try:
            await service.submit(actor, reference, parse_int(values.get("number")) or 0, _version_field(values))
        except InvalidInput as error:
            return await self._overview_page(reference, actor, status_code=422, submit_errors=error.errors)
        return Redirect(path=f"{_base(reference)}?done=submitted", status_code=303)

    # Drafting -------------------------------------------------------------------------------------

    async def _draft(self, reference: str, actor: Actor):
        state = await service.overview(reference)
        latest = state.latest
        if latest is None or latest.status != "draft":
            return state, None
        return state, latest

    async def _form_page(
        self, template: str, reference: str, actor: Actor, form: FormState | None = None, status_code: int = 200, **extra: Any
    ) -> Template | Redirect:
        state, draft = await self._draft(reference, actor)
        if draft is None:
            return Redirect(path=_base(state.use_case.reference), status_code=303)
        matrix = await service.matrix_for(draft.content)
        if form is None:
            form = FormState(values=forms.flatten(draft.content))
            form.values["version"] = draft.version
        return page(
            template,
            use_case=state.use_case,
            draft=draft,
            matrix=matrix,
            rules=rules,
            regimes=register.REGIMES,
            form=form,
            labels=_labels(form.errors),
            risk_rows=forms.row_count(form.values, "risks") + forms.SPARE_RISK_ROWS,
            measure_rows=forms.row_count(form.values, "measures") + forms.SPARE_MEASURE_ROWS,
            purpose_rows=forms.row_count(form.values, "screening.regimes") + forms.SPARE_PURPOSE_ROWS,
            status_code=status_code,
            **extra,
        )

    @get("/screening", opt=allow(*AUTHOR_ROLES))
    async def screening_form(self, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        return await self._form_page("dpia/screening.html", reference, actor)

    @get("/assessment", opt=allow(*AUTHOR_ROLES))
    async def assessment_form(self, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        return await self._form_page("dpia/assessment.html", reference, actor)

    async def _save(self, request: Request, reference: str, actor: Actor, template: str, section: str) -> Template | Redirect:
        values = await read_form(request)
        state, draft = await self._draft(reference, actor)
        if draft is None:
            return Redirect(path=_base(state.use_case.reference), status_code=303)
        if section == "screening":
            content = {**draft.content, "screening": forms.screening_from_form(values)}
        else:
            assessment, _ = forms.assessment_from_form(values)
            content = {**draft.content, **assessment}
        try:
            saved = await service.save_draft(actor, reference, draft.number, _version_field(values), content)
        except InvalidInput as error:
            return await self._form_page(template, reference, actor, FormState.from_error(values, error), 422)
        if section == "screening" and rules.outcome_of(saved.content) == "required" and values.get("next") == "assessment":
            return Redirect(path=f"{_base(reference)}/assessment", status_code=303)
        return Redirect(path=f"{_base(reference)}?done=saved", status_code=303)

    @post("/screening", opt=allow(*AUTHOR_ROLES))
    async def save_screening(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        return await self._save(request, reference, actor, "dpia/screening.html", "screening")

    @post("/assessment", opt=allow(*AUTHOR_ROLES))
    async def save_assessment(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        return await self._save(request, reference, actor, "dpia/assessment.html", "assessment")

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
    ) -> Template:
        state = await service.overview(reference)
        view = state.version(number)
        matrix = await service.matrix_for(view.content)
        base, changes = await service.changes_since_approval(view)
        is_latest = state.latest is not None and state.latest.number == number
        involved = actor.account_id in view.involved_account_ids()
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
            sign_offs=state.sign_offs.get(number, []),
            outcome_rows=await service.sign_off_and_outcomes(state, view),
            review_owners=await service.review_owner_choices() if view.status == "dpo_advice_recorded" else [],
            conditions=state.conditions_of(number),
            base=base,
            changes=changes,
            is_latest=is_latest,
            involved=involved,
            can_review=is_latest and actor.has_any(REVIEWER_ROLE) and not involved,
            can_advise=is_latest and actor.has_any(ADVISER_ROLE) and not involved,
            decisions=DECISION_LABELS,
            status_label=status_label,
            form=form or FormState(),
            blank_form=FormState(),
            form_name=form_name,
            condition_rows=forms.row_count(form.values, "conditions") + forms.SPARE_CONDITION_ROWS if form else forms.SPARE_CONDITION_ROWS,
            status_code=status_code,
        )

    @get("/versions/{number:int}", opt=allow_everyone())
    async def version(self, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Template:
        return await self._version_page(reference, number, actor)

    @get("/versions/{number:int}/export.docx", opt=allow_everyone())
    async def export(self, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Response[bytes]:
        return await export_response(reference, number, actor)

    async def _review_step(self, request: Request, reference: str, number: int, actor: Actor, form_name: str, call) -> Template | Redirect:
        values = await read_form(request)
        try:
            await call(values)
        except InvalidInput as error:
            return await self._version_page(
                reference, number, actor, form=FormState.from_error(values, error), form_name=form_name, status_code=422
            )
        return Redirect(path=f"{_base(reference)}/versions/{number}", status_code=303)

    @post("/versions/{number:int}/start-review", opt=allow(REVIEWER_ROLE))
    async def start_review(self, request: Request, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.start_review(actor, reference, number, _version_field(values))

        return await self._review_step(request, reference, number, actor, "start_review", call)

    @post("/versions/{number:int}/request-changes", opt=allow(REVIEWER_ROLE))
    async def request_changes(self, request: Request, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.request_changes(actor, reference, number, _version_field(values), values.get("reasons", ""))

        return await self._review_step(request, reference, number, actor, "request_changes", call)

    @post("/versions/{number:int}/dpo-advice", opt=allow(ADVISER_ROLE))
    async def dpo_advice(self, request: Request, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            answer = {"yes": True, "no": False}.get(values.get("advises_approval", ""))
            await service.record_dpo_advice(
                actor, reference, number, _version_field(values), advises_approval=answer, summary=values.get("summary", "")
            )

        return await self._review_step(request, reference, number, actor, "dpo_advice", call)

    @post("/versions/{number:int}/decision", opt=allow(REVIEWER_ROLE))
    async def decide(self, request: Request, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            decision = values.get("decision", "")
            approving = decision in ("approve", "approve_with_conditions")
            rows, conditions = _conditions_from_form(values) if decision == "approve_with_conditions" else ([], [])
            try:
                await service.decide(
                    actor,
                    reference,
                    number,
                    _version_field(values),
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

    async def _after_approval(self, request: Request, reference: str, actor: Actor, form_name: str, done: str, call) -> Template | Redirect:
        values = await read_form(request)
        try:
            await call(values)
        except InvalidInput as error:
            return await self._overview_page(
                reference, actor, status_code=422, form=FormState.from_error(values, error), form_name=form_name
            )
        return Redirect(path=f"{_base(reference)}?done={done}", status_code=303)

    @post("/review-date", opt=allow(REVIEWER_ROLE))
    async def review_date(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.change_review_date(
                actor,
                reference,
                parse_int(values.get("number")) or 0,
                _version_field(values),
                values.get("review_date", ""),
                values.get("reason", ""),
            )

        return await self._after_approval(request, reference, actor, "review_date", "review_date", call)

    @post("/revoke", opt=allow(REVIEWER_ROLE))
    async def revoke(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.revoke(
                actor, reference, parse_int(values.get("number")) or 0, _version_field(values), values.get("reason", "")
            )

        return await self._after_approval(request, reference, actor, "revoke", "revoked", call)

    @post("/conditions", opt=allow(REVIEWER_ROLE))
    async def add_condition(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            item = NewCondition(
                values.get("text", ""), values.get("owner", ""), values.get("due_date", ""), values.get("before_go_live") == "yes"
            )
            await service.add_condition(actor, reference, item)

        return await self._after_approval(request, reference, actor, "condition", "condition", call)

    @post("/conditions/{condition_id:int}/met", opt=allow(*CONDITION_MET_ROLES))
    async def condition_met(self, request: Request, reference: FromPath[str], condition_id: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.mark_condition_met(actor, reference, condition_id, _version_field(values), values.get("note", ""))

        return await self._after_approval(request, reference, actor, f"met-{condition_id}", "condition", call)

    @post("/conditions/{condition_id:int}/withdraw", opt=allow(REVIEWER_ROLE))
    async def condition_withdraw(self, request: Request, reference: FromPath[str], condition_id: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.withdraw_condition(actor, reference, condition_id, _version_field(values), values.get("reason", ""))

        return await self._after_approval(request, reference, actor, f"withdraw-{condition_id}", "condition", call)

    @post("/conditions/{condition_id:int}/reopen", opt=allow(REVIEWER_ROLE))
    async def condition_reopen(self, request: Request, reference: FromPath[str], condition_id: FromPath[int], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.reopen_condition(actor, reference, condition_id, _version_field(values), values.get("reason", ""))

        return await self._after_approval(request, reference, actor, f"reopen-{condition_id}", "condition", call)

    @post("/ico", opt=allow(*ICO_ROLES))
    async def ico_record(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.record_ico_consultation(
                actor, reference, submitted_on=values.get("submitted_on", ""), ico_reference=values.get("ico_reference", ""), notes=values.get("notes", "")
            )

        return await self._after_approval(request, reference, actor, "ico", "ico", call)

    @post("/ico/response", opt=allow(*ICO_ROLES))
    async def ico_response(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.record_ico_response(
                actor,
                reference,
                _version_field(values),
                response=values.get("response", ""),
                response_received_on=values.get("response_received_on", ""),
                outcome=values.get("outcome", ""),
            )

        return await self._after_approval(request, reference, actor, "ico_response", "ico", call)

    @post("/ico/reopen", opt=allow(*ICO_ROLES))
    async def ico_reopen(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        async def call(values: dict[str, str]) -> None:
            await service.reopen_ico_consultation(actor, reference, _version_field(values), values.get("reason", ""))

        return await self._after_approval(request, reference, actor, "ico_reopen", "ico", call)

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
