"""DPIA content rules: the document's shape, risk scoring, completeness and review dates.

Everything here is pure: no database, no clock. A DPIA version's content (schema "dpia/1") is one
JSON document. ``screening`` decides whether a full assessment is needed; when its outcome is
"required" the ICO's steps follow (processing, consultation, necessity, risks, measures) together
with the items that Part 3 of the Data Protection Act 2018 adds (logging, categories of data
subject, sensitive processing, human involvement). Field errors use paths into that document, such
as ``risks[2].likelihood``.

Drafts may be incomplete: ``validate_draft`` rejects only values that can never be right (a
likelihood outside the scale, an unknown regime). ``validate_for_submission`` also requires every
field that the outcome makes mandatory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from governance.assessments import add_months
from governance.errors import FieldError
from governance.register import REGIMES

KIND = "dpia"
SCHEMA = "dpia/1"

ANSWERS = ("yes", "no")
ANSWER_MISSING = "answer yes or no"
TEXT_LIMIT = 20_000
SHORT_TEXT_LIMIT = 300
MAX_RISKS = 100
MAX_MEASURES = 300
MAX_PURPOSES = 50

# UK GDPR Article 35(3) and DPA 2018 section 64: processing for which a DPIA is always required.
MANDATORY_TRIGGERS: dict[str, str] = {
    "profiling_significant_effects": "Systematic and extensive profiling or automated decision-making with legal or similarly significant effects",
    "large_scale_special_or_criminal": "Large-scale processing of special category or criminal offence data",
    "public_monitoring": "Large-scale systematic monitoring of a publicly accessible area",
}

# The ICO's list of processing types likely to result in high risk.
HIGH_RISK_TYPES: dict[str, str] = {
    "innovative_technology": "Innovative technology",
    "denial_of_service": "Decisions on access to a service, opportunity or benefit (denial of service)",
    "large_scale_profiling": "Large-scale profiling",
    "biometric_data": "Biometric data",
    "genetic_data": "Genetic data",
    "data_matching": "Data matching: combining, comparing or matching data from several sources",
    "invisible_processing": "Invisible processing: data not obtained from the person, without telling them",
    "tracking": "Tracking of location or behaviour",
    "targeting_vulnerable": "Targeting children or other vulnerable people",
    "risk_of_physical_harm": "Risk of physical harm if the data were breached",
}

OUTCOMES: dict[str, str] = {
    "required": "A full DPIA is required",
    "not_required": "A full DPIA is not required",
}

PROCESSING_FIELDS: dict[str, str] = {
    "nature": "Nature: how the data is collected, used, stored and deleted, and by which systems",
    "scope": "Scope: what data, how much, how often, how long it is kept, how many people",
    "context": "Context: the people's relationship with the force, their expectations, any vulnerability",
    "purposes": "Purposes: what the processing achieves for the force and for the people concerned",
}

CONSULTATION_FIELDS: dict[str, str] = {
    "individuals": "How the views of the people concerned (or their representatives) were sought, or why that was not appropriate",
    "internal_and_experts": "Who else was consulted inside the force, processors and security or other experts, and what they said",
}

NECESSITY_FIELDS: dict[str, str] = {
    "lawful_basis": "Lawful basis and, under Part 3, the law enforcement purpose",
    "minimisation": "Data minimisation: why each item of data is needed",
    "retention": "Retention: how long the data is kept and how it is deleted",
    "rights": "Rights of the people concerned and how they are supported",
    "processors": "Processors and how they are bound to comply",
    "transfers": "International transfers and their safeguards",
}

# DPA 2018 section 62: the operations whose logs must be kept for automated processing.
LOGGING_FIELDS: dict[str, str] = {
    "collection": "Collection",
    "alteration": "Alteration",
    "consultation": "Consultation",
    "disclosure": "Disclosure, including transfers",
    "combination": "Combination",
    "erasure": "Erasure",
}

# DPA 2018 section 38: categories of data subject that Part 3 processing distinguishes.
DATA_SUBJECT_CATEGORIES: dict[str, str] = {
    "suspects": "Suspects",
    "convicted": "People convicted of an offence",
    "victims": "Victims",
    "witnesses": "Witnesses",
    "other": "Other people (describe them)",
}

EFFECTS: dict[str, str] = {
    "eliminate": "Eliminated",
    "reduce": "Reduced",
    "accept": "Accepted",
}

RISK_FIELDS = ("description", "source", "harm", "likelihood", "severity", "residual_likelihood", "residual_severity")
MEASURE_FIELDS = ("risk", "description", "effect", "approved")

# Set by the service when a version is submitted: the use case's processing as the register held it,
# so the hash covers what was assessed. Whatever a client sends under this key is discarded.
SCOPE_KEY = "use_case_scope"

TOP_LEVEL_KEYS = frozenset(
    {
        SCOPE_KEY,
        "matrix",
        "screening",
        "processing",
        "consultation",
        "necessity",
        "sensitive_processing",
        "logging",
        "data_subjects",
        "human_involvement",
        "risks",
        "measures",
    }
)

# The ICO's seven steps, in the order the assessment and its Word export present them.
STEPS: tuple[tuple[str, str], ...] = (
    ("need", "Step 1: Identify the need for a DPIA"),
    ("processing", "Step 2: Describe the processing"),
    ("consultation", "Step 3: Consultation process"),
    ("necessity", "Step 4: Assess necessity and proportionality"),
    ("risks", "Step 5: Identify and assess risks"),
    ("measures", "Step 6: Identify measures to reduce risk"),
    ("sign_off", "Step 7: Sign off and record outcomes"),
)

# Review period by the highest residual risk level, in months from the approval date. A higher
# residual risk is looked at again sooner; an approved "not required" screening counts as low.
REVIEW_MONTHS: dict[str, int] = {"high": 6, "medium": 12, "low": 24}


# Scoring matrix -------------------------------------------------------------------------------------


class MatrixError(ValueError):
    """A stored scoring matrix definition is inconsistent."""


@dataclass(frozen=True)
class ScoringMatrix:
    """A likelihood-by-severity grid; ``cells[likelihood][severity]`` is a level key."""

    name: str
    version: int
    title: str
    likelihood: tuple[tuple[str, str], ...]
    severity: tuple[tuple[str, str], ...]
    levels: tuple[tuple[str, str], ...]
    cells: Mapping[str, Mapping[str, str]]

    @property
    def reference(self) -> dict[str, Any]:
        """The identity that each version's content records."""
        return {"name": self.name, "version": self.version}

    @property
    def likelihood_keys(self) -> list[str]:
        return [key for key, _ in self.likelihood]

    @property
    def severity_keys(self) -> list[str]:
        return [key for key, _ in self.severity]

    def label(self, key: str | None) -> str:
        for options in (self.likelihood, self.severity, self.levels):
            for option_key, option_label in options:
                if option_key == key:
                    return option_label
        return key or ""

    def rank(self, level: str) -> int:
        """Return the position of ``level`` from lowest (0); unknown levels rank below all."""
        keys = [key for key, _ in self.levels]
        return keys.index(level) if level in keys else -1

    def score(self, likelihood: Any, severity: Any) -> str | None:
        """Return the level for a likelihood and severity, or None if either is missing or unknown."""
        row = self.cells.get(likelihood) if isinstance(likelihood, str) else None
        if row is None or not isinstance(severity, str):
            return None
        return row.get(severity)


