"""Equality screenings and full equality impact assessments: the service layer.

Both are versioned assessments (``governance.assessments``) with the same workflow: a draft is
saved as often as needed, submitting freezes and hashes it, and the equality lead approves it,
requests changes or rejects it. The lead must not have written, edited or submitted the version,
may decide only the latest version, and signs the decision against the version's hash.

A full assessment responds to the newest screening version that is submitted or approved (and not
revoked), once that version finds a negative or not known impact. When a newer screening version is
submitted, the full-assessment draft moves onto its impacts. An approved full assessment stays valid
for a newer approved screening only while it covers every impact that screening flags. Otherwise
the readiness check names the impacts it does not cover.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from equality import characteristics as local_characteristics
from equality.permissions import (
    AlreadyRecorded,
    ChangedMeanwhile,
    Refusal,
    approval_refusal,
    approved_change_refusal,
    basis_refusal,
    basis_version,
    decision_refusal,
    edit_refusal,
    named,
    start_refusal,
    status_words,
)
from equality.rules import (
    ASSESSMENT,
    DECISIONS,
    KIND_LABELS,
    KINDS,
    SCHEMAS,
    SCREENING,
    ScreeningBasis,
    blank_assessment,
    blank_screening,
    check_lock,
    clean_assessment,
    clean_decision,
    clean_review_change,
    clean_revocation,
    clean_screening,
    flagged_impacts,
    rebase_assessment,
    rebase_screening,
    review_date_for,
)
from governance import assessments, golive, register
from governance.assessments import Change, SignOffView, VersionView, Workflow
from governance.audit import Actor
from governance.clock import format_datetime, london_today, utcnow
from governance.database import write_transaction
from governance.errors import Conflict, ErrorCollector, Forbidden, InvalidInput, NotFound
from governance.register import UseCaseView
from governance.roles import Role

logger = logging.getLogger(__name__)

WORKFLOW = Workflow(
    transitions={
        "draft": {"submit": "submitted"},
        "submitted": {
            "approve": "approved",
            "request_changes": "changes_requested",
            "reject": "rejected",
        },
    },
    editable=frozenset({"draft"}),
    frozen_by=frozenset({"submit"}),
)

# The meaning of the equality lead's signature for each decision, stored with the sign-off.
MEANINGS: dict[tuple[str, str], str] = {
    (SCREENING, "approve"): "Equality screening approved: due regard shown",
    (SCREENING, "request_changes"): "Changes requested to the equality screening",
    (SCREENING, "reject"): "Equality screening rejected",
    (SCREENING, "revoke"): "Approval of the equality screening revoked",
    (
        ASSESSMENT,
        "approve",
    ): "Full equality impact assessment approved: due regard shown and mitigations accepted",
    (ASSESSMENT, "request_changes"): "Changes requested to the full equality impact assessment",
    (ASSESSMENT, "reject"): "Full equality impact assessment rejected",
    (ASSESSMENT, "revoke"): "Approval of the full equality impact assessment revoked",
}
# The past tense of each decision, as in "You already approved ...".
DECISION_VERBS = {
    "approved": "approved",
    "changes_requested": "requested changes to",
    "rejected": "rejected",
}

AUTHOR_ROLES = (Role.CENTRAL_TEAM, Role.BUSINESS_OWNER)
LEAD_ROLES = (Role.EQUALITY_LEAD,)

T = TypeVar("T")


# Checks --------------------------------------------------------------------------------------------


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is an equality assessment kind; raise ``NotFound`` otherwise."""
    if kind not in KINDS:
        raise NotFound(
            f"There is no equality record called {kind!r}. Use one of: {', '.join(KINDS)}."
        )
    return kind


async def ensure_author(actor: Actor, use_case: UseCaseView) -> None:
    """Allow the central team anywhere and business owners in their own department."""
    await register.ensure_can_edit(actor, use_case.department)


async def may_author(actor: Actor, use_case: UseCaseView) -> bool:
    try:
        await ensure_author(actor, use_case)
    except Forbidden:
        return False
    return True


def ensure_lead(actor: Actor, what: str) -> None:
    if not actor.has_any(*LEAD_ROLES):
        raise Forbidden(f"{what[:1].upper()}{what[1:]} needs the equality lead role.")


