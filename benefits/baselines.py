"""Benefits baselines: the manual process measured before a bot takes it over.

A baseline records the volume of work items per month, the manual handling time per item and the
human time still needed per item after automation, with a note of where the figures came from. The
go-live gate requires one, so that realised benefits can be measured from the first day live.

Times are entered in minutes with at most one decimal place and stored in whole seconds, so a value
always reads back exactly as entered.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from benefits.tables import Baseline
from governance import audit, golive, register
from governance.audit import Actor
from governance.canonical import content_hash
from governance.clock import format_date, utcnow
from governance.database import write_transaction
from governance.errors import ErrorCollector, Forbidden, InvalidInput, NotFound, StaleVersion
from governance.gate import CheckResult, RegisteredCheck, UseCaseRef
from governance.roles import Role

logger = logging.getLogger(__name__)

CHECK_NAME = "benefits_baseline"
FIELDS = ("volume_per_month", "manual_minutes_per_item", "residual_minutes_per_item", "source_note")
MAX_VOLUME_PER_MONTH = 10_000_000
MAX_MINUTES_PER_ITEM = Decimal(24 * 60)
RECORDER_ROLES = (Role.CENTRAL_TEAM,)


@dataclass(frozen=True)
class BaselineView:
    id: int
    use_case_ref: str
    volume_per_month: int
    manual_seconds_per_item: int
    residual_seconds_per_item: int
    source_note: str
    recorded_by: str
    recorded_at: dt.datetime
    version: int

    @property
    def manual_minutes(self) -> Decimal:
        return seconds_to_minutes(self.manual_seconds_per_item)

    @property
    def residual_minutes(self) -> Decimal:
        return seconds_to_minutes(self.residual_seconds_per_item)

    @property
    def hours_released_per_month(self) -> Decimal:
        """Forecast hours a month if every item is automated, before exceptions and attribution."""
        saved = self.manual_seconds_per_item - self.residual_seconds_per_item
        return (Decimal(self.volume_per_month * saved) / 3600).quantize(Decimal("0.1"))

    def values(self) -> dict[str, Any]:
        return {
            "use_case": self.use_case_ref,
            "volume_per_month": self.volume_per_month,
            "manual_seconds_per_item": self.manual_seconds_per_item,
            "residual_seconds_per_item": self.residual_seconds_per_item,
            "source_note": self.source_note,
        }

    def as_api(self) -> dict[str, Any]:
        return {
            "use_case": self.use_case_ref,
            "volume_per_month": self.volume_per_month,
            "manual_minutes_per_item": float(self.manual_minutes),
            "residual_minutes_per_item": float(self.residual_minutes),
            "hours_released_per_month": float(self.hours_released_per_month),
            "source_note": self.source_note,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
            "version": self.version,
        }


# Validation (pure) ---------------------------------------------------------------------------------


def seconds_to_minutes(seconds: int) -> Decimal:
    return (Decimal(seconds) / 60).quantize(Decimal("0.1"))


def _parse_minutes(value: Any) -> Decimal | None:
    """Return the number of minutes written in ``value``, or None if it is not a finite number."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        minutes = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return minutes if minutes.is_finite() else None


def _minutes(errors: ErrorCollector, name: str, value: Any, *, allow_zero: bool) -> int | None:
    """Return whole seconds for a minutes value with at most one decimal place, or record an error."""
    if isinstance(value, bool) or value is None or value == "":
        errors.add(name, "enter a number of minutes, for example 12.5")
        return None
    try:
        minutes = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add(name, f"{value!r} is not a number; enter minutes, for example 12.5")
        return None
    if not minutes.is_finite():
        errors.add(name, "enter a finite number of minutes")
        return None
    if minutes != minutes.quantize(Decimal("0.1")):
        errors.add(name, "use at most one decimal place (tenths of a minute)")
        return None
    if minutes < 0 or (minutes == 0 and not allow_zero):
        errors.add(name, "must be more than 0" if not allow_zero else "cannot be negative")
        return None
    if minutes > MAX_MINUTES_PER_ITEM:
        errors.add(name, f"must be at most {MAX_MINUTES_PER_ITEM} minutes (24 hours) per item")
        return None
    return int(minutes * 60)


