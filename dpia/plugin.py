"""What the dpia package contributes to the app: routes, the gate check, a panel, queues and demo data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from governance.audit import Actor
from governance.gate import CheckResult, RegisteredCheck, UseCaseRef
from governance.history import HistoryLabels
from governance.packages import Contribution, NavItem, UseCasePanel
from governance.roles import Role

from dpia import api, demo, forms, pages, queues, rules, service
from dpia.workflow import status_label

CHECK_NAME = "dpia"
CHECK_TITLE = "Data protection impact assessment"
DEMO_FILE = Path(__file__).parent / "demo.toml"

HISTORY_LABELS = HistoryLabels(
    prefix=rules.KIND,
    phrases={
        "start_review": "review started",
        "record_dpo_advice": "DPO advice recorded",
        "ico_consultation_recorded": "prior consultation with the ICO recorded",
        "ico_consultation_concluded": "response from the ICO recorded",
        "ico_consultation_reopened": "prior consultation with the ICO reopened",
    },
    field_label=forms.history_label,
)


async def run_check(use_case: UseCaseRef, now: dt.datetime) -> list[CheckResult]:
    """The go-live gate's DPIA check: one pass with its evidence, or one result per blocker."""
    findings = await service.readiness_findings(use_case.id, now)
    return [
        CheckResult(
            name=CHECK_NAME,
            title=CHECK_TITLE,
            passed=finding.passed,
            detail=finding.detail,
            clearing_role=finding.clearing_role,
            evidence=finding.evidence,
        )
        for finding in findings
    ]


async def panel(use_case: UseCaseRef, actor: Actor) -> UseCasePanel:
    """The DPIA's state at a glance on the use-case page."""
    state = await service.overview(use_case.reference)
    latest = state.latest
    return UseCasePanel(
        title=CHECK_TITLE,
        template="dpia/panel.html",
        context={
            "dpia": state,
            "dpia_latest": latest,
            "dpia_outcome": rules.outcome_of(latest.content) if latest else "",
            "dpia_highest_residual": rules.highest_residual_level(latest.content, state.matrix) if latest and state.matrix else "",
            "dpia_status_label": status_label,
            "dpia_can_author": actor.has_any(Role.CENTRAL_TEAM, Role.BUSINESS_OWNER),
        },
        order=10,
    )


def contribute() -> Contribution:
    return Contribution(
        name="dpia",
        route_handlers=[*api.ROUTES, *pages.ROUTES],
        gate_checks=[RegisteredCheck(name=CHECK_NAME, title=CHECK_TITLE, run=run_check)],
        panels=[panel],
        nav_items=[
            NavItem("DPIAs", "/dpia", frozenset({Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER})),
        ],
        queues=[queues.queue_items],
        demo_file=str(DEMO_FILE),
        demo_loader=demo.load,
        history_labels=[HISTORY_LABELS],
    )
