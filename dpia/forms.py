"""Translation between the DPIA's HTML forms and its JSON content (pure functions).

Form fields are named by their content path (``risks[0].likelihood``), so the errors the rules
return point straight at the field to fix, and the error summary links to it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

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


def assessment_from_form(values: dict[str, str]) -> dict[str, Any]:
    """Return the assessment sections, without blank risk and measure rows.

    Dropping a blank risk renumbers the risks after it, so the measures are renumbered with them.
    A measure whose risk was removed loses its reference, which submission then reports.
    """
    content: dict[str, Any] = {}
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
    renumbered: dict[int, int] = {}
    for index in range(row_count(values, "risks")):
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
        if raw_risk.isdigit():
            measure["risk"] = renumbered.get(int(raw_risk))
        elif not raw_risk:
            measure["risk"] = None
        measures.append(measure)
    content["measures"] = measures
    return content


def parse_date(value: str | None) -> dt.date | None:
    """Return the date in a YYYY-MM-DD field, or None when it is empty or invalid."""
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def field_label(path: str) -> str:
    """Return a reader's name for a content path, for error summaries."""
    return _known_label(path) or path.replace("_", " ").replace(".", ": ").capitalize()


def history_label(path: str) -> str:
    """Return the name of a field in a DPIA audit entry, or "" to leave it to the history page's wording."""
    if path == "dpia_version":
        return "DPIA version"
    if re.split(r"[.\[]", path)[0] not in rules.TOP_LEVEL_KEYS:
        return ""
    return _known_label(path) or ""


def _known_label(path: str) -> str | None:
    parts = path.split(".")
    match = re.match(r"^(risks|measures|screening\.regimes)\[(\d+)\]\.(\w+)$", path)
    if match:
        what = {"risks": "Risk", "measures": "Measure", "screening.regimes": "Purpose"}[match.group(1)]
        return f"{what} {int(match.group(2)) + 1}: {match.group(3).replace('_', ' ')}"
    match = re.match(r"^(risks|measures)\[(\d+)\]$", path)
    if match:
        return f"{match.group(1)[:-1].capitalize()} {int(match.group(2)) + 1}"
    if path.startswith("screening.triggers.") or path.startswith("screening.high_risk."):
        questions = rules.MANDATORY_TRIGGERS if parts[1] == "triggers" else rules.HIGH_RISK_TYPES
        label = questions.get(parts[2], parts[2])
        return f"{label}: {parts[-1]}" if len(parts) > 3 else label
    groups = {
        "processing": rules.PROCESSING_FIELDS,
        "consultation": rules.CONSULTATION_FIELDS,
        "necessity": rules.NECESSITY_FIELDS,
        "logging": {key: f"Logging of {label.lower()}" for key, label in rules.LOGGING_FIELDS.items()},
    }
    if parts[0] in groups and len(parts) == 2:
        return groups[parts[0]].get(parts[1], path).split(":")[0]
    return None


def form_page_for(path: str) -> str:
    """Return which form page ("screening" or "assessment") contains the field at ``path``."""
    return "screening" if path.startswith("screening") or path == "matrix" else "assessment"


def field_id(path: str) -> str:
    """Return the HTML id the form macros give the field named ``path``."""
    return path.replace("[", "-").replace("]", "").replace(".", "-")
