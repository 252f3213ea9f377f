"""How domain packages plug into the core without the core importing them by name.

Each package listed in the ``packages`` setting has a ``plugin`` module whose ``contribute()``
returns a ``Contribution``: its route handlers, gate checks, demo loader, sections for the use-case
page, navigation links and work-queue items. The app factory collects them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from governance.audit import Actor
from governance.gate import RegisteredCheck, UseCaseRef
from governance.history import HistoryLabels
from governance.roles import Role

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UseCasePanel:
    """A section of the use-case page, rendered from ``template`` with ``context``."""

    title: str
    template: str
    context: dict[str, Any]
    order: int = 100


@dataclass(frozen=True)
class NavItem:
    """A link in the page header, shown to holders of any of ``roles``."""

    label: str
    href: str
    roles: frozenset[Role]

    def visible_to(self, actor: Actor) -> bool:
        return bool(self.roles & actor.roles)


@dataclass(frozen=True)
class QueueItem:
    """Something waiting on the signed-in person, for the home page's work queue."""

    title: str
    href: str
    waiting_since: Any
    detail: str = ""


@dataclass(frozen=True)
class DemoContext:
    """What a package's demo loader receives: the parsed data file section and lookups."""

    data: dict[str, Any]
    accounts: dict[str, Actor]
    use_case_ids: dict[str, int]


PanelProvider = Callable[[UseCaseRef, Actor], Awaitable[UseCasePanel | None]]
QueueProvider = Callable[[Actor], Awaitable[list[QueueItem]]]
DemoLoader = Callable[[DemoContext], Awaitable[None]]


@dataclass
class Contribution:
    name: str
    route_handlers: list[Any] = field(default_factory=list)
    gate_checks: list[RegisteredCheck] = field(default_factory=list)
    panels: list[PanelProvider] = field(default_factory=list)
    # Warnings shown at the top of the use-case page, above its heading.
    banners: list[PanelProvider] = field(default_factory=list)
    nav_items: list[NavItem] = field(default_factory=list)
    queues: list[QueueProvider] = field(default_factory=list)
    demo_file: str | None = None
    demo_loader: DemoLoader | None = None
    # How the history page names this package's audit entries and their fields.
    history_labels: list[HistoryLabels] = field(default_factory=list)


def register_gate_checks(contributions: list[Contribution]) -> None:
    """Register every contribution's gate checks (the app factory and the CLI call this)."""
    from governance import gate

    for contribution in contributions:
        for check in contribution.gate_checks:
            gate.register_check(check)


def load_contributions(names: tuple[str, ...]) -> list[Contribution]:
    """Import each package's ``plugin`` module and collect what it contributes."""
    contributions = []
    for name in names:
        module = importlib.import_module(f"{name}.plugin")
        contribution = module.contribute()
        logger.debug("loaded package %s", name)
        contributions.append(contribution)
    return contributions
