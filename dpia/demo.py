"""Demo DPIAs, created through the service layer so that the audit trail is real."""

from __future__ import annotations

from governance.packages import DemoContext


async def load(context: DemoContext) -> None:
    return None
