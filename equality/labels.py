"""Names of equality content fields on the history page: "Age: likely impact", "Action 2: owner"."""

from __future__ import annotations

import re

from equality.rules import AIMS, PROTECTED_CHARACTERISTICS

_PROTECTED_NAMES = dict(PROTECTED_CHARACTERISTICS)

_TOP_LEVEL: dict[str, str] = {
    "proposal": "What the automation changes",
    "outcome": "Outcome",
    "engagement": "Engagement or consultation",
    "screening.version": "Screening version",
    "screening.content_hash": "Screening content hash (SHA-256)",
}

_CHARACTERISTIC_FIELDS: dict[str, str] = {
    "impact": "likely impact",
    "affected": "who is affected",
    "evidence": "evidence",
}

_IMPACT_FIELDS: dict[str, str] = {
    "label": "name",
    "impact": "impact found by the screening",
    "affected": "who is affected",
    "mitigation": "mitigation",
    "owner": "owner of the mitigation",
    "due_date": "mitigation due",
    "remains": "impact remains after mitigation",
    "justification": "justification for what remains",
}

_LIST_ITEM = re.compile(r"^(?P<list>action_plan|characteristics_screened)\[(?P<index>\d+)\]\.(?P<field>\w+)$")


def _characteristic(key: str) -> str:
    """Return the name of a characteristic. A local one is known here only by its key."""
    return _PROTECTED_NAMES.get(key) or key.replace("_", " ").capitalize()


def history_label(path: str) -> str:
    """Return the name of a screening or full-assessment field, or "" for a field this does not know."""
    if path in _TOP_LEVEL:
        return _TOP_LEVEL[path]
    parts = path.split(".")
    if len(parts) == 3 and parts[0] in ("characteristics", "impacts"):
        fields = _CHARACTERISTIC_FIELDS if parts[0] == "characteristics" else _IMPACT_FIELDS
        return f"{_characteristic(parts[1])}: {fields.get(parts[2], parts[2].replace('_', ' '))}"
    if len(parts) == 2 and parts[0] == "aims":
        return f"Aim: {AIMS.get(parts[1], parts[1].replace('_', ' '))}"
    match = _LIST_ITEM.match(path)
    if match:
        what = "Action" if match["list"] == "action_plan" else "Characteristic screened"
        return f"{what} {int(match['index']) + 1}: {match['field'].replace('_', ' ')}"
    return ""
