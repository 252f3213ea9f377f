"""The "Sign-off and outcomes" table of ICO step 7, built from a version's record.

The ICO's DPIA template ends with these lines, in this order:

- measures approved by
- residual risks approved by
- DPO advice provided, with a summary
- DPO advice accepted or overruled by, with reasons when overruled
- consultation responses reviewed by
- this DPIA will be kept under review by

The version page and the Word export both show the rows that ``outcome_rows`` returns. It is a pure
function, so the caller gathers the sign-offs, conditions, ICO consultation and review owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from governance.assessments import SignOffView, VersionView
from governance.clock import format_date, format_datetime

from dpia.workflow import (
    ADVICE_ACCEPTED_MEANING,
    ADVICE_OVERRULED_MEANING,
    APPROVED,
    CONSULTATION_REVIEWED_MEANING,
    DPO_ADVICE_MEANING,
)

NOT_YET_DECIDED = "Not yet: the version has not been decided"


@dataclass(frozen=True)
class OutcomeRow:
    """One line of the table: the item, its signer and the time of signing, and notes."""

    item: str
    signed_by: str
    notes: str


@dataclass(frozen=True)
class Step7Facts:
    """The facts the table is built from, beyond the version itself."""

    outcome: str
    sign_offs: Sequence[SignOffView]
    highest_residual: str = ""
    ico_required: bool = False
    ico_text: str = ""
    open_conditions: int = 0
    conditions: int = 0
    review_owner: str = ""


def _by(item: SignOffView | None) -> str:
    return f"{item.signer_name}, {format_datetime(item.signed_at)}" if item else ""


def _last(sign_offs: Sequence[SignOffView], *meanings: str) -> SignOffView | None:
    matching = [item for item in sign_offs if item.meaning in meanings]
    return matching[-1] if matching else None


def _decision_sign_off(view: VersionView, sign_offs: Sequence[SignOffView]) -> SignOffView | None:
    """Return the signature that recorded the decision itself (its ``decision`` is the version's)."""
    matching = [item for item in sign_offs if view.decision and item.decision == view.decision]
    return matching[-1] if matching else None


def _residual_note_before_decision(facts: Step7Facts) -> str:
    """Describe the residual risk as the undecided version assesses it, before anyone approves it."""
    if facts.outcome != "required" or not facts.highest_residual:
        return ""
    note = f"As assessed in this version, the highest residual risk is {facts.highest_residual.lower()}."
    if facts.ico_required:
        return f"{note} Prior consultation with the ICO will be required if the version is approved."
    return f"{note} Prior consultation with the ICO would not be required, because no risk stays high after the measures."


def _approval_rows(view: VersionView, facts: Step7Facts) -> list[OutcomeRow]:
    decided = _decision_sign_off(view, facts.sign_offs)
    if view.decision is None:
        return [
            OutcomeRow("Measures approved by", NOT_YET_DECIDED, ""),
            OutcomeRow("Residual risks approved by", NOT_YET_DECIDED, _residual_note_before_decision(facts)),
        ]
    if facts.outcome != "required":
        not_applicable = "Not applicable: the screening found that a full DPIA is not required"
        return [
            OutcomeRow("Measures approved by", not_applicable, f"{decided.meaning}: {_by(decided)}" if decided else ""),
            OutcomeRow("Residual risks approved by", not_applicable, ""),
        ]
    if view.status not in APPROVED:
        refused = f"Not approved: {_by(decided)}" if decided else "Not approved"
        reasons = decided.reasons if decided else ""
        return [
            OutcomeRow("Measures approved by", refused, reasons),
            OutcomeRow("Residual risks approved by", refused, ""),
        ]

    measures_note = "The step 6 measures are approved."
    if facts.conditions:
        measures_note += (
            f" Approved with {facts.conditions} condition{'s' if facts.conditions != 1 else ''}"
            f", {facts.open_conditions} still open."
        )
    residual_note = f"Highest residual risk: {facts.highest_residual}." if facts.highest_residual else ""
    if facts.ico_text:
        residual_note = f"{residual_note} Prior consultation with the ICO: {facts.ico_text}".strip()
    return [
        OutcomeRow("Measures approved by", _by(decided), measures_note),
        OutcomeRow("Residual risks approved by", _by(decided), residual_note),
    ]


def _advice_rows(view: VersionView, facts: Step7Facts) -> list[OutcomeRow]:
    advice = _last(facts.sign_offs, DPO_ADVICE_MEANING)
    if advice is None:
        advice_row = OutcomeRow("DPO advice provided", "Not yet: the DPO has not advised on this version", "")
    else:
        stance = "Advises approval" if advice.decision == "advises_approval" else "Advises against approval"
        advice_row = OutcomeRow("DPO advice provided", _by(advice), f"{stance}. Summary: {advice.summary}")

    response = _last(facts.sign_offs, ADVICE_ACCEPTED_MEANING, ADVICE_OVERRULED_MEANING)
    if response is None:
        response_row = OutcomeRow("DPO advice accepted or overruled by", NOT_YET_DECIDED, "")
    elif response.meaning == ADVICE_OVERRULED_MEANING:
        response_row = OutcomeRow("DPO advice accepted or overruled by", _by(response), f"Overruled. Reasons: {response.reasons}")
    else:
        response_row = OutcomeRow("DPO advice accepted or overruled by", _by(response), "Accepted")
    return [advice_row, response_row]


def _consultation_row(view: VersionView, facts: Step7Facts) -> OutcomeRow:
    item = "Consultation responses reviewed by"
    if facts.outcome != "required":
        return OutcomeRow(item, "Not applicable: no consultation is recorded for a screening outcome", "")
    reviewed = _last(facts.sign_offs, CONSULTATION_REVIEWED_MEANING)
    if reviewed is None:
        signed_by = NOT_YET_DECIDED if view.decision is None else "Not recorded for this version"
        return OutcomeRow(item, signed_by, "")
    notes = (
        f"The decision departs from the views of the people consulted: {reviewed.reasons}"
        if reviewed.reasons
        else "No departure from the views of the people consulted was recorded."
    )
    return OutcomeRow(item, _by(reviewed), notes)


def _review_row(view: VersionView, facts: Step7Facts) -> OutcomeRow:
    item = "This DPIA will be kept under review by"
    if view.decision is None:
        return OutcomeRow(item, NOT_YET_DECIDED, "")
    if view.status not in APPROVED:
        return OutcomeRow(item, "Not applicable: the version was not approved", "")
    notes = f"Review due by {format_date(view.review_date)}." if view.review_date else ""
    if view.revoked_at is not None:
        notes = f"Approval revoked on {format_date(view.revoked_at)}: {view.revocation_reason}"
    return OutcomeRow(item, facts.review_owner or "Not recorded for this version", notes)


def outcome_rows(view: VersionView, facts: Step7Facts) -> list[OutcomeRow]:
    """Return the ICO step 7 lines for ``view``, in the ICO's order."""
    return [
        *_approval_rows(view, facts),
        *_advice_rows(view, facts),
        _consultation_row(view, facts),
        _review_row(view, facts),
    ]
