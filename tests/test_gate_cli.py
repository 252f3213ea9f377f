"""The gate's commands: the daily sweep and a readiness read-out."""

import asyncio

from click.testing import CliRunner

from governance import register
from governance.cli import main
from governance.roles import Role
from governance.stages import Stage
from tests.gate_support import place_at
from tests.support import make_use_case


def live_use_case(make_person) -> register.UseCaseView:
    async def prepare():
        central = await make_person(Role.CENTRAL_TEAM)
        view = await make_use_case(central)
        await place_at(view.reference, Stage.READY_FOR_LIVE)
        return await register.move_use_case(central, view.reference, "live")

    return asyncio.run(prepare())


def test_sweep_reports_lapse(db, checks, make_person):
    view = live_use_case(make_person)
    checks.stub.passed = False
    result = CliRunner().invoke(main, ["gate", "sweep"])
    assert result.exit_code == 0, result.output
    assert f"lapsed: {view.reference}" in result.output


def test_readiness_exit_status_when_not_ready(db, checks, make_person):
    view = live_use_case(make_person)
    checks.stub.passed = False
    result = CliRunner().invoke(main, ["gate", "readiness", view.reference])
    assert result.exit_code == 3
    assert "FAIL  stub_assessment" in result.output
