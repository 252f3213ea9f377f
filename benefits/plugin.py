"""What the benefits package contributes to the app: routes, gate checks, panels and demo data."""

from __future__ import annotations

from pathlib import Path

from benefits import baselines, web
from governance.packages import Contribution, DemoContext

DEMO_FILE = Path(__file__).parent / "demo.toml"


async def load_demo(context: DemoContext) -> None:
    """Record the demo baselines, each by the central team account."""
    central = context.accounts["central.team"]
    for item in context.data.get("baselines", []):
        values = {name: item[name] for name in baselines.FIELDS}
        await baselines.record_baseline(central, item["use_case"], values)


def contribute() -> Contribution:
    return Contribution(
        name="benefits",
        route_handlers=web.ROUTES,
        gate_checks=[baselines.CHECK],
        panels=[web.baseline_panel],
        demo_file=str(DEMO_FILE),
        demo_loader=load_demo,
    )
