"""Loads the equality demo records (``equality/demo.toml``) through the equality service.

The records get an illustrative history: while a step runs, the clock that stamps assessment
versions and sign-offs reads the date the data file gives (so many days before loading). Audit
entries keep the real time of loading, so the log still shows when the demo was loaded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from equality import characteristics as local_characteristics
from equality import service
from equality.rules import SLUG_KINDS
from governance import audit
from governance.clock import london_today, records_dated, utcnow
from governance.database import write_transaction
from governance.packages import DemoContext

logger = logging.getLogger(__name__)


def merge_content(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``changes`` applied; nested objects are merged key by key."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_content(merged[key], value)
        else:
            merged[key] = value
    return merged


def with_due_dates(content: Mapping[str, Any], loaded_on: dt.date) -> dict[str, Any]:
    """Return demo content with each ``due_in_days`` replaced by the ``due_date`` it stands for."""
    resolved: dict[str, Any] = {}
    for key, value in content.items():
        if key == "due_in_days":
            resolved["due_date"] = (loaded_on + dt.timedelta(days=value)).isoformat()
        elif isinstance(value, Mapping):
            resolved[key] = with_due_dates(value, loaded_on)
        elif isinstance(value, list):
            resolved[key] = [
                with_due_dates(item, loaded_on) if isinstance(item, Mapping) else item
                for item in value
            ]
        else:
            resolved[key] = value
    return resolved


def _days_ago(loaded_at: dt.datetime, days: int) -> dt.datetime:
    # Mid-morning UK time on the day, so that dates read naturally on screen.
    return (loaded_at - dt.timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)


async def _load_record(
    context: DemoContext, record: Mapping[str, Any], loaded_at: dt.datetime
) -> None:
    reference = record["use_case"]
    kind = SLUG_KINDS[record["kind"]]
    author = context.accounts[record["author"]]
    approver = context.accounts.get(record.get("approver", ""))

    for step in record["versions"]:
        with records_dated(_days_ago(loaded_at, step["started_days_ago"])):
            view = await service.start_version(author, reference, kind)
            changes = with_due_dates(step.get("content", {}), london_today(loaded_at))
            data = merge_content(service.editable_input(kind, view.content), changes)
            view = await service.save_draft(
                author, reference, kind, view.number, view.version, data
            )

        if "submitted_days_ago" not in step:
            continue
        with records_dated(_days_ago(loaded_at, step["submitted_days_ago"])):
            view = await service.submit(author, reference, kind, view.number, view.version)

        if "decision" not in step:
            continue
        if approver is None:
            raise ValueError(f"demo record {reference} {kind} has a decision but no approver")
        with records_dated(_days_ago(loaded_at, step["decided_days_ago"])):
            await service.decide(
                approver,
                reference,
                kind,
                view.number,
                view.version,
                step["decision"],
                summary=step.get("summary", ""),
                reasons=step.get("reasons", ""),
            )


async def load_demo(context: DemoContext) -> None:
    """Add the demo's local characteristics, screenings and full assessments."""
    loaded_at = utcnow()
    async with write_transaction():
        for item in context.data.get("local_characteristics", []):
            with records_dated(_days_ago(loaded_at, item.get("days_ago", 0))):
                await local_characteristics.create_local(
                    context.accounts[item["created_by"]],
                    label=item["label"],
                    description=item.get("description", ""),
                    key=item.get("key"),
                )
        for record in context.data.get("records", []):
            await _load_record(context, record, loaded_at)
        await audit.record(
            audit.SYSTEM,
            "equality.demo_loaded",
            "equality_demo",
            "equality",
            after={"records": len(context.data.get("records", []))},
            note="illustrative demo records: version, decision and sign-off times are set in the past",
        )
    logger.info("equality demo records loaded")