def validate_baseline(data: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise baseline fields; raise ``InvalidInput`` naming every bad field."""
    errors = ErrorCollector()
    clean: dict[str, Any] = {}

    volume = data.get("volume_per_month")
    if isinstance(volume, str) and re.fullmatch(r"-?\d+", volume.strip()):
        volume = int(volume.strip())
    if isinstance(volume, bool) or not isinstance(volume, int):
        errors.add("volume_per_month", "enter a whole number of work items per month")
    elif not 1 <= volume <= MAX_VOLUME_PER_MONTH:
        errors.add("volume_per_month", f"must be between 1 and {MAX_VOLUME_PER_MONTH:,}")
    else:
        clean["volume_per_month"] = volume

    manual = _minutes(errors, "manual_minutes_per_item", data.get("manual_minutes_per_item"), allow_zero=False)
    residual = _minutes(
        errors, "residual_minutes_per_item", data.get("residual_minutes_per_item"), allow_zero=True
    )
    # Compared as typed, so the comparison is reported even while one value has another problem
    # (two decimal places, for example). A manual time of 0 or less is wrong on its own account.
    typed_manual = _parse_minutes(data.get("manual_minutes_per_item"))
    typed_residual = _parse_minutes(data.get("residual_minutes_per_item"))
    if (
        typed_manual is not None
        and typed_residual is not None
        and typed_manual > 0
        and typed_residual >= 0
        and typed_residual > typed_manual
    ):
        errors.add(
            "residual_minutes_per_item",
            "must not exceed the manual minutes per item: the bot would add work, not release it",
        )
    clean["manual_seconds_per_item"] = manual
    clean["residual_seconds_per_item"] = residual

    note = data.get("source_note")
    if not isinstance(note, str) or not note.strip():
        errors.add("source_note", "say where the figures come from, for example a time-and-motion study")
    elif len(note.strip()) > 2000:
        errors.add("source_note", "must be at most 2000 characters")
    else:
        clean["source_note"] = note.strip()

    errors.raise_if_any()
    return clean


def evaluate_baseline(baseline: BaselineView | None) -> CheckResult:
    """Return the gate result: passed with the baseline as evidence, or a blocker."""
    if baseline is None:
        return CheckResult(
            name=CHECK_NAME,
            title="Benefits baseline",
            passed=False,
            detail="No benefits baseline is recorded, so benefits could not be measured from go-live.",
            clearing_role=Role.CENTRAL_TEAM,
        )
    return CheckResult(
        name=CHECK_NAME,
        title="Benefits baseline",
        passed=True,
        detail=f"Recorded by {baseline.recorded_by} on {format_date(baseline.recorded_at)}: "
        f"{baseline.volume_per_month:,} items a month, {baseline.manual_minutes} minutes each by hand, "
        f"{baseline.residual_minutes} minutes after automation.",
        evidence={
            "baseline_id": baseline.id,
            "baseline_version": baseline.version,
            "recorded_at": baseline.recorded_at.isoformat(),
            "values_hash": content_hash(baseline.values()),
        },
    )


# Reading -------------------------------------------------------------------------------------------


def _view(row: dict[str, Any]) -> BaselineView:
    return BaselineView(
        id=row["id"],
        use_case_ref=row["use_case_ref"],
        volume_per_month=row["volume_per_month"],
        manual_seconds_per_item=row["manual_seconds_per_item"],
        residual_seconds_per_item=row["residual_seconds_per_item"],
        source_note=row["source_note"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        version=row["version"],
    )


async def get_baseline(use_case_id: int) -> BaselineView | None:
    row = (
        await Baseline.select(Baseline.all_columns(), Baseline.use_case.reference.as_alias("use_case_ref"))
        .where(Baseline.use_case == use_case_id)
        .first()
        .run()
    )
    return _view(row) if row else None


async def baseline_for(reference: str) -> BaselineView:
    view = await register.get_use_case(reference)
    baseline = await get_baseline(view.id)
    if baseline is None:
        raise NotFound(f"{view.reference} has no benefits baseline yet.")
    return baseline


async def run_check(use_case: UseCaseRef, now: dt.datetime) -> list[CheckResult]:
    return [evaluate_baseline(await get_baseline(use_case.id))]


CHECK = RegisteredCheck(CHECK_NAME, "Benefits baseline", run_check)


# Writing -------------------------------------------------------------------------------------------


async def record_baseline(
    actor: Actor, reference: str, data: dict[str, Any], *, expected_version: int | None = None
) -> BaselineView:
    """Record or replace a use case's baseline; replacing needs the current ``expected_version``."""
    if not actor.has_any(*RECORDER_ROLES) and actor.kind != "system":
        raise Forbidden("Recording a benefits baseline needs the central automation team role.")
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise InvalidInput.single(sorted(unknown)[0], f"unknown field; accepted fields are {', '.join(FIELDS)}")
    clean = validate_baseline(data)

    async with write_transaction():
        use_case = await register.get_use_case(reference)
        before = await get_baseline(use_case.id)
        now = utcnow()
        if before is None:
            await Baseline.insert(
                Baseline(
                    use_case=use_case.id,
                    volume_per_month=clean["volume_per_month"],
                    manual_seconds_per_item=clean["manual_seconds_per_item"],
                    residual_seconds_per_item=clean["residual_seconds_per_item"],
                    source_note=clean["source_note"],
                    recorded_by=actor.username,
                    recorded_at=now,
                    version=1,
                )
            ).run()
        else:
            if expected_version is None:
                raise InvalidInput.single(
                    "version", f"a baseline exists; send its version ({before.version}) to replace it"
                )
            if expected_version != before.version:
                raise StaleVersion(f"the baseline of {use_case.reference}", expected_version, before.version)
            values = {
                Baseline.volume_per_month: clean["volume_per_month"],
                Baseline.manual_seconds_per_item: clean["manual_seconds_per_item"],
                Baseline.residual_seconds_per_item: clean["residual_seconds_per_item"],
                Baseline.source_note: clean["source_note"],
                Baseline.recorded_by: actor.username,
                Baseline.recorded_at: now,
                Baseline.version: before.version + 1,
            }
            await Baseline.update(values).where(Baseline.id == before.id).run()

        after = await get_baseline(use_case.id)
        assert after is not None
        await audit.record(
            actor,
            "benefits.baseline_recorded" if before is None else "benefits.baseline_replaced",
            "baseline",
            use_case.reference,
            before=before.as_api() if before else None,
            after=after.as_api(),
            use_case_ref=use_case.reference,
        )
        await golive.readiness_may_have_changed(actor, use_case.id, "the benefits baseline was recorded")
    logger.info("benefits baseline of %s recorded by %s", use_case.reference, actor.username)
    return after
