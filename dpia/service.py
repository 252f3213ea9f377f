"""DPIA service layer: versions, the review workflow, conditions, ICO consultations and readiness.

Every function that writes opens ``write_transaction`` and checks the caller's role itself, because
the command line and tests call these functions directly. Versioning, hashing and sign-offs come
from ``governance.assessments``; the DPIA rules (content, scoring, workflow, readiness) are pure
functions in ``dpia.rules``, ``dpia.workflow`` and ``dpia.readiness``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from governance import assessments, audit, golive, register, submissions
from governance.assessments import SignOffView, VersionView
from governance.audit import Actor
from governance.clock import format_date, london_today, utcnow
from governance.database import write_transaction
from governance.errors import Conflict, ErrorCollector, FieldError, Forbidden, InvalidInput, NotFound, StaleVersion
from governance.roles import Role
from governance.tables import Account

from dpia import forms, outcomes, permissions, readiness, rules
from dpia.readiness import as_sentence
from dpia.rules import KIND, SCHEMA, ScoringMatrix
from dpia.tables import Condition, IcoConsultation, ReviewOwner
from dpia.tables import ScoringMatrix as ScoringMatrixTable
from dpia.workflow import (
    ADVICE_ACCEPTED_MEANING,
    ADVICE_OVERRULED_MEANING,
    ADVISER_ROLE,
    APPROVED,
    CHANGES_REQUESTED_MEANING,
    CONDITION_MET_ROLES,
    CONSULTATION_REVIEWED_MEANING,
    DECISIONS,
    DPO_ADVICE_MEANING,
    ICO_ROLES,
    REVIEWER_ROLE,
    UNDER_REVIEW,
    WORKFLOW,
    decision_meaning,
    overrules_advice,
)

logger = logging.getLogger(__name__)

REASON_LIMIT = 5_000
VERSION_MISSING = (
    "has lost its hidden record version, so the change cannot be checked against the saved record; "
    "reload the page and try again"
)
CONDITION_TEXT_LIMIT = 2_000

# Actions under which ``governance.submissions`` remembers the one-time ids of the create forms.
CONDITION_FORM_ACTION = "dpia.add_condition"
ICO_FORM_ACTION = "dpia.record_ico_consultation"

# The audit action of each change to a condition, keyed by the step's name in ``permissions``.
CONDITION_ACTIONS = {"met": "met", "reopen": "reopened", "withdraw": "withdrawn", "update": "updated"}

ICO_OUTCOMES: dict[str, str] = {
    "no_objection": "The ICO raised no objection",
    "advice_followed": "The ICO gave written advice, which the force has followed",
    "do_not_proceed": "The ICO advised that the processing should not go ahead",
}


class StaleRecord(StaleVersion):
    """A ``StaleVersion`` whose message keeps the record's lock version apart from DPIA version numbers.

    ``what`` names the record as people do ("DPIA version 1", "Condition 2 of DPIA version 1").
    """

    def __init__(self, what: str, expected: int, current: int) -> None:
        # StaleVersion's own message would put "version 3" next to "DPIA version 1", so set ours.
        Conflict.__init__(
            self,
            f"{what} was changed by someone else after you read it. You sent \"version\": {expected}, but the "
            f"record is now at {current}; read it again, reapply your change and send \"version\": {current}.",
            extra={"current_version": current},
        )


def _check_lock(what: str, current: int, expected: int) -> None:
    """Raise ``StaleRecord`` unless the record's lock version is still ``expected``."""
    if current != expected:
        raise StaleRecord(what, expected, current)


# Scoring matrices ----------------------------------------------------------------------------------


def _matrix_from_row(row: dict[str, Any]) -> ScoringMatrix:
    return rules.parse_matrix(row["name"], row["version"], row["title"], json.loads(row["definition"]))


async def active_matrix() -> ScoringMatrix:
    """Return the newest active matrix, which scores newly started versions."""
    row = (
        await ScoringMatrixTable.select()
        .where(ScoringMatrixTable.active == True)  # noqa: E712 (Piccolo needs ==)
        .order_by(ScoringMatrixTable.created_at, ascending=False)
        .order_by(ScoringMatrixTable.id, ascending=False)
        .first()
        .run()
    )
    if row is None:
        raise Conflict("no active DPIA scoring matrix is installed; run the database migrations")
    return _matrix_from_row(row)


async def get_matrix(name: str, version: int) -> ScoringMatrix:
    row = (
        await ScoringMatrixTable.select()
        .where((ScoringMatrixTable.name == name) & (ScoringMatrixTable.version == version))
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"no DPIA scoring matrix {name!r} version {version}")
    return _matrix_from_row(row)


async def matrix_for(content: dict[str, Any]) -> ScoringMatrix:
    """Return the matrix a version's content records, or the active one if it records none."""
    recorded = content.get("matrix")
    if isinstance(recorded, dict) and isinstance(recorded.get("name"), str) and isinstance(recorded.get("version"), int):
        return await get_matrix(recorded["name"], recorded["version"])
    return await active_matrix()


