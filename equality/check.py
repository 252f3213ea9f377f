"""The equality check that the go-live gate runs: reads the records, then decides with a pure function."""

from __future__ import annotations

import datetime as dt

from equality.readiness import (
    CHECK_NAME,
    CHECK_TITLE,
    ReadinessSnapshot,
    VersionFacts,
    decide_readiness,
)
from equality.rules import ASSESSMENT, SCREENING, flagged_impacts
from equality.permissions import outcome_of
from governance import assessments
from governance.assessments import VersionView
from governance.clock import london_today
from governance.gate import CheckResult, RegisteredCheck, UseCaseRef


def _facts(view: VersionView) -> VersionFacts:
    if view.kind == SCREENING:
        outcome = outcome_of(view)
        impacts = tuple((item.key, item.label) for item in flagged_impacts(view.content))
    else:
        outcome = None
        impacts = tuple(
            (key, str(entry.get("label", key)))
            for key, entry in (view.content.get("impacts") or {}).items()
            if isinstance(entry, dict)
        )
    return VersionFacts(
        number=view.number,
        status=view.status,
        content_hash=view.content_hash,
        submitted_at=view.submitted_at,
        decided_at=view.decided_at,
        review_date=view.review_date,
        revoked_at=view.revoked_at,
        revocation_reason=view.revocation_reason,
        outcome=outcome,
        impacts=impacts,
        hash_matches=view.hash_matches() if view.frozen else True,
    )


async def load_snapshot(use_case: UseCaseRef, now: dt.datetime) -> ReadinessSnapshot:
    """Gather the facts the readiness decision needs about ``use_case``."""
    screening = await assessments.list_versions(use_case.id, SCREENING)
    assessment = await assessments.list_versions(use_case.id, ASSESSMENT)
    return ReadinessSnapshot(
        reference=use_case.reference,
        screening=tuple(_facts(view) for view in screening),
        assessment=tuple(_facts(view) for view in assessment),
        now=now,
        today=london_today(now),
        went_live_at=use_case.went_live_at,
    )


async def run(use_case: UseCaseRef, now: dt.datetime) -> list[CheckResult]:
    return decide_readiness(await load_snapshot(use_case, now))


CHECK = RegisteredCheck(name=CHECK_NAME, title=CHECK_TITLE, run=run)
