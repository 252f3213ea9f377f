"""Equality rules as pure functions: what a screening and a full assessment must contain, the
screening outcome and review dates.

The Public Sector Equality Duty (Equality Act 2010, section 149) requires due regard to three aims,
across the nine protected characteristics of the Act and any local characteristics the force adds.
A screening records, for each characteristic, the likely impact, who is affected and the evidence.
Any negative or not known impact makes a full equality impact assessment necessary; the screener
cannot override that outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.assessments import (
    add_months,
    check_due_date,
    check_review_date,
    register_kind_label,
)
from governance.errors import ErrorCollector

SCREENING = "equality_screening"
ASSESSMENT = "equality_assessment"
KINDS = (SCREENING, ASSESSMENT)
SCHEMAS = {SCREENING: "equality_screening/1", ASSESSMENT: "equality_assessment/1"}
KIND_LABELS = {SCREENING: "Equality screening", ASSESSMENT: "Full equality impact assessment"}
for _kind, _label in KIND_LABELS.items():
    register_kind_label(_kind, _label[:1].lower() + _label[1:])
# Path segments used in URLs for each kind.
KIND_SLUGS = {SCREENING: "screening", ASSESSMENT: "full-assessment"}
SLUG_KINDS = {slug: kind for kind, slug in KIND_SLUGS.items()}

PROTECTED_CHARACTERISTICS: tuple[tuple[str, str], ...] = (
    ("age", "Age"),
    ("disability", "Disability"),
    ("gender_reassignment", "Gender reassignment"),
    ("marriage_and_civil_partnership", "Marriage and civil partnership"),
    ("pregnancy_and_maternity", "Pregnancy and maternity"),
    ("race", "Race"),
    ("religion_or_belief", "Religion or belief"),
    ("sex", "Sex"),
    ("sexual_orientation", "Sexual orientation"),
)
PROTECTED_KEYS = frozenset(key for key, _ in PROTECTED_CHARACTERISTICS)

IMPACTS: dict[str, str] = {
    "positive": "Positive",
    "neutral": "Neutral",
    "negative": "Negative",
    "not_known": "Not known",
}
FLAGGED_IMPACTS = frozenset({"negative", "not_known"})

AFFECTED: dict[str, str] = {
    "public": "Members of the public",
    "staff": "Staff",
    "both": "Public and staff",
}

AIMS: dict[str, str] = {
    "eliminate_discrimination": "Eliminate discrimination, harassment and victimisation",
    "advance_equality": "Advance equality of opportunity",
    "foster_good_relations": "Foster good relations",
}

OUTCOME_REQUIRED = "full_assessment_required"
OUTCOME_NOT_NEEDED = "no_full_assessment_needed"
OUTCOMES: dict[str, str] = {
    OUTCOME_NOT_NEEDED: "No full assessment needed",
    OUTCOME_REQUIRED: "Full assessment required",
}

# The equality lead's decisions, each with the status and decision it records.
DECISIONS = {"approve": "approved", "request_changes": "changes_requested", "reject": "rejected"}

TEXT_LIMIT = 8_000
SHORT_TEXT_LIMIT = 200
ACTION_PLAN_LIMIT = 50

# Review periods in months from the approval date. Shorter when a risk to equality remains, so that
# the equality lead checks again whether the mitigations worked.
REVIEW_MONTHS = 12
REVIEW_MONTHS_WITH_IMPACT = 6


@dataclass(frozen=True)
class Characteristic:
    """A characteristic a screening covers: one of the nine protected ones, or a local one."""

    key: str
    label: str
    kind: str = "protected"
    description: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Characteristic:
        return cls(
            key=str(data["key"]),
            label=str(data.get("label", data["key"])),
            kind=str(data.get("kind", "protected")),
            description=str(data.get("description", "")),
        )


def protected_characteristics() -> list[Characteristic]:
    """Return the nine protected characteristics in the order the Act lists them."""
    return [Characteristic(key, label) for key, label in PROTECTED_CHARACTERISTICS]


def screened_characteristics(content: Mapping[str, Any]) -> list[Characteristic]:
    """Return the characteristics a screening version recorded that it covers."""
    return [Characteristic.from_dict(item) for item in content.get("characteristics_screened", [])]


# Text and value cleaning ---------------------------------------------------------------------------


def _text(errors: ErrorCollector, name: str, value: Any, limit: int = TEXT_LIMIT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(name, "must be text")
        return ""
    value = value.strip()
    if len(value) > limit:
        errors.add(name, f"must be at most {limit:,} characters (it has {len(value):,})")
    return value


def _choice(
    errors: ErrorCollector, name: str, value: Any, choices: Mapping[str, str], what: str
) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or value not in choices:
        errors.add(name, f"{value!r} is not a valid {what}; use one of: {', '.join(choices)}")
        return ""
    return value


def _mapping(errors: ErrorCollector, name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.add(name, "must be an object")
        return {}
    return dict(value)


def parse_date(value: Any) -> dt.date | None:
    """Return the date in ``value`` (ISO text such as 2026-03-31, or a date), or None if invalid."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _date(errors: ErrorCollector, name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    day = parse_date(value)
    if day is None:
        errors.add(
            name, f"{value!r} is not a real date; enter it as YYYY-MM-DD, for example 2026-03-31"
        )
        return ""
    if not 2000 <= day.year <= 2100:
        errors.add(name, "must be a date between the years 2000 and 2100")
        return ""
    return day.isoformat()