def parse_matrix(name: str, version: int, title: str, definition: Mapping[str, Any]) -> ScoringMatrix:
    """Build a matrix from its stored JSON; raise ``MatrixError`` unless every cell has a known level."""

    def options(key: str) -> tuple[tuple[str, str], ...]:
        items = definition.get(key)
        if not isinstance(items, list) or not items:
            raise MatrixError(f"matrix {name} v{version}: {key!r} must be a non-empty list")
        return tuple((str(item["key"]), str(item["label"])) for item in items)

    likelihood = options("likelihood")
    severity = options("severity")
    levels = options("levels")
    level_keys = {key for key, _ in levels}
    cells = definition.get("cells")
    if not isinstance(cells, dict):
        raise MatrixError(f"matrix {name} v{version}: 'cells' must be an object")
    for likelihood_key, _ in likelihood:
        for severity_key, _ in severity:
            level = cells.get(likelihood_key, {}).get(severity_key)
            if level not in level_keys:
                raise MatrixError(
                    f"matrix {name} v{version}: cell {likelihood_key}/{severity_key} has level "
                    f"{level!r}, which is not one of {sorted(level_keys)}"
                )
    return ScoringMatrix(name, version, title, likelihood, severity, levels, cells)


# Derived values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoredRisk:
    """One risk with its levels derived from the matrix (None where the scores are incomplete)."""

    number: int
    risk: Mapping[str, Any]
    level: str | None
    residual_level: str | None
    measures: tuple[Mapping[str, Any], ...]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def outcome_of(content: Mapping[str, Any]) -> str:
    """Return the screening outcome ("required", "not_required") or "" when not yet chosen."""
    outcome = _as_dict(content.get("screening")).get("outcome")
    return outcome if outcome in OUTCOMES else ""


