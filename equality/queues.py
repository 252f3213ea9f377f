"""Work waiting on people: decisions for the equality lead, changes and full assessments for authors,
and approvals coming up for review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from equality.rules import ASSESSMENT, KIND_LABELS, KIND_SLUGS, KINDS, OUTCOME_REQUIRED, SCREENING
from equality.permissions import decision_refusal, outcome_of
from governance import assessments, register
from governance.assessments import VersionView
from governance.audit import Actor
from governance.clock import format_date, london_today, utcnow
from governance.packages import QueueItem
from governance.roles import Role
from governance.tables import Account

REVIEW_WARNING_DAYS = 60


def version_href(view: VersionView) -> str:
    return f"/use-cases/{view.use_case_ref}/equality/{KIND_SLUGS[view.kind]}/versions/{view.number}"


@dataclass(frozen=True)
class WaitingDecision:
    """A submitted version that is the latest of its kind, with what changed since the last approval."""

    view: VersionView
    title: str
    compared_with: int | None
    compared_with_approved: bool
    changed_paths: tuple[str, ...]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.view.kind]

    @property
    def change_summary(self) -> str:
        if self.compared_with is None:
            return "First version"
        count = len(self.changed_paths)
        noun = "change" if count == 1 else "changes"
        which = "approved version" if self.compared_with_approved else "version"
        return f"{count} {noun} since {which} {self.compared_with}"

    def as_api(self) -> dict:
        return {
            "use_case": self.view.use_case_ref,
            "use_case_title": self.title,
            "kind": self.view.kind,
            "number": self.view.number,
            "version": self.view.version,
            "submitted_by": self.view.submitted_by,
            "submitted_at": self.view.submitted_at.isoformat() if self.view.submitted_at else None,
            "compared_with_version": self.compared_with,
            "compared_with_approved": self.compared_with_approved,
            "changed_fields": list(self.changed_paths),
            "href": version_href(self.view),
        }


async def decisions_waiting() -> list[WaitingDecision]:
    """Return versions waiting for the equality lead, oldest submission first.

    Changes are counted since the last approved version or, when none was approved, since the
    version before. A submitted version that a newer version has replaced is left out: only the
    latest version of a use case's screening or full assessment can be decided.
    """
    waiting = []
    for kind in KINDS:
        for view in await assessments.versions_with_status(kind, ["submitted"]):
            latest = await assessments.latest_version(view.use_case_id, kind)
            if latest is None or latest.number != view.number:
                continue
            versions = await assessments.list_versions(view.use_case_id, kind)
            approved = [
                item
                for item in versions
                if item.number < view.number and item.decision == "approved"
            ]
            earlier = [item for item in versions if item.number < view.number]
            if approved:
                base = approved[-1]
            elif earlier:
                base = earlier[-1]
            else:
                base = None
            changes = assessments.diff_content(base.content, view.content) if base else []
            use_case = await register.get_use_case(view.use_case_ref)
            waiting.append(
                WaitingDecision(
                    view=view,
                    title=use_case.title,
                    compared_with=base.number if base else None,
                    compared_with_approved=bool(approved),
                    changed_paths=tuple(change.path for change in changes),
                )
            )
    waiting.sort(key=lambda item: (item.view.submitted_at or utcnow(), item.view.id))
    return waiting


@dataclass(frozen=True)
class ReviewDue:
    view: VersionView
    title: str
    overdue: bool


async def reviews_due(today: dt.date | None = None) -> list[ReviewDue]:
    """Return approvals on record that are past their review date or due within 60 days."""
    today = today or london_today()
    horizon = today + dt.timedelta(days=REVIEW_WARNING_DAYS)
    due = []
    for kind in KINDS:
        for view in await assessments.versions_with_status(kind, ["approved"]):
            if (
                view.revoked_at is not None
                or view.review_date is None
                or view.review_date > horizon
            ):
                continue
            latest = await assessments.latest_version(view.use_case_id, kind)
            if latest is None or latest.number != view.number:
                continue
            use_case = await register.get_use_case(view.use_case_ref)
            due.append(ReviewDue(view, use_case.title, view.review_date < today))
    due.sort(key=lambda item: item.view.review_date or today)
    return due


async def lead_queue(actor: Actor) -> list[QueueItem]:
    """Home-page queue for the equality lead: decisions waiting and reviews due."""
    if not actor.has_any(Role.EQUALITY_LEAD):
        return []
    # A lead who wrote, edited or submitted a version cannot decide it, so it is not their task.
    items = [
        QueueItem(
            title=f"Decide: {item.view.use_case_ref} {item.kind_label.lower()} version {item.view.number}",
            href=version_href(item.view),
            waiting_since=item.view.submitted_at,
            detail=item.change_summary,
        )
        for item in await decisions_waiting()
        if decision_refusal(actor.account_id, True, item.view, item.view) is None
    ]
    for item in await reviews_due():
        when = "was due" if item.overdue else "is due"
        items.append(
            QueueItem(
                title=f"Review: {item.view.use_case_ref} {KIND_LABELS[item.view.kind].lower()} version {item.view.number}",
                href=version_href(item.view),
                waiting_since=item.view.decided_at,
                detail=f"Review {when} on {format_date(item.view.review_date)}",
            )
        )
    return items


async def _department_of(actor: Actor) -> str | None:
    if actor.account_id is None:
        return None
    row = (
        await Account.select(Account.department.name)
        .where(Account.id == actor.account_id)
        .first()
        .run()
    )
    return row["department.name"] if row else None


async def author_queue(actor: Actor) -> list[QueueItem]:
    """Home-page queue for authors: versions sent back, and full assessments that are needed but missing.

    Business owners get their own department's use cases and the central team every department's.
    """
    if not actor.has_any(Role.CENTRAL_TEAM, Role.BUSINESS_OWNER):
        return []
    department = None if actor.has_any(Role.CENTRAL_TEAM) else await _department_of(actor)
    if department is None and not actor.has_any(Role.CENTRAL_TEAM):
        return []

    items = []
    use_cases = {view.reference: view for view in await register.list_use_cases()}
    for kind in KINDS:
        for view in await assessments.versions_with_status(kind, ["changes_requested"]):
            use_case = use_cases.get(view.use_case_ref)
            if use_case is None or (department is not None and use_case.department != department):
                continue
            latest = await assessments.latest_version(view.use_case_id, kind)
            if latest is None or latest.number != view.number:
                continue
            items.append(
                QueueItem(
                    title=f"Changes requested: {view.use_case_ref} {KIND_LABELS[kind].lower()} version {view.number}",
                    href=version_href(view),
                    waiting_since=view.decided_at,
                    detail=f"Start version {view.number + 1} and address the equality lead's reasons",
                )
            )

    for view in await assessments.versions_with_status(SCREENING, ["submitted", "approved"]):
        use_case = use_cases.get(view.use_case_ref)
        if use_case is None or (department is not None and use_case.department != department):
            continue
        latest = await assessments.latest_version(view.use_case_id, SCREENING)
        if latest is None or latest.number != view.number or view.revoked_at is not None:
            continue
        if outcome_of(view) != OUTCOME_REQUIRED:
            continue
        if await assessments.latest_version(view.use_case_id, ASSESSMENT) is None:
            items.append(
                QueueItem(
                    title=f"Full equality impact assessment needed: {view.use_case_ref}",
                    href=f"/use-cases/{view.use_case_ref}/equality",
                    waiting_since=view.submitted_at,
                    detail=f"Screening version {view.number} found a negative or not known impact",
                )
            )
    return items
