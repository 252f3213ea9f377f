"""Context for the DPIA pages: the steps a viewer may take, and the notice shown after a 409.

The pages offer a form only when the rule in ``dpia.permissions`` that the service enforces allows
the viewer to use it, so no viewer is shown a form that then gets 403 or 409.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.assessments import VersionView
from governance.audit import Actor

from dpia import conflicts, forms, permissions, rules, service
from dpia.permissions import REVIEW_STEPS
from dpia.workflow import APPROVED, WORKFLOW

DECISION_LABELS = {
    "approve": "Approve",
    "approve_with_conditions": "Approve with conditions",
    "reject": "Reject",
}

# Form fields that carry the record's identity rather than anything the person typed.
HIDDEN_FIELDS = frozenset({"version", "number", "next", "form_id"})

# The notice's name for what the person sent, keyed by the page's form name.
WHAT_WAS_SENT: dict[str, str] = {
    "screening": "changes to the screening",
    "assessment": "changes to the assessment",
    "start": "new version",
    "submit": "submission",
    "start_review": "start of the review",
    "request_changes": "request for changes",
    "dpo_advice": "advice",
    "decision": "decision",
    "review_date": "new review date",
    "revoke": "revocation",
    "condition": "new condition",
    "met": "record that the condition is met",
    "reopen": "reopening of the condition",
    "withdraw": "withdrawal of the condition",
    "ico": "record of the consultation",
    "ico_response": "record of the ICO's response",
    "ico_reopen": "reopening of the consultation",
}

# The audit action that each form's step records. When a 409 follows, and the first change since
# the form was opened is this action by the same person, the request repeats a double click or a
# second tab.
REPEATED_ACTIONS: dict[str, str] = {
    "submit": "dpia.submit",
    "start_review": "dpia.start_review",
    "request_changes": "dpia.request_changes",
    "dpo_advice": "dpia.record_dpo_advice",
    "review_date": "dpia.review_date_changed",
    "revoke": "dpia.revoked",
    "met": "dpia.condition_met",
    "reopen": "dpia.condition_reopened",
    "withdraw": "dpia.condition_withdrawn",
    "ico_response": "dpia.ico_consultation_concluded",
    "ico_reopen": "dpia.ico_consultation_reopened",
}


def form_kind(form_name: str) -> str:
    """Return the kind of a page form: "met-3" (condition 3's form) is a "met" form."""
    return form_name.split("-", 1)[0]


def repeated_action(form_name: str, values: Mapping[str, str]) -> str:
    """Return the audit action that a repeat of this form's request would find already recorded."""
    if form_kind(form_name) == "decision":
        return f"dpia.{values.get('decision', '')}"
    return REPEATED_ACTIONS.get(form_kind(form_name), "")


# What the viewer may do -----------------------------------------------------------------------------


async def overview_allowed(actor: Actor, state: service.Overview) -> dict[str, Any]:
    """Return which overview forms ``actor`` may use: True or False by form name.

    ``conditions`` maps each condition id to the steps (met, reopen, withdraw) allowed on it.
    """
    latest = state.latest
    editable, _ = await service.may_edit(actor, state.use_case)
    ico_required = bool(
        latest and state.matrix and latest.status in APPROVED and rules.ico_consultation_required(latest.content, state.matrix)
    )
    latest_number = latest.number if latest else None
    return {
        "start": permissions.start_rejection(actor, editable, latest) is None,
        "edit": latest is not None and permissions.edit_rejection(actor, editable, latest, latest.number) is None,
        "review_date": permissions.approval_rejection("review_date", actor, latest, latest_number) is None,
        "revoke": permissions.approval_rejection("revoke", actor, latest, latest_number) is None,
        "condition": permissions.approval_rejection("condition", actor, latest) is None,
        "ico": permissions.ico_rejection("record", actor, latest, ico_required, state.ico) is None,
        "ico_response": permissions.ico_rejection("response", actor, latest, ico_required, state.ico) is None,
        "ico_reopen": permissions.ico_rejection("reopen", actor, latest, ico_required, state.ico) is None,
        "conditions": {
            item.id: {
                step: permissions.condition_rejection(step, actor, item, latest_number, editable) is None
                for step in ("met", "reopen", "withdraw")
            }
            for item in state.conditions
        },
    }


def review_allowed(actor: Actor, view: VersionView, latest_number: int, sign_offs: list[Any]) -> dict[str, Any]:
    """Return which review forms ``actor`` may use on ``view``, and why a reviewer may not.

    ``notices`` lists the separation-of-duties reasons that keep ``actor`` from a step their role
    would otherwise allow now, such as deciding on a version they advised on as DPO.
    """
    advice = service.dpo_advice_of(sign_offs)
    adviser_id = advice.account_id if advice else None
    allowed: dict[str, Any] = {}
    notices: list[str] = []
    for step, rule in REVIEW_STEPS.items():
        rejection = permissions.review_rejection(step, actor, view, latest_number, adviser_id)
        allowed[step] = rejection is None
        applies_now = view.number == latest_number and rule.action in WORKFLOW.allowed_actions(view.status)
        if rejection and rejection.forbidden and actor.has_any(rule.role) and applies_now and rejection.message not in notices:
            notices.append(rejection.message)
    allowed["notices"] = notices
    return allowed


# The notice after a 409 -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeRow:
    """One field that changed after the form was opened, as the notice lists it."""

    label: str
    href: str
    opened: str
    saved: str
    yours: str
    clash: bool
    opened_known: bool


@dataclass(frozen=True)
class ConflictNotice:
    """The message a page shows in place of a dead end when its form meets a 409."""

    title: str
    message: str
    changes: tuple[conflicts.Change, ...] = ()
    detail: str = ""
    merge_rows: list[MergeRow] = field(default_factory=list)
    entered: list[tuple[str, str]] = field(default_factory=list)
    read_only: bool = False


def _shown_value(name: str, value: str) -> str:
    """Return a review form's value as the form labels it: "Yes" for "yes", "Approve" for "approve"."""
    if name == "decision":
        return DECISION_LABELS.get(value, value)
    if name == "outcome":
        return service.ICO_OUTCOMES.get(value, value)
    return {"yes": "Yes", "no": "No"}.get(value, value)


def _changed_title(record: str, meanwhile: conflicts.Meanwhile, actor: Actor, verb: str) -> str:
    if meanwhile.only_by(actor.username):
        return f"You {verb} {record} again, in another tab or window, after you opened this page"
    return f"Someone else {verb} {record} after you opened this page"


def notice_for_step(
    form_name: str,
    record: str,
    meanwhile: conflicts.Meanwhile,
    actor: Actor,
    error_message: str,
    values: Mapping[str, str],
    form_shown: bool,
    label_of: Callable[[str], str],
) -> ConflictNotice:
    """Build the notice for a review or after-approval form whose step met a 409.

    ``record`` names the record the form acted on ("DPIA version 1"). ``error_message`` is shown
    unless it is empty. ``values`` are the form's fields as sent, and
    ``form_shown`` is whether the page still offers the form to put them back in, and
    ``label_of`` returns a field's label on that form.
    """
    sent = WHAT_WAS_SENT.get(form_kind(form_name), "change")
    if meanwhile.changes:
        title = _changed_title(record, meanwhile, actor, "changed")
    else:
        title = f"Your {sent} could not be recorded"
    if form_shown:
        where_kept = "What you entered is still in the form below."
    else:
        where_kept = "This page no longer offers that form, so what you entered is listed here for you to copy."
    entered = []
    if not form_shown:
        entered = [
            (label_of(name), _shown_value(name, value))
            for name, value in values.items()
            if name not in HIDDEN_FIELDS and value.strip()
        ]
    return ConflictNotice(
        title=title,
        message=f"Your {sent} was not recorded. {where_kept} Check what changed, then send it again if it still applies.",
        changes=meanwhile.changes,
        detail=error_message,
        entered=entered,
    )


def notice_for_draft(
    section: str,
    record: str,
    meanwhile: conflicts.Meanwhile,
    actor: Actor,
    merge: conflicts.Merge | None,
    matrix: rules.ScoringMatrix,
    read_only: bool,
) -> ConflictNotice:
    """Build the notice for a screening or assessment form whose save met a 409.

    ``merge`` is the form merged with the changes saved meanwhile, or None when the content the
    form was opened on is unknown. ``read_only`` is True when the version is no longer a draft.
    """
    sent = WHAT_WAS_SENT[section]
    if read_only:
        title = f"{record} can no longer be changed"
        message = (
            f"Your {sent} are not saved, because {record} is no longer a draft. Your text is shown below so that "
            "you can copy it; to revise the DPIA, start the next version from the DPIA page."
        )
    else:
        title = _changed_title(record, meanwhile, actor, "saved")
        message = f"Your {sent} are not saved yet."
        if merge is not None and merge.applied:
            message += " The changes saved meanwhile to fields you had not touched are now in the form."
        if merge is not None and merge.clashes:
            message += " Where you both changed a field, the form keeps your text and the saved text is listed below."
        message += " Check the form, then save again."
    rows = []
    for item in merge.fields if merge else []:
        rows.append(
            MergeRow(
                label=forms.form_field_label(item.name),
                href=f"#{forms.form_field_id(item.name)}",
                opened=forms.display_value(item.name, item.opened, matrix),
                saved=forms.display_value(item.name, item.saved, matrix),
                yours=forms.display_value(item.name, item.yours, matrix),
                clash=item.clash,
                opened_known=item.opened_known,
            )
        )
    return ConflictNotice(
        title=title,
        message=message,
        changes=meanwhile.changes,
        merge_rows=rows,
        read_only=read_only,
    )
