"""Edit conflicts: what someone else changed since a form was loaded, and what the person chose to keep.

When a save is rejected because the record moved on (``StaleVersion``), the form comes back with
a comparison of each field that someone else changed and whose current value differs from what
the person sent. For each of those fields the person chooses, on the form, to keep the current
value or to use their own. The next save applies the choices, so no save silently reverts another
person's change. These are pure functions; the pages supply the values and render the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.errors import FieldError

# The form field that lists the compared fields, and the prefix of each field's choice.
FIELDS_KEY = "conflict_fields"
BASE_VERSION_KEY = "base_version"
CHOICE_PREFIX = "choice_"
KEEP_CURRENT = "current"
USE_YOURS = "yours"
CHOICE_MESSAGE = "choose whether to keep the current value or use yours"


@dataclass(frozen=True)
class ChangedField:
    """A field that someone else changed and whose current value differs from what was sent.

    ``current`` and ``yours`` are the values as text. ``you_changed`` is False when the sent value
    is the one the form was loaded with, True when the person changed it too, and None when the
    loaded value is not known.
    """

    name: str
    label: str
    current: str
    yours: str
    you_changed: bool | None

    @property
    def choice_name(self) -> str:
        return CHOICE_PREFIX + self.name

    @property
    def preset(self) -> str:
        """Return the choice to show selected: the current value when only someone else changed it."""
        return KEEP_CURRENT if self.you_changed is False else ""


def changed_fields(
    fields: Sequence[tuple[str, str]],
    current: Mapping[str, Any],
    sent: Mapping[str, Any],
    loaded: Mapping[str, Any] | None,
    as_text: Callable[[str, Any], str] = lambda name, value: str(value),
) -> list[ChangedField]:
    """List the fields, of (name, label) ``fields``, on which a save would overwrite another's change.

    A field is listed when the sent value differs from the current one, unless the values the
    form was loaded with (``loaded``) show that only the person sending changed it. Without
    ``loaded`` every differing field is listed.
    """
    listed = []
    for name, label in fields:
        if name not in sent or sent[name] == current.get(name):
            continue
        if loaded is not None and loaded.get(name) == current.get(name):
            continue
        you_changed = None if loaded is None else sent[name] != loaded.get(name)
        listed.append(
            ChangedField(name, label, as_text(name, current.get(name)), as_text(name, sent[name]), you_changed)
        )
    return listed


def form_values(changed: Sequence[ChangedField], base_version: int) -> dict[str, Any]:
    """Return the hidden fields and preset choices that carry a comparison into the next save."""
    values: dict[str, Any] = {
        FIELDS_KEY: ",".join(item.name for item in changed),
        BASE_VERSION_KEY: base_version,
    }
    for item in changed:
        if item.preset:
            values[item.choice_name] = item.preset
    return values


def compared_names(submitted: Mapping[str, str], allowed: Sequence[str]) -> list[str]:
    """Return the compared field names a form sent back, keeping only names the form has."""
    names = [name.strip() for name in submitted.get(FIELDS_KEY, "").split(",")]
    return [name for name in names if name in allowed]


def apply_choices(
    names: Sequence[str],
    submitted: Mapping[str, str],
    current: Mapping[str, Any],
    sent: Mapping[str, Any],
) -> tuple[dict[str, Any], list[FieldError]]:
    """Return the values to save after the person's choices, and an error for each missing choice.

    A field whose choice is "current" takes the current value; "yours" keeps the sent value.
    """
    merged = dict(sent)
    errors = []
    for name in names:
        choice = submitted.get(CHOICE_PREFIX + name, "")
        if choice == KEEP_CURRENT:
            merged[name] = current.get(name)
        elif choice != USE_YOURS:
            errors.append(FieldError(CHOICE_PREFIX + name, CHOICE_MESSAGE))
    return merged, errors


def base_version(submitted: Mapping[str, str], fallback: int | None) -> int | None:
    """Return the version the form was first loaded at, carried through earlier comparisons."""
    text = submitted.get(BASE_VERSION_KEY, "")
    return int(text) if text.isdigit() else fallback
