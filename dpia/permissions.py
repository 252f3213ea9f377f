"""Permission rules for each DPIA step: pure functions that the service enforces and the pages render from.

Each function returns None when the step is allowed, or a ``Rejection`` saying why not. The service
raises the rejection as an error: 403 for a missing role or a separation-of-duties rule, 409 for a
record in the wrong state. The pages show a form or link only when the same function returns None,
so no page offers a step that the server would then reject.

Rules that need the database take their facts as arguments: ``may_edit`` is whether
``register.ensure_can_edit`` lets the person change the use case (central team anywhere, business
owners in their own department), and ``adviser_id`` is the account that gave the DPO advice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.assessments import VersionView
from governance.audit import Actor
from governance.errors import Conflict, DomainError, Forbidden
from governance.roles import Role

from dpia.workflow import (
    ADVISER_ROLE,
    APPROVED,
    AUTHOR_ROLES,
    CONDITION_MET_ROLES,
    ICO_ROLES,
    REVIEWER_ROLE,
    WORKFLOW,
    status_phrase,
)


@dataclass(frozen=True)
class Rejection:
    """Why a step is not allowed now: ``forbidden`` (403) or a conflict with the record (409)."""

    forbidden: bool
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def error(self) -> DomainError:
        if self.forbidden:
            return Forbidden(self.message)
        return Conflict(self.message, extra=self.extra)


def role_rejection(actor: Actor, roles: tuple[Role, ...], step: str) -> Rejection | None:
    """Check that ``actor`` has one of ``roles``. ``step`` names the step, as in "Starting a DPIA review"."""
    if actor.has_any(*roles):
        return None
    names = " or ".join(role.label for role in roles)
    return Rejection(True, f"{step} needs the {names} role.")


def _not_latest(view: VersionView, latest_number: int) -> Rejection | None:
    if view.number == latest_number:
        return None
    return Rejection(
        False,
        f"DPIA version {view.number} is not the latest: version {latest_number} is on record, so act on that one.",
        {"latest_version": latest_number},
    )


# Writing --------------------------------------------------------------------------------------------


def author_rejection(actor: Actor, may_edit: bool, department_message: str = "") -> Rejection | None:
    """Check that ``actor`` may write this use case's DPIA: start, edit and submit versions."""
    rejection = role_rejection(actor, AUTHOR_ROLES, "Writing a DPIA")
    if rejection:
        return rejection
    if not may_edit:
        return Rejection(True, department_message or "You may only write DPIAs for use cases of your own department.")
    return None


def start_rejection(actor: Actor, may_edit: bool, latest: VersionView | None) -> Rejection | None:
    """Check that ``actor`` may start the next version; a use case has at most one draft."""
    rejection = author_rejection(actor, may_edit)
    if rejection:
        return rejection
    if latest is not None and latest.status == "draft":
        return Rejection(
            False,
            f"DPIA version {latest.number} is still a draft. Edit it instead of starting another version.",
            {"draft_version": latest.number},
        )
    return None


def edit_rejection(actor: Actor, may_edit: bool, view: VersionView, latest_number: int) -> Rejection | None:
    """Check that ``actor`` may save or submit ``view``: it must be the latest version and a draft."""
    rejection = author_rejection(actor, may_edit) or _not_latest(view, latest_number)
    if rejection:
        return rejection
    if view.status != "draft":
        return Rejection(
            False,
            f"DPIA version {view.number} is {status_phrase(view.status)}, not a draft, so it can no longer "
            f"change. Start version {latest_number + 1} to revise the DPIA.",
        )
    return None


# Review -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewStep:
    role: Role
    action: str
    step_name: str
    verb: str


# Keyed by the page's form name. The decision's workflow action depends on the choice made, and
# every choice starts from "dpo_advice_recorded", so "approve" represents all three here.
REVIEW_STEPS: dict[str, ReviewStep] = {
    "start_review": ReviewStep(REVIEWER_ROLE, "start_review", "Starting a DPIA review", "review"),
    "request_changes": ReviewStep(REVIEWER_ROLE, "request_changes", "Requesting changes to a DPIA", "review"),
    "dpo_advice": ReviewStep(ADVISER_ROLE, "record_dpo_advice", "Recording DPO advice", "advise on"),
    "decision": ReviewStep(REVIEWER_ROLE, "approve", "Deciding on a DPIA", "decide on"),
}

_STEP_NOT_NOW: dict[str, str] = {
    "start_review": "only a submitted version can go into review",
    "request_changes": "changes can be requested only between submission and the decision",
    "dpo_advice": "DPO advice is recorded once, after Information Assurance starts the review",
    "decision": "a decision needs the DPO's advice recorded first and can be made only once",
}


def review_rejection(
    step: str, actor: Actor, view: VersionView, latest_number: int, adviser_id: int | None = None
) -> Rejection | None:
    """Check that ``actor`` may take review ``step`` (a key of ``REVIEW_STEPS``) on ``view`` now.

    A person who wrote, edited or submitted a version may not review, advise on or decide it. The
    DPO who advised on a version may not decide it either, even with the Information Assurance role.
    """
    rule = REVIEW_STEPS[step]
    rejection = role_rejection(actor, (rule.role,), rule.step_name) or _not_latest(view, latest_number)
    if rejection:
        return rejection
    if actor.account_id in view.involved_account_ids():
        return Rejection(
            True,
            f"You wrote or submitted DPIA version {view.number}, so you cannot {rule.verb} it. "
            f"Another person with the {rule.role.label} role must do so.",
        )
    if rule.action not in WORKFLOW.allowed_actions(view.status):
        return Rejection(
            False,
            f"DPIA version {view.number} is {status_phrase(view.status)}, and {_STEP_NOT_NOW[step]}.",
            {"allowed_actions": WORKFLOW.allowed_actions(view.status)},
        )
    if step == "decision" and adviser_id is not None and adviser_id == actor.account_id:
        return Rejection(
            True,
            f"You gave the DPO advice on DPIA version {view.number}, so another Information Assurance "
            "officer must decide on it.",
        )
    return None