def score_risks(content: Mapping[str, Any], matrix: ScoringMatrix) -> list[ScoredRisk]:
    """Derive each risk's level before and after measures, and attach the measures that treat it."""
    measures = _as_list(content.get("measures"))
    scored = []
    for index, risk in enumerate(_as_list(content.get("risks"))):
        risk = _as_dict(risk)
        number = index + 1
        treating = tuple(
            _as_dict(measure) for measure in measures if _as_dict(measure).get("risk") == number
        )
        scored.append(
            ScoredRisk(
                number=number,
                risk=risk,
                level=matrix.score(risk.get("likelihood"), risk.get("severity")),
                residual_level=matrix.score(risk.get("residual_likelihood"), risk.get("residual_severity")),
                measures=treating,
            )
        )
    return scored


def highest_residual_level(content: Mapping[str, Any], matrix: ScoringMatrix) -> str:
    """Return the highest residual level across the risks; "low" when there are none."""
    levels = [risk.residual_level for risk in score_risks(content, matrix) if risk.residual_level]
    if not levels:
        return "low"
    return max(levels, key=matrix.rank)


def ico_consultation_required(content: Mapping[str, Any], matrix: ScoringMatrix) -> bool:
    """True when a full DPIA leaves any risk at the highest level (DPA 2018 s65, UK GDPR Art 36)."""
    if outcome_of(content) != "required":
        return False
    top = matrix.levels[-1][0]
    return any(risk.residual_level == top for risk in score_risks(content, matrix))


def review_date_for(residual_level: str, approved_on: dt.date) -> dt.date:
    """Return the review date for an approval on ``approved_on`` leaving ``residual_level`` risk."""
    return add_months(approved_on, REVIEW_MONTHS.get(residual_level, REVIEW_MONTHS["high"]))


# Validation ----------------------------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(FieldError(path, message))


def _check_text(errors: _Errors, path: str, value: Any, *, required: bool, limit: int = TEXT_LIMIT) -> None:
    if value is None or value == "":
        if required:
            errors.add(path, "is missing; fill it in before submitting")
        return
    if not isinstance(value, str):
        errors.add(path, "must be text")
        return
    if len(value) > limit:
        errors.add(path, f"must be at most {limit:,} characters (it has {len(value):,})")
    elif required and not value.strip():
        errors.add(path, "is missing; fill it in before submitting")


def _either(labels: list[str]) -> str:
    """Join labels as a sentence does: "a", "a or b", "a, b or c"."""
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


def _check_choice(
    errors: _Errors,
    path: str,
    value: Any,
    choices: Mapping[str, str] | list[str] | tuple[str, ...],
    *,
    required: bool,
    missing: str = "",
) -> None:
    """Check a value chosen from ``choices``.

    A missing value gets ``missing`` or the choices' labels, because people see it next to the form.
    A value outside the choices can only come from the API, so that message lists the accepted keys.
    """
    if value is None or value == "":
        if required:
            if not missing:
                labels = list(choices.values()) if isinstance(choices, Mapping) else list(choices)
                missing = f"choose {_either(labels)}"
            errors.add(path, f"is missing; {missing}")
        return
    if value not in choices:
        errors.add(path, f"{value!r} is not allowed; use one of: {', '.join(choices)}")