def _due_date(errors: ErrorCollector, name: str, value: Any, today: dt.date) -> str:
    """Return a due date as ISO text, or "" after recording why it is not a real or future date."""
    text = _date(errors, name, value)
    if not text:
        return ""
    problem = check_due_date(dt.date.fromisoformat(text), today)
    if problem:
        errors.add(name, problem)
        return ""
    return text


def _has_error(errors: ErrorCollector, name: str) -> bool:
    return any(error.field == name for error in errors.errors)


# Screening -----------------------------------------------------------------------------------------


def screening_outcome(
    characteristics: Sequence[Characteristic], answers: Mapping[str, Any]
) -> str | None:
    """Return the outcome the answers lead to, or None while an impact is still unanswered.

    Any negative or not known impact requires a full assessment, even before every characteristic
    has been answered, because further answers cannot remove that impact.
    """
    impacts = [(answers.get(item.key) or {}).get("impact") for item in characteristics]
    if any(impact in FLAGGED_IMPACTS for impact in impacts):
        return OUTCOME_REQUIRED
    if all(impact in IMPACTS for impact in impacts):
        return OUTCOME_NOT_NEEDED
    return None


@dataclass(frozen=True)
class FlaggedImpact:
    """A characteristic whose screened impact is negative or not known."""

    key: str
    label: str
    impact: str
    affected: str
    evidence: str

    @property
    def description(self) -> str:
        return f"{self.label} ({IMPACTS.get(self.impact, self.impact).lower()})"


def flagged_impacts(content: Mapping[str, Any]) -> list[FlaggedImpact]:
    """Return the negative and not known impacts of a screening's content, in screening order."""
    answers = content.get("characteristics") or {}
    flagged = []
    for item in screened_characteristics(content):
        answer = answers.get(item.key) or {}
        if answer.get("impact") in FLAGGED_IMPACTS:
            flagged.append(
                FlaggedImpact(
                    key=item.key,
                    label=item.label,
                    impact=answer["impact"],
                    affected=answer.get("affected", ""),
                    evidence=answer.get("evidence", ""),
                )
            )
    return flagged


def blank_screening(characteristics: Sequence[Characteristic]) -> dict[str, Any]:
    """Return the content of a new, empty screening over ``characteristics``."""
    return {
        "proposal": "",
        "characteristics_screened": [item.as_dict() for item in characteristics],
        "characteristics": {
            item.key: {"impact": "", "affected": "", "evidence": ""} for item in characteristics
        },
        "aims": {key: "" for key in AIMS},
        "outcome": None,
    }


