"""Jinja2 set-up: filters for UK dates and money, and the globals every page needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import Environment
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from markupsafe import Markup, escape

from governance import history
from governance.assessments import kind_label
from governance.clock import format_date, format_datetime, format_pence
from governance.roles import ROLE_LABELS, Role
from governance.settings import get_settings
from governance.stages import STAGE_LABELS, Stage

SERVICE_NAME = "Automation Governance"

# Status tag colours, following the GOV.UK tag pattern: one meaning per colour across the service.
TAG_COLOURS: dict[str, str] = {
    "live": "green",
    "ready_for_live": "turquoise",
    "approved": "green",
    "approved_with_conditions": "green",
    "passed": "green",
    "ready": "green",
    "draft": "grey",
    "idea": "grey",
    "submitted": "blue",
    "in_review": "blue",
    "dpo_advice_recorded": "purple",
    "changes_requested": "yellow",
    "on_hold": "yellow",
    "suspended": "red",
    "rejected": "red",
    "revoked": "red",
    "lapsed": "red",
    "emergency_override": "orange",
    "requested": "blue",
    "used": "orange",
    "expired": "grey",
    "withdrawn": "grey",
    "not_ready": "red",
    "blocked": "red",
    "retired": "grey",
    "active": "green",
}


def _stage_label(value: str | Stage) -> str:
    try:
        return STAGE_LABELS[Stage(value)]
    except ValueError:
        return str(value)


def _role_label(value: str | Role) -> str:
    try:
        return ROLE_LABELS[Role(value)]
    except ValueError:
        return str(value)


def _kind_label(kind: str) -> str:
    """Return an assessment kind as it starts a line: "DPIA", "Equality screening"."""
    text = kind_label(kind)
    return text[:1].upper() + text[1:]


def _humanise(value: Any) -> str:
    text = str(value or "").replace("_", " ")
    return text[:1].upper() + text[1:]


def _tag(value: Any, label: str | None = None) -> Markup:
    key = str(value)
    colour = TAG_COLOURS.get(key, "grey")
    return Markup('<strong class="tag tag--{}">{}</strong>').format(colour, label or _humanise(key))


def _iso(value: dt.date | dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def _lines(value: list[str] | None) -> str:
    return "\n".join(value or [])


def _audit_value(value: Any) -> str:
    """Render a value from an audit entry's before or after state as plain text."""
    if value is None:
        return "–"
    if isinstance(value, list):
        return "; ".join(_audit_value(item) for item in value) or "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_audit_value(item)}" for key, item in value.items())
    return str(value)


def _nl2br(value: str | None) -> Markup:
    return Markup("<br>").join(escape(line) for line in (value or "").splitlines())


def configure_environment(engine: JinjaTemplateEngine) -> None:
    """Register filters and globals on the Jinja environment that Litestar created."""
    environment: Environment = engine.engine
    environment.trim_blocks = True
    environment.lstrip_blocks = True
    environment.filters.update(
        {
            "date": format_date,
            "datetime": format_datetime,
            "money": format_pence,
            "money_short": lambda pence: format_pence(pence, short=True),
            "stage_label": _stage_label,
            "role_label": _role_label,
            "kind_label": _kind_label,
            "humanise": _humanise,
            "tag": _tag,
            "iso": _iso,
            "lines": _lines,
            "nl2br": _nl2br,
            "audit_value": _audit_value,
            **history.FILTERS,
        }
    )
    environment.globals.update(
        {
            "service_name": SERVICE_NAME,
            "protective_marking": get_settings().protective_marking,
            "Role": Role,
            "Stage": Stage,
        }
    )


def page(template: str, *, status_code: int = 200, **context: Any) -> Template:
    """Render a page template; ``context`` becomes the template's variables."""
    return Template(template_name=template, context=context, status_code=status_code)
