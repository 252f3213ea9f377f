"""Routes of the benefits package: the baseline API, its form, and its panel on the use-case page."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from benefits import baselines
from governance import audit, conflicts, register
from governance.audit import Actor
from governance.auth import CurrentActor, allow, allow_everyone
from governance.errors import InvalidInput, StaleVersion
from governance.gate import UseCaseRef
from governance.packages import UseCasePanel
from governance.web.forms import FormState, parse_int, read_form_or_errors
from governance.web.templating import page

logger = logging.getLogger(__name__)


class BaselineBody(msgspec.Struct, forbid_unknown_fields=True):
    """A baseline. Minutes take at most one decimal place. ``version`` is needed to replace one."""

    volume_per_month: int
    manual_minutes_per_item: float
    residual_minutes_per_item: float
    source_note: str
    version: int | msgspec.UnsetType = msgspec.UNSET


class BaselineApi(Controller):
    path = "/api/v1/use-cases"
    tags = ["benefits"]

    @get("/{reference:str}/baseline", opt=allow_everyone())
    async def get_baseline(self, reference: FromPath[str]) -> dict[str, Any]:
        """Return the use case's benefits baseline, or 404 when none is recorded."""
        return (await baselines.baseline_for(reference)).as_api()

    @put("/{reference:str}/baseline", opt=allow(*baselines.RECORDER_ROLES))
    async def put_baseline(self, reference: FromPath[str], data: JSONBody[BaselineBody], actor: CurrentActor) -> dict[str, Any]:
        """Record the baseline, or replace it by sending the current ``version``."""
        values = msgspec.to_builtins(data)
        version = values.pop("version", None)
        view = await baselines.record_baseline(actor, reference, values, expected_version=version)
        return view.as_api()


FIELD_LABELS = [
    ("volume_per_month", "Work items a month"),
    ("manual_minutes_per_item", "Manual minutes per item"),
    ("residual_minutes_per_item", "Human minutes per item after automation"),
    ("source_note", "Where the figures come from"),
]
MINUTE_FIELDS = ("manual_minutes_per_item", "residual_minutes_per_item")
# The base version of a form opened before any baseline was recorded.
NO_BASELINE = 0


def _comparable(values: dict[str, Any]) -> dict[str, Any]:
    """Return baseline values in one form for comparing: minutes as tenths, whatever they came as."""
    result = dict(values)
    for name in MINUTE_FIELDS:
        try:
            result[name] = Decimal(str(values[name])).quantize(Decimal("0.1"))
        except (KeyError, InvalidOperation):
            pass
    return result


def _current_values(baseline: baselines.BaselineView | None) -> dict[str, Any]:
    if baseline is None:
        return {}
    return {
        "volume_per_month": baseline.volume_per_month,
        "manual_minutes_per_item": baseline.manual_minutes,
        "residual_minutes_per_item": baseline.residual_minutes,
        "source_note": baseline.source_note,
    }


def _sent_values(data: dict[str, Any]) -> dict[str, Any]:
    """Return the form's values as the baseline would store them, or as sent when they are invalid."""
    try:
        clean = baselines.validate_baseline(data)
    except InvalidInput:
        return _comparable(data)
    return {
        "volume_per_month": clean["volume_per_month"],
        "manual_minutes_per_item": baselines.seconds_to_minutes(clean["manual_seconds_per_item"]),
        "residual_minutes_per_item": baselines.seconds_to_minutes(clean["residual_seconds_per_item"]),
        "source_note": clean["source_note"],
    }


