"""Local characteristics: what the force screens for beyond the nine protected characteristics.

Administrators add, rename, describe, deactivate and reactivate them; every change is audited. New
screening versions cover the nine protected characteristics (in the Act's order) and then every
active local one. A key never changes and a characteristic is never deleted, because frozen
screening versions refer to it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from equality.permissions import ChangedMeanwhile
from equality.rules import (
    PROTECTED_KEYS,
    SHORT_TEXT_LIMIT,
    TEXT_LIMIT,
    Characteristic,
    check_lock,
    protected_characteristics,
)
from equality.tables import LocalCharacteristic
from governance import audit
from governance.audit import Actor
from governance.clock import utcnow
from governance.database import write_transaction
from governance.errors import ErrorCollector, FieldError, Forbidden, NotFound
from governance.roles import Role

logger = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
ENTITY = "equality_local_characteristic"


@dataclass(frozen=True)
class LocalCharacteristicView:
    key: str
    label: str
    description: str
    active: bool
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    def as_characteristic(self) -> Characteristic:
        return Characteristic(self.key, self.label, "local", self.description)

    def snapshot(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "description": self.description,
            "active": self.active,
            "version": self.version,
        }

    def as_api(self) -> dict[str, Any]:
        return {
            **self.snapshot(),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def key_from_label(label: str) -> str:
    """Return a key made from a label: "Socio-economic status" becomes "socio_economic_status"."""
    key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    if key and not key[0].isalpha():
        key = f"local_{key}"
    return key[:60]


def _ensure_administrator(actor: Actor) -> None:
    if not actor.has_any(Role.ADMINISTRATOR):
        raise Forbidden("Managing local characteristics needs the administrator role.")


def _select():
    return LocalCharacteristic.select(
        LocalCharacteristic.all_columns(),
        LocalCharacteristic.created_by.username.as_alias("created_by_username"),
    )


def _view(row: dict[str, Any]) -> LocalCharacteristicView:
    return LocalCharacteristicView(
        key=row["key"],
        label=row["label"],
        description=row["description"],
        active=row["active"],
        created_by=row["created_by_username"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


async def list_local(*, include_inactive: bool = True) -> list[LocalCharacteristicView]:
    """Return the local characteristics in the order they were added."""
    query = _select().order_by(LocalCharacteristic.id)
    if not include_inactive:
        query = query.where(LocalCharacteristic.active == True)  # noqa: E712 (Piccolo needs ==)
    return [_view(row) for row in await query.run()]


async def get_local(key: str) -> LocalCharacteristicView:
    row = await _select().where(LocalCharacteristic.key == key).first().run()
    if row is None:
        raise NotFound(f"There is no local characteristic with the key {key!r}.")
    return _view(row)


async def current_characteristics() -> list[Characteristic]:
    """Return what a new screening covers: the nine protected characteristics, then active local ones."""
    local = [item.as_characteristic() for item in await list_local(include_inactive=False)]
    return protected_characteristics() + local


def _clean_label_and_description(
    errors: ErrorCollector,
    label: Any,
    description: Any,
    existing: Sequence[LocalCharacteristicView],
    except_key: str | None = None,
) -> tuple[str, str]:
    if label is not None and not isinstance(label, str):
        errors.add("label", "must be text")
        label = ""
    label = (label or "").strip()
    if not label:
        errors.add("label", "enter the characteristic's name, for example Socio-economic status")
    elif len(label) > SHORT_TEXT_LIMIT:
        errors.add("label", f"must be at most {SHORT_TEXT_LIMIT} characters")
    elif label.lower() in {item.label.lower() for item in protected_characteristics()}:
        errors.add("label", f"{label} is already one of the nine protected characteristics")
    else:
        for item in existing:
            if item.key != except_key and item.label.lower() == label.lower():
                errors.add("label", f"a local characteristic called {item.label} already exists")
                break
    if description is not None and not isinstance(description, str):
        errors.add("description", "must be text")
        description = ""
    description = (description or "").strip()
    if len(description) > TEXT_LIMIT:
        errors.add("description", f"must be at most {TEXT_LIMIT:,} characters")
    return label, description


def clean_new_local(
    label: Any,
    description: Any,
    key: Any,
    existing: Sequence[LocalCharacteristicView],
    other_errors: Sequence[FieldError] = (),
) -> tuple[str, str, str]:
    """Check a new local characteristic; raise ``InvalidInput`` naming every problem.

    Returns (label, description, key). The key is made from the label unless given. Labels must
    differ from the protected characteristics and from every local one, and keys are never
    reused, so a frozen screening's answers always point at one characteristic.
    ``other_errors`` are problems the caller found elsewhere in the request, reported with these.
    """
    errors = ErrorCollector(list(other_errors))
    label, description = _clean_label_and_description(errors, label, description, existing)
    if key is not None and not isinstance(key, str):
        errors.add("key", "must be text")
        key = ""
    given_key = (key or "").strip()
    key = given_key or key_from_label(label)
    if not key:
        pass  # Without a key or a label to make one from, the error on the label is enough.
    elif not KEY_PATTERN.match(key):
        errors.add(
            "key",
            "must be 2 to 60 characters of lower-case letters, digits and underscores, starting "
            "with a letter, for example socio_economic_status",
        )
    elif key in PROTECTED_KEYS:
        errors.add("key", f"{key} is one of the nine protected characteristics")
    elif any(item.key == key for item in existing):
        errors.add("key", f"{key} is already used; keys are unique and never reused")
    errors.raise_if_any()
    return label, description, key


def clean_local_change(
    current: LocalCharacteristicView,
    existing: Sequence[LocalCharacteristicView],
    *,
    label: Any = None,
    description: Any = None,
    active: Any = None,
    other_errors: Sequence[FieldError] = (),
) -> tuple[str, str, bool]:
    """Check a change to ``current``; raise ``InvalidInput`` naming every problem.

    None leaves a field as it is.
    """
    errors = ErrorCollector(list(other_errors))
    label, description = _clean_label_and_description(
        errors,
        current.label if label is None else label,
        current.description if description is None else description,
        existing,
        except_key=current.key,
    )
    if active is not None and not isinstance(active, bool):
        errors.add("active", "choose whether new screenings cover this characteristic")
    errors.raise_if_any()
    return label, description, current.active if active is None else active


async def create_local(
    actor: Actor,
    *,
    label: Any,
    description: Any = "",
    key: Any = None,
    other_errors: Sequence[FieldError] = (),
) -> LocalCharacteristicView:
    """Add an active local characteristic; the key is made from the label unless given."""
    _ensure_administrator(actor)
    async with write_transaction():
        label, description, key = clean_new_local(
            label, description, key, await list_local(), other_errors
        )
        now = utcnow()
        await LocalCharacteristic.insert(
            LocalCharacteristic(
                key=key,
                label=label,
                description=description,
                active=True,
                created_by=actor.account_id,
                created_at=now,
                updated_at=now,
                version=1,
            )
        ).run()
        view = await get_local(key)
        await audit.record(
            actor, "equality.local_characteristic_added", ENTITY, key, after=view.snapshot()
        )
    logger.info("local characteristic %s added by %s", key, actor.username)
    return view


async def update_local(
    actor: Actor,
    key: str,
    expected_version: Any,
    *,
    label: Any = None,
    description: Any = None,
    active: Any = None,
    other_errors: Sequence[FieldError] = (),
) -> LocalCharacteristicView:
    """Rename, describe, deactivate or reactivate a local characteristic; stale versions get 409."""
    _ensure_administrator(actor)
    async with write_transaction():
        before = await get_local(key)
        lock = ErrorCollector(list(other_errors))
        expected = check_lock(lock, expected_version)
        if lock.errors:
            other_errors = lock.errors
        elif before.version != expected:
            raise ChangedMeanwhile(
                f"the local characteristic {before.label}", expected, before.version
            )
        new_label, new_description, new_active = clean_local_change(
            before,
            await list_local(),
            label=label,
            description=description,
            active=active,
            other_errors=other_errors,
        )

        await LocalCharacteristic.update(
            {
                LocalCharacteristic.label: new_label,
                LocalCharacteristic.description: new_description,
                LocalCharacteristic.active: new_active,
                LocalCharacteristic.updated_at: utcnow(),
                LocalCharacteristic.version: before.version + 1,
            }
        ).where(LocalCharacteristic.key == key).run()
        after = await get_local(key)
        await audit.record(
            actor,
            "equality.local_characteristic_changed",
            ENTITY,
            key,
            before=before.snapshot(),
            after=after.snapshot(),
        )
    logger.info("local characteristic %s changed by %s", key, actor.username)
    return after