def rebase_screening(
    content: Mapping[str, Any], characteristics: Sequence[Characteristic]
) -> dict[str, Any]:
    """Return ``content`` moved onto the current list of characteristics.

    Answers for characteristics still on the list are kept, new ones start empty and answers for
    characteristics no longer on the list are dropped (frozen versions keep theirs).
    """
    answers = content.get("characteristics") or {}
    rebased = blank_screening(characteristics)
    rebased["proposal"] = content.get("proposal", "")
    for item in characteristics:
        previous = answers.get(item.key)
        if isinstance(previous, Mapping):
            rebased["characteristics"][item.key] = {
                "impact": previous.get("impact", ""),
                "affected": previous.get("affected", ""),
                "evidence": previous.get("evidence", ""),
            }
    aims = content.get("aims") or {}
    rebased["aims"] = {key: aims.get(key, "") for key in AIMS}
    rebased["outcome"] = screening_outcome(characteristics, rebased["characteristics"])
    return rebased


def clean_screening(
    data: Mapping[str, Any], characteristics: Sequence[Characteristic], *, complete: bool
) -> dict[str, Any]:
    """Check and normalise screening content; raise ``InvalidInput`` naming every bad field.

    ``data`` may hold ``proposal``, ``characteristics`` (key -> impact, affected, evidence),
    ``aims`` (aim -> note) and ``outcome``. Drafts may leave answers empty; with ``complete``
    (submission) every characteristic, every aim and the proposal must be answered. The outcome is
    always computed here: an ``outcome`` that disagrees with the computed one is rejected.
    """
    errors = ErrorCollector()
    for name in sorted(set(data) - {"proposal", "characteristics", "aims", "outcome"}):
        errors.add(
            name, "unknown field; a screening has proposal, characteristics, aims and outcome"
        )

    proposal = _text(errors, "proposal", data.get("proposal"))
    if complete and not proposal:
        errors.add("proposal", "describe what the automation changes and who it affects")

    known = {item.key: item for item in characteristics}
    given = _mapping(errors, "characteristics", data.get("characteristics"))
    for key in given:
        if key not in known:
            errors.add(
                f"characteristics.{key}",
                f"is not a characteristic this screening covers; use one of: {', '.join(known)}",
            )

    answers: dict[str, dict[str, str]] = {}
    for item in characteristics:
        base = f"characteristics.{item.key}"
        answer = _mapping(errors, base, given.get(item.key))
        for name in sorted(set(answer) - {"impact", "affected", "evidence"}):
            errors.add(
                f"{base}.{name}", "unknown field; each answer has impact, affected and evidence"
            )
        impact = _choice(errors, f"{base}.impact", answer.get("impact"), IMPACTS, "impact")
        affected = _choice(
            errors, f"{base}.affected", answer.get("affected"), AFFECTED, "group affected"
        )
        evidence = _text(errors, f"{base}.evidence", answer.get("evidence"))
        if complete:
            if not impact and not _has_error(errors, f"{base}.impact"):
                errors.add(f"{base}.impact", f"choose the likely impact on {item.label.lower()}")
            if not affected and not _has_error(errors, f"{base}.affected"):
                errors.add(f"{base}.affected", "choose who is affected: public, staff or both")
            if not evidence:
                errors.add(
                    f"{base}.evidence", f"give the evidence for the impact on {item.label.lower()}"
                )
        answers[item.key] = {"impact": impact, "affected": affected, "evidence": evidence}

    given_aims = _mapping(errors, "aims", data.get("aims"))
    for key in given_aims:
        if key not in AIMS:
            errors.add(f"aims.{key}", f"is not an aim of the duty; use one of: {', '.join(AIMS)}")
    aims = {}
    for key, label in AIMS.items():
        note = _text(errors, f"aims.{key}", given_aims.get(key))
        if complete and not note:
            errors.add(
                f"aims.{key}",
                f"say how the change affects the aim to {label[0].lower()}{label[1:]}",
            )
        aims[key] = note

    outcome = screening_outcome(characteristics, answers)
    claimed = data.get("outcome")
    if claimed not in (None, "") and claimed != outcome:
        errors.add("outcome", _outcome_mismatch(claimed, outcome, characteristics, answers))

    errors.raise_if_any()
    return {
        "proposal": proposal,
        "characteristics_screened": [item.as_dict() for item in characteristics],
        "characteristics": answers,
        "aims": aims,
        "outcome": outcome,
    }


