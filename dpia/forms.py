"""Translation between the DPIA's HTML forms and its JSON content (pure functions).

Form fields are named by their content path (``risks[0].likelihood``), so the errors the rules
return point straight at the field to fix, and the error summary links to it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from governance.errors import FieldError

from governance.register import REGIMES

from dpia import rules

SPARE_RISK_ROWS = 1
SPARE_MEASURE_ROWS = 2
SPARE_PURPOSE_ROWS = 1
SPARE_CONDITION_ROWS = 2

ASSESSMENT_KEYS = ("processing", "consultation", "necessity", "sensitive_processing", "logging", "data_subjects", "human_involvement", "risks", "measures")

_INDEX = re.compile(r"^(?P<name>[a-z_.]+)\[(?P<index>\d+)\]\.")


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Return ``{path: leaf}`` for a JSON document, using the same paths as field errors."""
    flat: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            flat.update(flatten(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list) and not all(isinstance(item, str) for item in value):
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{path}[{index}]"))
    else:
        flat[path] = value
    return flat


def _text(values: dict[str, str], name: str) -> str:
    return values.get(name, "").replace("\r\n", "\n")


def row_count(values: dict[str, Any], name: str) -> int:
    """Return how many rows of list ``name`` the values hold (highest index + 1)."""
    highest = -1
    for key in values:
        match = _INDEX.match(key)
        if match and match.group("name") == name:
            highest = max(highest, int(match.group("index")))
    return highest + 1


def screening_from_form(values: dict[str, str]) -> dict[str, Any]:
    screening: dict[str, Any] = {}
    for group, questions in (("triggers", rules.MANDATORY_TRIGGERS), ("high_risk", rules.HIGH_RISK_TYPES)):
        screening[group] = {
            key: {
                "answer": values.get(f"screening.{group}.{key}.answer", ""),
                "note": _text(values, f"screening.{group}.{key}.note").strip(),
            }
            for key in questions
        }
    regimes = []
    for index in range(row_count(values, "screening.regimes")):
        purpose = values.get(f"screening.regimes[{index}].purpose", "").strip()
        regime = values.get(f"screening.regimes[{index}].regime", "")
        if purpose or regime:
            regimes.append({"purpose": purpose, "regime": regime})
    screening["regimes"] = regimes
    screening["outcome"] = values.get("screening.outcome", "")
    screening["reasons"] = _text(values, "screening.reasons").strip()
    return screening


def assessment_from_form(values: dict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """Return the assessment sections, without blank risk and measure rows, and the form's own errors.

    Dropping a blank risk renumbers the risks after it, so the measures are renumbered with them.
    A measure that names a blank risk row, or a risk the form does not have, gets an error on its
    ``risk`` field and no reference in the content; the caller must not save such a form.
    """
    content: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, fields in (
        ("processing", rules.PROCESSING_FIELDS),
        ("consultation", rules.CONSULTATION_FIELDS),
        ("necessity", rules.NECESSITY_FIELDS),
        ("logging", rules.LOGGING_FIELDS),
    ):
        content[name] = {key: _text(values, f"{name}.{key}").strip() for key in fields}

    content["sensitive_processing"] = {
        "applies": values.get("sensitive_processing.applies", ""),
        "condition": _text(values, "sensitive_processing.condition").strip(),
        "policy_document": _text(values, "sensitive_processing.policy_document").strip(),
    }
    content["data_subjects"] = {
        "categories": [key for key in rules.DATA_SUBJECT_CATEGORIES if values.get(f"data_subjects.categories.{key}") == "yes"],
        "other": _text(values, "data_subjects.other").strip(),
    }
    content["human_involvement"] = {
        "solely_automated": values.get("human_involvement.solely_automated", ""),
        "description": _text(values, "human_involvement.description").strip(),
    }

    risks = []
    risk_rows = row_count(values, "risks")
    renumbered: dict[int, int] = {}
    for index in range(risk_rows):
        risk = {key: _text(values, f"risks[{index}].{key}").strip() for key in rules.RISK_FIELDS}
        if any(risk.values()):
            risks.append(risk)
            renumbered[index + 1] = len(risks)
    content["risks"] = risks

    measures = []
    for index in range(row_count(values, "measures")):
        raw_risk = values.get(f"measures[{index}].risk", "").strip()
        measure = {
            "risk": raw_risk,
            "description": _text(values, f"measures[{index}].description").strip(),
            "effect": values.get(f"measures[{index}].effect", ""),
            "approved": values.get(f"measures[{index}].approved", ""),
        }
        if not any(measure.values()):
            continue
        measure["risk"] = None
        if raw_risk:
            problem = _risk_reference_problem(raw_risk, risk_rows, renumbered)
            if problem:
                errors.append(FieldError(f"measures[{index}].risk", problem))
            else:
                measure["risk"] = renumbered[int(raw_risk)]
        measures.append(measure)
    content["measures"] = measures
    return content, errors


def _risk_reference_problem(raw_risk: str, risk_rows: int, renumbered: dict[int, int]) -> str:
    """Return what is wrong with a measure's choice of risk row, or "" when it names a filled-in risk."""
    number = int(raw_risk) if raw_risk.isdigit() else None
    if number is not None and number in renumbered:
        return ""
    if number is not None and 1 <= number <= risk_rows:
        return f"names risk {number}, which is empty; fill in risk {number} or choose another risk"
    if not renumbered:
        return f"{raw_risk!r} is not a recorded risk, and no risk is recorded yet; record the risk in step 5 first"
    choices = [str(row) for row in renumbered]
    listed = choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"
    return f"{raw_risk!r} is not a recorded risk; choose risk {listed}"


def form_fields(content: dict[str, Any], section: str) -> dict[str, str]:
    """Return the fields that the ``section`` form ("screening" or "assessment") shows for ``content``.

    Names and values are as the browser sends them back: text for every value, "" for none, and one
    ``data_subjects.categories.<key>`` box ticked ("yes") for each category.
    """
    if section == "screening":
        part = {"screening": content.get("screening") or {}}
    else:
        part = {key: content[key] for key in ASSESSMENT_KEYS if key in content}
    fields: dict[str, str] = {}
    for path, value in flatten(part).items():
        if path == "data_subjects.categories":
            for key in value if isinstance(value, list) else []:
                fields[f"data_subjects.categories.{key}"] = "yes"
        elif value is not None and not isinstance(value, (list, dict)):
            fields[path] = str(value)
    return fields


def form_field_label(name: str) -> str:
    """Return the label of a screening or assessment form field, including each category's tick box."""
    prefix = "data_subjects.categories."
    if name.startswith(prefix):
        key = name.removeprefix(prefix)
        return f"{FIELD_LABELS['data_subjects.categories']}: {rules.DATA_SUBJECT_CATEGORIES.get(key, key)}"
    return field_label(name)


def form_field_id(name: str) -> str:
    """Return the HTML id of a screening or assessment form field, as the templates give it."""
    prefix = "data_subjects.categories."
    if name.startswith(prefix):
        first = next(iter(rules.DATA_SUBJECT_CATEGORIES))
        key = name.removeprefix(prefix)
        return "data_subjects-categories" if key == first else f"data_subjects-categories-{key}"
    return field_id(name)


def display_value(name: str, value: str, matrix: rules.ScoringMatrix) -> str:
    """Return a form field's value as the form shows it: option labels rather than stored keys."""
    if not value:
        return ""
    key = name.rsplit(".", 1)[-1]
    if name.startswith("data_subjects.categories."):
        return "Ticked" if value == "yes" else value
    if key in ("likelihood", "residual_likelihood", "severity", "residual_severity"):
        return matrix.label(value)
    choices: dict[str, dict[str, str]] = {
        "regime": dict(REGIMES),
        "outcome": rules.OUTCOMES,
        "effect": rules.EFFECTS,
        "risk": {str(number): f"Risk {number}" for number in range(1, rules.MAX_RISKS + 1)},
    }
    if key in choices:
        return choices[key].get(value, value)
    return {"yes": "Yes", "no": "No"}.get(value, value)


def parse_date(value: str | None) -> dt.date | None:
    """Return the date in a YYYY-MM-DD field, or None when it is empty or invalid."""
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


# Labels of content fields as the screening, assessment and decision forms show them. Error
# summaries, the history page and the comparison of versions use the same words, so a person can
# find the field that a message names. "{n}" is the row's number, from 1.
FIELD_LABELS: dict[str, str] = {
    "screening.regimes": "Purposes and processing regime",
    "screening.outcome": "Is a full DPIA required?",
    "screening.reasons": "Reasons for the outcome",
    "data_subjects.categories": "Categories of data subject",
    "data_subjects.other": "Other people whose data is processed",
    "sensitive_processing.applies": "Does the bot carry out sensitive processing (special category data under Part 3)?",
    "sensitive_processing.condition": "Condition relied on",
    "sensitive_processing.policy_document": "Appropriate policy document",
    "human_involvement.solely_automated": "Is any decision taken without meaningful human involvement?",
    "human_involvement.description": "Describe who checks or decides, and when",
    "risks": "Step 5: Identify and assess risks",
    "measures": "Step 6: Identify measures to reduce risk",
    "conditions": "Conditions (for approval with conditions)",
}

ROW_LABELS: dict[str, dict[str, str]] = {
    "risks": {
        "": "Risk {n}",
        "description": "Risk {n}: description",
        "source": "Risk {n}: source",
        "harm": "Risk {n}: harm to people",
        "likelihood": "Risk {n}: likelihood before measures",
        "severity": "Risk {n}: severity before measures",
        "residual_likelihood": "Risk {n}: likelihood after measures",
        "residual_severity": "Risk {n}: severity after measures",
    },
    "measures": {
        "": "Measure {n}",
        "risk": "Measure {n}: risk it treats",
        "description": "Measure {n}: what will be done",
        "effect": "Measure {n}: effect on the risk",
        "approved": "Measure {n}: is the measure approved?",
    },
    "screening.regimes": {
        "": "Purpose {n}",
        "purpose": "Purpose {n}",
        "regime": "Regime for purpose {n}",
    },
    "conditions": {
        "": "Condition {n}",
        "text": "Condition {n}",
        "owner": "Condition {n}: owner",
        "due_date": "Condition {n}: due date",
        "before_go_live": "Condition {n} must be met before go-live",
    },
}

_ROW_PATH = re.compile(r"^(?P<list>risks|measures|screening\.regimes|conditions)\[(?P<index>\d+)\](?:\.(?P<key>\w+))?$")


def field_label(path: str) -> str:
    """Return the label that the forms show for the content field at ``path``."""
    return _known_label(path) or path.replace("_", " ").replace(".", ": ").capitalize()


def history_label(path: str) -> str:
    """Return the name of a field in a DPIA audit entry, or "" to leave it to the history page's wording."""
    if path == "dpia_version":
        return "DPIA version"
    if re.split(r"[.\[]", path)[0] not in rules.TOP_LEVEL_KEYS:
        return ""
    return _known_label(path) or ""


def _known_label(path: str) -> str | None:
    if path in FIELD_LABELS:
        return FIELD_LABELS[path]
    match = _ROW_PATH.match(path)
    if match:
        label = ROW_LABELS[match.group("list")].get(match.group("key") or "")
        return label.format(n=int(match.group("index")) + 1) if label else None
    parts = path.split(".")
    if path.startswith("screening.triggers.") or path.startswith("screening.high_risk."):
        questions = rules.MANDATORY_TRIGGERS if parts[1] == "triggers" else rules.HIGH_RISK_TYPES
        question = questions.get(parts[2], parts[2])
        return f"Note on: {question}" if parts[-1] == "note" else question
    groups = {
        "processing": rules.PROCESSING_FIELDS,
        "consultation": rules.CONSULTATION_FIELDS,
        "necessity": rules.NECESSITY_FIELDS,
        "logging": {key: f"Logging of {label[:1].lower()}{label[1:]}" for key, label in rules.LOGGING_FIELDS.items()},
    }
    if parts[0] in groups and len(parts) == 2:
        return groups[parts[0]].get(parts[1])
    return None


def readable_errors(errors: list[FieldError]) -> str:
    """Join ``errors`` into one line for an API response, naming each field by its form label.

    The JSON path follows in brackets where it differs from the label, so both readers find the field.
    """
    parts = []
    for error in errors:
        label = field_label(error.field)
        plain = error.field.replace("_", " ").capitalize()
        name = label if label == plain else f"{label} ({error.field})"
        parts.append(f"{name}: {error.message}")
    return "; ".join(parts)


# Labels of the fields of the review and after-approval forms, keyed by the page's form name. The
# templates render these labels and the error summaries repeat them. "{number}" is a condition's
# number within its DPIA version.
FORM_LABELS: dict[str, dict[str, str]] = {
    "dpo_advice": {"advises_approval": "Do you advise approval?", "summary": "Summary of your advice"},
    "decision": {
        "decision": "Your decision",
        "reasons": "Reasons",
        "consultation_reasons": "Where your decision departs from the views of the people consulted, say why",
        "review_owner": "Who keeps this DPIA under review (if approved)",
    },
    "request_changes": {"reasons": "Changes needed"},
    "condition": {"text": "Condition", "owner": "Owner", "due_date": "Due date", "before_go_live": "Must be met before go-live"},
    "met": {"note": "How condition {number} was met"},
    "reopen": {"reason": "Why condition {number} is not met after all"},
    "withdraw": {"reason": "Why condition {number} is withdrawn"},
    "ico": {
        "submitted_on": "Date the consultation was sent to the ICO",
        "ico_reference": "ICO reference (optional)",
        "notes": "Notes (optional)",
    },
    "ico_response": {"response": "The ICO's response", "response_received_on": "Date of the response", "outcome": "Outcome"},
    "ico_reopen": {"reason": "Reason for reopening the consultation"},
    "review_date": {"review_date": "New review date", "reason": "Reason for the change"},
    "revoke": {"reason": "Reason for revoking"},
}

# A form that lost its hidden record version has no field to point at, so the summary names the form.
VERSION_LABEL = "This form"


def form_label(form: str, field: str, number: int | str = "") -> str:
    """Return the visible label of ``field`` on the page form ``form`` ("decision", "met", ...)."""
    if field == "version":
        return VERSION_LABEL
    label = FORM_LABELS.get(form, {}).get(field)
    return label.format(number=number) if label else field_label(field)


def form_page_for(path: str) -> str:
    """Return which form page ("screening" or "assessment") contains the field at ``path``."""
    return "screening" if path.startswith("screening") or path == "matrix" else "assessment"


def field_id(path: str) -> str:
    """Return the HTML id the form macros give the field named ``path``."""
    return path.replace("[", "-").replace("]", "").replace(".", "-")
