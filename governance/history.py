"""Readable audit entries for the history pages: "DPIA submitted", "Risk 1: likelihood".

Audit actions are stored as ``<prefix>.<verb>`` ("dpia.submit", "equality_screening.approve",
"use_case.moved"). The core names the prefix with ``assessments.kind_label`` and the verb with
``VERB_PHRASES``. A package adds phrases for its own verbs and a label for each field path of its
content through ``HistoryLabels`` in its ``Contribution``, so the core never imports a package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import pass_context

from governance.assessments import kind_label

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
    leave the path to the core's own wording.
    """

    prefix: str
    phrases: Mapping[str, str] = field(default_factory=dict)
    field_label: Callable[[str], str] | None = None


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
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    labels = _labels_for(action.partition(".")[0], registered)

    def label(path: str) -> str:
        named = labels.field_label(path) if labels and labels.field_label else ""
        return named or generic_label(path)

    return [(label(path), left, right) for path, left, right in _leaf_changes(before, after, "")]


def _registered(context: Any) -> list[HistoryLabels]:
    """Collect the labels that the loaded packages contribute, from the request's app state."""
    request = context.get("request")
    contributions = getattr(getattr(getattr(request, "app", None), "state", None), "contributions", None) or []
    return [labels for contribution in contributions for labels in getattr(contribution, "history_labels", [])]


@pass_context
def _action_filter(context: Any, action: str) -> str:
    return action_label(action, _registered(context))


@pass_context
def _changes_filter(context: Any, entry: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    return changed_values(entry["action"], entry.get("before"), entry.get("after"), _registered(context))


# Jinja filters: ``entry.action|history_action`` and ``entry|history_changes``.
FILTERS: dict[str, Callable[..., Any]] = {
    "history_action": _action_filter,
    "history_changes": _changes_filter,
}
