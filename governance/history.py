"""Readable audit entries for the history pages: "DPIA submitted", "Risk 1: likelihood".

Audit actions are stored as ``<prefix>.<verb>`` ("dpia.submit", "equality_screening.approve",
"use_case.moved"). The core names the prefix with ``assessments.kind_label`` and the verb with
``VERB_PHRASES``. A package adds phrases for its own verbs, a label for each field path of its
content and labels for the values of its own fields (statuses, decisions) through
``HistoryLabels`` in its ``Contribution``, so the core never imports a package.

Values are shown as every other page shows them: dates as "4 December 2026", times in UK time as
"4 December 2026, 11:24pm", stages, roles and assessment kinds by their labels, and the internal
keys of statuses and decisions in words ("Approved with conditions").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import pass_context

from governance.assessments import kind_label
from governance.clock import format_date, format_datetime
from governance.register import PLATFORMS, REGIMES
from governance.roles import ROLE_LABELS, Role
from governance.stages import STAGE_LABELS, Stage

# Past-tense phrases for the verbs of the shared assessment machinery and the core's own records.
VERB_PHRASES: dict[str, str] = {
    "version_started": "version started",
    "draft_saved": "draft saved",
    "submit": "submitted",
    "approve": "approved",
    "approve_with_conditions": "approved with conditions",
    "reject": "rejected",
    "request_changes": "changes requested",
    "supersede": "superseded by a later version",
    "signed": "signed",
    "revoked": "approval revoked",
    "review_date_changed": "review date changed",
}

# Names of the fields that the shared machinery records before and after a workflow step.
FIELD_LABELS: dict[str, str] = {
    "content_hash": "Content hash (SHA-256)",
    "number": "Version",
    "version": "Record version",
}

@dataclass(frozen=True)
class HistoryLabels:
    """The names the history page gives the audit entries whose action starts with ``prefix``.

    ``phrases`` maps a verb to its past-tense phrase ("start_review": "review started").
    ``field_label`` returns the label of a field path such as ``risks[0].likelihood``, or "" to
    leave the path to the core's own wording. ``value_labels`` maps a field name (the last part of
    a path, such as ``status``) to the labels of its values ({"in_review": "In review"}); the values
    of a field named there but missing from its mapping are put in words.
    """

    prefix: str
    phrases: Mapping[str, str] = field(default_factory=dict)
    field_label: Callable[[str], str] | None = None
    value_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def generic_label(path: str) -> str:
    """Return a field path in words: "screening.high_risk[0].note" becomes "Screening: high risk 1: note"."""
    if path in FIELD_LABELS:
        return FIELD_LABELS[path]
    words = []
    for part in path.replace("]", "").split("."):
        name, _, index = part.partition("[")
        text = name.replace("_", " ")
        words.append(f"{text} {int(index) + 1}" if index.isdigit() else text)
    return _capitalise(": ".join(words))


def _labels_for(prefix: str, registered: Iterable[HistoryLabels]) -> HistoryLabels | None:
    for labels in registered:
        if labels.prefix == prefix:
            return labels
    return None


def action_label(action: str, registered: Iterable[HistoryLabels] = ()) -> str:
    """Return an audit action as a heading: "dpia.start_review" becomes "DPIA review started"."""
    prefix, _, verb = action.partition(".")
    labels = _labels_for(prefix, registered)
    phrases = labels.phrases if labels else {}
    phrase = phrases.get(verb) or VERB_PHRASES.get(verb) or verb.replace("_", " ")
    return _capitalise(f"{kind_label(prefix)} {phrase}".strip())


def _is_record_list(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def _leaf_changes(before: Any, after: Any, path: str) -> list[tuple[str, Any, Any]]:
    """List (path, before, after) of the differing leaves.

    An object or a list of objects, even one added or removed as a whole, is listed field by field.
    A list of plain values stays one value.
    """
    if before == after:
        return []
    if all(value is None or isinstance(value, dict) for value in (before, after)):
        left, right = before or {}, after or {}
        changes = []
        for key in sorted(set(left) | set(right), key=str):
            changes.extend(_leaf_changes(left.get(key), right.get(key), f"{path}.{key}" if path else str(key)))
        return changes
    lists = all(value is None or isinstance(value, list) for value in (before, after))
    if lists and (_is_record_list(before) or _is_record_list(after)):
        left, right = before or [], after or []
        changes = []
        for index in range(max(len(left), len(right))):
            changes.extend(
                _leaf_changes(
                    left[index] if index < len(left) else None,
                    right[index] if index < len(right) else None,
                    f"{path}[{index}]",
                )
            )
        return changes
    return [(path, before, after)]


def changed_values(
    action: str, before: Any, after: Any, registered: Iterable[HistoryLabels] = ()
) -> list[tuple[str, Any, Any]]:
    """List (label, before, after) for each value that differs, expanding nested content to its fields.

    Like the audit log's own comparison, this compares only entries that record a state on both
    sides. Objects and lists of objects are compared field by field, so a saved draft shows
    "Risk 1: likelihood" rather than the whole list of risks.
    """
    return [(label, left, right) for label, _, left, right in _labelled_changes(action, before, after, registered)]


def _labelled_changes(
    action: str, before: Any, after: Any, registered: Iterable[HistoryLabels]
) -> list[tuple[str, str, Any, Any]]:
    """List (label, path, before, after) for each differing value."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    labels = _labels_for(action.partition(".")[0], registered)

    def label(path: str) -> str:
        named = labels.field_label(path) if labels and labels.field_label else ""
        return named or generic_label(path)

    return [(label(path), path, left, right) for path, left, right in _leaf_changes(before, after, "")]