def _outcome_mismatch(
    claimed: Any,
    outcome: str | None,
    characteristics: Sequence[Characteristic],
    answers: Mapping[str, Any],
) -> str:
    if outcome == OUTCOME_REQUIRED:
        flagged = [
            item.label for item in characteristics if answers[item.key]["impact"] in FLAGGED_IMPACTS
        ]
        return (
            f"cannot be {claimed!r}: a negative or not known impact ({', '.join(flagged)}) always "
            f"requires a full equality impact assessment; leave outcome out or send {OUTCOME_REQUIRED!r}"
        )
    if outcome == OUTCOME_NOT_NEEDED:
        return (
            f"cannot be {claimed!r}: no impact is negative or not known, so the outcome is "
            f"{OUTCOME_NOT_NEEDED!r}; leave outcome out"
        )
    return (
        f"cannot be {claimed!r} yet: the outcome is worked out from the impacts once every "
        "characteristic is answered; leave outcome out"
    )


# Full assessment -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningBasis:
    """The frozen screening version a full assessment responds to."""

    number: int
    content_hash: str
    impacts: tuple[FlaggedImpact, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.number, "content_hash": self.content_hash}


def _impact_entry(impact: FlaggedImpact) -> dict[str, Any]:
    return {
        "label": impact.label,
        "impact": impact.impact,
        "affected": impact.affected,
        "mitigation": "",
        "owner": "",
        "due_date": "",
        "remains": None,
        "justification": "",
    }


def blank_assessment(basis: ScreeningBasis) -> dict[str, Any]:
    """Return the content of a new full assessment responding to ``basis``."""
    return {
        "screening": basis.as_dict(),
        "impacts": {impact.key: _impact_entry(impact) for impact in basis.impacts},
        "action_plan": [],
        "engagement": "",
    }


def rebase_assessment(content: Mapping[str, Any], basis: ScreeningBasis) -> dict[str, Any]:
    """Return ``content`` moved onto ``basis``: mitigations for impacts still flagged are kept."""
    rebased = blank_assessment(basis)
    previous = content.get("impacts") or {}
    for impact in basis.impacts:
        entry = rebased["impacts"][impact.key]
        old = previous.get(impact.key)
        if isinstance(old, Mapping):
            for name in ("mitigation", "owner", "due_date", "remains", "justification"):
                entry[name] = old.get(name, entry[name])
    rebased["action_plan"] = list(content.get("action_plan") or [])
    rebased["engagement"] = content.get("engagement", "")
    return rebased


