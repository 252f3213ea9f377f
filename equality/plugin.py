"""The equality package's contribution to the app: routes, the gate check, the use-case panel, the
equality lead's navigation and queues, and demo data."""

from __future__ import annotations

from pathlib import Path

from equality import api, pages, queues, service
from equality.labels import history_label
from equality.permissions import outcome_of
from equality.check import CHECK, run as run_check
from equality.demo import load_demo
from equality.rules import ASSESSMENT, OUTCOMES, SCREENING
from governance.audit import Actor
from governance.clock import utcnow
from governance.gate import UseCaseRef
from governance.history import HistoryLabels
from governance.packages import Contribution, NavItem, UseCasePanel
from governance.roles import Role

DEMO_FILE = Path(__file__).parent / "demo.toml"


async def use_case_panel(use_case: UseCaseRef, actor: Actor) -> UseCasePanel:
    """Build the use-case page section: screening and full assessment at a glance, and readiness."""
    record = await service.load_record(use_case.reference)
    screening = record.latest(SCREENING)
    results = await run_check(use_case, utcnow())
    blockers = [result for result in results if not result.passed]
    outcome = outcome_of(screening) if screening else None
    return UseCasePanel(
        title="Equality",
        template="equality/panel.html",
        context={
            "reference": record.use_case.reference,
            "screening": screening,
            "outcome_label": OUTCOMES.get(outcome or "", ""),
            "assessment": record.latest(ASSESSMENT),
            "required": record.basis is not None,
            "ready": not blockers,
            "first_blocker": blockers[0].detail if blockers else "",
        },
        order=20,
    )


def contribute() -> Contribution:
    return Contribution(
        name="equality",
        route_handlers=[*api.ROUTES, *pages.ROUTES],
        gate_checks=[CHECK],
        panels=[use_case_panel],
        nav_items=[
            NavItem("Equality", "/equality", frozenset({Role.EQUALITY_LEAD, Role.ADMINISTRATOR}))
        ],
        queues=[queues.lead_queue, queues.author_queue],
        demo_file=str(DEMO_FILE),
        demo_loader=load_demo,
        history_labels=[
            HistoryLabels(prefix=SCREENING, field_label=history_label),
            HistoryLabels(prefix=ASSESSMENT, field_label=history_label),
        ],
    )