def _check_object(errors: _Errors, path: str, value: Any, keys: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Return ``value`` as a dict, recording an error if it is not one or has unknown keys."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add(path, "must be an object")
        return {}
    unknown = sorted(set(value) - set(keys), key=str)
    for key in unknown:
        errors.add(f"{path}.{key}", f"is not a field of {path}; accepted fields are {', '.join(keys)}")
    return value


def _check_list(errors: _Errors, path: str, value: Any, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, "must be a list")
        return []
    if len(value) > limit:
        errors.add(path, f"must have at most {limit} entries (it has {len(value)})")
        return value[:limit]
    return value


def _check_screening(errors: _Errors, value: Any, complete: bool) -> None:
    screening = _check_object(errors, "screening", value, ["triggers", "high_risk", "regimes", "outcome", "reasons"])
    if complete and not isinstance(value, dict):
        errors.add("screening", "is missing; answer the screening questions before submitting")

    answered_yes = []
    for group, questions in (("triggers", MANDATORY_TRIGGERS), ("high_risk", HIGH_RISK_TYPES)):
        answers = _check_object(errors, f"screening.{group}", screening.get(group), list(questions))
        for key in questions:
            path = f"screening.{group}.{key}"
            item = _check_object(errors, path, answers.get(key), ["answer", "note"])
            answer = item.get("answer")
            _check_choice(errors, f"{path}.answer", answer, ANSWERS, required=complete, missing=ANSWER_MISSING)
            # A "yes" must say how the processing meets the description.
            _check_text(errors, f"{path}.note", item.get("note"), required=complete and answer == "yes")
            if answer == "yes":
                answered_yes.append(questions[key])

    regimes = _check_list(errors, "screening.regimes", screening.get("regimes"), MAX_PURPOSES)
    if complete and not regimes:
        errors.add("screening.regimes", "is missing; record each purpose and the regime it is processed under")
    for index, item in enumerate(regimes):
        path = f"screening.regimes[{index}]"
        item = _check_object(errors, path, item, ["purpose", "regime"])
        _check_text(errors, f"{path}.purpose", item.get("purpose"), required=complete, limit=SHORT_TEXT_LIMIT)
        _check_choice(
            errors, f"{path}.regime", item.get("regime"), REGIMES, required=complete, missing="choose the regime the purpose is processed under"
        )

    outcome = screening.get("outcome")
    _check_choice(
        errors,
        "screening.outcome",
        outcome,
        OUTCOMES,
        required=complete,
        missing="choose whether a full DPIA is required or not required",
    )
    _check_text(errors, "screening.reasons", screening.get("reasons"), required=complete)
    if outcome == "not_required" and answered_yes:
        errors.add(
            "screening.outcome",
            "cannot be 'not required' because these were answered yes: "
            + "; ".join(answered_yes)
            + ". Choose 'required', or correct the answers",
        )


def _check_text_group(
    errors: _Errors, name: str, value: Any, fields: Mapping[str, str], complete: bool
) -> dict[str, Any]:
    group = _check_object(errors, name, value, list(fields))
    for key in fields:
        _check_text(errors, f"{name}.{key}", group.get(key), required=complete)
    return group


def _check_assessment(errors: _Errors, content: Mapping[str, Any], matrix: ScoringMatrix, complete: bool) -> None:
    _check_text_group(errors, "processing", content.get("processing"), PROCESSING_FIELDS, complete)
    _check_text_group(errors, "consultation", content.get("consultation"), CONSULTATION_FIELDS, complete)
    _check_text_group(errors, "necessity", content.get("necessity"), NECESSITY_FIELDS, complete)
    _check_text_group(errors, "logging", content.get("logging"), LOGGING_FIELDS, complete)

    sensitive = _check_object(
        errors, "sensitive_processing", content.get("sensitive_processing"), ["applies", "condition", "policy_document"]
    )
    _check_choice(
        errors, "sensitive_processing.applies", sensitive.get("applies"), ANSWERS, required=complete, missing=ANSWER_MISSING
    )
    needs_condition = complete and sensitive.get("applies") == "yes"
    _check_text(errors, "sensitive_processing.condition", sensitive.get("condition"), required=needs_condition)
    _check_text(
        errors, "sensitive_processing.policy_document", sensitive.get("policy_document"), required=needs_condition
    )

    subjects = _check_object(errors, "data_subjects", content.get("data_subjects"), ["categories", "other"])
    categories = _check_list(errors, "data_subjects.categories", subjects.get("categories"), len(DATA_SUBJECT_CATEGORIES))
    for index, category in enumerate(categories):
        _check_choice(errors, f"data_subjects.categories[{index}]", category, DATA_SUBJECT_CATEGORIES, required=True)
    if complete and not categories:
        errors.add("data_subjects.categories", "is missing; choose at least one category of data subject")
    _check_text(errors, "data_subjects.other", subjects.get("other"), required=complete and "other" in categories)

    human = _check_object(
        errors, "human_involvement", content.get("human_involvement"), ["solely_automated", "description"]
    )
    _check_choice(
        errors,
        "human_involvement.solely_automated",
        human.get("solely_automated"),
        ANSWERS,
        required=complete,
        missing=ANSWER_MISSING,
    )
    _check_text(errors, "human_involvement.description", human.get("description"), required=complete)

    likelihood_missing = f"choose how likely the harm is: {_either([label for _, label in matrix.likelihood])}"
    severity_missing = f"choose how severe the harm would be: {_either([label for _, label in matrix.severity])}"
    risks = _check_list(errors, "risks", content.get("risks"), MAX_RISKS)
    if complete and not risks:
        errors.add("risks", "is missing; record at least one risk to the people whose data is processed")
    for index, risk in enumerate(risks):
        path = f"risks[{index}]"
        risk = _check_object(errors, path, risk, RISK_FIELDS)
        for key in ("description", "source", "harm"):
            _check_text(errors, f"{path}.{key}", risk.get(key), required=complete)
        for key in ("likelihood", "residual_likelihood"):
            _check_choice(errors, f"{path}.{key}", risk.get(key), dict(matrix.likelihood), required=complete, missing=likelihood_missing)
        for key in ("severity", "residual_severity"):
            _check_choice(errors, f"{path}.{key}", risk.get(key), dict(matrix.severity), required=complete, missing=severity_missing)

    measures = _check_list(errors, "measures", content.get("measures"), MAX_MEASURES)
    treated: set[int] = set()
    for index, measure in enumerate(measures):
        path = f"measures[{index}]"
        measure = _check_object(errors, path, measure, MEASURE_FIELDS)
        number = measure.get("risk")
        if number is None or number == "":
            if complete:
                errors.add(f"{path}.risk", "is missing; give the number of the risk this measure treats")
        elif isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(risks):
            if risks:
                errors.add(f"{path}.risk", f"{number!r} is not a recorded risk; use a risk number from 1 to {len(risks)}")
            else:
                errors.add(f"{path}.risk", f"{number!r} is not a recorded risk, and no risk is recorded yet; add the risk first")
        else:
            treated.add(number)
        _check_text(errors, f"{path}.description", measure.get("description"), required=complete)
        _check_choice(
            errors,
            f"{path}.effect",
            measure.get("effect"),
            EFFECTS,
            required=complete,
            missing="choose whether the measure eliminates, reduces or accepts the risk",
        )
        _check_choice(errors, f"{path}.approved", measure.get("approved"), ANSWERS, required=complete, missing=ANSWER_MISSING)

    if complete:
        lowest = matrix.levels[0][0]
        for scored in score_risks(content, matrix):
            if scored.level and scored.level != lowest and scored.number not in treated:
                errors.add(
                    f"risks[{scored.number - 1}]",
                    f"is rated {matrix.label(scored.level).lower()} but no measure treats it; add a measure "
                    "that eliminates, reduces or accepts it",
                )


def validate(content: Any, matrix: ScoringMatrix, *, complete: bool) -> list[FieldError]:
    """Return every field error in ``content``; with ``complete`` also every missing mandatory field."""
    errors = _Errors()
    if not isinstance(content, dict):
        errors.add("content", "must be a JSON object")
        return errors.items

    for key in sorted(set(content) - TOP_LEVEL_KEYS, key=str):
        errors.add(key, f"is not a DPIA field; accepted fields are {', '.join(sorted(TOP_LEVEL_KEYS))}")

    recorded = content.get("matrix")
    if recorded is not None and recorded != matrix.reference:
        errors.add("matrix", f"must be {matrix.reference}, the matrix this version is scored with")

    _check_screening(errors, content.get("screening"), complete)

    # A "not required" outcome ends the document at screening; assessment fields may still be
    # present (from an earlier version) and are checked for shape only.
    full = complete and outcome_of(content) == "required"
    _check_assessment(errors, content, matrix, full)
    return errors.items


def validate_draft(content: Any, matrix: ScoringMatrix) -> list[FieldError]:
    return validate(content, matrix, complete=False)


def validate_for_submission(content: Any, matrix: ScoringMatrix) -> list[FieldError]:
    return validate(content, matrix, complete=True)


# Starting content ----------------------------------------------------------------------------------


def blank_content(matrix: ScoringMatrix, purposes: list[dict[str, str]]) -> dict[str, Any]:
    """Return the first version's content: screening prefilled with the use case's purposes."""
    return {
        "matrix": matrix.reference,
        "screening": {
            "triggers": {key: {"answer": "", "note": ""} for key in MANDATORY_TRIGGERS},
            "high_risk": {key: {"answer": "", "note": ""} for key in HIGH_RISK_TYPES},
            "regimes": [{"purpose": item["purpose"], "regime": item["regime"]} for item in purposes],
            "outcome": "",
            "reasons": "",
        },
    }


def rescored_content(content: Mapping[str, Any], matrix: ScoringMatrix) -> dict[str, Any]:
    """Return ``content`` recording ``matrix`` as its scorer (a new version scores with the active matrix).

    The recorded processing scope is left out: the new version records the register's scope when it
    is submitted.
    """
    kept = {key: value for key, value in content.items() if key != SCOPE_KEY}
    return {**kept, "matrix": matrix.reference}
