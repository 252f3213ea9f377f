"""Routes of the benefits package: the baseline API, its form, and its panel on the use-case page."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from benefits import baselines
from governance import register
from governance.audit import Actor
from governance.auth import CurrentActor, allow, allow_everyone
from governance.errors import Conflict, InvalidInput
from governance.gate import UseCaseRef
from governance.packages import UseCasePanel
from governance.web.forms import FormState, parse_int, read_form
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

    async def _page(self, reference: str, form: FormState | None = None, *, conflict: str = "", status_code: int = 200) -> Template:
        use_case = await register.get_use_case(reference)
        baseline = await baselines.get_baseline(use_case.id)
        return page(
            "benefits/baseline_form.html",
            use_case=use_case,
            baseline=baseline,
            form=form or FormState(values=_form_values(baseline)),
            conflict=conflict,
            status_code=status_code,
        )

    @get("/{reference:str}/baseline", opt=allow(*baselines.RECORDER_ROLES))
    async def form(self, reference: FromPath[str]) -> Template:
        return await self._page(reference)

    @post("/{reference:str}/baseline", opt=allow(*baselines.RECORDER_ROLES))
    async def save(self, request: Request, reference: FromPath[str], actor: CurrentActor) -> Template | Redirect:
        values = await read_form(request)
        data = {name: values.get(name, "") for name in baselines.FIELDS}
        try:
            view = await baselines.record_baseline(
                actor, reference, data, expected_version=parse_int(values.get("version"))
            )
        except InvalidInput as error:
            return await self._page(reference, FormState.from_error(values, error), status_code=422)
        except Conflict as error:
            current = await baselines.get_baseline((await register.get_use_case(reference)).id)
            state = FormState(values={**values, "version": current.version if current else ""})
            return await self._page(reference, state, conflict=error.message, status_code=409)
        return Redirect(path=f"/use-cases/{view.use_case_ref}?baseline=1#benefits-baseline", status_code=303)


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
