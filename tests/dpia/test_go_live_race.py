"""A go-live racing the revocation of its real DPIA approval, through the DPIA package's own check.

Write transactions are serialised, so the move either commits first (live on a valid approval,
then flagged as lapsed by the revocation) or is refused. It is never live on a revoked approval.
"""

from __future__ import annotations

import asyncio

from dpia import service
from dpia.plugin import contribute
from governance import golive, register
from governance.errors import Conflict
from governance.stages import Stage
from tests.dpia.helpers import approved
from tests.gate_support import place_at


def dpia_check():
    [check] = [item for item in contribute().gate_checks if item.name == "dpia"]
    return check


async def final_state(reference: str, use_case_id: int, number: int) -> str:
    current = await register.get_use_case(reference)
    version = (await service.overview(reference)).versions[number - 1]
    decision = await golive.latest_granted(use_case_id, Stage.LIVE)

    if current.stage is Stage.LIVE:
        assert decision is not None
        assert version.revoked_at is not None
        assert decision.decided_at < version.revoked_at
        assert [item["content_hash"] for item in decision.assessments] == [version.content_hash]
        assert await golive.open_lapse(use_case_id) is not None
        return "moved"

    assert current.stage is Stage.READY_FOR_LIVE
    assert decision is None
    return "refused"


async def test_race_with_revocation_never_live_on_revoked(checks, make_person, central, author, ia, dpo):
    checks.use(dpia_check())
    outcomes = []

    for attempt in range(4):
        use_case = await register.create_use_case(
            central,
            {
                "title": f"Race {attempt}",
                "department": "Force Contact Centre",
                "business_owner": "Dan Okafor",
            },
        )
        approval = await approved(author, ia, dpo, use_case.reference)
        await place_at(use_case.reference, Stage.READY_FOR_LIVE)

        move = register.move_use_case(central, use_case.reference, "live")
        revoke = service.revoke(ia, use_case.reference, approval.number, approval.version, "processing changed")
        pair = (move, revoke) if attempt % 2 == 0 else (revoke, move)
        results = await asyncio.gather(*pair, return_exceptions=True)

        unexpected = [item for item in results if isinstance(item, BaseException) and not isinstance(item, Conflict)]
        assert not unexpected, unexpected
        outcomes.append(await final_state(use_case.reference, use_case.id, approval.number))

    assert set(outcomes) <= {"moved", "refused"}
