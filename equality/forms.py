"""HTML forms of the equality pages: fields to content and back, field labels, and the table of
differences that a page shows when a form could not be saved because the record changed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from equality.rules import AFFECTED, AIMS, IMPACTS, Characteristic, FlaggedImpact, parse_date
from governance.clock import format_date

ACTION_PLAN_SPARE_ROWS = 2
_PLAN_FIELD = re.compile(r"^action_plan\[(\d+)\]\.(action|owner|due_date)$")

# Element ids that the error summary links to for a problem with a whole group of fields.
SUMMARY_TARGETS = {"action_plan": "action_plan-0-action"}


# Form <-> content ----------------------------------------------------------------------------------


def screening_from_form(values: Mapping[str, str]) -> dict[str, Any]:
    """Return screening input from form fields named like ``characteristics.age.impact``."""
    data: dict[str, Any] = {
        "proposal": values.get("proposal", ""),
        "characteristics": {},
        "aims": {},
    }
    for name, value in values.items():
        parts = name.split(".")
        if parts[0] == "characteristics" and len(parts) == 3:
            data["characteristics"].setdefault(parts[1], {})[parts[2]] = value
        elif parts[0] == "aims" and len(parts) == 2:
            data["aims"][parts[1]] = value
    return data


def screening_form_values(content: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"proposal": content.get("proposal", "")}
    for key, answer in (content.get("characteristics") or {}).items():
        for name in ("impact", "affected", "evidence"):
            values[f"characteristics.{key}.{name}"] = (answer or {}).get(name, "")
    for key in AIMS:
        values[f"aims.{key}"] = (content.get("aims") or {}).get(key, "")
    return values


def assessment_from_form(values: Mapping[str, str]) -> dict[str, Any]:
    """Return full-assessment input from fields like ``impacts.age.owner`` and ``action_plan[0].action``."""
    impacts: dict[str, dict[str, Any]] = {}
    rows: dict[int, dict[str, str]] = {}
    for name, value in values.items():
        parts = name.split(".")
        if parts[0] == "impacts" and len(parts) == 3:
            impacts.setdefault(parts[1], {})[parts[2]] = value
            continue
        match = _PLAN_FIELD.match(name)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    plan = [rows.get(index, {}) for index in range(max(rows, default=-1) + 1)]
    return {"impacts": impacts, "action_plan": plan, "engagement": values.get("engagement", "")}


def assessment_form_values(content: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"engagement": content.get("engagement", "")}
    for key, entry in (content.get("impacts") or {}).items():
        for name in ("mitigation", "owner", "due_date", "justification"):
            values[f"impacts.{key}.{name}"] = entry.get(name, "") or ""
        remains = entry.get("remains")
        values[f"impacts.{key}.remains"] = {True: "yes", False: "no"}.get(remains, remains or "")
    for index, row in enumerate(content.get("action_plan") or []):
        for name in ("action", "owner", "due_date"):
            values[f"action_plan[{index}].{name}"] = row.get(name, "")
    return values


def plan_rows(values: Mapping[str, Any]) -> int:
    """Return how many action-plan rows the form shows: those with values, then spare empty rows."""
    indexes = [int(match.group(1)) for name in values if (match := _PLAN_FIELD.match(name))]
    return max(indexes, default=-1) + 1 + ACTION_PLAN_SPARE_ROWS


def screening_labels(characteristics: list[Characteristic]) -> dict[str, str]:
    """Return the label of each screening form field, shown by the field and in the error summary."""
    labels = {"proposal": "What the automation changes, and who it affects"}
    for item in characteristics:
        labels[f"characteristics.{item.key}.impact"] = f"{item.label}: likely impact"
        labels[f"characteristics.{item.key}.affected"] = f"{item.label}: who is affected"
        labels[f"characteristics.{item.key}.evidence"] = f"{item.label}: evidence"
    labels.update({f"aims.{key}": label for key, label in AIMS.items()})
    return labels


def assessment_labels(impacts: list[FlaggedImpact], rows: int) -> dict[str, str]:
    """Return the label of each full-assessment form field, shown by the field and in the error summary."""
    labels = {
        "action_plan": "Action plan",
        "engagement": "Engagement or consultation done, and what it found",
    }
    for impact in impacts:
        base = f"impacts.{impact.key}"
        labels[f"{base}.mitigation"] = f"{impact.label}: mitigation"
        labels[f"{base}.owner"] = f"{impact.label}: owner of the mitigation"
        labels[f"{base}.due_date"] = f"{impact.label}: mitigation due by"
        labels[f"{base}.remains"] = f"{impact.label}: does an impact remain after mitigation?"
        labels[f"{base}.justification"] = (
            f"{impact.label}: justification for the impact that remains"
        )
    for index in range(rows):
        labels[f"action_plan[{index}].action"] = f"Action {index + 1}: what will be done"
        labels[f"action_plan[{index}].owner"] = f"Action {index + 1}: owner"
        labels[f"action_plan[{index}].due_date"] = f"Action {index + 1}: due by"
    return labels


def long_date(value: Any) -> str:
    """Return an ISO date as "31 March 2027", or the value unchanged if it is not a date."""
    day = parse_date(value)
    return format_date(day) if day else (value or "")


def version_labels(kind_label: str, number: int) -> dict[str, str]:
    """Return the label of each field of the forms on a version page."""
    return {
        "action": f"Decision on {kind_label.lower()} version {number}",
        "summary": "Summary of your decision (optional)",
        "reasons": "Reasons",
        "review_date": "New review date",
        "review_reason": "Reason for the new review date",
        "reason": "Reason for revoking",
    }


LOCAL_LABELS = {
    "label": "Name",
    "description": "Description (optional)",
    "key": "Key (optional)",
    "active": "Do new screenings cover this characteristic?",
}

DECISION_CHOICES = {
    "approve": "Approve: due regard has been shown",
    "request_changes": "Request changes",
    "reject": "Reject",
}


def display_value(name: str, value: Any) -> str:
    """Return a form value as the page shows it: choices by their label, dates written out."""
    text = "" if value is None else str(value).strip()
    if not text:
        return "Not given"
    if name.endswith(".impact"):
        return IMPACTS.get(text, text)
    if name.endswith(".affected"):
        return AFFECTED.get(text, text)
    if name.endswith(".remains") or name == "active":
        return {"yes": "Yes", "no": "No", "True": "Yes", "False": "No"}.get(text, text)
    if name == "action":
        return DECISION_CHOICES.get(text, text)
    if name.endswith("due_date") or name == "review_date":
        return long_date(text)
    return text


@dataclass(frozen=True)
class Difference:
    """A field whose value on record differs from the value the person sent."""

    label: str
    current: str
    yours: str


def differences(
    current: Mapping[str, Any], yours: Mapping[str, Any], labels: Mapping[str, str]
) -> list[Difference]:
    """List the fields of ``labels`` whose current value differs from the person's, in label order.

    A page shows this when a form could not be saved because someone else changed the record, so
    that the person sees every change before sending the form again.
    """
    rows = []
    for name, label in labels.items():
        mine = display_value(name, yours.get(name))
        theirs = display_value(name, current.get(name))
        if mine != theirs:
            rows.append(Difference(label, theirs, mine))
    return rows
