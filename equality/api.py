"""JSON API for equality screenings, full equality impact assessments and local characteristics.

Every step the pages offer is here too. Handlers only translate HTTP to one service call; the
service layer enforces roles, separation of duties, the workflow and optimistic locking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, patch, post, put
from litestar.params import FromPath, QueryParameter

from equality import characteristics as local_characteristics
from equality import queues, service
from equality.bodies import documented, unknown_fields
from equality.check import run as run_check
from equality.export import build_export, export_filename
from equality.permissions import outcome_of
from equality.rules import (
    AFFECTED,
    AIMS,
    ASSESSMENT,
    IMPACTS,
    KIND_LABELS,
    SCREENING,
    clean_decision,
    clean_review_change,
    clean_revocation,
    flagged_impacts,
)
from governance import register
from governance.assessments import VersionView
from governance.auth import CurrentActor, allow, allow_everyone
from governance.clock import london_today, utcnow
from governance.documents import DOCX_MEDIA_TYPE, attachment_headers
from governance.errors import FieldError, InvalidInput
from governance.roles import Role

logger = logging.getLogger(__name__)


# Request bodies ------------------------------------------------------------------------------------


# These Structs document the bodies in OpenAPI. The routes read each body as a JSON object (see
# equality.bodies), so that one response names every bad field by its full path, for example
# characteristics.race.impact.


class ScreeningDraft(msgspec.Struct, forbid_unknown_fields=True):
    """The whole content of a screening draft; ``version`` must be the version you last read.

    ``characteristics`` maps each key (age, disability, ... then local keys; see
    /api/v1/equality/reference-data) to ``{"impact": ..., "affected": ..., "evidence": ...}``, where
    impact is positive, neutral, negative or not_known and affected is public, staff or both.
    ``aims`` maps eliminate_discrimination, advance_equality and foster_good_relations to a note.
    Empty values are allowed in a draft. ``outcome`` may be left out: it is worked out from the
    impacts, and a value that disagrees is rejected.
    """

    version: int
    proposal: str = ""
    characteristics: dict[str, dict[str, Any]] = {}
    aims: dict[str, Any] = {}
    outcome: str | None = None


class AssessmentDraft(msgspec.Struct, forbid_unknown_fields=True):
    """The whole content of a full-assessment draft; ``version`` must be the version you last read.

    ``impacts`` maps each characteristic the screening flagged to ``{"mitigation", "owner",
    "due_date" (YYYY-MM-DD), "remains" (true or false), "justification" (required when an impact
    remains)}``. ``action_plan`` is a list of ``{"action", "owner", "due_date"}``.
    """

    version: int
    impacts: dict[str, dict[str, Any]] = {}
    action_plan: list[dict[str, Any]] = []
    engagement: str = ""


class VersionRef(msgspec.Struct, forbid_unknown_fields=True):
    version: int


class DecisionBody(msgspec.Struct, forbid_unknown_fields=True):
    """The equality lead's decision: ``action`` is approve, request_changes or reject.

    ``reasons`` is required when requesting changes or rejecting.
    """

    version: int
    action: str
    summary: str = ""
    reasons: str = ""


class RevocationBody(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    reason: str


class ReviewDateBody(msgspec.Struct, forbid_unknown_fields=True):
    """A new review date (YYYY-MM-DD, after today and within 36 months) and the reason for it."""

    version: int
    review_date: str
    reason: str


class LocalCharacteristicCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new local characteristic; ``key`` is made from the label when left out."""

    label: str
    description: str = ""
    key: str | None = None