def _raise(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise refusal.error()


def checked_request(expected_version: Any, clean: Callable[[], T]) -> tuple[int, T]:
    """Run ``clean`` and check the request's lock value, then raise the problems of both at once."""
    errors = ErrorCollector()
    expected = check_lock(errors, expected_version)
    try:
        result = clean()
    except InvalidInput as error:
        raise InvalidInput([*errors.errors, *error.errors]) from None
    errors.raise_if_any()
    return expected, result


# Reading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EqualityRecord:
    """A use case's screening and full-assessment versions, oldest first."""

    use_case: UseCaseView
    screening: list[VersionView]
    assessment: list[VersionView]

    def versions(self, kind: str) -> list[VersionView]:
        return self.screening if kind == SCREENING else self.assessment

    def latest(self, kind: str) -> VersionView | None:
        versions = self.versions(kind)
        return versions[-1] if versions else None

    def version(self, kind: str, number: int) -> VersionView:
        for item in self.versions(kind):
            if item.number == number:
                return item
        raise NotFound(
            f"{self.use_case.reference} has no {KIND_LABELS[kind].lower()} version {number}."
        )

    @property
    def basis(self) -> VersionView | None:
        """The screening version a full assessment responds to, if it needs one."""
        if basis_refusal(self.screening) is not None:
            return None
        return basis_version(self.screening)


async def load_record(reference: str) -> EqualityRecord:
    use_case = await register.get_use_case(reference)
    return EqualityRecord(
        use_case=use_case,
        screening=await assessments.list_versions(use_case.id, SCREENING),
        assessment=await assessments.list_versions(use_case.id, ASSESSMENT),
    )


async def _version(use_case: UseCaseView, kind: str, number: int) -> VersionView:
    try:
        return await assessments.get_version(use_case.id, kind, number)
    except NotFound:
        raise NotFound(
            f"{use_case.reference} has no {KIND_LABELS[kind].lower()} version {number}."
        ) from None


async def _screening_versions(use_case_id: int) -> list[VersionView]:
    return await assessments.list_versions(use_case_id, SCREENING)


async def get_version(reference: str, kind: str, number: int) -> VersionView:
    use_case = await register.get_use_case(reference)
    return await _version(use_case, check_kind(kind), number)


async def list_versions(reference: str, kind: str) -> list[VersionView]:
    use_case = await register.get_use_case(reference)
    return await assessments.list_versions(use_case.id, check_kind(kind))


async def sign_offs(view: VersionView) -> list[SignOffView]:
    return await assessments.list_sign_offs(view.id)


def _basis_from(view: VersionView) -> ScreeningBasis:
    assert view.content_hash is not None
    return ScreeningBasis(view.number, view.content_hash, tuple(flagged_impacts(view.content)))


async def screening_basis(use_case_id: int) -> ScreeningBasis:
    """Return what a full assessment must respond to; raise ``Conflict`` when none is needed yet."""
    versions = await assessments.list_versions(use_case_id, SCREENING)
    _raise(basis_refusal(versions))
    basis = basis_version(versions)
    assert basis is not None
    return _basis_from(basis)


def _previous_approved(versions: list[VersionView], number: int) -> VersionView | None:
    earlier = [item for item in versions if item.number < number and item.decision == "approved"]
    return earlier[-1] if earlier else None


async def diff_version(
    reference: str, kind: str, number: int, against: int | None = None
) -> tuple[VersionView, VersionView | None, list[Change]]:
    """Compare a version with ``against``; by default the last approved version before it, or the one before.

    Returns (version, the version compared with or None for a first version, the changes).
    """
    versions = await list_versions(reference, kind)
    by_number = {item.number: item for item in versions}
    if number not in by_number:
        raise NotFound(f"{reference} has no {KIND_LABELS[kind].lower()} version {number}.")
    view = by_number[number]
    if against is None:
        base = _previous_approved(versions, number) or by_number.get(number - 1)
    elif against in by_number:
        base = by_number[against]
    else:
        raise InvalidInput.single("against", f"there is no version {against} to compare with")
    changes = assessments.diff_content(base.content if base else {}, view.content)
    return view, base, changes


# Writing -------------------------------------------------------------------------------------------


Cleaner = Callable[[Mapping[str, Any], bool], dict[str, Any]]


async def content_cleaner(kind: str, use_case_id: int) -> Cleaner:
    """Return ``clean(data, complete)`` for ``kind``, bound to what it is checked against now.

    A screening is checked against today's characteristics, a full assessment against the
    screening it responds to and today's date (due dates must not be past).
    """
    if kind == SCREENING:
        characteristics = await local_characteristics.current_characteristics()
        return lambda data, complete: clean_screening(data, characteristics, complete=complete)
    basis = await screening_basis(use_case_id)
    today = london_today(utcnow())
    return lambda data, complete: clean_assessment(data, basis, complete=complete, today=today)


def editable_input(kind: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """Return the parts of stored content that an author edits, in the shape the API accepts."""
    if kind == SCREENING:
        return {
            "proposal": content.get("proposal", ""),
            "characteristics": dict(content.get("characteristics") or {}),
            "aims": dict(content.get("aims") or {}),
        }
    return {
        "impacts": {
            key: {
                name: entry.get(name)
                for name in ("mitigation", "owner", "due_date", "remains", "justification")
            }
            for key, entry in (content.get("impacts") or {}).items()
        },
        "action_plan": list(content.get("action_plan") or []),
        "engagement": content.get("engagement", ""),
    }


async def _rebased(kind: str, use_case_id: int, content: Mapping[str, Any]) -> dict[str, Any]:
    if kind == SCREENING:
        return rebase_screening(content, await local_characteristics.current_characteristics())
    return rebase_assessment(content, await screening_basis(use_case_id))


async def start_version(actor: Actor, reference: str, kind: str) -> VersionView:
    """Start the next draft: a copy of the latest version moved onto today's characteristics or impacts."""
    check_kind(kind)
    use_case = await register.get_use_case(reference)
    await ensure_author(actor, use_case)
    async with write_transaction():
        versions = await assessments.list_versions(use_case.id, kind)
        if kind == SCREENING:
            screening = versions
        else:
            screening = await _screening_versions(use_case.id)
        _raise(start_refusal(kind, True, versions, screening))
        previous = versions[-1] if versions else None
        if previous is not None:
            content = await _rebased(kind, use_case.id, previous.content)
        elif kind == SCREENING:
            content = blank_screening(await local_characteristics.current_characteristics())
        else:
            content = blank_assessment(await screening_basis(use_case.id))
        view = await assessments.start_version(
            actor, use_case.id, kind, SCHEMAS[kind], WORKFLOW, content=content
        )
    logger.info("%s %s v%d started by %s", kind, use_case.reference, view.number, actor.username)
    return view


async def save_draft(
    actor: Actor,
    reference: str,
    kind: str,
    number: int,
    expected_version: Any,
    data: Mapping[str, Any],
) -> VersionView:
    """Replace a draft's content after checking each value; unanswered fields are allowed until submission.

    A save whose content equals what is stored changes nothing, so it succeeds even when its
    ``expected_version`` is out of date (a double click on "Save draft").
    """
    check_kind(kind)
    use_case = await register.get_use_case(reference)
    await ensure_author(actor, use_case)
    async with write_transaction():
        view = await _version(use_case, kind, number)
        _raise(edit_refusal(True, view, await _screening_versions(use_case.id)))
        clean = await content_cleaner(kind, use_case.id)
        expected, content = checked_request(expected_version, lambda: clean(data, False))
        if view.version != expected:
            if content == view.content:
                return view
            raise ChangedMeanwhile(named(kind, number).lower(), expected, view.version)
        return await assessments.save_draft(actor, view, expected, content, WORKFLOW)


def _repeat_submission(actor: Actor, view: VersionView) -> AlreadyRecorded | None:
    """Return the error for a repeated "submit" by the person who submitted ``view``, or None."""
    if view.status == "draft" or view.submitted_by_id != actor.account_id:
        return None
    since = "it was submitted once"
    if view.status != "submitted":
        since = f"it is now {status_words(view)}"
    return AlreadyRecorded(
        f"You already submitted {named(view.kind, view.number).lower()} on "
        f"{format_datetime(view.submitted_at)}, so {since}.",
        by_you=True,
        outcome="submitted",
    )


async def _freeze(
    actor: Actor, kind: str, use_case_id: int, view: VersionView, clean: Cleaner
) -> VersionView:
    """Check that every answer is given, then freeze and hash the draft.

    The draft is first moved onto the current characteristics (screening), or onto the impacts of
    the screening it responds to (full assessment), so that what is frozen is complete and current.
    """
    rebased = await _rebased(kind, use_case_id, view.content)
    content = clean(editable_input(kind, rebased), True)
    if content != view.content:
        view = await assessments.save_draft(actor, view, view.version, content, WORKFLOW)
    return await assessments.apply_action(actor, view, view.version, WORKFLOW, "submit")


async def submit(
    actor: Actor, reference: str, kind: str, number: int, expected_version: Any
) -> VersionView:
    """Check that every answer is given, then freeze and hash the draft for the equality lead."""
    check_kind(kind)
    use_case = await register.get_use_case(reference)
    await ensure_author(actor, use_case)
    errors = ErrorCollector()
    expected = check_lock(errors, expected_version)
    errors.raise_if_any()
    async with write_transaction():
        view = await _version(use_case, kind, number)
        repeat = _repeat_submission(actor, view)
        if repeat is not None:
            raise repeat
        _raise(edit_refusal(True, view, await _screening_versions(use_case.id)))
        if view.version != expected:
            raise ChangedMeanwhile(named(kind, number).lower(), expected, view.version)
        clean = await content_cleaner(kind, use_case.id)
        return await _freeze(actor, kind, use_case.id, view, clean)


@dataclass(frozen=True)
class SubmitAttempt:
    """The outcome of "save and submit": ``view`` is the submitted version, or the draft as saved.

    ``problems`` lists every reason the draft could not be submitted; None when it was submitted.
    """

    view: VersionView
    problems: InvalidInput | None = None


async def save_and_submit(
    actor: Actor,
    reference: str,
    kind: str,
    number: int,
    expected_version: Any,
    data: Mapping[str, Any],
) -> SubmitAttempt:
    """Save the draft and submit it in one step, reporting every problem of both at once.

    Raises ``InvalidInput`` and stores nothing when a value is invalid even for a draft. When the
    values are valid but some answers are missing, saves the draft and returns the problems, so
    that the author keeps their work and sees the whole list. A repeat of a submission the same
    person already made, with the same content, raises ``AlreadyRecorded``.
    """
    check_kind(kind)
    use_case = await register.get_use_case(reference)
    await ensure_author(actor, use_case)
    async with write_transaction():
        view = await _version(use_case, kind, number)
        repeat = _repeat_submission(actor, view)
        if repeat is not None and await _matches(kind, use_case.id, data, view.content):
            raise repeat
        _raise(edit_refusal(True, view, await _screening_versions(use_case.id)))
        clean = await content_cleaner(kind, use_case.id)

        lock = ErrorCollector()
        expected = check_lock(lock, expected_version)
        try:
            content = clean(data, True)
            incomplete = None
        except InvalidInput as error:
            incomplete = InvalidInput([*lock.errors, *error.errors])
        if incomplete is None:
            lock.raise_if_any()
            if content != view.content:
                if view.version != expected:
                    raise ChangedMeanwhile(named(kind, number).lower(), expected, view.version)
                view = await assessments.save_draft(actor, view, expected, content, WORKFLOW)
            return SubmitAttempt(await _freeze(actor, kind, use_case.id, view, clean))

        # Some answers are missing: keep what can be kept as a draft, then report everything.
        try:
            draft = clean(data, False)
        except InvalidInput:
            raise incomplete from None
        if lock.errors:
            raise incomplete
        if draft != view.content:
            if view.version != expected:
                raise ChangedMeanwhile(named(kind, number).lower(), expected, view.version)
            view = await assessments.save_draft(actor, view, expected, draft, WORKFLOW)
    return SubmitAttempt(view, incomplete)


async def _matches(
    kind: str, use_case_id: int, data: Mapping[str, Any], content: Mapping[str, Any]
) -> bool:
    """Return whether ``data`` is complete and, once cleaned, equal to ``content``."""
    try:
        clean = await content_cleaner(kind, use_case_id)
        return clean(data, True) == content
    except (InvalidInput, Conflict):
        return False


async def _repeat_decision(view: VersionView, actor: Actor, action: str) -> AlreadyRecorded | None:
    """Return the error for a decision that is already on record, or None.

    The same decision from the same lead is a double click, so nothing is lost. The same decision
    from another lead means that this lead's signature was not recorded, and the message names the
    lead who signed.
    """
    decision = DECISIONS.get(action)
    if decision is None or view.decision != decision or view.revoked_at is not None:
        return None
    signed = [item for item in await sign_offs(view) if item.decision == decision]
    if not signed:
        return None
    sign_off = signed[-1]
    verb = DECISION_VERBS[decision]
    what = named(view.kind, view.number).lower()
    when = format_datetime(sign_off.signed_at)
    if sign_off.account_id == actor.account_id:
        return AlreadyRecorded(
            f"You already {verb} {what} on {when}; it was recorded once.",
            by_you=True,
            outcome=decision,
        )
    return AlreadyRecorded(
        f"{sign_off.signer_name} already {verb} {what} on {when}, so your decision was not "
        "recorded.",
        by_you=False,
        outcome=decision,
    )


async def decide(
    actor: Actor,
    reference: str,
    kind: str,
    number: int,
    expected_version: Any,
    action: Any,
    *,
    summary: Any = "",
    reasons: Any = "",
) -> VersionView:
    """Record the equality lead's decision on the latest submitted version and sign it.

    Raises ``Forbidden`` unless the actor is an equality lead who did not write, edit or submit
    the version, and ``InvalidInput`` naming every bad field. Raises ``Conflict`` when the version
    is not the latest or not awaiting a decision (``AlreadyRecorded`` when it already has this
    decision), and ``StaleVersion`` when another change got there first, so exactly one decision
    is recorded.
    """
    check_kind(kind)
    ensure_lead(actor, "deciding on an equality screening or full assessment")
    expected, (action, summary, reasons) = checked_request(
        expected_version, lambda: clean_decision(action, summary, reasons)
    )

    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view = await _version(use_case, kind, number)
        latest = await assessments.latest_version(use_case.id, kind)
        refusal = decision_refusal(actor.account_id, True, view, latest)
        if refusal is not None and refusal.status_code == 409:
            repeat = await _repeat_decision(view, actor, action)
            if repeat is not None:
                raise repeat
        _raise(refusal)
        if view.version != expected:
            raise ChangedMeanwhile(named(kind, number).lower(), expected, view.version)
        if action == "approve":
            screening = await assessments.latest_version(use_case.id, SCREENING)
            _raise(approval_refusal(view, screening))

        review_date = None
        if action == "approve":
            review_date = review_date_for(kind, london_today(utcnow()), view.content)
        after = await assessments.apply_action(
            actor,
            view,
            expected,
            WORKFLOW,
            action,
            decision=DECISIONS[action],
            review_date=review_date,
            note=reasons or summary,
        )
        await assessments.record_sign_off(
            actor,
            after,
            role=Role.EQUALITY_LEAD,
            meaning=MEANINGS[(kind, action)],
            decision=DECISIONS[action],
            summary=summary,
            reasons=reasons,
        )
        # A decision can restore (or end) a live use case's readiness, so clear or raise its flag now.
        outcome = DECISIONS[action].replace("_", " ")
        await golive.readiness_may_have_changed(
            actor, use_case.id, f"{KIND_LABELS[kind].lower()} version {view.number} was {outcome}"
        )
    return after


async def revoke(
    actor: Actor, reference: str, kind: str, number: int, expected_version: Any, reason: Any
) -> VersionView:
    """Revoke the approval of the latest version with a reason, and sign the revocation."""
    check_kind(kind)
    ensure_lead(actor, "revoking an equality approval")
    expected, reason = checked_request(expected_version, lambda: clean_revocation(reason))
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view = await _version(use_case, kind, number)
        latest = await assessments.latest_version(use_case.id, kind)
        if view.revoked_at is not None and view.revoked_by == actor.username:
            raise AlreadyRecorded(
                f"You already revoked the approval of {named(kind, number).lower()} on "
                f"{format_datetime(view.revoked_at)}; it was recorded once.",
                by_you=True,
                outcome="revoked",
            )
        _raise(approved_change_refusal(True, view, latest, "revoke"))
        if view.version != expected:
            raise ChangedMeanwhile(named(kind, number).lower(), expected, view.version)
        after = await assessments.revoke(actor, view, expected, reason)
        await assessments.record_sign_off(
            actor,
            after,
            role=Role.EQUALITY_LEAD,
            meaning=MEANINGS[(kind, "revoke")],
            decision="revoked",
            reasons=reason,
        )
    return after


async def change_review_date(
    actor: Actor,
    reference: str,
    kind: str,
    number: int,
    expected_version: Any,
    review_date: Any,
    reason: Any,
) -> VersionView:
    """Move the review date of the latest approved version, with a reason."""
    check_kind(kind)
    ensure_lead(actor, "changing an equality review date")
    today = london_today(utcnow())
    expected, (day, reason) = checked_request(
        expected_version, lambda: clean_review_change(review_date, reason, today)
    )
    use_case = await register.get_use_case(reference)
    async with write_transaction():
        view = await _version(use_case, kind, number)
        latest = await assessments.latest_version(use_case.id, kind)
        _raise(approved_change_refusal(True, view, latest, "change the review date of"))
        if view.version != expected:
            raise ChangedMeanwhile(named(kind, number).lower(), expected, view.version)
        return await assessments.change_review_date(actor, view, expected, day, reason)
