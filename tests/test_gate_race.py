"""A go-live racing a revocation of its DPIA approval, on the service layer.

Write transactions are serialised, so exactly one of two outcomes is possible: the move commits
first and goes live on a valid approval (the revocation then flags the lapse), or the revocation
commits first and the move is refused. Never live on a revoked approval.

The DPIA check here is a test check reading the core assessment rows of kind "dpia".
"""

import asyncio
import datetime as dt

from governance import assessments, golive, register
from governance.errors import Conflict
from governance.gate import CheckResult, RegisteredCheck
from governance.roles import Role
from governance.stages import Stage
from tests.gate_support import DPIA_CHECK, approve_dpia, gather_in_order, place_at
from tests.support import make_use_case


class Gatekeeper:
    """A passing check that signals when a transaction is evaluating, then holds it briefly."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def run(self, use_case, now: dt.datetime) -> list[CheckResult]:
        self.entered.set()
        await asyncio.sleep(0.1)
        return [CheckResult("gatekeeper", "Gatekeeper", True, "held the transaction briefly")]


async def prepared(checks, make_person, gatekeeper: Gatekeeper | None = None):
    central = await make_person(Role.CENTRAL_TEAM)
    author = await make_person(Role.BUSINESS_OWNER)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    registered = [DPIA_CHECK]
    if gatekeeper is not None:
        registered.append(RegisteredCheck("gatekeeper", "Gatekeeper", gatekeeper.run))
    checks.use(*registered)
    view = await make_use_case(central)
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    version = await approve_dpia(author, ia, view.id)
    return central, ia, view, version


async def outcome(view, version) -> str:
    """Classify the final state; fail the test on any state the gate must never allow."""
    current = await register.get_use_case(view.reference)
    stored = await assessments.get_version(view.id, "dpia", version.number)
    decision = await golive.latest_granted(view.id, Stage.LIVE)

    if current.stage is Stage.LIVE:
        assert decision is not None, "live without a go-live decision"
        evidence = decision.assessments
        assert [item["content_hash"] for item in evidence] == [version.content_hash]
        assert stored.revoked_at is None or decision.decided_at < stored.revoked_at, (
            "went live after the approval was revoked"
        )
        if stored.revoked_at is not None:
            assert await golive.open_lapse(view.id) is not None, "revoked after go-live but not flagged"
        return "moved"

    assert current.stage is Stage.READY_FOR_LIVE
    assert decision is None, "a granted decision without the move"
    assert stored.revoked_at is not None
    return "refused"


async def test_move_first_goes_live_then_lapses(checks, make_person):
    gatekeeper = Gatekeeper()
    central, ia, view, version = await prepared(checks, make_person, gatekeeper)

    results = await gather_in_order(
        lambda: register.move_use_case(central, view.reference, "live"),
        lambda: assessments.revoke(ia, version, version.version, "processing changed"),
        gatekeeper.entered,
    )

    assert not any(isinstance(item, BaseException) for item in results), results
    assert await outcome(view, version) == "moved"


async def test_revocation_first_refuses_move(checks, make_person):
    gatekeeper = Gatekeeper()
    central, ia, view, version = await prepared(checks, make_person, gatekeeper)

    results = await gather_in_order(
        lambda: assessments.revoke(ia, version, version.version, "processing changed"),
        lambda: register.move_use_case(central, view.reference, "live"),
        gatekeeper.entered,
    )

    assert isinstance(results[1], Conflict), results
    assert await outcome(view, version) == "refused"


async def test_unsynchronised_race_has_one_outcome(checks, make_person):
    seen = []
    for attempt in range(4):
        central, ia, view, version = await prepared(checks, make_person)
        move = register.move_use_case(central, view.reference, "live")
        revoke = assessments.revoke(ia, version, version.version, "processing changed")
        pair = (move, revoke) if attempt % 2 == 0 else (revoke, move)
        results = await asyncio.gather(*pair, return_exceptions=True)

        unexpected = [item for item in results if isinstance(item, BaseException) and not isinstance(item, Conflict)]
        assert not unexpected, unexpected
        seen.append(await outcome(view, version))

    assert set(seen) <= {"moved", "refused"}
