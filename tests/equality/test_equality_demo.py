"""The equality demo records, loaded with the demo programme through the service."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from equality import characteristics, service
from equality.check import run as run_check
from equality.demo import merge_content
from equality.rules import ASSESSMENT, SCREENING, flagged_impacts
from governance import audit, register
from governance.clock import utcnow
from governance.demo import load_demo
from governance.packages import load_contributions


@pytest.fixture
async def demo(db):
    await load_demo(load_contributions(("equality",)))


async def readiness(reference: str, went_live_at: dt.datetime | None = None):
    use_case = await register.get_use_case(reference)
    ref = dataclasses.replace(use_case.ref, went_live_at=went_live_at)
    return await run_check(ref, utcnow())


async def test_live_use_case_ready(demo):
    [result] = await readiness("UC-001")
    assert result.passed
    assert result.evidence["screening"]["version"] == 2


async def test_live_approval_before_go_live(demo):
    [result] = await readiness("UC-001", went_live_at=utcnow() - dt.timedelta(days=400))
    assert result.passed


async def test_live_approval_dated_in_past(demo):
    first = await service.get_version("UC-001", SCREENING, 1)
    [sign_off] = await service.sign_offs(first)
    assert first.decided_at is not None
    assert (utcnow() - first.decided_at).days >= 549
    assert sign_off.signed_at == first.decided_at


async def test_victim_letters_waiting_with_flags(demo):
    record = await service.load_record("UC-005")
    screening = record.latest(SCREENING)
    assert screening.status == "submitted"
    assert [item.key for item in flagged_impacts(screening.content)] == ["age", "disability"]
    assert record.latest(ASSESSMENT).status == "draft"
    assert record.screening[0].status == "changes_requested"


async def test_stop_and_search_draft_flags_race(demo):
    screening = (await service.load_record("UC-021")).latest(SCREENING)
    assert screening.status == "draft"
    assert screening.content["characteristics"]["race"]["impact"] == "not_known"


@pytest.mark.parametrize("reference", ["UC-002", "UC-004"])
async def test_other_screenings_approved(demo, reference):
    [result] = await readiness(reference)
    assert result.passed


async def test_local_characteristic_screened(demo):
    [local] = await characteristics.list_local()
    assert local.label == "Socio-economic status"
    screening = (await service.load_record("UC-002")).latest(SCREENING)
    assert screening.content["characteristics"]["socio_economic_status"]["impact"] == "neutral"


async def test_demo_audit_chain_intact(demo):
    report = await audit.verify_chain()
    assert report.ok


def test_merge_content_nested():
    merged = merge_content({"a": {"x": 1, "y": 2}, "b": [1]}, {"a": {"y": 3}, "b": [2]})
    assert merged == {"a": {"x": 1, "y": 3}, "b": [2]}
