"""Server-rendered pages for equality screenings, full assessments, the equality lead's queue and
local characteristics. Hidden from the OpenAPI schema; the JSON API covers the same actions.

Each page offers a form only when the rule in ``equality.permissions`` that the service enforces
allows it. When a form cannot be saved because the record changed meanwhile (409), the page keeps
what the person sent and lists each field whose current value differs from theirs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from equality import characteristics as local_characteristics
from equality import queues, service
from equality.check import run as run_check
from equality.export import build_export, export_filename, status_label
from equality.forms import (
    DECISION_CHOICES,
    LOCAL_LABELS,
    SUMMARY_TARGETS,
    Difference,
    assessment_form_values,
    assessment_from_form,
    assessment_labels,
    differences,
    long_date,
    plan_rows,
    screening_form_values,
    screening_from_form,
    screening_labels,
    version_labels,
)
from equality.permissions import (
    AlreadyRecorded,
    approval_refusal,
    approved_change_refusal,
    decision_refusal,
    edit_refusal,
    outcome_of,
    start_refusal,
)
from equality.rules import (
    AFFECTED,
    AIMS,
    ASSESSMENT,
    DECISIONS,
    IMPACTS,
    KIND_LABELS,
    KIND_SLUGS,
    KINDS,
    OUTCOMES,
    SCREENING,
    SLUG_KINDS,
    flagged_impacts,
    screened_characteristics,
)
from governance import register
from governance.auth import CurrentActor, allow, allow_everyone
from governance.clock import utcnow
from governance.documents import DOCX_MEDIA_TYPE, attachment_headers
from governance.errors import Conflict, FieldError, InvalidInput, NotFound, StaleVersion
from governance.roles import Role
from governance.web.forms import FormState, parse_int, read_form
from governance.web.templating import page

logger = logging.getLogger(__name__)

# Banners on the version page after a redirect, keyed by the ``done`` query parameter.
NOTICES = {
    "saved": "Draft saved.",
    "submitted": "Submitted to the equality lead. The content is now frozen and its hash recorded.",
    "approved": "Approved and signed.",
    "changes_requested": "Changes requested. The author can now start the next version.",
    "rejected": "Rejected and signed.",
    "revoked": "Approval revoked.",
    "review_date": "Review date changed.",
    "already_submitted": "You had already submitted this version. It was submitted once.",
    "already_approved": "You had already approved this version. Your approval was recorded once.",
    "already_changes_requested": (
        "You had already requested changes to this version. Your decision was recorded once."
    ),
    "already_rejected": "You had already rejected this version. Your decision was recorded once.",
    "already_revoked": "You had already revoked this approval. It was recorded once.",
}
# The record each form on the version page makes, as the stale-version message names it.
FORM_RECORDS = {"decision": "decision", "revoke": "revocation", "review": "new review date"}
# The choice that records each decision, to compare the decision on record with one sent.
CHOICE_FOR_DECISION = {decision: choice for choice, decision in DECISIONS.items()}
DRAFT_CHANGED = (
    "Someone else saved this draft after you opened it, so your answers were not saved."
)
BAD_FORM_VERSION = "the form was incomplete; check your answers, then send the form again"


def kind_for_slug(slug: str) -> str:
    try:
        return SLUG_KINDS[slug]
    except KeyError:
        raise NotFound(
            f"There is no equality record called {slug!r}. Use screening or full-assessment."
        ) from None


def version_path(reference: str, kind: str, number: int, suffix: str = "") -> str:
    # References are stored in upper case and looked up in any case (governance.register).
    reference = reference.strip().upper()
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


def page_errors(error: InvalidInput, renamed: Mapping[str, str] | None = None) -> list[FieldError]:
    """Return the errors of ``error`` for a page: fields renamed to the form's names, and a form
    without a usable version asked to be sent again (it is shown again with the current one)."""
    renamed = renamed or {}
    errors = []
    for item in error.errors:
        message = BAD_FORM_VERSION if item.field == "version" else item.message
        errors.append(FieldError(renamed.get(item.field, item.field), message))
    return errors


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
        "summary_targets": SUMMARY_TARGETS,
    }


def form_values(kind: str, content: Mapping[str, Any]) -> dict[str, Any]:
    if kind == SCREENING:
        return screening_form_values(content)
    return assessment_form_values(content)


def form_data(kind: str, values: Mapping[str, str]) -> dict[str, Any]:
    if kind == SCREENING:
        return screening_from_form(values)
    return assessment_from_form(values)


# Use-case pages ------------------------------------------------------------------------------------


class EqualityPages(Controller):
    path = "/use-cases/{reference:str}/equality"
    include_in_schema = False

    async def _overview_page(
        self, actor: Any, reference: str, *, problem: str = "", status_code: int = 200
    ) -> Template:
        record = await service.load_record(reference)
        basis = record.basis
        can_author = await service.may_author(actor, record.use_case)
        can_start = {
            kind: start_refusal(kind, can_author, record.versions(kind), record.screening) is None
            for kind in KINDS
        }
        open_drafts = {}
        for kind in KINDS:
            latest = record.latest(kind)
            if latest is not None and edit_refusal(can_author, latest, record.screening) is None:
                open_drafts[kind] = latest
        return page(
            "equality/overview.html",
            record=record,
            use_case=record.use_case,
            basis=basis,
            basis_impacts=flagged_impacts(basis.content) if basis else [],
            readiness=await run_check(record.use_case.ref, utcnow()),
            can_start=can_start,
            open_drafts=open_drafts,
            outcome_of=outcome_of,
            problem=problem,
            status_code=status_code,
            **_shared_context(),
        )

    @get("/", opt=allow_everyone())
    async def overview(self, reference: FromPath[str], actor: CurrentActor) -> Template:
        return await self._overview_page(actor, reference)

    @post("/{slug:str}/start", opt=allow(*service.AUTHOR_ROLES))
    async def start(
        self, request: Request, reference: FromPath[str], slug: FromPath[str], actor: CurrentActor
    ) -> Redirect | Template:
        kind = kind_for_slug(slug)
        try:
            view = await service.start_version(actor, reference, kind)
        except Conflict as error:
            log_rejected(request, actor, error)
            draft = error.extra.get("draft_version")
            if draft is not None:
                # A second click on "Start": the draft the first click started is what they want.
                return Redirect(path=version_path(reference, kind, draft, "/edit"), status_code=303)
            return await self._overview_page(
                actor, reference, problem=error.message, status_code=409
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
        unsaved: list[Difference] | None = None,
        sent: tuple[str, Mapping[str, Any]] | None = None,
    ) -> Template:
        """Render a version page; ``sent`` is (form, values) of a form that met a conflict."""
        record = await service.load_record(reference)
        view = record.version(kind, number)
        latest = record.latest(kind)
        is_lead = actor.has_any(*service.LEAD_ROLES)
        can_author = await service.may_author(actor, record.use_case)
        version_sign_offs = await service.sign_offs(view)

        decision = decision_refusal(actor.account_id, is_lead, view, latest)
        waiting = view.status == "submitted" and latest is not None and latest.number == number
        decision_note = ""
        if decision is not None and is_lead and waiting:
            decision_note = decision.message
        approval = approval_refusal(view, record.latest(SCREENING)) if decision is None else None
        choices = [
            (choice, label)
            for choice, label in DECISION_CHOICES.items()
            if choice != "approve" or approval is None
        ]
        may_change_approval = (
            approved_change_refusal(is_lead, view, latest, "revoke") is None
        )

        all_labels = version_labels(KIND_LABELS[kind], number)
        shown_fields = set()
        if decision is None:
            shown_fields |= {"action", "summary", "reasons"}
        if may_change_approval:
            shown_fields |= {"review_date", "review_reason", "reason"}
        labels = {name: label for name, label in all_labels.items() if name in shown_fields}
        if sent is not None:
            unsaved = _version_form_differences(sent, view, version_sign_offs, all_labels)

        return page(
            "equality/version.html",
            use_case=record.use_case,
            view=view,
            kind=kind,
            latest=latest,
            sign_offs=version_sign_offs,
            outcome=outcome_of(view) if kind == SCREENING else None,
            flagged=flagged_impacts(view.content) if kind == SCREENING else [],
            characteristics=screened_characteristics(view.content) if kind == SCREENING else [],
            hash_matches=view.hash_matches() if view.frozen else None,
            can_edit=edit_refusal(can_author, view, record.screening) is None,
            can_decide=decision is None,
            decision_note=decision_note,
            decision_choices=choices,
            approval_note=approval.message if approval is not None else "",
            may_change_approval=may_change_approval,
            labels=labels,
            all_labels=all_labels,
            decision_form=decision_form or FormState(),
            revoke_form=revoke_form or FormState(),
            review_form=review_form or FormState(),
            problem=problem,
            unsaved=unsaved or [],
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
        notice = NOTICES.get(request.query_params.get("done", ""), "")
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
        changed: list[Difference] | None = None,
    ) -> Template:
        record = await service.load_record(reference)
        view = record.version(kind, number)
        if state is None:
            state = FormState(values=form_values(kind, view.content))
        labels, extra = await _form_labels(kind, record, state.values)
        return page(
            f"equality/{'screening' if kind == SCREENING else 'assessment'}_form.html",
            use_case=record.use_case,
            view=view,
            kind=kind,
            form=state,
            labels=labels,
            conflict=conflict,
            changed=changed or [],
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
        """Save the draft, or save and submit it; every problem of either is listed at once."""
        kind = kind_for_slug(slug)
        values = await read_form(request)
        data = form_data(kind, values)
        display = dict(values)
        version = parse_int(values.get("version"))
        try:
            if values.get("action") == "submit":
                attempt = await service.save_and_submit(
                    actor, reference, kind, number, version, data
                )
                if attempt.problems is None:
                    return Redirect(
                        path=version_path(reference, kind, number, "?done=submitted"),
                        status_code=303,
                    )
                log_rejected(request, actor, attempt.problems)
                display["version"] = attempt.view.version
                state = FormState(values=display, errors=page_errors(attempt.problems))
                return await self._form_page(reference, kind, number, state, status_code=422)
            await service.save_draft(actor, reference, kind, number, version, data)
        except InvalidInput as error:
            log_rejected(request, actor, error)
            if version is None:
                display.pop("version", None)  # The form shows the current version instead.
            state = FormState(values=display, errors=page_errors(error))
            return await self._form_page(reference, kind, number, state, status_code=422)
        except AlreadyRecorded as error:
            log_rejected(request, actor, error)
            if error.by_you:
                return Redirect(
                    path=version_path(reference, kind, number, "?done=already_submitted"),
                    status_code=303,
                )
            return await self._edit_conflict(actor, reference, kind, number, display, error)
        except Conflict as error:
            log_rejected(request, actor, error)
            return await self._edit_conflict(actor, reference, kind, number, display, error)
        return Redirect(path=version_path(reference, kind, number, "?done=saved"), status_code=303)

    async def _edit_conflict(
        self,
        actor: Any,
        reference: str,
        kind: str,
        number: int,
        sent: dict[str, Any],
        error: Conflict,
    ) -> Template:
        """Show what the person sent beside the record as it is now, so that nothing is lost unseen.

        A draft that someone else saved comes back as the form with the person's answers; a version
        that is no longer a draft comes back as its page, with the answers that were not saved.
        """
        record = await service.load_record(reference)
        current = record.version(kind, number)
        current_values = form_values(kind, current.content)
        rows = max(plan_rows(current_values), plan_rows(sent))
        labels, _ = await _form_labels(kind, record, sent, rows=rows)
        changed = differences(current_values, sent, labels)
        if current.status == "draft":
            message = DRAFT_CHANGED if isinstance(error, StaleVersion) else error.message
            state = FormState(values={**sent, "version": current.version})
            return await self._form_page(
                reference, kind, number, state, status_code=409, conflict=message, changed=changed
            )
        return await self._version_page(
            actor,
            reference,
            kind,
            number,
            status_code=409,
            problem=error.message,
            unsaved=changed,
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
            await service.submit(actor, reference, kind, number, parse_int(values.get("version")))
        except InvalidInput as error:
            log_rejected(request, actor, error)
            current = await service.get_version(reference, kind, number)
            state = FormState(
                values={**form_values(kind, current.content), "version": current.version},
                errors=page_errors(error),
            )
            return await self._form_page(reference, kind, number, state, status_code=422)
        except AlreadyRecorded as error:
            log_rejected(request, actor, error)
            if error.by_you:
                return Redirect(
                    path=version_path(reference, kind, number, "?done=already_submitted"),
                    status_code=303,
                )
            return await self._version_page(
                actor, reference, kind, number, status_code=409, problem=error.message
            )
        except Conflict as error:
            log_rejected(request, actor, error)
            message = error.message
            if isinstance(error, StaleVersion):
                message = (
                    "Someone else saved this draft after you opened the page, so it was not "
                    "submitted. Check the draft below, then submit it again."
                )
            return await self._version_page(
                actor, reference, kind, number, status_code=409, problem=message
            )
        return Redirect(
            path=version_path(reference, kind, number, "?done=submitted"), status_code=303
        )

    async def _version_form_conflict(
        self,
        actor: Any,
        reference: str,
        kind: str,
        number: int,
        form: str,
        values: dict[str, str],
        error: Conflict,
    ) -> Template:
        """Show a version page after a decision, revocation or review-date change met a conflict.

        The form, when the version still offers it, keeps what the person sent; the problem box
        lists each field whose current value differs from theirs.
        """
        message = error.message
        if isinstance(error, StaleVersion):
            message = (
                f"Someone else changed {KIND_LABELS[kind].lower()} version {number} after you "
                f"opened the page, so your {FORM_RECORDS[form]} was not recorded. Check the "
                "version below, then send it again if it is still needed."
            )
        sent_input = FormState(values=values)
        return await self._version_page(
            actor,
            reference,
            kind,
            number,
            status_code=409,
            problem=message,
            decision_form=sent_input if form == "decision" else None,
            revoke_form=sent_input if form == "revoke" else None,
            review_form=sent_input if form == "review" else None,
            sent=(form, values),
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
        try:
            view = await service.decide(
                actor,
                reference,
                kind,
                number,
                parse_int(values.get("version")),
                values.get("action", ""),
                summary=values.get("summary", ""),
                reasons=values.get("reasons", ""),
            )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            state = FormState(values=values, errors=page_errors(error))
            return await self._version_page(
                actor, reference, kind, number, status_code=422, decision_form=state
            )
        except AlreadyRecorded as error:
            log_rejected(request, actor, error)
            if error.by_you:
                return Redirect(
                    path=version_path(reference, kind, number, f"?done=already_{error.outcome}"),
                    status_code=303,
                )
            return await self._version_form_conflict(
                actor, reference, kind, number, "decision", values, error
            )
        except Conflict as error:
            log_rejected(request, actor, error)
            return await self._version_form_conflict(
                actor, reference, kind, number, "decision", values, error
            )
        return Redirect(
            path=version_path(reference, kind, number, f"?done={view.status}"),
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
            await service.revoke(
                actor,
                reference,
                kind,
                number,
                parse_int(values.get("version")),
                values.get("reason", ""),
            )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            state = FormState(values=values, errors=page_errors(error))
            return await self._version_page(
                actor, reference, kind, number, status_code=422, revoke_form=state
            )
        except AlreadyRecorded as error:
            log_rejected(request, actor, error)
            return Redirect(
                path=version_path(reference, kind, number, "?done=already_revoked"),
                status_code=303,
            )
        except Conflict as error:
            log_rejected(request, actor, error)
            return await self._version_form_conflict(
                actor, reference, kind, number, "revoke", values, error
            )
        return Redirect(
            path=version_path(reference, kind, number, "?done=revoked"), status_code=303
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
            await service.change_review_date(
                actor,
                reference,
                kind,
                number,
                parse_int(values.get("version")),
                values.get("review_date", ""),
                values.get("review_reason", ""),
            )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            errors = page_errors(error, renamed={"reason": "review_reason"})
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
            return await self._version_form_conflict(
                actor, reference, kind, number, "review", values, error
            )
        return Redirect(
            path=version_path(reference, kind, number, "?done=review_date"), status_code=303
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


async def _form_labels(
    kind: str, record: service.EqualityRecord, values: Mapping[str, Any], rows: int | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    """Return the edit form's field labels and the template variables that go with them."""
    if kind == SCREENING:
        characteristics = await local_characteristics.current_characteristics()
        return screening_labels(characteristics), {"characteristics": characteristics}
    basis = record.basis
    impacts = flagged_impacts(basis.content) if basis else []
    rows = rows if rows is not None else plan_rows(values)
    extra = {"basis": basis, "basis_impacts": impacts, "plan_rows": rows}
    return assessment_labels(impacts, rows), extra


