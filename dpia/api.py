"""JSON API for DPIAs under /api/v1/use-cases/{reference}/dpia: every step the pages offer.

Handlers translate HTTP to one service call each; the rules live in ``dpia.service``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from governance.audit import Actor
from governance.auth import CurrentActor, allow, allow_everyone
from governance.documents import DOCX_MEDIA_TYPE, attachment_headers

from dpia import export, service
from dpia.workflow import AUTHOR_ROLES, CONDITION_MET_ROLES, ICO_ROLES, REVIEWER_ROLE, ADVISER_ROLE

logger = logging.getLogger(__name__)


# The bodies below give text fields a default of "" (and dates None), so that the service reports
# every missing field at once instead of msgspec stopping at the first. Each docstring names the
# required fields. NOTE: a value of the wrong JSON type, or a date not in YYYY-MM-DD form, is
# still reported alone, because msgspec stops at the first such error.


class VersionAction(msgspec.Struct, forbid_unknown_fields=True):
    """``version`` is the version's record version as last read (optimistic locking)."""

    version: int


class DraftContent(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    content: dict[str, Any]


class ChangesRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``reasons`` (required): the changes the author must make."""

    version: int
    reasons: str = ""


class DpoAdvice(msgspec.Struct, forbid_unknown_fields=True):
    """``advises_approval`` (true or false) and ``summary`` are required."""

    version: int
    advises_approval: bool | None = None
    summary: str = ""


class ConditionIn(msgspec.Struct, forbid_unknown_fields=True):
    """``text`` and ``owner`` are required; ``due_date``, if given, must be today or later."""

    text: str = ""
    owner: str = ""
    due_date: dt.date | None = None
    before_go_live: bool = True


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    """``decision`` is approve, approve_with_conditions or reject.

    ``review_owner`` is the username of the person who keeps an approved DPIA under review (the
    decider when left out). ``consultation_reasons`` gives the reasons where the decision departs
    from the views of the people consulted in step 3.
    """

    version: int
    decision: str = ""
    reasons: str = ""
    conditions: list[ConditionIn] = []
    review_owner: str | None = None
    consultation_reasons: str = ""


class ReviewDateChange(msgspec.Struct, forbid_unknown_fields=True):
    """``review_date`` (required) is YYYY-MM-DD, after today and at most 36 months ahead; ``reason`` is required."""

    version: int
    review_date: str = ""
    reason: str = ""


class Revocation(msgspec.Struct, forbid_unknown_fields=True):
    """``reason`` (required): why the approval ends."""

    version: int
    reason: str = ""


class ConditionPatch(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    text: str | msgspec.UnsetType = msgspec.UNSET
    owner: str | msgspec.UnsetType = msgspec.UNSET
    due_date: dt.date | None | msgspec.UnsetType = msgspec.UNSET
    before_go_live: bool | msgspec.UnsetType = msgspec.UNSET


class ConditionNote(msgspec.Struct, forbid_unknown_fields=True):
    """``note`` (required): how the condition was met."""

    version: int
    note: str = ""


class ConditionReason(msgspec.Struct, forbid_unknown_fields=True):
    """``reason`` is required."""

    version: int
    reason: str = ""


class IcoConsultationIn(msgspec.Struct, forbid_unknown_fields=True):
    """``submitted_on`` (required) is the date the consultation was sent, not in the future."""

    submitted_on: dt.date | None = None
    ico_reference: str = ""
    notes: str = ""


class IcoResponse(msgspec.Struct, forbid_unknown_fields=True):
    """``response``, ``response_received_on`` and ``outcome`` are required.

    ``outcome`` is no_objection, advice_followed or do_not_proceed.
    """

    version: int
    response: str = ""
    response_received_on: dt.date | None = None
    outcome: str = ""


class IcoReopen(msgspec.Struct, forbid_unknown_fields=True):
    """``reason`` is required."""

    version: int
    reason: str = ""


def _new_condition(item: ConditionIn) -> service.NewCondition:
    return service.NewCondition(item.text, item.owner, item.due_date, item.before_go_live)


def _finding_api(finding: Any) -> dict[str, Any]:
    return {
        "passed": finding.passed,
        "detail": finding.detail,
        "clearing_role": finding.clearing_role.value if finding.clearing_role else None,
        "evidence": finding.evidence,
    }


async def _version_response(reference: str, number: int) -> dict[str, Any]:
    state = await service.overview(reference)
    view = state.version(number)
    matrix = await service.matrix_for(view.content)
    data = service.version_api(view, matrix, state.sign_offs.get(number, []))
    data["conditions"] = [item.as_api() for item in state.conditions_of(number)]
    owner = await service.get_review_owner(view.id)
    data["review_owner"] = owner.username if owner else None
    data["sign_off_and_outcomes"] = [
        {"item": row.item, "signed_by": row.signed_by, "notes": row.notes}
        for row in await service.sign_off_and_outcomes(state, view)
    ]
    return data


class DpiaApi(Controller):
    path = "/api/v1/use-cases/{reference:str}/dpia"
    tags = ["dpia"]

    @get("/", opt=allow_everyone())
    async def current(self, reference: FromPath[str]) -> dict[str, Any]:
        """The DPIA on record: the latest version, the last approved one, conditions, ICO and readiness."""
        state = await service.overview(reference)
        latest = state.latest
        approved = state.last_approved
        return {
            "use_case": state.use_case.reference,
            "latest": service.version_api(latest, state.matrix, state.sign_offs[latest.number]) if latest and state.matrix else None,
            "last_approved_version": approved.number if approved else None,
            "versions": [
                {"number": view.number, "status": view.status, "content_hash": view.content_hash, "decision": view.decision}
                for view in state.versions
            ],
            "conditions": [item.as_api() for item in state.conditions],
            "ico_consultation": state.ico.as_api() if state.ico else None,
            "ready": state.ready,
            "readiness": [_finding_api(finding) for finding in state.findings],
        }

    @get("/readiness", opt=allow_everyone())
    async def readiness(self, reference: FromPath[str]) -> dict[str, Any]:
        """Report whether the DPIA allows go-live now, listing each check that fails."""
        state = await service.overview(reference)
        return {"ready": state.ready, "findings": [_finding_api(finding) for finding in state.findings]}

    @get("/versions", opt=allow_everyone())
    async def versions(self, reference: FromPath[str]) -> list[dict[str, Any]]:
        """Every version, oldest first, with its hash, decision and sign-offs."""
        state = await service.overview(reference)
        result = []
        for view in state.versions:
            matrix = await service.matrix_for(view.content)
            result.append(service.version_api(view, matrix, state.sign_offs[view.number]))
        return result

    @post("/versions", opt=allow(*AUTHOR_ROLES), status_code=201)
    async def start_version(self, reference: FromPath[str], actor: CurrentActor) -> dict[str, Any]:
        """Start the next draft version (a copy of the latest, or a fresh screening)."""
        view = await service.start_version(actor, reference)
        return await _version_response(reference, view.number)

    @get("/versions/{number:int}", opt=allow_everyone())
    async def version(self, reference: FromPath[str], number: FromPath[int]) -> dict[str, Any]:
        return await _version_response(reference, number)

    @put("/versions/{number:int}/content", opt=allow(*AUTHOR_ROLES))
    async def save_draft(
        self, reference: FromPath[str], number: FromPath[int], data: JSONBody[DraftContent], actor: CurrentActor
    ) -> dict[str, Any]:
        """Replace a draft's content. Drafts may be incomplete; values outside a scale get 422."""
        await service.save_draft(actor, reference, number, data.version, data.content)
        return await _version_response(reference, number)

    @post("/versions/{number:int}/submit", opt=allow(*AUTHOR_ROLES), status_code=200)
    async def submit(
        self, reference: FromPath[str], number: FromPath[int], data: JSONBody[VersionAction], actor: CurrentActor
    ) -> dict[str, Any]:
        """Freeze and hash the draft; 422 names every missing mandatory field."""
        await service.submit(actor, reference, number, data.version)
        return await _version_response(reference, number)

    @post("/versions/{number:int}/start-review", opt=allow(REVIEWER_ROLE), status_code=200)
    async def start_review(
        self, reference: FromPath[str], number: FromPath[int], data: JSONBody[VersionAction], actor: CurrentActor
    ) -> dict[str, Any]:
        await service.start_review(actor, reference, number, data.version)
        return await _version_response(reference, number)

    @post("/versions/{number:int}/request-changes", opt=allow(REVIEWER_ROLE), status_code=200)
    async def request_changes(
        self, reference: FromPath[str], number: FromPath[int], data: JSONBody[ChangesRequest], actor: CurrentActor
    ) -> dict[str, Any]:
        await service.request_changes(actor, reference, number, data.version, data.reasons)
        return await _version_response(reference, number)

    @post("/versions/{number:int}/dpo-advice", opt=allow(ADVISER_ROLE), status_code=200)
    async def dpo_advice(
        self, reference: FromPath[str], number: FromPath[int], data: JSONBody[DpoAdvice], actor: CurrentActor
    ) -> dict[str, Any]:
        await service.record_dpo_advice(
            actor, reference, number, data.version, advises_approval=data.advises_approval, summary=data.summary
        )
        return await _version_response(reference, number)

    @post("/versions/{number:int}/decision", opt=allow(REVIEWER_ROLE), status_code=200)
    async def decide(
        self, reference: FromPath[str], number: FromPath[int], data: JSONBody[Decision], actor: CurrentActor
    ) -> dict[str, Any]:
        """Approve, approve with conditions or reject; reasons are required against the DPO's advice."""
        await service.decide(
            actor,
            reference,
            number,
            data.version,
            action=data.decision,
            reasons=data.reasons,
            conditions=[_new_condition(item) for item in data.conditions],
            review_owner=data.review_owner,
            consultation_reasons=data.consultation_reasons,
        )
        return await _version_response(reference, number)

    @post("/versions/{number:int}/review-date", opt=allow(REVIEWER_ROLE), status_code=200)
    async def change_review_date(
        self, reference: FromPath[str], number: FromPath[int], data: JSONBody[ReviewDateChange], actor: CurrentActor
    ) -> dict[str, Any]:
        await service.change_review_date(actor, reference, number, data.version, data.review_date, data.reason)
        return await _version_response(reference, number)

    @post("/versions/{number:int}/revoke", opt=allow(REVIEWER_ROLE), status_code=200)
    async def revoke(
        self, reference: FromPath[str], number: FromPath[int], data: JSONBody[Revocation], actor: CurrentActor
    ) -> dict[str, Any]:
        await service.revoke(actor, reference, number, data.version, data.reason)
        return await _version_response(reference, number)

    @get("/versions/{number:int}/export", opt=allow_everyone())
    async def export(self, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Response[bytes]:
        """The version as a Word document, in the ICO's seven steps, with its hash and sign-offs."""
        return await export_response(reference, number, actor)

    @get("/diff", opt=allow_everyone())
    async def diff(
        self,
        reference: FromPath[str],
        before: Annotated[int, QueryParameter(name="from", ge=1)],
        after: Annotated[int, QueryParameter(name="to", ge=1)],
    ) -> dict[str, Any]:
        """List what changed between two versions, field by field."""
        left, right, changes = await service.diff_versions(reference, before, after)
        return {
            "from": {"number": left.number, "content_hash": left.content_hash},
            "to": {"number": right.number, "content_hash": right.content_hash},
            "changes": [
                {"path": change.path, "kind": change.kind, "before": change.before, "after": change.after}
                for change in changes
            ],
        }

    @post("/conditions", opt=allow(REVIEWER_ROLE), status_code=201)
    async def add_condition(
        self, reference: FromPath[str], data: JSONBody[ConditionIn], actor: CurrentActor
    ) -> dict[str, Any]:
        """Attach a condition to the approved version on record."""
        return (await service.add_condition(actor, reference, _new_condition(data))).as_api()

    @patch("/conditions/{condition_id:int}", opt=allow(REVIEWER_ROLE))
    async def update_condition(
        self, reference: FromPath[str], condition_id: FromPath[int], data: JSONBody[ConditionPatch], actor: CurrentActor
    ) -> dict[str, Any]:
        changes = {
            name: getattr(data, name)
            for name in ("text", "owner", "due_date", "before_go_live")
            if getattr(data, name) is not msgspec.UNSET
        }
        return (await service.update_condition(actor, reference, condition_id, data.version, changes)).as_api()

    @post("/conditions/{condition_id:int}/met", opt=allow(*CONDITION_MET_ROLES), status_code=200)
    async def condition_met(
        self, reference: FromPath[str], condition_id: FromPath[int], data: JSONBody[ConditionNote], actor: CurrentActor
    ) -> dict[str, Any]:
        return (await service.mark_condition_met(actor, reference, condition_id, data.version, data.note)).as_api()

    @post("/conditions/{condition_id:int}/reopen", opt=allow(REVIEWER_ROLE), status_code=200)
    async def condition_reopen(
        self, reference: FromPath[str], condition_id: FromPath[int], data: JSONBody[ConditionReason], actor: CurrentActor
    ) -> dict[str, Any]:
        return (await service.reopen_condition(actor, reference, condition_id, data.version, data.reason)).as_api()

    @post("/conditions/{condition_id:int}/withdraw", opt=allow(REVIEWER_ROLE), status_code=200)
    async def condition_withdraw(
        self, reference: FromPath[str], condition_id: FromPath[int], data: JSONBody[ConditionReason], actor: CurrentActor
    ) -> dict[str, Any]:
        return (await service.withdraw_condition(actor, reference, condition_id, data.version, data.reason)).as_api()

    @post("/ico-consultation", opt=allow(*ICO_ROLES), status_code=201)
    async def record_ico(
        self, reference: FromPath[str], data: JSONBody[IcoConsultationIn], actor: CurrentActor
    ) -> dict[str, Any]:
        """Record prior consultation with the ICO for the approved version; it blocks go-live while pending."""
        view = await service.record_ico_consultation(
            actor, reference, submitted_on=data.submitted_on, ico_reference=data.ico_reference, notes=data.notes
        )
        return view.as_api()

    @post("/ico-consultation/response", opt=allow(*ICO_ROLES), status_code=200)
    async def ico_response(
        self, reference: FromPath[str], data: JSONBody[IcoResponse], actor: CurrentActor
    ) -> dict[str, Any]:
        view = await service.record_ico_response(
            actor,
            reference,
            data.version,
            response=data.response,
            response_received_on=data.response_received_on,
            outcome=data.outcome,
        )
        return view.as_api()

    @post("/ico-consultation/reopen", opt=allow(*ICO_ROLES), status_code=200)
    async def ico_reopen(
        self, reference: FromPath[str], data: JSONBody[IcoReopen], actor: CurrentActor
    ) -> dict[str, Any]:
        return (await service.reopen_ico_consultation(actor, reference, data.version, data.reason)).as_api()


async def export_response(reference: str, number: int, actor: Actor) -> Response[bytes]:
    """Return the Word export of one version as a download (the pages use it too).

    The document names ``actor``, who exported it, as its author.
    """
    name, body = await export.export_version(reference, number, author=actor.name)
    logger.info("DPIA %s v%d exported to Word", reference, number)
    return Response(content=body, media_type=DOCX_MEDIA_TYPE, headers=attachment_headers(name))


ROUTES = [DpiaApi]