# Reading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionView:
    """A condition; ``number`` is its position (from 1) among its DPIA version's conditions."""

    id: int
    number: int
    version_number: int
    text: str
    owner: str
    due_date: dt.date | None
    before_go_live: bool
    created_by: str
    created_at: dt.datetime
    met_at: dt.datetime | None
    met_by: str | None
    met_note: str
    withdrawn_at: dt.datetime | None
    withdrawn_by: str | None
    withdrawal_reason: str
    version: int

    @property
    def state(self) -> str:
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "met" if self.met_at is not None else "open"

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dpia_version": self.version_number,
            "text": self.text,
            "owner": self.owner,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "before_go_live": self.before_go_live,
            "state": self.state,
            "met_at": self.met_at.isoformat() if self.met_at else None,
            "met_by": self.met_by,
            "met_note": self.met_note,
            "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None,
            "withdrawn_by": self.withdrawn_by,
            "withdrawal_reason": self.withdrawal_reason,
            "version": self.version,
        }

    def as_api(self) -> dict[str, Any]:
        return {
            **self.snapshot(),
            "number": self.number,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class IcoView:
    id: int
    version_number: int
    submitted_on: dt.date
    ico_reference: str
    notes: str
    status: str
    response: str
    response_received_on: dt.date | None
    outcome: str | None
    recorded_by: str
    updated_at: dt.datetime
    version: int

    def snapshot(self) -> dict[str, Any]:
        return {
            "dpia_version": self.version_number,
            "submitted_on": self.submitted_on.isoformat(),
            "ico_reference": self.ico_reference,
            "notes": self.notes,
            "status": self.status,
            "response": self.response,
            "response_received_on": self.response_received_on.isoformat() if self.response_received_on else None,
            "outcome": self.outcome,
            "version": self.version,
        }

    def as_api(self) -> dict[str, Any]:
        return {**self.snapshot(), "recorded_by": self.recorded_by, "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class ReviewOwnerView:
    """The person who keeps an approved version under review, with who named them and when."""

    username: str
    display_name: str
    named_by: str
    named_at: dt.datetime

    @property
    def name(self) -> str:
        return self.display_name or self.username


async def get_review_owner(version_id: int) -> ReviewOwnerView | None:
    row = (
        await ReviewOwner.select(
            ReviewOwner.account.username.as_alias("username"),
            ReviewOwner.account.display_name.as_alias("display_name"),
            ReviewOwner.named_by.username.as_alias("named_by"),
            ReviewOwner.named_at,
        )
        .where(ReviewOwner.assessment_version == version_id)
        .first()
        .run()
    )
    if row is None:
        return None
    return ReviewOwnerView(row["username"], row["display_name"], row["named_by"], row["named_at"])


async def _usernames(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Account.select(Account.id, Account.username).where(Account.id.is_in(list(ids))).run()
    return {row["id"]: row["username"] for row in rows}


async def list_conditions(use_case_id: int) -> list[ConditionView]:
    rows = (
        await Condition.select(Condition.all_columns(), Condition.assessment_version.number.as_alias("number"))
        .where(Condition.use_case == use_case_id)
        .order_by(Condition.id)
        .run()
    )
    names = await _usernames(
        {row[key] for row in rows for key in ("created_by", "met_by", "withdrawn_by") if row[key] is not None}
    )
    # Rows come in id order, so counting per version numbers each version's conditions 1, 2, 3...
    counts: dict[int, int] = {}
    numbers = []
    for row in rows:
        counts[row["number"]] = counts.get(row["number"], 0) + 1
        numbers.append(counts[row["number"]])
    return [
        ConditionView(
            id=row["id"],
            number=number,
            version_number=row["number"],
            text=row["text"],
            owner=row["owner"],
            due_date=row["due_date"],
            before_go_live=row["before_go_live"],
            created_by=names.get(row["created_by"], ""),
            created_at=row["created_at"],
            met_at=row["met_at"],
            met_by=names.get(row["met_by"]) if row["met_by"] else None,
            met_note=row["met_note"],
            withdrawn_at=row["withdrawn_at"],
            withdrawn_by=names.get(row["withdrawn_by"]) if row["withdrawn_by"] else None,
            withdrawal_reason=row["withdrawal_reason"],
            version=row["version"],
        )
        for row, number in zip(rows, numbers, strict=True)
    ]


async def get_ico_consultation(version_id: int) -> IcoView | None:
    row = (
        await IcoConsultation.select(
            IcoConsultation.all_columns(),
            IcoConsultation.assessment_version.number.as_alias("number"),
            IcoConsultation.recorded_by.username.as_alias("recorded_by_username"),
        )
        .where(IcoConsultation.assessment_version == version_id)
        .first()
        .run()
    )
    if row is None:
        return None
    return IcoView(
        id=row["id"],
        version_number=row["number"],
        submitted_on=row["submitted_on"],
        ico_reference=row["ico_reference"],
        notes=row["notes"],
        status=row["status"],
        response=row["response"],
        response_received_on=row["response_received_on"],
        outcome=row["outcome"],
        recorded_by=row["recorded_by_username"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


async def _sign_offs_by_version(versions: list[VersionView]) -> dict[int, list[SignOffView]]:
    return {view.number: await assessments.list_sign_offs(view.id) for view in versions}


def dpo_advice_of(sign_offs: list[SignOffView]) -> SignOffView | None:
    """Return the latest "DPO advice given" sign-off among ``sign_offs``, or None."""
    advice = [item for item in sign_offs if item.meaning == DPO_ADVICE_MEANING]
    return advice[-1] if advice else None


async def snapshot_for(use_case_id: int, today: dt.date) -> readiness.Snapshot:
    """Gather what the readiness rule needs about one use case's DPIA."""
    versions = await assessments.list_versions(use_case_id, KIND)
    if not versions:
        return readiness.Snapshot(today=today, latest=None)

    latest = versions[-1]
    approved = [view.number for view in versions if view.status in APPROVED]
    matrix = await matrix_for(latest.content)
    sign_offs = await assessments.list_sign_offs(latest.id)
    signed = any(
        item.decision in APPROVED and item.content_hash == latest.content_hash for item in sign_offs
    )
    facts = readiness.VersionFacts(
        number=latest.number,
        status=latest.status,
        outcome=rules.outcome_of(latest.content),
        content_hash=latest.content_hash,
        hash_matches=latest.hash_matches(),
        signed_hash_matches=signed,
        decided_at=latest.decided_at,
        review_date=latest.review_date,
        revoked=latest.revoked_at is not None,
        revocation_reason=latest.revocation_reason or "",
        ico_required=rules.ico_consultation_required(latest.content, matrix),
    )

    ico = await get_ico_consultation(latest.id)
    open_conditions = tuple(
        readiness.ConditionFacts(item.number, item.text, item.owner, item.due_date)
        for item in await list_conditions(use_case_id)
        if item.version_number == latest.number and item.before_go_live and item.state == "open"
    )
    use_case = await register.get_use_case_by_id(use_case_id)
    scope_changes = register.scope_changes(
        latest.content.get(rules.SCOPE_KEY), use_case.processing_scope()
    )
    return readiness.Snapshot(
        today=today,
        latest=facts,
        scope_changes=tuple(scope_changes),
        last_approved_number=approved[-1] if approved else None,
        ico=readiness.IcoFacts(ico.status, ico.outcome, ico.submitted_on) if ico else None,
        open_conditions=open_conditions,
    )


async def readiness_findings(use_case_id: int, now: dt.datetime | None = None) -> list[readiness.Finding]:
    return readiness.assess(await snapshot_for(use_case_id, london_today(now)))


@dataclass(frozen=True)
class Overview:
    """Everything the DPIA pages and API show about one use case."""

    use_case: register.UseCaseView
    versions: list[VersionView]
    sign_offs: dict[int, list[SignOffView]]
    conditions: list[ConditionView]
    ico: IcoView | None
    findings: list[readiness.Finding]
    matrix: ScoringMatrix | None

    @property
    def latest(self) -> VersionView | None:
        return self.versions[-1] if self.versions else None

    @property
    def last_approved(self) -> VersionView | None:
        approved = [view for view in self.versions if view.status in APPROVED]
        return approved[-1] if approved else None

    @property
    def ready(self) -> bool:
        return all(finding.passed for finding in self.findings)

    def version(self, number: int) -> VersionView:
        for view in self.versions:
            if view.number == number:
                return view
        raise NotFound(f"no DPIA version {number} for {self.use_case.reference}")

    def conditions_of(self, number: int) -> list[ConditionView]:
        return [item for item in self.conditions if item.version_number == number]


async def overview(reference: str) -> Overview:
    use_case = await register.get_use_case(reference)
    versions = await assessments.list_versions(use_case.id, KIND)
    latest = versions[-1] if versions else None
    return Overview(
        use_case=use_case,
        versions=versions,
        sign_offs=await _sign_offs_by_version(versions),
        conditions=await list_conditions(use_case.id),
        ico=await get_ico_consultation(latest.id) if latest else None,
        findings=await readiness_findings(use_case.id),
        matrix=await matrix_for(latest.content) if latest else None,
    )


def ico_summary(required: bool, ico: IcoView | None) -> str:
    """Describe where prior consultation with the ICO stands for a version, in one sentence."""
    if not required:
        return "not required, because no high residual risk remains."
    if ico is None:
        return "required but not yet recorded."
    text = f"submitted {format_date(ico.submitted_on)}, {ico.status}"
    if ico.outcome:
        text += (
            f": {ICO_OUTCOMES.get(ico.outcome, ico.outcome)} (response received "
            f"{format_date(ico.response_received_on)}). {ico.response}"
        )
    return text if text.endswith(".") else f"{text}."


async def sign_off_and_outcomes(state: Overview, view: VersionView) -> list[outcomes.OutcomeRow]:
    """Return the ICO step 7 lines for one version of ``state``'s DPIA, in the ICO's order."""
    matrix = await matrix_for(view.content)
    outcome = rules.outcome_of(view.content)
    conditions = state.conditions_of(view.number)
    owner = await get_review_owner(view.id)
    ico_required = rules.ico_consultation_required(view.content, matrix)
    facts = outcomes.Step7Facts(
        outcome=outcome,
        sign_offs=state.sign_offs.get(view.number, []),
        highest_residual=matrix.label(rules.highest_residual_level(view.content, matrix)) if outcome == "required" else "",
        ico_required=ico_required,
        ico_text=ico_summary(ico_required, await get_ico_consultation(view.id)),
        open_conditions=sum(1 for item in conditions if item.state == "open"),
        conditions=len(conditions),
        review_owner=owner.name if owner else "",
    )
    return outcomes.outcome_rows(view, facts)


def version_api(view: VersionView, matrix: ScoringMatrix, sign_offs: list[SignOffView]) -> dict[str, Any]:
    """Return a version for the API, with the levels its matrix derives and its sign-offs."""
    scored = rules.score_risks(view.content, matrix)
    data = view.as_api()
    data.update(
        {
            "screening_outcome": rules.outcome_of(view.content) or None,
            "risk_levels": [
                {"risk": risk.number, "level": risk.level, "residual_level": risk.residual_level} for risk in scored
            ],
            "highest_residual_level": rules.highest_residual_level(view.content, matrix),
            "ico_consultation_required": rules.ico_consultation_required(view.content, matrix),
            "hash_verified": view.hash_matches() if view.frozen else None,
            "sign_offs": [item.as_api() for item in sign_offs],
        }
    )
    return data


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[assessments.Change]:
    """Diff two versions' content; the recorded scope counts only when both versions have one.

    A draft records its scope only when it is submitted, so comparing it with a submitted version
    would otherwise always report the scope as removed.
    """
    if rules.SCOPE_KEY not in before or rules.SCOPE_KEY not in after:
        before = {key: value for key, value in before.items() if key != rules.SCOPE_KEY}
        after = {key: value for key, value in after.items() if key != rules.SCOPE_KEY}
    return assessments.diff_content(before, after)


async def changes_since_approval(view: VersionView) -> tuple[VersionView | None, list[assessments.Change]]:
    """Return the last approved version before ``view`` and what changed since it."""
    approved = [
        item
        for item in await assessments.list_versions(view.use_case_id, KIND)
        if item.status in APPROVED and item.number < view.number
    ]
    if not approved:
        return None, []
    base = approved[-1]
    return base, _diff(base.content, view.content)


async def diff_versions(reference: str, before: int, after: int) -> tuple[VersionView, VersionView, list[assessments.Change]]:
    use_case = await register.get_use_case(reference)
    left = await assessments.get_version(use_case.id, KIND, before)
    right = await assessments.get_version(use_case.id, KIND, after)
    return left, right, _diff(left.content, right.content)


# Permission helpers and input checks ---------------------------------------------------------------


def _raise_if(rejection: permissions.Rejection | None) -> None:
    if rejection is not None:
        raise rejection.error()


def _ensure_role(actor: Actor, *roles: Role, what: str) -> None:
    """Raise ``Forbidden`` unless ``actor`` has one of ``roles``. ``what`` names the step as a sentence starts it."""
    _raise_if(permissions.role_rejection(actor, roles, what))


async def may_edit(actor: Actor, use_case: register.UseCaseView) -> tuple[bool, str]:
    """Return whether ``actor`` may change ``use_case`` (``register.ensure_can_edit``) and, if not, the reason."""
    try:
        await register.ensure_can_edit(actor, use_case.department)
    except Forbidden as error:
        return False, as_sentence(error.message[:1].upper() + error.message[1:])
    return True, ""


async def _ensure_author(actor: Actor, use_case: register.UseCaseView) -> None:
    allowed, reason = await may_edit(actor, use_case)
    _raise_if(permissions.author_rejection(actor, allowed, reason))


async def _latest(use_case: register.UseCaseView) -> VersionView:
    latest = await assessments.latest_version(use_case.id, KIND)
    if latest is None:
        raise NotFound(f"{use_case.reference} has no DPIA yet; start one first.")
    return latest


async def _version_and_latest(use_case: register.UseCaseView, number: int) -> tuple[VersionView, int]:
    """Return version ``number`` and the latest version's number; ``NotFound`` if ``number`` was never used."""
    latest = await _latest(use_case)
    if latest.number == number:
        return latest, latest.number
    return await assessments.get_version(use_case.id, KIND, number), latest.number


def _raise_errors(errors: list[FieldError], summary: str | None = None) -> None:
    """Raise ``InvalidInput`` for ``errors``, if any, with a summary that names each field by its label."""
    if errors:
        raise InvalidInput(errors, summary or forms.readable_errors(errors))


def _check_version_field(errors: ErrorCollector, expected_version: int | None) -> None:
    """Report a form that lost its hidden ``version`` field; the API always sends one."""
    if expected_version is None:
        errors.add("version", VERSION_MISSING)


def _clean_reason(
    value: str | None, field: str, what: str, *, required: bool = True, errors: ErrorCollector | None = None
) -> str:
    """Return the stripped text; a problem is added to ``errors`` if given, otherwise raised at once."""
    text = (value or "").strip()
    problem = ""
    if required and not text:
        problem = f"is missing; give {what}"
    elif len(text) > REASON_LIMIT:
        problem = f"must be at most {REASON_LIMIT:,} characters (it has {len(text):,})"
    if problem:
        if errors is None:
            _raise_errors([FieldError(field, problem)])
        else:
            errors.add(field, problem)
    return text


def _date_field(errors: ErrorCollector, field: str, value: dt.date | str | None, missing: str) -> dt.date | None:
    """Return ``value`` as a date, adding ``missing`` to ``errors`` when it is empty or not YYYY-MM-DD."""
    day = assessments.parse_iso_date(value)
    if day is None:
        errors.add(field, missing)
    return day


# Versions and drafts -------------------------------------------------------------------------------


async def start_version(actor: Actor, reference: str) -> VersionView:
    """Start the next draft: a copy of the latest version, or a fresh screening for the first one.

    A version still under review is superseded in the same transaction, so reviewers never decide on
    a version that is no longer the one on record.
    """
    use_case = await register.get_use_case(reference)
    allowed, reason = await may_edit(actor, use_case)
    _raise_if(permissions.author_rejection(actor, allowed, reason))

    async with write_transaction():
        previous = await assessments.latest_version(use_case.id, KIND)
        _raise_if(permissions.start_rejection(actor, allowed, previous))
        matrix = await active_matrix()
        if previous is None:
            content = rules.blank_content(matrix, use_case.purposes)
        else:
            content = rules.rescored_content(previous.content, matrix)
            if previous.status in UNDER_REVIEW:
                await assessments.apply_action(
                    actor,
                    previous,
                    previous.version,
                    WORKFLOW,
                    "supersede",
                    note=f"version {previous.number + 1} was started while this one was under review",
                )
        return await assessments.start_version(actor, use_case.id, KIND, SCHEMA, WORKFLOW, content)


async def save_draft(
    actor: Actor,
    reference: str,
    number: int,
    expected_version: int | None,
    content: Any,
    *,
    form_errors: list[FieldError] | None = None,
) -> VersionView:
    """Replace a draft's content; only values that can never be valid are rejected (422).

    ``form_errors`` are problems the caller found while reading a form into ``content``. They are
    reported with the content's own problems, and any of them stops the save.
    """
    use_case = await register.get_use_case(reference)
    allowed, reason = await may_edit(actor, use_case)
    _raise_if(permissions.author_rejection(actor, allowed, reason))
    view = await assessments.get_version(use_case.id, KIND, number)

    matrix = await matrix_for(view.content)
    if isinstance(content, dict):
        content = {key: value for key, value in content.items() if key != rules.SCOPE_KEY}
    if isinstance(content, dict) and "matrix" not in content:
        content = {**content, "matrix": matrix.reference}
    errors = ErrorCollector([*rules.validate_draft(content, matrix), *(form_errors or [])])
    _check_version_field(errors, expected_version)
    _raise_errors(errors.errors)
    assert expected_version is not None

    async with write_transaction():
        view, latest_number = await _version_and_latest(use_case, number)
        _raise_if(permissions.edit_rejection(actor, allowed, view, latest_number))
        _check_lock(f"DPIA version {number}", view.version, expected_version)
        return await assessments.save_draft(actor, view, expected_version, content, WORKFLOW)


async def submit(actor: Actor, reference: str, number: int, expected_version: int | None) -> VersionView:
    """Freeze and hash a complete draft; a missing mandatory field gets 422 naming each one."""
    use_case = await register.get_use_case(reference)
    allowed, reason = await may_edit(actor, use_case)
    _raise_if(permissions.author_rejection(actor, allowed, reason))

    async with write_transaction():
        view, latest_number = await _version_and_latest(use_case, number)
        _raise_if(permissions.edit_rejection(actor, allowed, view, latest_number))
        matrix = await matrix_for(view.content)
        errors = ErrorCollector(rules.validate_for_submission(view.content, matrix))
        _check_version_field(errors, expected_version)
        if errors.errors:
            listed = forms.readable_errors(errors.errors[:10])
            more = f"; and {len(errors.errors) - 10} more" if len(errors.errors) > 10 else ""
            _raise_errors(errors.errors, f"DPIA version {number} is not complete: {listed}{more}")
        assert expected_version is not None
        _check_lock(f"DPIA version {number}", view.version, expected_version)
        # Read inside the transaction, so the recorded scope matches the register at submission.
        scope = (await register.get_use_case(reference)).processing_scope()
        return await assessments.apply_action(
            actor, view, expected_version, WORKFLOW, "submit", stamp={rules.SCOPE_KEY: scope}
        )


# Review ---------------------------------------------------------------------------------------------


async def _review_target(
    actor: Actor, use_case: register.UseCaseView, number: int, step: str, expected_version: int | None
) -> tuple[VersionView, SignOffView | None]:
    """Return the version ``step`` acts on and its DPO advice, if any; raise if ``actor`` may not act.

    Call it inside the step's write transaction, so the checks see the state the step changes. A
    rejection comes before a stale ``expected_version``, because reloading would not help.
    """
    view, latest_number = await _version_and_latest(use_case, number)
    advice = dpo_advice_of(await assessments.list_sign_offs(view.id))
    _raise_if(
        permissions.review_rejection(step, actor, view, latest_number, advice.account_id if advice else None)
    )
    if expected_version is not None:
        _check_lock(f"DPIA version {number}", view.version, expected_version)
    return view, advice


async def start_review(actor: Actor, reference: str, number: int, expected_version: int | None) -> VersionView:
    _ensure_role(actor, REVIEWER_ROLE, what="Starting a DPIA review")
    errors = ErrorCollector()
    _check_version_field(errors, expected_version)
    _raise_errors(errors.errors)
    assert expected_version is not None
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view, _ = await _review_target(actor, use_case, number, "start_review", expected_version)
        return await assessments.apply_action(actor, view, expected_version, WORKFLOW, "start_review")


async def request_changes(
    actor: Actor, reference: str, number: int, expected_version: int | None, reasons: str
) -> VersionView:
    """End a version under review with the changes it needs; the author starts the next version."""
    _ensure_role(actor, REVIEWER_ROLE, what="Requesting changes to a DPIA")
    errors = ErrorCollector()
    reasons = _clean_reason(reasons, "reasons", "the changes needed", errors=errors)
    _check_version_field(errors, expected_version)
    _raise_errors(errors.errors)
    assert expected_version is not None
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view, _ = await _review_target(actor, use_case, number, "request_changes", expected_version)
        after = await assessments.apply_action(
            actor, view, expected_version, WORKFLOW, "request_changes", note=reasons
        )
        await assessments.record_sign_off(
            actor, after, role=REVIEWER_ROLE, meaning=CHANGES_REQUESTED_MEANING, decision="changes_requested", reasons=reasons
        )
    return after


def _advice_answer(errors: ErrorCollector, value: bool | str | None) -> bool | None:
    """Return the DPO's advice as True (advises approval) or False, adding a problem to ``errors``.

    The API sends true or false. The form sends "yes" or "no", and "" or None when nothing is chosen.
    """
    if isinstance(value, bool):
        return value
    if value in (None, ""):
        errors.add("advises_approval", "is missing; say whether you advise approval")
        return None
    if value in ("yes", "no"):
        return value == "yes"
    errors.add("advises_approval", f"{value!r} is not an answer; choose yes (you advise approval) or no (you advise against it)")
    return None


async def record_dpo_advice(
    actor: Actor,
    reference: str,
    number: int,
    expected_version: int | None,
    *,
    advises_approval: bool | str | None,
    summary: str,
) -> VersionView:
    """Record the DPO's advice (mandatory before any decision) as a sign-off on the version's hash.

    ``advises_approval`` is True or False, or the form's "yes" or "no". A missing or unknown answer
    and a missing summary are reported together.
    """
    _ensure_role(actor, ADVISER_ROLE, what="Recording DPO advice")
    errors = ErrorCollector()
    answer = _advice_answer(errors, advises_approval)
    summary = _clean_reason(summary, "summary", "a summary of the advice", errors=errors)
    _check_version_field(errors, expected_version)
    _raise_errors(errors.errors)
    assert expected_version is not None
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view, _ = await _review_target(actor, use_case, number, "dpo_advice", expected_version)
        after = await assessments.apply_action(
            actor, view, expected_version, WORKFLOW, "record_dpo_advice", note=summary
        )
        await assessments.record_sign_off(
            actor,
            after,
            role=ADVISER_ROLE,
            meaning=DPO_ADVICE_MEANING,
            decision="advises_approval" if answer else "advises_against",
            summary=summary,
        )
    return after


@dataclass(frozen=True)
class NewCondition:
    """A condition as sent; ``due_date`` may be YYYY-MM-DD text from a form or the API, or empty."""

    text: str
    owner: str
    due_date: dt.date | str | None
    before_go_live: bool


def _check_condition(
    errors: list[FieldError], path: str, item: NewCondition, today: dt.date, *, unchanged_due: dt.date | None = None
) -> NewCondition:
    """Return the condition cleaned up, adding a problem with each of its fields to ``errors``.

    The due date is optional. When given, it must not be in the past (``assessments.check_due_date``),
    except that a condition being changed may keep the due date it already has, ``unchanged_due``.
    """
    text = (item.text or "").strip()
    owner = (item.owner or "").strip()
    if not text:
        errors.append(FieldError(f"{path}.text", "is missing; say what must be done"))
    elif len(text) > CONDITION_TEXT_LIMIT:
        errors.append(FieldError(f"{path}.text", f"must be at most {CONDITION_TEXT_LIMIT:,} characters"))
    if not owner:
        errors.append(FieldError(f"{path}.owner", "is missing; name the person or team who owns the condition"))
    elif len(owner) > 120:
        errors.append(FieldError(f"{path}.owner", "must be at most 120 characters"))
    due_date = None
    if item.due_date not in (None, ""):
        due_date = assessments.parse_iso_date(item.due_date)
        problem = "" if due_date is not None and due_date == unchanged_due else assessments.check_due_date(due_date, today)
        if problem:
            errors.append(FieldError(f"{path}.due_date", problem))
    return NewCondition(text, owner, due_date, item.before_go_live)


async def decide(
    actor: Actor,
    reference: str,
    number: int,
    expected_version: int | None,
    *,
    action: str,
    reasons: str = "",
    conditions: list[NewCondition] | None = None,
    review_owner: str | None = None,
    consultation_reasons: str = "",
) -> VersionView:
    """Approve, approve with conditions or reject the latest version after the DPO's advice.

    The approver holds the Information Assurance role, did not write or submit the version and did
    not give the DPO advice on it. A decision against that advice needs reasons. Of two decisions
    sent at the same moment exactly one is recorded; the other gets 409.

    The decision also records the rest of the ICO's step 7: for a full DPIA, that the decider
    reviewed the consultation responses (with ``consultation_reasons`` where the decision departs
    from the views of the people consulted), and for an approval, who keeps the DPIA under review:
    the account named ``review_owner``, or the decider when it is None.
    """
    _ensure_role(actor, REVIEWER_ROLE, what="Deciding on a DPIA")
    errors = ErrorCollector()
    if action not in DECISIONS:
        if action:
            errors.add("decision", f"{action!r} is not a decision; use one of: {', '.join(DECISIONS)}")
        else:
            errors.add("decision", "is missing; choose approve, approve with conditions or reject")
    reasons = _clean_reason(reasons, "reasons", "the reasons", required=False, errors=errors)
    consultation_reasons = _clean_reason(
        consultation_reasons, "consultation_reasons", "the reasons", required=False, errors=errors
    )
    owner_id = await _review_owner_id(errors, actor, action, review_owner)
    conditions = conditions or []
    today = london_today()
    cleaned = [
        _check_condition(errors.errors, f"conditions[{index}]", item, today) for index, item in enumerate(conditions)
    ]
    if action == "approve_with_conditions" and not cleaned:
        errors.add("conditions", "is missing; approving with conditions needs at least one condition")
    if action != "approve_with_conditions" and cleaned:
        errors.add("conditions", "are only accepted with the decision approve_with_conditions")
    _check_version_field(errors, expected_version)
    use_case = await register.get_use_case(reference)

    async with write_transaction():
        view, advice = await _review_target(actor, use_case, number, "decision", expected_version)
        if advice is None or advice.content_hash != view.content_hash:
            raise Conflict(f"DPIA version {number} has no DPO advice on its content hash; the DPO must advise first.")
        # The checks that depend on the version join the others, so every problem is reported at once.
        overruled = action in DECISIONS and overrules_advice(action, advice.decision == "advises_approval")
        if overruled and not reasons:
            errors.add(
                "reasons",
                "is missing; this decision goes against the DPO's advice, so give the reasons for overruling it",
            )
        outcome = rules.outcome_of(view.content)
        if consultation_reasons and outcome != "required":
            errors.add(
                "consultation_reasons",
                "applies only to a full DPIA, which records a consultation; leave it empty for a screening outcome",
            )
        _raise_errors(errors.errors)
        assert expected_version is not None

        matrix = await matrix_for(view.content)
        decision = DECISIONS[action]
        review_date = None
        if decision in APPROVED:
            review_date = rules.review_date_for(rules.highest_residual_level(view.content, matrix), london_today())

        after = await assessments.apply_action(
            actor, view, expected_version, WORKFLOW, action, decision=decision, review_date=review_date, note=reasons
        )
        await assessments.record_sign_off(
            actor,
            after,
            role=REVIEWER_ROLE,
            meaning=ADVICE_OVERRULED_MEANING if overruled else ADVICE_ACCEPTED_MEANING,
            decision="overruled" if overruled else "accepted",
            reasons=reasons if overruled else "",
        )
        if outcome == "required":
            await assessments.record_sign_off(
                actor,
                after,
                role=REVIEWER_ROLE,
                meaning=CONSULTATION_REVIEWED_MEANING,
                decision="reviewed",
                reasons=consultation_reasons,
            )
        condition_lines = "\n".join(f"{index + 1}. {item.text} (owner: {item.owner})" for index, item in enumerate(cleaned))
        await assessments.record_sign_off(
            actor,
            after,
            role=REVIEWER_ROLE,
            meaning=decision_meaning(action, outcome),
            decision=decision,
            summary=condition_lines,
            reasons="" if overruled else reasons,
        )
        for item in cleaned:
            await _insert_condition(actor, after, item)
        if decision in APPROVED:
            assert owner_id is not None
            await _name_review_owner(actor, after, owner_id)
        await golive.readiness_may_have_changed(
            actor, use_case.id, f"DPIA version {number} was {decision.replace('_', ' ')}"
        )
    logger.info("DPIA %s v%d %s by %s", use_case.reference, number, decision, actor.username)
    return after


async def _review_owner_id(errors: ErrorCollector, actor: Actor, action: str, username: str | None) -> int | None:
    """Return the account that keeps an approval under review: ``username``'s, or the decider's."""
    username = (username or "").strip()
    if action not in ("approve", "approve_with_conditions"):
        if username:
            errors.add("review_owner", "is only accepted with an approval; leave it out when rejecting")
        return None
    if not username:
        return actor.account_id
    row = (
        await Account.select(Account.id)
        .where((Account.username == username) & (Account.active == True))  # noqa: E712 (Piccolo needs ==)
        .first()
        .run()
    )
    if row is None:
        errors.add("review_owner", f"no active account is named {username!r}; choose a person who can sign in")
        return None
    return row["id"]


async def _name_review_owner(actor: Actor, view: VersionView, account_id: int) -> None:
    await ReviewOwner(
        use_case=view.use_case_id,
        assessment_version=view.id,
        account=account_id,
        named_by=actor.account_id,
        named_at=utcnow(),
    ).save().run()
    owner = await get_review_owner(view.id)
    assert owner is not None
    await audit.record(
        actor,
        "dpia.review_owner_named",
        "dpia",
        f"{view.use_case_ref}/v{view.number}",
        after={"review_owner": owner.username, "review_date": view.review_date},
        use_case_ref=view.use_case_ref,
    )


async def review_owner_choices() -> list[tuple[str, str]]:
    """Return (username, display name) of every active person who signs in, for the decision form."""
    rows = (
        await Account.select(Account.username, Account.display_name)
        .where((Account.active == True) & Account.password_hash.is_not_null())  # noqa: E712 (Piccolo needs ==)
        .order_by(Account.display_name)
        .run()
    )
    return [(row["username"], row["display_name"] or row["username"]) for row in rows]


# After approval ------------------------------------------------------------------------------------


async def _approval_target(
    actor: Actor, use_case: register.UseCaseView, step: str, number: int | None = None
) -> VersionView:
    """Return the approved version on record for ``step``; raise if ``actor`` may not take it now.

    ``number`` is the DPIA version the request names, if it names one. A number never used is a 404.
    """
    latest = await assessments.latest_version(use_case.id, KIND)
    if number is not None and (latest is None or latest.number != number):
        await assessments.get_version(use_case.id, KIND, number)
    _raise_if(permissions.approval_rejection(step, actor, latest, number))
    assert latest is not None
    return latest


async def change_review_date(
    actor: Actor,
    reference: str,
    number: int,
    expected_version: int | None,
    review_date: dt.date | str | None,
    reason: str,
) -> VersionView:
    """Move the approved version's review date, with a reason.

    The new date follows the rule equality review dates follow (``assessments.check_review_date``):
    after today and at most 36 months ahead.
    """
    _ensure_role(actor, REVIEWER_ROLE, what="Changing a DPIA's review date")
    errors = ErrorCollector()
    day = assessments.parse_iso_date(review_date)
    problem = assessments.check_review_date(day, london_today())
    if problem:
        errors.add("review_date", problem)
    reason = _clean_reason(reason, "reason", "the reason for the new review date", errors=errors)
    _check_version_field(errors, expected_version)
    _raise_errors(errors.errors)
    assert day is not None and expected_version is not None
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view = await _approval_target(actor, use_case, "review_date", number)
        _check_lock(f"DPIA version {view.number}", view.version, expected_version)
        return await assessments.change_review_date(actor, view, expected_version, day, reason)


async def revoke(actor: Actor, reference: str, number: int, expected_version: int | None, reason: str) -> VersionView:
    _ensure_role(actor, REVIEWER_ROLE, what="Revoking a DPIA approval")
    errors = ErrorCollector()
    reason = _clean_reason(reason, "reason", "the reason for revoking the approval", errors=errors)
    _check_version_field(errors, expected_version)
    _raise_errors(errors.errors)
    assert expected_version is not None
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view = await _approval_target(actor, use_case, "revoke", number)
        _check_lock(f"DPIA version {view.number}", view.version, expected_version)
        return await assessments.revoke(actor, view, expected_version, reason)


async def _insert_condition(actor: Actor, view: VersionView, item: NewCondition) -> ConditionView:
    now = utcnow()
    row = Condition(
        use_case=view.use_case_id,
        assessment_version=view.id,
        text=item.text,
        owner=item.owner,
        due_date=item.due_date,
        before_go_live=item.before_go_live,
        created_by=actor.account_id,
        created_at=now,
        met_note="",
        withdrawal_reason="",
        version=1,
    )
    await row.save().run()
    condition = await _condition(view.use_case_id, row.id)
    await audit.record(
        actor,
        "dpia.condition_added",
        "dpia_condition",
        f"{view.use_case_ref}/condition/{row.id}",
        after=condition.snapshot(),
        use_case_ref=view.use_case_ref,
    )
    return condition


async def _condition(use_case_id: int, condition_id: int) -> ConditionView:
    for item in await list_conditions(use_case_id):
        if item.id == condition_id:
            return item
    raise NotFound(f"No DPIA condition with id {condition_id} belongs to this use case.")


def _condition_field_errors(errors: list[FieldError]) -> list[FieldError]:
    """Name a single condition's fields as its form and API body do: ``due_date``, not ``condition.due_date``."""
    return [FieldError(error.field.removeprefix("condition."), error.message) for error in errors]


async def add_condition(actor: Actor, reference: str, item: NewCondition, *, form_id: str = "") -> ConditionView:
    """Attach a condition to the approved version on record.

    ``form_id`` is the one-time id of the form that sent it, so that a double click adds the
    condition once (``governance.submissions``).
    """
    _ensure_role(actor, REVIEWER_ROLE, what="Adding a DPIA condition")
    errors: list[FieldError] = []
    item = _check_condition(errors, "condition", item, london_today())
    _raise_errors(_condition_field_errors(errors))
    use_case = await register.get_use_case(reference)
    request = submissions.request_hash({"use_case": use_case.reference, "condition": dataclasses.asdict(item)})
    async with write_transaction():
        if form_id:
            earlier = await submissions.previous_result(actor, CONDITION_FORM_ACTION, form_id, request)
            if earlier is not None:
                return await _condition(use_case.id, int(earlier))
        view = await _approval_target(actor, use_case, "condition")
        condition = await _insert_condition(actor, view, item)
        if form_id:
            await submissions.remember(actor, CONDITION_FORM_ACTION, form_id, request, str(condition.id))
        await golive.readiness_may_have_changed(
            actor, use_case.id, f"condition {condition.number} was added to DPIA version {view.number}"
        )
    return condition


async def _change_condition(
    actor: Actor,
    reference: str,
    condition_id: int,
    expected_version: int,
    step: str,
    values: dict[Any, Any],
    note: str = "",
) -> ConditionView:
    """Apply ``values`` to a condition as ``step`` (met, reopen, withdraw or update) and audit it."""
    use_case = await register.get_use_case(reference)
    allowed, _ = await may_edit(actor, use_case)
    action = CONDITION_ACTIONS[step]
    async with write_transaction():
        before = await _condition(use_case.id, condition_id)
        latest = await assessments.latest_version(use_case.id, KIND)
        name = f"Condition {before.number} of DPIA version {before.version_number}"
        _check_lock(name, before.version, expected_version)
        _raise_if(permissions.condition_rejection(step, actor, before, latest.number if latest else None, allowed))
        await Condition.update({**values, Condition.version: before.version + 1}).where(
            (Condition.id == condition_id) & (Condition.version == expected_version)
        ).run()
        after = await _condition(use_case.id, condition_id)
        await audit.record(
            actor,
            f"dpia.condition_{action}",
            "dpia_condition",
            f"{use_case.reference}/condition/{condition_id}",
            before=before.snapshot(),
            after=after.snapshot(),
            use_case_ref=use_case.reference,
            note=note,
        )
        await golive.readiness_may_have_changed(
            actor,
            use_case.id,
            f"condition {after.number} of DPIA version {after.version_number} was {action.replace('_', ' ')}",
        )
    return after


async def update_condition(
    actor: Actor, reference: str, condition_id: int, expected_version: int, changes: dict[str, Any]
) -> ConditionView:
    """Change a condition's text, owner, due date or go-live flag."""
    _ensure_role(actor, REVIEWER_ROLE, what="Changing a DPIA condition")
    unknown = sorted(set(changes) - {"text", "owner", "due_date", "before_go_live"})
    if unknown:
        _raise_errors([FieldError(key, "is not a field of a condition") for key in unknown])
    if not changes:
        _raise_errors([FieldError("body", "send at least one of: text, owner, due_date, before_go_live")])
    use_case = await register.get_use_case(reference)
    current = await _condition(use_case.id, condition_id)
    merged = NewCondition(
        text=changes.get("text", current.text),
        owner=changes.get("owner", current.owner),
        due_date=changes.get("due_date", current.due_date),
        before_go_live=changes.get("before_go_live", current.before_go_live),
    )
    errors: list[FieldError] = []
    merged = _check_condition(errors, "condition", merged, london_today(), unchanged_due=current.due_date)
    _raise_errors(_condition_field_errors(errors))
    values = {
        Condition.text: merged.text,
        Condition.owner: merged.owner,
        Condition.due_date: merged.due_date,
        Condition.before_go_live: merged.before_go_live,
    }
    return await _change_condition(actor, reference, condition_id, expected_version, "update", values)


def _reason_and_version(
    value: str, field: str, what: str, expected_version: int | None
) -> tuple[str, int]:
    """Return the cleaned reason and the form's version, raising every problem with them at once."""
    errors = ErrorCollector()
    text = _clean_reason(value, field, what, errors=errors)
    _check_version_field(errors, expected_version)
    _raise_errors(errors.errors)
    assert expected_version is not None
    return text, expected_version


async def mark_condition_met(
    actor: Actor, reference: str, condition_id: int, expected_version: int | None, note: str
) -> ConditionView:
    """Record that a condition is met, with how; the owner's department or IA may do so."""
    _ensure_role(actor, *CONDITION_MET_ROLES, what="Marking a DPIA condition met")
    note, expected = _reason_and_version(note, "note", "how the condition was met", expected_version)
    values = {Condition.met_at: utcnow(), Condition.met_by: actor.account_id, Condition.met_note: note}
    return await _change_condition(actor, reference, condition_id, expected, "met", values, note)


async def reopen_condition(
    actor: Actor, reference: str, condition_id: int, expected_version: int | None, reason: str
) -> ConditionView:
    """Mark a met condition as not met after all (Information Assurance only)."""
    _ensure_role(actor, REVIEWER_ROLE, what="Reopening a DPIA condition")
    reason, expected = _reason_and_version(
        reason, "reason", "the reason the condition is not met after all", expected_version
    )
    values = {Condition.met_at: None, Condition.met_by: None, Condition.met_note: ""}
    return await _change_condition(actor, reference, condition_id, expected, "reopen", values, reason)


async def withdraw_condition(
    actor: Actor, reference: str, condition_id: int, expected_version: int | None, reason: str
) -> ConditionView:
    """Withdraw a condition with a reason; it stays on record but no longer blocks go-live."""
    _ensure_role(actor, REVIEWER_ROLE, what="Withdrawing a DPIA condition")
    reason, expected = _reason_and_version(
        reason, "reason", "the reason for withdrawing the condition", expected_version
    )
    values = {
        Condition.withdrawn_at: utcnow(),
        Condition.withdrawn_by: actor.account_id,
        Condition.withdrawal_reason: reason,
    }
    return await _change_condition(actor, reference, condition_id, expected, "withdraw", values, reason)


async def _ico_target(actor: Actor, use_case: register.UseCaseView, step: str) -> tuple[VersionView, IcoView | None]:
    """Return the version on record and its ICO consultation; raise if ``actor`` may not take ``step``."""
    latest = await _latest(use_case)
    matrix = await matrix_for(latest.content)
    ico = await get_ico_consultation(latest.id)
    required = latest.status in APPROVED and rules.ico_consultation_required(latest.content, matrix)
    _raise_if(permissions.ico_rejection(step, actor, latest, required, ico))
    return latest, ico


async def record_ico_consultation(
    actor: Actor,
    reference: str,
    *,
    submitted_on: dt.date | str | None,
    ico_reference: str = "",
    notes: str = "",
    form_id: str = "",
) -> IcoView:
    """Record that the ICO was consulted about the approved version; it is pending until the ICO responds.

    ``form_id`` is the one-time id of the form that sent it, so that a double click records it once.
    """
    _ensure_role(actor, *ICO_ROLES, what="Recording an ICO consultation")
    errors = ErrorCollector()
    day = _date_field(
        errors, "submitted_on", submitted_on, "enter the date the consultation was sent as YYYY-MM-DD, for example 2026-11-02"
    )
    if day is not None and day > london_today():
        errors.add("submitted_on", "must not be in the future")
    ico_reference = (ico_reference or "").strip()
    if len(ico_reference) > 120:
        errors.add("ico_reference", "must be at most 120 characters")
    notes = _clean_reason(notes, "notes", "notes", required=False, errors=errors)
    _raise_errors(errors.errors)
    assert day is not None
    submitted_on = day
    use_case = await register.get_use_case(reference)
    request = submissions.request_hash(
        {"use_case": use_case.reference, "submitted_on": day.isoformat(), "ico_reference": ico_reference, "notes": notes}
    )
    async with write_transaction():
        if form_id:
            earlier = await submissions.previous_result(actor, ICO_FORM_ACTION, form_id, request)
            if earlier is not None:
                view = await _latest(use_case)
                ico = await get_ico_consultation(view.id)
                assert ico is not None and str(ico.id) == earlier
                return ico
        view, _ = await _ico_target(actor, use_case, "record")
        now = utcnow()
        await IcoConsultation(
            use_case=use_case.id,
            assessment_version=view.id,
            submitted_on=submitted_on,
            ico_reference=ico_reference,
            notes=notes,
            status="pending",
            response="",
            recorded_by=actor.account_id,
            created_at=now,
            updated_at=now,
            version=1,
        ).save().run()
        after = await get_ico_consultation(view.id)
        assert after is not None
        if form_id:
            await submissions.remember(actor, ICO_FORM_ACTION, form_id, request, str(after.id))
        await audit.record(
            actor,
            "dpia.ico_consultation_recorded",
            "dpia_ico_consultation",
            f"{use_case.reference}/v{view.number}/ico",
            after=after.snapshot(),
            use_case_ref=use_case.reference,
        )
        await golive.readiness_may_have_changed(
            actor, use_case.id, f"prior consultation with the ICO on DPIA version {view.number} is pending"
        )
    return after


async def _change_ico(
    actor: Actor, reference: str, expected_version: int, step: str, values: dict[Any, Any], note: str
) -> IcoView:
    """Apply ``values`` to the ICO consultation as ``step`` (response or reopen) and audit it."""
    action = {"response": "concluded", "reopen": "reopened"}[step]
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view, before = await _ico_target(actor, use_case, step)
        assert before is not None
        _check_lock("The ICO consultation", before.version, expected_version)
        await IcoConsultation.update(
            {**values, IcoConsultation.updated_at: utcnow(), IcoConsultation.version: before.version + 1}
        ).where((IcoConsultation.id == before.id) & (IcoConsultation.version == expected_version)).run()
        after = await get_ico_consultation(view.id)
        assert after is not None
        await audit.record(
            actor,
            f"dpia.ico_consultation_{action}",
            "dpia_ico_consultation",
            f"{use_case.reference}/v{view.number}/ico",
            before=before.snapshot(),
            after=after.snapshot(),
            use_case_ref=use_case.reference,
            note=note,
        )
        await golive.readiness_may_have_changed(
            actor, use_case.id, f"prior consultation with the ICO on DPIA version {view.number} was {action}"
        )
    return after


async def record_ico_response(
    actor: Actor,
    reference: str,
    expected_version: int | None,
    *,
    response: str,
    response_received_on: dt.date | str | None,
    outcome: str,
) -> IcoView:
    """Record the ICO's response and outcome, which concludes the consultation."""
    _ensure_role(actor, *ICO_ROLES, what="Recording the ICO's response")
    errors = ErrorCollector()
    response = (response or "").strip()
    if not response:
        errors.add("response", "is missing; summarise the ICO's response")
    elif len(response) > REASON_LIMIT:
        errors.add("response", f"must be at most {REASON_LIMIT:,} characters")
    day = _date_field(
        errors,
        "response_received_on",
        response_received_on,
        "enter the date the ICO responded as YYYY-MM-DD, for example 2026-12-01",
    )
    if day is not None and day > london_today():
        errors.add("response_received_on", "must not be in the future")
    use_case = await register.get_use_case(reference)
    latest = await _latest(use_case)
    recorded = await get_ico_consultation(latest.id)
    # The submission date never changes once recorded, so checking it before the transaction is safe.
    if day is not None and recorded is not None and day < recorded.submitted_on:
        errors.add(
            "response_received_on",
            f"must not be before the date the consultation was sent, {format_date(recorded.submitted_on)}",
        )
    if not outcome:
        errors.add("outcome", "is missing; choose the outcome of the consultation")
    elif outcome not in ICO_OUTCOMES:
        errors.add("outcome", f"{outcome!r} is not allowed; use one of: {', '.join(ICO_OUTCOMES)}")
    _check_version_field(errors, expected_version)
    _raise_errors(errors.errors)
    assert day is not None and expected_version is not None

    values = {
        IcoConsultation.response: response,
        IcoConsultation.response_received_on: day,
        IcoConsultation.outcome: outcome,
        IcoConsultation.status: "concluded",
    }
    return await _change_ico(actor, reference, expected_version, "response", values, "")


async def reopen_ico_consultation(actor: Actor, reference: str, expected_version: int | None, reason: str) -> IcoView:
    """Make a concluded consultation pending again (for example when the ICO asks for more)."""
    _ensure_role(actor, *ICO_ROLES, what="Reopening an ICO consultation")
    reason, expected = _reason_and_version(reason, "reason", "the reason for reopening the consultation", expected_version)
    values = {IcoConsultation.status: "pending", IcoConsultation.outcome: None}
    return await _change_ico(actor, reference, expected, "reopen", values, reason)
