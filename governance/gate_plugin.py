"""What the go-live gate adds to the app: routes, the readiness panel and banner, links and queues.

The app factory adds this contribution after the domain packages'. The gate's own checks are not
listed here: ``gate.evaluate`` always runs them.
"""

from __future__ import annotations

from governance import golive, manual_checks, overrides, register
from governance.audit import Actor
from governance.clock import utcnow
from governance.errors import DomainError
from governance.gate import UseCaseRef
from governance.packages import Contribution, NavItem, QueueItem, UseCasePanel
from governance.roles import Role
from governance.stages import Stage
from governance.web import gate_api, gate_pages

# Stages at which the signers of manual checks are asked for their sign-off.
SIGN_OFF_STAGES = frozenset({Stage.TEST, Stage.READY_FOR_LIVE})


async def _manual_check_forms(
    actor: Actor, view: register.UseCaseView, definitions: dict[str, manual_checks.ManualCheckView]
) -> tuple[set[str], list[manual_checks.SignOffView]]:
    """Return the checks ``actor`` may sign and the current sign-offs they may revoke on ``view``.

    The panel offers only these forms, so nobody is shown a form that the service would reject.
    """
    department = await register.own_department(actor)
    signable = set()
    for name, definition in definitions.items():
        reason = manual_checks.sign_forbidden_reason(
            actor, definition, actor_department=department, use_case_department=view.department
        )
        if reason is None:
            signable.add(name)

    revocable = []
    for item in await manual_checks.sign_offs_for(view.id):
        if item.revoked:
            continue
        reason = manual_checks.revoke_forbidden_reason(
            actor, item, actor_department=department, use_case_department=view.department
        )
        if reason is None:
            revocable.append(item)
    return signable, revocable


async def readiness_panel(use_case: UseCaseRef, actor: Actor) -> UseCasePanel:
    view = await register.get_use_case(use_case.reference)
    now = utcnow()
    status = await golive.status_for(view, now)
    definitions = {item.check_name: item for item in await manual_checks.list_definitions(active_only=True)}
    signable, revocable = await _manual_check_forms(actor, view, definitions)

    override_blocked = overrides.request_blocked_reason(
        view.reference, view.stage, status.readiness.ready, status.override, now
    )

    decisions = await golive.list_decisions(view.id)
    granted = [decision for decision in decisions if decision.granted]
    return UseCasePanel(
        title="Go-live readiness",
        template="gate/panel.html",
        context={
            "status": status,
            "definitions": definitions,
            "signable": signable,
            "revocable": revocable,
            "last_decision": granted[0] if granted else None,
            "decision_count": len(decisions),
            "can_request_override": actor.has_any(Role.CENTRAL_TEAM) and override_blocked is None,
            "can_suspend": actor.has_any(*golive.SUSPENDER_ROLES) and view.stage is Stage.LIVE,
            "now": now,
        },
        order=10,
    )


async def readiness_banner(use_case: UseCaseRef, actor: Actor) -> UseCasePanel | None:
    now = utcnow()
    override = await overrides.open_override(use_case.id, now)
    lapse = await golive.open_lapse(use_case.id)
    if override is None and lapse is None:
        return None
    return UseCasePanel(
        title="Go-live warnings",
        template="gate/banner.html",
        context={
            "override": override,
            "lapse": lapse,
            "now": now,
            "can_see_board": actor.has_any(*gate_api.BOARD_ROLES),
        },
        order=0,
    )


async def approval_queue(actor: Actor) -> list[QueueItem]:
    """Emergency go-lives waiting on this IA or DPO holder's approval."""
    if not actor.has_any(*overrides.APPROVER_ROLES):
        return []
    now = utcnow()
    items = []
    for view in await overrides.list_overrides():
        for role in overrides.APPROVER_ROLES:
            try:
                overrides.check_approval(view, actor, role, now)
            except DomainError:  # any refusal means this item is not waiting on the actor
                continue
            items.append(
                QueueItem(
                    title=f"Approve emergency go-live of {view.use_case_ref} as {role.label}",
                    href=f"/emergency-overrides/{view.id}",
                    waiting_since=view.requested_at,
                    detail=view.reason[:200],
                )
            )
            break
    return items


async def lapse_queue(actor: Actor) -> list[QueueItem]:
    """Lapsed use cases, for the central team to fix or suspend."""
    if not actor.has_any(Role.CENTRAL_TEAM):
        return []
    lapses = await golive.open_lapses()
    items = []
    for view in await register.list_use_cases():
        lapse = lapses.get(view.id)
        if lapse is None:
            continue
        items.append(
            QueueItem(
                title=f"Readiness lapsed: {view.reference} {view.title}",
                href=f"/use-cases/{view.reference}",
                waiting_since=lapse.lapsed_at,
                detail=lapse.reason[:200],
            )
        )
    return items


async def sign_off_queue(actor: Actor) -> list[QueueItem]:
    """Manual checks this person's roles may sign on use cases at test or ready for live."""
    definitions = [
        item for item in await manual_checks.list_definitions(active_only=True) if item.signing_role in actor.roles
    ]
    if not definitions:
        return []
    department = await register.own_department(actor)
    items = []
    for view in await register.list_use_cases():
        if view.stage not in SIGN_OFF_STAGES:
            continue
        signed = {item.key for item in await manual_checks.sign_offs_for(view.id) if not item.revoked}
        for definition in definitions:
            if definition.key in signed:
                continue
            forbidden = manual_checks.sign_forbidden_reason(
                actor, definition, actor_department=department, use_case_department=view.department
            )
            if forbidden:  # for example another department's use case
                continue
            items.append(
                QueueItem(
                    title=f"Sign {definition.title.lower()} for {view.reference}",
                    href=f"/use-cases/{view.reference}#go-live-readiness",
                    waiting_since=view.updated_at,
                    detail=view.title,
                )
            )
    return items


def contribute() -> Contribution:
    board_roles = frozenset(gate_api.BOARD_ROLES)
    return Contribution(
        name="gate",
        route_handlers=[*gate_api.ROUTES, *gate_pages.ROUTES],
        panels=[readiness_panel],
        banners=[readiness_banner],
        nav_items=[
            NavItem("Readiness", "/readiness", board_roles),
            NavItem("Manual checks", "/admin/manual-checks", frozenset({Role.ADMINISTRATOR})),
        ],
        queues=[approval_queue, lapse_queue, sign_off_queue],
    )