def _version_form_differences(
    sent: tuple[str, Mapping[str, Any]],
    view: Any,
    version_sign_offs: list[Any],
    labels: Mapping[str, str],
) -> list[Difference]:
    """Compare what a version-page form sent with the version as it is now."""
    form, values = sent
    if form == "decision":
        last = version_sign_offs[-1] if version_sign_offs else None
        current = {
            "action": CHOICE_FOR_DECISION.get(view.decision or "", ""),
            "summary": last.summary if last else "",
            "reasons": last.reasons if last else "",
        }
        names = ("action", "summary", "reasons")
    elif form == "revoke":
        current = {"reason": view.revocation_reason or ""}
        names = ("reason",)
    else:
        current = {"review_date": view.review_date.isoformat() if view.review_date else ""}
        names = ("review_date", "review_reason")
    return differences(current, values, {name: labels[name] for name in names})


# The equality lead's pages and local characteristics -----------------------------------------------


class EqualityLeadPages(Controller):
    path = "/equality"
    include_in_schema = False

    @get("/", opt=allow(Role.EQUALITY_LEAD, Role.ADMINISTRATOR))
    async def queue(self, actor: CurrentActor) -> Template:
        """Versions waiting for a decision, oldest first, and approvals due for review."""
        is_lead = actor.has_any(Role.EQUALITY_LEAD)
        waiting = await queues.decisions_waiting()
        # A lead who wrote a waiting version sees a note on it, because they cannot decide it.
        notes = {}
        for item in waiting:
            refusal = decision_refusal(actor.account_id, is_lead, item.view, item.view)
            if is_lead and refusal is not None:
                notes[item.view.id] = refusal.message
        return page(
            "equality/queue.html",
            waiting=waiting,
            decision_notes=notes,
            reviews=await queues.reviews_due(),
            version_href=queues.version_href,
            is_lead=is_lead,
            can_manage=actor.has_any(Role.ADMINISTRATOR),
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
            labels=LOCAL_LABELS,
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

    def _characteristic_form(
        self,
        item: local_characteristics.LocalCharacteristicView,
        state: FormState,
        *,
        status_code: int = 200,
        conflict: str = "",
        changed: list[Difference] | None = None,
    ) -> Template:
        return page(
            "equality/local_characteristic_form.html",
            item=item,
            form=state,
            labels={name: LOCAL_LABELS[name] for name in ("label", "description", "active")},
            conflict=conflict,
            changed=changed or [],
            status_code=status_code,
        )

    @get("/local-characteristics/{key:str}", opt=allow(Role.ADMINISTRATOR))
    async def edit_characteristic(self, key: FromPath[str]) -> Template:
        item = await local_characteristics.get_local(key)
        return self._characteristic_form(item, FormState(values=_characteristic_values(item)))

    @post("/local-characteristics/{key:str}", opt=allow(Role.ADMINISTRATOR))
    async def save_characteristic(
        self, request: Request, key: FromPath[str], actor: CurrentActor
    ) -> Template | Redirect:
        values = await read_form(request)
        # "yes" and "no" become True and False; anything else goes to the service to be reported.
        chosen = values.get("active", "")
        active = {"yes": True, "no": False}.get(chosen, chosen)
        try:
            await local_characteristics.update_local(
                actor,
                key,
                parse_int(values.get("version")),
                label=values.get("label", ""),
                description=values.get("description", ""),
                active=active,
            )
        except InvalidInput as error:
            log_rejected(request, actor, error)
            item = await local_characteristics.get_local(key)
            state = FormState(values=values, errors=page_errors(error))
            return self._characteristic_form(item, state, status_code=422)
        except Conflict as error:
            log_rejected(request, actor, error)
            item = await local_characteristics.get_local(key)
            labels = {name: LOCAL_LABELS[name] for name in ("label", "description", "active")}
            changed = differences(_characteristic_values(item), values, labels)
            message = error.message
            if isinstance(error, StaleVersion):
                message = (
                    "Someone else changed this characteristic after you opened the page, so your "
                    "changes were not saved."
                )
            state = FormState(values={**values, "version": item.version})
            return self._characteristic_form(
                item, state, status_code=409, conflict=message, changed=changed
            )
        return Redirect(path="/equality/local-characteristics?done=changed", status_code=303)


def _characteristic_values(item: local_characteristics.LocalCharacteristicView) -> dict[str, Any]:
    return {
        "label": item.label,
        "description": item.description,
        "active": "yes" if item.active else "no",
        "version": item.version,
    }


ROUTES = [EqualityPages, EqualityLeadPages]