# After approval ---------------------------------------------------------------------------------

_APPROVAL_STEPS: dict[str, tuple[str, str]] = {
    "review_date": ("Changing a DPIA's review date", "its review date can no longer change"),
    "revoke": ("Revoking a DPIA approval", "it cannot be revoked again"),
    "condition": ("Adding a DPIA condition", "no condition can be added to it"),
}


def approval_rejection(step: str, actor: Actor, latest: VersionView | None, number: int | None = None) -> Rejection | None:
    """Check that ``actor`` may take ``step`` (review_date, revoke or condition) on the approval on record.

    ``number`` is the DPIA version the form was about, when it names one.
    """
    step_name, revoked_effect = _APPROVAL_STEPS[step]
    rejection = role_rejection(actor, (REVIEWER_ROLE,), step_name)
    if rejection:
        return rejection
    if latest is None:
        return Rejection(False, "This use case has no DPIA yet, so there is no approval to act on.")
    if number is not None and number != latest.number:
        return Rejection(
            False,
            f"DPIA version {number} is not the latest: version {latest.number} is on record, so act on that one.",
            {"latest_version": latest.number},
        )
    if latest.status not in APPROVED:
        return Rejection(
            False, f"DPIA version {latest.number} is {status_phrase(latest.status)}; this needs an approved version."
        )
    if latest.revoked_at is not None:
        return Rejection(False, f"The approval of DPIA version {latest.number} was revoked, so {revoked_effect}.")
    return None


def condition_rejection(
    step: str, actor: Actor, condition: Any, latest_number: int | None, may_edit: bool
) -> Rejection | None:
    """Check that ``actor`` may take ``step`` (met, reopen, withdraw or update) on ``condition``.

    ``condition`` is a ``service.ConditionView``. Only conditions of the version on record can
    change, because only they count towards go-live. The central team, the business owner of the
    use case's department and Information Assurance may mark a condition met; the other steps are
    Information Assurance's.
    """
    name = f"Condition {condition.number} of DPIA version {condition.version_number}"
    if step == "met":
        rejection = role_rejection(actor, CONDITION_MET_ROLES, "Marking a DPIA condition met")
        if rejection is None and not actor.has_any(Role.INFORMATION_ASSURANCE) and not may_edit:
            rejection = Rejection(True, "You may only mark conditions met for use cases of your own department.")
    else:
        verb = {"reopen": "Reopening", "withdraw": "Withdrawing", "update": "Changing"}[step]
        rejection = role_rejection(actor, (REVIEWER_ROLE,), f"{verb} a DPIA condition")
    if rejection:
        return rejection
    if condition.version_number != latest_number:
        return Rejection(
            False,
            f"{name} belongs to a version that is no longer on record, so it can no longer change.",
        )
    if condition.state == "withdrawn":
        return Rejection(False, f"{name} was withdrawn and can no longer change.")
    if step == "met" and condition.state == "met":
        return Rejection(False, f"{name} is already met.")
    if step == "reopen" and condition.state != "met":
        return Rejection(False, f"{name} is not met, so it cannot be reopened.")
    return None


def ico_rejection(step: str, actor: Actor, latest: VersionView | None, ico_required: bool, ico: Any) -> Rejection | None:
    """Check that ``actor`` may take ``step`` (record, response or reopen) on the ICO consultation.

    ``ico`` is the consultation recorded for the version on record (a ``service.IcoView``), or None.
    ``ico_required`` is whether that version leaves a high residual risk.
    """
    step_name = {
        "record": "Recording an ICO consultation",
        "response": "Recording the ICO's response",
        "reopen": "Reopening an ICO consultation",
    }[step]
    rejection = role_rejection(actor, ICO_ROLES, step_name)
    if rejection:
        return rejection
    if latest is None:
        return Rejection(False, "This use case has no DPIA yet, so there is no consultation to record.")
    if step == "record":
        if latest.status not in APPROVED:
            return Rejection(
                False, f"DPIA version {latest.number} is {status_phrase(latest.status)}; this needs an approved version."
            )
        if not ico_required:
            return Rejection(
                False,
                f"DPIA version {latest.number} leaves no high residual risk, so no prior consultation with the ICO is needed.",
            )
        if ico is not None:
            return Rejection(
                False, f"An ICO consultation is already recorded for DPIA version {latest.number}; update it instead."
            )
        return None
    if ico is None:
        return Rejection(False, f"No ICO consultation is recorded for DPIA version {latest.number}.")
    if step == "response" and ico.status != "pending":
        return Rejection(False, "The ICO consultation is already concluded; reopen it to record another response.")
    if step == "reopen" and ico.status != "concluded":
        return Rejection(False, "The ICO consultation is already pending.")
    return None
