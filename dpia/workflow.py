"""The DPIA review workflow: statuses, actions, who may take each, and what a signature means.

draft --submit--> submitted --start_review (IA)--> in_review --record_dpo_advice (DPO)-->
dpo_advice_recorded --approve / approve_with_conditions / reject (IA)--> a decision.

Information Assurance may request changes at any point between submission and the decision,
including after the DPO's advice, because that advice often prompts amendments that are better made
in a new version than settled by a rejection. Requesting changes ends that version; the author then
starts the next version, which begins as a copy. Starting a new version while an older one is still
under review supersedes the older one, so reviewers always decide on the version on record.
"""

from __future__ import annotations

from governance.assessments import Workflow
from governance.roles import Role

WORKFLOW = Workflow(
    transitions={
        "draft": {"submit": "submitted"},
        "submitted": {
            "start_review": "in_review",
            "request_changes": "changes_requested",
            "supersede": "superseded",
        },
        "in_review": {
            "record_dpo_advice": "dpo_advice_recorded",
            "request_changes": "changes_requested",
            "supersede": "superseded",
        },
        "dpo_advice_recorded": {
            "approve": "approved",
            "approve_with_conditions": "approved_with_conditions",
            "reject": "rejected",
            "request_changes": "changes_requested",
            "supersede": "superseded",
        },
    },
    editable=frozenset({"draft"}),
    frozen_by=frozenset({"submit"}),
)

STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "submitted": "Submitted, awaiting review",
    "in_review": "In review, awaiting DPO advice",
    "dpo_advice_recorded": "DPO advice recorded, awaiting decision",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "approved_with_conditions": "Approved with conditions",
    "rejected": "Rejected",
    "superseded": "Superseded by a later version",
}

UNDER_REVIEW = frozenset({"submitted", "in_review", "dpo_advice_recorded"})
APPROVED = ("approved", "approved_with_conditions")
DECISIONS: dict[str, str] = {
    "approve": "approved",
    "approve_with_conditions": "approved_with_conditions",
    "reject": "rejected",
}

AUTHOR_ROLES = (Role.CENTRAL_TEAM, Role.BUSINESS_OWNER)
REVIEWER_ROLE = Role.INFORMATION_ASSURANCE
ADVISER_ROLE = Role.DATA_PROTECTION_OFFICER
ICO_ROLES = (Role.DATA_PROTECTION_OFFICER, Role.INFORMATION_ASSURANCE)
CONDITION_MET_ROLES = (Role.CENTRAL_TEAM, Role.BUSINESS_OWNER, Role.INFORMATION_ASSURANCE)

# Meanings recorded on sign-offs; the Word export prints them in the sign-off block.
DPO_ADVICE_MEANING = "DPO advice given"
ADVICE_ACCEPTED_MEANING = "DPO advice accepted"
ADVICE_OVERRULED_MEANING = "DPO advice overruled"
CHANGES_REQUESTED_MEANING = "Changes requested"
# Recorded by the deciding Information Assurance officer on a full DPIA, whose step 3 records the
# consultation. Its reasons explain why a decision departs from the views of the people consulted.
CONSULTATION_REVIEWED_MEANING = "Consultation responses reviewed"


# Each status as it reads inside a sentence such as "DPIA version 2 is in review".
STATUS_PHRASES: dict[str, str] = {
    "draft": "a draft",
    "submitted": "submitted",
    "in_review": "in review",
    "dpo_advice_recorded": "waiting for a decision on the DPO's advice",
    "changes_requested": "returned for changes",
    "approved": "approved",
    "approved_with_conditions": "approved with conditions",
    "rejected": "rejected",
    "superseded": "superseded by a later version",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def status_phrase(status: str) -> str:
    return STATUS_PHRASES.get(status, status.replace("_", " "))


def decision_meaning(action: str, outcome: str) -> str:
    """Return what the Information Assurance signature on a decision means."""
    if action == "reject":
        return "Screening outcome rejected" if outcome == "not_required" else "DPIA rejected"
    if outcome == "not_required":
        return "Screening outcome approved: no DPIA needed"
    if action == "approve_with_conditions":
        return "Measures and residual risks approved, with conditions"
    return "Measures and residual risks approved"


def overrules_advice(action: str, advises_approval: bool) -> bool:
    """True when a decision goes against the DPO's advice, which then needs reasons."""
    approving = action in ("approve", "approve_with_conditions")
    return approving != advises_approval