def _remains(errors: ErrorCollector, name: str, value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if value in ("yes", "no"):
        return value == "yes"
    errors.add(name, f"{value!r} is not valid; use true or false")
    return None


def clean_assessment(
    data: Mapping[str, Any], basis: ScreeningBasis, *, complete: bool, today: dt.date
) -> dict[str, Any]:
    """Check and normalise full-assessment content; raise ``InvalidInput`` naming every bad field.

    ``data`` may hold ``impacts`` (key -> mitigation, owner, due_date, remains, justification),
    ``action_plan`` (a list of action, owner, due_date) and ``engagement``. The impacts to cover are
    those that ``basis`` flagged. Due dates must be ``today`` or later, in drafts too. With
    ``complete`` (submission) every impact needs a mitigation, an owner, a due date and whether an
    impact remains, with a justification if one does. The plan then needs at least one action, and
    the engagement or consultation done must be described.
    """
    errors = ErrorCollector()
    for name in sorted(set(data) - {"impacts", "action_plan", "engagement"}):
        errors.add(name, "unknown field; a full assessment has impacts, action_plan and engagement")

    flagged = {impact.key: impact for impact in basis.impacts}
    given = _mapping(errors, "impacts", data.get("impacts"))
    for key in given:
        if key not in flagged:
            names = ", ".join(flagged) or "none"
            errors.add(
                f"impacts.{key}",
                f"screening version {basis.number} did not find a negative or not known impact on "
                f"{key}; the impacts to cover are: {names}",
            )

    impacts: dict[str, dict[str, Any]] = {}
    for impact in basis.impacts:
        base = f"impacts.{impact.key}"
        entry = _mapping(errors, base, given.get(impact.key))
        allowed = {"mitigation", "owner", "due_date", "remains", "justification"}
        for name in sorted(set(entry) - allowed):
            errors.add(f"{base}.{name}", f"unknown field; use {', '.join(sorted(allowed))}")
        mitigation = _text(errors, f"{base}.mitigation", entry.get("mitigation"))
        owner = _text(errors, f"{base}.owner", entry.get("owner"), SHORT_TEXT_LIMIT)
        due_date = _due_date(errors, f"{base}.due_date", entry.get("due_date"), today)
        remains = _remains(errors, f"{base}.remains", entry.get("remains"))
        justification = _text(errors, f"{base}.justification", entry.get("justification"))
        if complete:
            what = impact.label.lower()
            if not mitigation:
                errors.add(f"{base}.mitigation", f"describe how the impact on {what} is mitigated")
            if not owner:
                errors.add(f"{base}.owner", "name the person who owns the mitigation")
            if not due_date and not entry.get("due_date"):
                errors.add(
                    f"{base}.due_date", "enter the date the mitigation is due, as YYYY-MM-DD"
                )
            if remains is None and entry.get("remains") in (None, ""):
                errors.add(
                    f"{base}.remains", f"say whether an impact on {what} remains after mitigation"
                )
            if remains and not justification and not _has_error(errors, f"{base}.justification"):
                errors.add(
                    f"{base}.justification",
                    f"justify why the remaining impact on {what} is acceptable",
                )
        impacts[impact.key] = {
            **_impact_entry(impact),
            "mitigation": mitigation,
            "owner": owner,
            "due_date": due_date,
            "remains": remains,
            "justification": justification,
        }

    plan = []
    raw_plan = data.get("action_plan")
    if raw_plan is not None and not isinstance(raw_plan, list):
        errors.add("action_plan", "must be a list of actions, each with action, owner and due_date")
        raw_plan = []
    raw_plan = raw_plan or []
    if len(raw_plan) > ACTION_PLAN_LIMIT:
        errors.add("action_plan", f"must have at most {ACTION_PLAN_LIMIT} actions")
    for index, row in enumerate(raw_plan[:ACTION_PLAN_LIMIT]):
        base = f"action_plan[{index}]"
        if not isinstance(row, Mapping):
            errors.add(base, "must be an object with action, owner and due_date")
            continue
        for name in sorted(set(row) - {"action", "owner", "due_date"}):
            errors.add(
                f"{base}.{name}", "unknown field; each action has action, owner and due_date"
            )
        action = _text(errors, f"{base}.action", row.get("action"))
        owner = _text(errors, f"{base}.owner", row.get("owner"), SHORT_TEXT_LIMIT)
        due_date = _due_date(errors, f"{base}.due_date", row.get("due_date"), today)
        if not (action or owner or due_date or row.get("due_date")):
            continue
        if not action:
            errors.add(f"{base}.action", "describe the action")
        if not owner:
            errors.add(f"{base}.owner", "name the person who owns the action")
        if not due_date and not row.get("due_date"):
            errors.add(f"{base}.due_date", "enter the date the action is due, as YYYY-MM-DD")
        plan.append({"action": action, "owner": owner, "due_date": due_date})
    if (
        complete
        and not plan
        and not any(error.field.startswith("action_plan") for error in errors.errors)
    ):
        errors.add("action_plan", "add at least one action, with its owner and due date")

    engagement = _text(errors, "engagement", data.get("engagement"))
    if complete and not engagement:
        errors.add("engagement", "describe the engagement or consultation done, and what it found")

    errors.raise_if_any()
    return {
        "screening": basis.as_dict(),
        "impacts": impacts,
        "action_plan": plan,
        "engagement": engagement,
    }


def remaining_impacts(content: Mapping[str, Any]) -> list[str]:
    """Return the labels of the impacts that a full assessment records as remaining after mitigation."""
    return [
        entry.get("label", key)
        for key, entry in (content.get("impacts") or {}).items()
        if isinstance(entry, Mapping) and entry.get("remains")
    ]


# The equality lead's inputs -------------------------------------------------------------------------


def check_lock(errors: ErrorCollector, value: Any) -> int:
    """Return the record version a request was based on, or 0 after recording that it is unusable.

    Every write names the ``version`` of the row it read (optimistic locking), so that a change made
    meanwhile by someone else is reported instead of overwritten.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    errors.add(
        "version",
        "is missing or not a positive whole number; read the record again and send the "
        '"version" it returns',
    )
    return 0


def clean_decision(action: Any, summary: Any, reasons: Any) -> tuple[str, str, str]:
    """Check the equality lead's decision; raise ``InvalidInput`` naming every bad field.

    Returns (action, summary, reasons). Reasons are required to request changes or reject, so that
    the author knows what to change.
    """
    errors = ErrorCollector()
    if action is None or action == "":
        errors.add("action", "choose approve, request changes or reject")
    elif not isinstance(action, str) or action not in DECISIONS:
        errors.add("action", f"{action!r} is not a decision; use one of: {', '.join(DECISIONS)}")
    summary = _text(errors, "summary", summary)
    reasons = _text(errors, "reasons", reasons)
    needs_reasons = action in ("request_changes", "reject")
    if needs_reasons and not reasons and not _has_error(errors, "reasons"):
        errors.add("reasons", "give the reasons, so that the author knows what to change")
    errors.raise_if_any()
    return action, summary, reasons


def clean_revocation(reason: Any) -> str:
    """Check the reason for revoking an approval; raise ``InvalidInput`` if missing or too long."""
    errors = ErrorCollector()
    reason = _text(errors, "reason", reason)
    if not reason and not _has_error(errors, "reason"):
        errors.add("reason", "give the reason for revoking the approval")
    errors.raise_if_any()
    return reason


def clean_review_change(review_date: Any, reason: Any, today: dt.date) -> tuple[dt.date, str]:
    """Check a new review date and its reason; raise ``InvalidInput`` naming every problem."""
    errors = ErrorCollector()
    day = parse_date(review_date)
    problem = check_review_date(day, today)
    if problem:
        errors.add("review_date", problem)
    reason = _text(errors, "reason", reason)
    if not reason and not _has_error(errors, "reason"):
        errors.add("reason", "give the reason for changing the review date")
    errors.raise_if_any()
    assert day is not None
    return day, reason


# Review dates --------------------------------------------------------------------------------------


def review_date_for(kind: str, approved_on: dt.date, content: Mapping[str, Any]) -> dt.date:
    """Return when an approved version must be reviewed.

    The period is twelve months after approval. It is six months when a negative or not known
    impact was screened, or when a full assessment accepts an impact that remains after mitigation.
    """
    months = REVIEW_MONTHS
    if kind == SCREENING and content.get("outcome") == OUTCOME_REQUIRED:
        months = REVIEW_MONTHS_WITH_IMPACT
    if kind == ASSESSMENT and remaining_impacts(content):
        months = REVIEW_MONTHS_WITH_IMPACT
    return add_months(approved_on, months)