# Value formatting ----------------------------------------------------------------------------------

# Fields whose values are internal keys of a fixed list, shown in words when no label is registered.
KEYED_FIELDS = frozenset({"status", "decision", "basis", "outcome", "meaning"})
# Abbreviations kept in capitals when a key is put in words ("dpo_advice_recorded").
ABBREVIATIONS = {"dpia": "DPIA", "dpo": "DPO", "ico": "ICO", "ia": "IA", "uat": "UAT", "rpa": "RPA"}
STAGE_FIELDS = frozenset({"stage", "held_from", "from_stage", "target_stage"})
ROLE_FIELDS = frozenset({"role", "roles", "signing_role", "signer_role", "clearing_role"})

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")


def key_in_words(key: str) -> str:
    """Return an internal key in words: "dpo_advice_recorded" becomes "DPO advice recorded"."""
    words = [ABBREVIATIONS.get(word, word) for word in key.split("_") if word]
    return _capitalise(" ".join(words))


def field_name(path: str) -> str:
    """Return the last part of a field path without its index: ``conditions[0].status`` gives ``status``."""
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def _date_text(text: str) -> str | None:
    """Return an ISO date or an ISO date and time with an offset as the pages show it, else None."""
    if _ISO_DATE.fullmatch(text):
        try:
            return format_date(dt.date.fromisoformat(text))
        except ValueError:
            return None
    if _ISO_DATETIME.fullmatch(text):
        try:
            return format_datetime(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _core_label(name: str, text: str) -> str | None:
    """Return the core's label for a stage, role, assessment kind, regime or platform, or None."""
    if name in STAGE_FIELDS:
        try:
            return STAGE_LABELS[Stage(text)]
        except ValueError:
            return None
    if name in ROLE_FIELDS:
        try:
            return ROLE_LABELS[Role(text)]
        except ValueError:
            return None
    if name == "kind":
        return _capitalise(kind_label(text))
    if name == "regime":
        return REGIMES.get(text)
    if name == "rpa_platform":
        return PLATFORMS.get(text)
    return None


def value_text(path: str, value: Any, labels: HistoryLabels | None = None) -> str:
    """Return a recorded value as the history page shows it.

    ``path`` names the field the value belongs to, which decides how keys are labelled. Lists
    are joined with semicolons and objects are listed as "Field: value" pairs.
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return "; ".join(value_text(path, item, labels) for item in value) or "(none)"
    if isinstance(value, dict):
        return ", ".join(
            f"{generic_label(str(key))}: {value_text(str(key), item, labels)}" for key, item in value.items()
        )
    if not isinstance(value, str):
        return str(value)
    if value == "":
        return "(empty)"

    name = field_name(path)
    registered = labels.value_labels.get(name) if labels else None
    if registered is not None:
        return registered.get(value) or key_in_words(value)
    core = _core_label(name, value)
    if core is not None:
        return core
    if name in KEYED_FIELDS and re.fullmatch(r"[a-z][a-z0-9_]*", value):
        return key_in_words(value)
    return _date_text(value) or value


def readable_changes(
    action: str, before: Any, after: Any, registered: Iterable[HistoryLabels] = ()
) -> list[tuple[str, str, str]]:
    """List (label, before, after) as text for each value that differs, formatted for the history page."""
    registered = list(registered)
    labels = _labels_for(action.partition(".")[0], registered)
    return [
        (label, value_text(path, left, labels), value_text(path, right, labels))
        for label, path, left, right in _labelled_changes(action, before, after, registered)
    ]


def _registered(context: Any) -> list[HistoryLabels]:
    """Collect the labels that the loaded packages contribute, from the request's app state."""
    request = context.get("request")
    contributions = getattr(getattr(getattr(request, "app", None), "state", None), "contributions", None) or []
    return [labels for contribution in contributions for labels in getattr(contribution, "history_labels", [])]


@pass_context
def _action_filter(context: Any, action: str) -> str:
    return action_label(action, _registered(context))


@pass_context
def _changes_filter(context: Any, entry: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return readable_changes(entry["action"], entry.get("before"), entry.get("after"), _registered(context))


# Jinja filters: ``entry.action|history_action`` and ``entry|history_changes``.
FILTERS: dict[str, Callable[..., Any]] = {
    "history_action": _action_filter,
    "history_changes": _changes_filter,
}