class LocalCharacteristicPatch(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    label: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


# Responses -----------------------------------------------------------------------------------------


async def version_api(view: VersionView) -> dict[str, Any]:
    """Return a version as the API shows it, with its outcome, sign-offs and allowed actions."""
    data = view.as_api()
    data["kind_label"] = KIND_LABELS[view.kind]
    data["hash_matches"] = view.hash_matches() if view.frozen else None
    data["allowed_actions"] = service.WORKFLOW.allowed_actions(view.status)
    if view.kind == SCREENING:
        data["outcome"] = outcome_of(view)
        data["flagged_impacts"] = [
            {"key": item.key, "label": item.label, "impact": item.impact, "affected": item.affected}
            for item in flagged_impacts(view.content)
        ]
    data["sign_offs"] = [item.as_api() for item in await service.sign_offs(view)]
    return data


SCREENING_DRAFT = documented(ScreeningDraft)
ASSESSMENT_DRAFT = documented(AssessmentDraft)
VERSION_REF = documented(VersionRef)
DECISION = documented(DecisionBody)
REVOCATION = documented(RevocationBody)
REVIEW_DATE = documented(ReviewDateBody)
LOCAL_CREATE = documented(LocalCharacteristicCreate)
LOCAL_PATCH = documented(LocalCharacteristicPatch)


def check_body(
    body: dict[str, Any], struct: type[msgspec.Struct], clean: Callable[[], object] | None = None
) -> None:
    """Raise ``InvalidInput`` with every unknown field, a bad ``version`` and what ``clean`` rejects."""
    problems = unknown_fields(body, struct)
    try:
        service.checked_request(body.get("version"), clean or (lambda: None))
    except InvalidInput as error:
        problems += error.errors
    if problems:
        raise InvalidInput(problems)


def draft_content(body: dict[str, Any]) -> dict[str, Any]:
    """Return a draft body without its ``version``; the service reports any unknown field left."""
    return {name: value for name, value in body.items() if name != "version"}


# Controllers ---------------------------------------------------------------------------------------


class EqualitySummaryApi(Controller):
    path = "/api/v1/use-cases/{reference:str}/equality"
    tags = ["equality"]

    @get("/", opt=allow_everyone())
    async def summary(self, reference: FromPath[str]) -> dict[str, Any]:
        """Return the latest screening and full assessment, whether a full assessment is needed, and readiness."""
        record = await service.load_record(reference)
        latest_screening = record.latest(SCREENING)
        latest_assessment = record.latest(ASSESSMENT)
        basis = record.basis
        return {
            "use_case": record.use_case.reference,
            "screening": await version_api(latest_screening) if latest_screening else None,
            "full_assessment": await version_api(latest_assessment) if latest_assessment else None,
            "full_assessment_required": basis is not None,
            "full_assessment_responds_to_screening_version": basis.number if basis else None,
            "readiness": [
                item.as_dict() for item in await run_check(record.use_case.ref, utcnow())
            ],
        }

    @get("/readiness", opt=allow_everyone())
    async def readiness(self, reference: FromPath[str]) -> list[dict[str, Any]]:
        """Return the equality part of go-live readiness: the blockers, or the pass with its evidence."""
        use_case = await register.get_use_case(reference)
        return [item.as_dict() for item in await run_check(use_case.ref, utcnow())]


class _VersionApi(Controller):
    """Routes shared by the screening and the full assessment; subclasses set ``kind`` and ``path``."""

    kind = SCREENING
    tags = ["equality"]

    @get("/versions", opt=allow_everyone())
    async def list_versions(self, reference: FromPath[str]) -> list[dict[str, Any]]:
        """Every version, oldest first."""
        return [
            await version_api(view) for view in await service.list_versions(reference, self.kind)
        ]

    @post("/versions", opt=allow(*service.AUTHOR_ROLES), status_code=201)
    async def start_version(self, reference: FromPath[str], actor: CurrentActor) -> dict[str, Any]:
        """Start the next draft version, copied from the latest one (409 while a draft is open)."""
        return await version_api(await service.start_version(actor, reference, self.kind))

    @get("/versions/{number:int}", opt=allow_everyone())
    async def get_version(self, reference: FromPath[str], number: FromPath[int]) -> dict[str, Any]:
        return await version_api(await service.get_version(reference, self.kind, number))

    @post("/versions/{number:int}/submit", opt=allow(*service.AUTHOR_ROLES), status_code=200)
    async def submit(
        self,
        reference: FromPath[str],
        number: FromPath[int],
        data: VERSION_REF,
        actor: CurrentActor,
    ) -> dict[str, Any]:
        """Freeze and hash the draft for the equality lead; 422 names every unanswered field."""
        check_body(data, VersionRef)
        view = await service.submit(actor, reference, self.kind, number, data["version"])
        return await version_api(view)

    @post("/versions/{number:int}/decision", opt=allow(*service.LEAD_ROLES), status_code=200)
    async def decide(
        self,
        reference: FromPath[str],
        number: FromPath[int],
        data: DECISION,
        actor: CurrentActor,
    ) -> dict[str, Any]:
        """Approve, request changes or reject the latest submitted version, signing it on its hash."""
        action, summary, reasons = data.get("action"), data.get("summary"), data.get("reasons")
        check_body(data, DecisionBody, lambda: clean_decision(action, summary, reasons))
        view = await service.decide(
            actor,
            reference,
            self.kind,
            number,
            data["version"],
            action,
            summary=summary,
            reasons=reasons,
        )
        return await version_api(view)

    @post("/versions/{number:int}/revocation", opt=allow(*service.LEAD_ROLES), status_code=200)
    async def revoke(
        self,
        reference: FromPath[str],
        number: FromPath[int],
        data: REVOCATION,
        actor: CurrentActor,
    ) -> dict[str, Any]:
        """Revoke the approval of the latest version, with a reason."""
        reason = data.get("reason")
        check_body(data, RevocationBody, lambda: clean_revocation(reason))
        view = await service.revoke(actor, reference, self.kind, number, data["version"], reason)
        return await version_api(view)

    @post("/versions/{number:int}/review-date", opt=allow(*service.LEAD_ROLES), status_code=200)
    async def change_review_date(
        self,
        reference: FromPath[str],
        number: FromPath[int],
        data: REVIEW_DATE,
        actor: CurrentActor,
    ) -> dict[str, Any]:
        """Move the review date of the latest approved version, with a reason."""
        review_date, reason = data.get("review_date"), data.get("reason")
        today = london_today(utcnow())
        check_body(data, ReviewDateBody, lambda: clean_review_change(review_date, reason, today))
        view = await service.change_review_date(
            actor, reference, self.kind, number, data["version"], review_date, reason
        )
        return await version_api(view)

    @get("/versions/{number:int}/diff", opt=allow_everyone())
    async def diff(
        self,
        reference: FromPath[str],
        number: FromPath[int],
        against: Annotated[int | None, QueryParameter(name="against", required=False, gt=0)] = None,
    ) -> dict[str, Any]:
        """What changed: by default since the last approved version before this one."""
        view, base, changes = await service.diff_version(reference, self.kind, number, against)
        return {
            "version": view.number,
            "compared_with": base.number if base else None,
            "changes": [
                {
                    "path": change.path,
                    "kind": change.kind,
                    "before": change.before,
                    "after": change.after,
                }
                for change in changes
            ],
        }

    @get("/versions/{number:int}/export.docx", opt=allow_everyone(), media_type=DOCX_MEDIA_TYPE)
    async def export(self, reference: FromPath[str], number: FromPath[int], actor: CurrentActor) -> Response[bytes]:
        """The version as a Word document in the house style; its author is the person exporting it."""
        use_case = await register.get_use_case(reference)
        view = await service.get_version(reference, self.kind, number)
        content = build_export(use_case, view, await service.sign_offs(view), author=actor.name)
        return Response(
            content,
            media_type=DOCX_MEDIA_TYPE,
            headers=attachment_headers(export_filename(use_case, view)),
        )


class ScreeningApi(_VersionApi):
    path = "/api/v1/use-cases/{reference:str}/equality/screening"
    kind = SCREENING

    @put("/versions/{number:int}", opt=allow(*service.AUTHOR_ROLES))
    async def save_draft(
        self,
        reference: FromPath[str],
        number: FromPath[int],
        data: SCREENING_DRAFT,
        actor: CurrentActor,
    ) -> dict[str, Any]:
        """Replace the draft's content; each value is checked, unanswered ones are allowed until submission."""
        view = await service.save_draft(
            actor, reference, SCREENING, number, data.get("version"), draft_content(data)
        )
        return await version_api(view)


class FullAssessmentApi(_VersionApi):
    path = "/api/v1/use-cases/{reference:str}/equality/full-assessment"
    kind = ASSESSMENT

    @put("/versions/{number:int}", opt=allow(*service.AUTHOR_ROLES))
    async def save_draft(
        self,
        reference: FromPath[str],
        number: FromPath[int],
        data: ASSESSMENT_DRAFT,
        actor: CurrentActor,
    ) -> dict[str, Any]:
        """Replace the draft's content; each value is checked, unanswered ones are allowed until submission."""
        view = await service.save_draft(
            actor, reference, ASSESSMENT, number, data.get("version"), draft_content(data)
        )
        return await version_api(view)


class EqualityQueueApi(Controller):
    path = "/api/v1/equality"
    tags = ["equality"]

    @get("/queue", opt=allow(Role.EQUALITY_LEAD))
    async def queue(self) -> dict[str, Any]:
        """Versions waiting for a decision (oldest first) and approvals due for review within 60 days."""
        return {
            "decisions": [item.as_api() for item in await queues.decisions_waiting()],
            "reviews_due": [
                {
                    "use_case": item.view.use_case_ref,
                    "kind": item.view.kind,
                    "number": item.view.number,
                    "review_date": (
                        item.view.review_date.isoformat() if item.view.review_date else None
                    ),
                    "overdue": item.overdue,
                }
                for item in await queues.reviews_due()
            ],
        }

    @get("/reference-data", opt=allow_everyone())
    async def reference_data(self) -> dict[str, Any]:
        """Return the accepted impacts, groups affected and aims, and the characteristics a new screening covers."""
        return {
            "impacts": IMPACTS,
            "affected": AFFECTED,
            "aims": AIMS,
            "characteristics": [
                item.as_dict() for item in await local_characteristics.current_characteristics()
            ],
        }


class LocalCharacteristicApi(Controller):
    path = "/api/v1/equality/local-characteristics"
    tags = ["equality"]

    @get("/", opt=allow_everyone())
    async def list_local(self) -> list[dict[str, Any]]:
        """List every local characteristic, active or not, in the order added."""
        return [item.as_api() for item in await local_characteristics.list_local()]

    @post("/", opt=allow(Role.ADMINISTRATOR))
    async def create_local(
        self, data: LOCAL_CREATE, actor: CurrentActor
    ) -> dict[str, Any]:
        view = await local_characteristics.create_local(
            actor,
            label=data.get("label"),
            description=data.get("description", ""),
            key=data.get("key"),
            other_errors=unknown_fields(data, LocalCharacteristicCreate),
        )
        return view.as_api()

    @get("/{key:str}", opt=allow_everyone())
    async def get_local(self, key: FromPath[str]) -> dict[str, Any]:
        return (await local_characteristics.get_local(key)).as_api()

    @patch("/{key:str}", opt=allow(Role.ADMINISTRATOR))
    async def update_local(
        self, key: FromPath[str], data: LOCAL_PATCH, actor: CurrentActor
    ) -> dict[str, Any]:
        """Rename, describe, deactivate or reactivate; a field left out stays as it is.

        A stale ``version`` gets 409.
        """
        problems = unknown_fields(data, LocalCharacteristicPatch)
        for name in ("label", "description", "active"):
            if name in data and data[name] is None:
                problems.append(
                    FieldError(name, "must not be null; leave the field out to keep it")
                )
        view = await local_characteristics.update_local(
            actor,
            key,
            data.get("version"),
            label=data.get("label"),
            description=data.get("description"),
            active=data.get("active"),
            other_errors=problems,
        )
        return view.as_api()


ROUTES = [
    EqualitySummaryApi,
    ScreeningApi,
    FullAssessmentApi,
    EqualityQueueApi,
    LocalCharacteristicApi,
]