def _as_text(name: str, value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if name == "volume_per_month" and isinstance(value, int):
        return f"{value:,}"
    return str(value)


async def _changed_by_others(
    reference: str, current: baselines.BaselineView | None, data: dict[str, Any], loaded_version: int | None
) -> list[conflicts.ChangedField]:
    """Compare what the person sent with the current baseline and the one they loaded."""
    loaded: dict[str, Any] | None = None
    if loaded_version == NO_BASELINE:
        loaded = {}
    elif loaded_version is not None:
        state = await audit.recorded_state("baseline", reference, loaded_version, baselines.FIELDS)
        loaded = _comparable(state) if state is not None else None
    return conflicts.changed_fields(FIELD_LABELS, _current_values(current), _sent_values(data), loaded, _as_text)


def _form_values(baseline: baselines.BaselineView | None) -> dict[str, Any]:
    if baseline is None:
        return {}
    return {
        "volume_per_month": baseline.volume_per_month,
        "manual_minutes_per_item": baseline.manual_minutes,
        "residual_minutes_per_item": baseline.residual_minutes,
        "source_note": baseline.source_note,
        "version": baseline.version,
    }


class BaselinePages(Controller):
    path = "/use-cases"
    include_in_schema = False

    async def _page(
        self,
        reference: str,
        form: FormState | None = None,
        *,
        conflict: str = "",
        changed: list[conflicts.ChangedField] | None = None,
        status_code: int = 200,
    ) -> Template:
        use_case = await register.get_use_case(reference)
        baseline = await baselines.get_baseline(use_case.id)
        form = form or FormState(values=_form_values(baseline))
        hidden = {key: form.values.get(key, "") for key in (conflicts.FIELDS_KEY, conflicts.BASE_VERSION_KEY)}
        return page(
            "benefits/baseline_form.html",
            use_case=use_case,
            baseline=baseline,
            form=form,
            conflict=conflict,
            changed=changed or [],
            changed_hidden=hidden,
            labels=dict(FIELD_LABELS),
            status_code=status_code,
        )

    @get("/{reference:str}/baseline", opt=allow(*baselines.RECORDER_ROLES))
    async def form(self, reference: FromPath[str]) -> Template:
        return await self._page(reference)

    @post("/{reference:str}/baseline", opt=allow(*baselines.RECORDER_ROLES))
    async def save(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        """Record or replace the baseline.

        A save based on an old baseline gets the form back with the fields someone else set, each
        with a choice between the current value and the person's own (``governance.conflicts``).
        So does a first baseline sent after someone else recorded one.
        """
        values, rejected = await read_form_or_errors(request)
        data = {name: values.get(name, "") for name in baselines.FIELDS}
        version = parse_int(values.get("version"))
        compared = conflicts.compared_names(values, baselines.FIELDS)
        loaded_version = conflicts.base_version(values, version if version is not None else NO_BASELINE)
        use_case = await register.get_use_case(reference)
        try:
            if rejected:
                raise InvalidInput(rejected)
            to_save = data
            if compared:
                current = await baselines.get_baseline(use_case.id)
                to_save, missing = conflicts.apply_choices(compared, values, _current_values(current), data)
                if missing:
                    raise InvalidInput(missing)
            view = await baselines.record_baseline(actor, reference, to_save, expected_version=version)
        except InvalidInput as error:
            # A first baseline sent after someone else recorded one: their values are at stake.
            if version is None and any(item.field == "version" for item in error.errors):
                return await self._conflict(reference, use_case.id, data, values, loaded_version)
            state = FormState.from_error(values, error)
            changed = []
            if compared:
                current = await baselines.get_baseline(use_case.id)
                changed = [
                    item
                    for item in await _changed_by_others(reference, current, data, loaded_version)
                    if item.name in compared
                ]
                state.values[conflicts.FIELDS_KEY] = ",".join(item.name for item in changed)
                state.values[conflicts.BASE_VERSION_KEY] = loaded_version
            return await self._page(reference, state, changed=changed, status_code=422)
        except StaleVersion:
            return await self._conflict(reference, use_case.id, data, values, loaded_version)
        return Redirect(path=f"/use-cases/{view.use_case_ref}?baseline=1#benefits-baseline", status_code=303)

    async def _conflict(
        self, reference: str, use_case_id: int, data: dict[str, Any], values: dict[str, str], loaded_version: int | None
    ) -> Template:
        current = await baselines.get_baseline(use_case_id)
        changed = await _changed_by_others(reference, current, data, loaded_version)
        # Choices made against an earlier comparison do not carry over to this one.
        without_choices = {key: value for key, value in values.items() if not key.startswith(conflicts.CHOICE_PREFIX)}
        state = FormState(values={**without_choices, "version": current.version if current else ""})
        state.values.update(conflicts.form_values(changed, loaded_version if loaded_version is not None else NO_BASELINE))
        return await self._page(
            reference,
            state,
            conflict="Someone else saved the baseline after you opened this form, so your values are not saved yet.",
            changed=changed,
            status_code=409,
        )


async def baseline_panel(use_case: UseCaseRef, actor: Actor) -> UseCasePanel:
    return UseCasePanel(
        title="Benefits baseline",
        template="benefits/panel.html",
        context={
            "baseline": await baselines.get_baseline(use_case.id),
            "reference": use_case.reference,
            "can_record": actor.has_any(*baselines.RECORDER_ROLES),
        },
        order=60,
    )


ROUTES = [BaselineApi, BaselinePages]
