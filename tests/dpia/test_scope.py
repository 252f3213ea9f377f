"""Editing what a use case processes after its DPIA was submitted: the DPIA check fails until a new
version assesses the change, and a live use case is flagged as lapsed."""

from __future__ import annotations

import pytest

from dpia import rules, service
from dpia.plugin import contribute
from governance import golive, register
from governance.stages import Stage
from tests.dpia.helpers import approved
from tests.gate_support import place_at


@pytest.fixture
def dpia_only(checks):
    [check] = [item for item in contribute().gate_checks if item.name == "dpia"]
    checks.use(check)
    return check


async def live_use_case(central, author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    await place_at(use_case.reference, Stage.READY_FOR_LIVE)
    await register.move_use_case(central, use_case.reference, "live")
    return await register.get_use_case(use_case.reference)


async def edit(actor, reference: str, **changes):
    current = await register.get_use_case(reference)
    return await register.update_use_case(actor, reference, current.version, changes)


async def dpia_finding(reference: str) -> dict:
    report = await golive.readiness_report(reference)
    [finding] = [item for item in report["checks"] if item["name"] == "dpia"]
    return finding


async def test_submitted_version_records_scope(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    assert view.content[rules.SCOPE_KEY]["purposes"] == [{"purpose": "Recording crime", "regime": "dpa_2018_part_3"}]


async def test_scope_is_covered_by_hash(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    assert view.hash_matches()


async def test_client_cannot_set_scope(author, use_case):
    view = await service.start_version(author, use_case.reference)
    content = {**view.content, rules.SCOPE_KEY: {"bot_identifiers": ["Forged"]}}
    saved = await service.save_draft(author, use_case.reference, view.number, view.version, content)
    assert rules.SCOPE_KEY not in saved.content


async def test_unchanged_use_case_stays_ready(dpia_only, central, author, ia, dpo, use_case):
    live = await live_use_case(central, author, ia, dpo, use_case)
    await edit(central, live.reference, title="A clearer title")
    assert (await golive.readiness_report(live.reference))["ready"] is True


async def test_new_bot_fails_dpia_check(dpia_only, central, author, ia, dpo, use_case):
    live = await live_use_case(central, author, ia, dpo, use_case)
    await edit(central, live.reference, bot_identifiers=["Unvetted-NewBot"])
    assert "added Unvetted-NewBot" in (await dpia_finding(live.reference))["detail"]


async def test_new_bot_reads_not_ready_by_bot(dpia_only, central, author, ia, dpo, use_case):
    live = await live_use_case(central, author, ia, dpo, use_case)
    await edit(central, live.reference, bot_identifiers=["Unvetted-NewBot"])
    report = await golive.readiness_report_for_bot("uipath", "Unvetted-NewBot")
    assert report["ready"] is False


async def test_changed_regime_fails_dpia_check(dpia_only, central, author, ia, dpo, use_case):
    live = await live_use_case(central, author, ia, dpo, use_case)
    await edit(central, live.reference, purposes=[{"purpose": "Recording crime", "regime": "uk_gdpr"}])
    assert "purposes and regimes" in (await dpia_finding(live.reference))["detail"]


async def test_new_data_category_fails_dpia_check(dpia_only, central, author, ia, dpo, use_case):
    live = await live_use_case(central, author, ia, dpo, use_case)
    await edit(central, live.reference, data_categories=["Criminal offence data", "Biometric data"])
    assert "added Biometric data" in (await dpia_finding(live.reference))["detail"]


async def test_scope_edit_flags_lapse(dpia_only, central, author, ia, dpo, use_case):
    live = await live_use_case(central, author, ia, dpo, use_case)
    await edit(central, live.reference, bot_identifiers=["Unvetted-NewBot"])
    lapse = await golive.open_lapse(live.id)
    assert "Unvetted-NewBot" in lapse.reason


async def test_changing_back_restores_readiness(dpia_only, central, author, ia, dpo, use_case):
    live = await live_use_case(central, author, ia, dpo, use_case)
    await edit(central, live.reference, bot_identifiers=["Unvetted-NewBot"])
    await edit(central, live.reference, bot_identifiers=[])
    assert await golive.open_lapse(live.id) is None


async def test_new_version_covers_the_change(dpia_only, central, author, ia, dpo, use_case):
    live = await live_use_case(central, author, ia, dpo, use_case)
    await edit(central, live.reference, bot_identifiers=["Unvetted-NewBot"])
    await approved(author, ia, dpo, live.reference)
    assert (await golive.readiness_report(live.reference))["ready"] is True


async def test_gated_move_refused_after_scope_edit(dpia_only, central, author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    await place_at(use_case.reference, Stage.READY_FOR_LIVE)
    await edit(central, use_case.reference, systems=["Niche RMS", "Athena"])
    with pytest.raises(golive.GoLiveRefused):
        await register.move_use_case(central, use_case.reference, "live")


async def test_diff_shows_scope_change_between_submitted_versions(central, author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    await edit(central, use_case.reference, bot_identifiers=["Unvetted-NewBot"])
    await approved(author, ia, dpo, use_case.reference)
    _, _, changes = await service.diff_versions(use_case.reference, 1, 2)
    assert [change.path for change in changes] == [f"{rules.SCOPE_KEY}.bot_identifiers[0]"]
