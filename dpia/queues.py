"""Work queues: what waits on Information Assurance, the DPO and authors, oldest first.

Each item shows what changed since the last approved version, so a reviewer sees at once whether a
resubmission touches the risks or only a typo.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from governance import assessments, register
from governance.assessments import Change, VersionView
from governance.audit import Actor
from governance.clock import format_date, london_today
from governance.errors import Forbidden
from governance.packages import QueueItem
from governance.roles import Role

from dpia import permissions, service
from dpia.rules import KIND
from dpia.workflow import APPROVED, status_label

REVIEW_DUE_WINDOW_DAYS = 60

# The statuses that wait on each role, with the next step that role takes.
WAITING_ON: dict[Role, dict[str, str]] = {
    Role.INFORMATION_ASSURANCE: {"submitted": "Start the review", "dpo_advice_recorded": "Decide"},
    Role.DATA_PROTECTION_OFFICER: {"in_review": "Give DPO advice"},
}

# The review step (a key of ``permissions.REVIEW_STEPS``) that each waiting status needs next.
STEP_FOR_STATUS: dict[str, str] = {"submitted": "start_review", "in_review": "dpo_advice", "dpo_advice_recorded": "decision"}


@dataclass(frozen=True)
class Entry:
    view: VersionView
    title: str
    next_step: str
    waiting_since: dt.datetime
    base: VersionView | None
    changes: list[Change]

    @property
    def href(self) -> str:
        return f"/use-cases/{self.view.use_case_ref}/dpia/versions/{self.view.number}"

    def change_summary(self, limit: int = 5) -> str:
        if self.base is None:
            return "No earlier approved version"
        if not self.changes:
            return f"No changes since approved version {self.base.number}"
        paths = ", ".join(change.path for change in self.changes[:limit])
        more = f" and {len(self.changes) - limit} more" if len(self.changes) > limit else ""
        return f"{len(self.changes)} change(s) since approved version {self.base.number}: {paths}{more}"


async def _is_latest(view: VersionView) -> bool:
    latest = await assessments.latest_version(view.use_case_id, KIND)
    return latest is not None and latest.number == view.number


async def _entry(view: VersionView, next_step: str) -> Entry:
    use_case = await register.get_use_case(view.use_case_ref)
    base, changes = await service.changes_since_approval(view)
    since = view.submitted_at if view.status == "submitted" and view.submitted_at else view.updated_at
    return Entry(view, f"{view.use_case_ref} {use_case.title}", next_step, since, base, changes)


async def _may_take(actor: Actor, view: VersionView) -> bool:
    """Return whether ``actor`` may take the review step that ``view``'s status waits for."""
    latest = await assessments.latest_version(view.use_case_id, KIND)
    if latest is None:
        return False
    advice = service.dpo_advice_of(await assessments.list_sign_offs(view.id))
    rejection = permissions.review_rejection(
        STEP_FOR_STATUS[view.status], actor, view, latest.number, advice.account_id if advice else None
    )
    return rejection is None


async def reviewer_entries(actor: Actor) -> list[Entry]:
    """Versions waiting on ``actor`` as a reviewer or adviser, oldest first.

    Only versions ``actor`` may act on are listed, by the rule the review steps enforce: someone
    else acts on a version the actor wrote or submitted, or one they advised on as DPO.
    """
    steps: dict[str, str] = {}
    for role, waiting in WAITING_ON.items():
        if role in actor.roles:
            steps.update(waiting)
    if not steps:
        return []
    entries = []
    for view in await assessments.versions_with_status(KIND, list(steps)):
        if await _may_take(actor, view):
            entries.append(await _entry(view, steps[view.status]))
    return sorted(entries, key=lambda entry: entry.waiting_since)


async def author_entries(actor: Actor) -> list[Entry]:
    """Versions sent back with changes requested, in use cases ``actor`` may edit, oldest first."""
    if not actor.has_any(Role.CENTRAL_TEAM, Role.BUSINESS_OWNER):
        return []
    entries = []
    for view in await assessments.versions_with_status(KIND, ["changes_requested"]):
        if not await _is_latest(view):
            continue
        use_case = await register.get_use_case(view.use_case_ref)
        try:
            await register.ensure_can_edit(actor, use_case.department)
        except Forbidden:
            continue
        entries.append(await _entry(view, "Make the requested changes in a new version"))
    return sorted(entries, key=lambda entry: entry.waiting_since)


async def reviews_due(today: dt.date | None = None) -> list[VersionView]:
    """Approved versions on record whose review date falls within the next 60 days or has passed."""
    today = today or london_today()
    horizon = today + dt.timedelta(days=REVIEW_DUE_WINDOW_DAYS)
    due = []
    for view in await assessments.versions_with_status(KIND, list(APPROVED)):
        if view.revoked_at is None and view.review_date and view.review_date <= horizon and await _is_latest(view):
            due.append(view)
    return sorted(due, key=lambda view: view.review_date or today)


async def queue_items(actor: Actor) -> list[QueueItem]:
    """Items for the home page's work queue."""
    items = [
        QueueItem(
            title=f"{entry.next_step}: DPIA version {entry.view.number} of {entry.title}",
            href=entry.href,
            waiting_since=entry.waiting_since,
            detail=f"{status_label(entry.view.status)}. {entry.change_summary()}",
        )
        for entry in [*await reviewer_entries(actor), *await author_entries(actor)]
    ]
    if actor.has_any(Role.INFORMATION_ASSURANCE):
        for view in await reviews_due():
            items.append(
                QueueItem(
                    title=f"Review DPIA version {view.number} of {view.use_case_ref}",
                    href=f"/use-cases/{view.use_case_ref}/dpia",
                    waiting_since=view.decided_at,
                    detail=f"Review due by {format_date(view.review_date)}",
                )
            )
    return items
