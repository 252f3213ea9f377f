"""The demo DPIAs load through the service and leave UC-001's DPIA check passing."""

from __future__ import annotations

from governance import assessments, register
from governance.clock import utcnow
from governance.demo import load_demo
from governance.packages import load_contributions

from dpia import plugin, rules, service


async def _loaded() -> None:
    await load_demo(load_contributions(("dpia",)))


async def test_demo_live_use_case_passes(db):
    await _loaded()
    use_case = await register.get_use_case("UC-001")
    results = await plugin.run_check(use_case.ref, utcnow())
    assert [result.passed for result in results] == [True], results


async def test_demo_states(db):
    await _loaded()
    expected = {
        "UC-001": "approved_with_conditions",
        "UC-002": "in_review",
        "UC-003": "draft",
        "UC-004": "approved",
        "UC-005": "submitted",
        "UC-006": "draft",
        "UC-011": "draft",
    }
    for reference, status in expected.items():
        use_case = await register.get_use_case(reference)
        latest = await assessments.latest_version(use_case.id, rules.KIND)
        assert latest is not None and latest.status == status, reference


async def test_demo_draft_has_high_residual_risk(db):
    await _loaded()
    use_case = await register.get_use_case("UC-003")
    latest = await assessments.latest_version(use_case.id, rules.KIND)
    matrix = await service.matrix_for(latest.content)
    assert rules.highest_residual_level(latest.content, matrix) == "high"


async def test_demo_ico_consultation_blocks_uc004(db):
    await _loaded()
    use_case = await register.get_use_case("UC-004")
    findings = await service.readiness_findings(use_case.id)
    assert any("pending" in finding.detail for finding in findings)
