"""Helpers for go-live gate tests: controllable checks, a DPIA check on core assessment rows,
and shortcuts that place use cases at a stage or approve an assessment version.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from governance import assessments, audit, gate
from governance.assessments import Workflow
from governance.audit import Actor
from governance.clock import london_today
from governance.database import write_transaction
from governance.gate import CheckResult, RegisteredCheck, UseCaseRef
from governance.roles import Role
from governance.stages import Stage
from governance.tables import UseCase

# A minimal assessment workflow, standing in for the DPIA package's.
TEST_WORKFLOW = Workflow(
    transitions={
        "draft": {"submit": "submitted"},
        "submitted": {"approve": "approved", "return": "draft"},
        "approved": {},
    },
    editable=frozenset({"draft"}),
    frozen_by=frozenset({"submit"}),
)


@dataclass
class StubCheck:
    """A check whose outcome a test sets: pass, fail, raise, or return nothing."""

    name: str = "stub_assessment"
    passed: bool = True
    raises: bool = False
    empty: bool = False
    calls: int = 0

    async def run(self, use_case: UseCaseRef, now: dt.datetime) -> list[CheckResult]:
        self.calls += 1
        if self.raises:
            raise RuntimeError("stub check failed on purpose")
        if self.empty:
            return []
        return [
            CheckResult(
                name=self.name,
                title="Stub assessment",
                passed=self.passed,
                detail="stub passed" if self.passed else "stub assessment is not approved",
                clearing_role=None if self.passed else Role.INFORMATION_ASSURANCE,
            )
        ]

    @property
    def registered(self) -> RegisteredCheck:
        return RegisteredCheck(self.name, "Stub assessment", self.run)


async def dpia_check(use_case: UseCaseRef, now: dt.datetime) -> list[CheckResult]:
    """Test-only DPIA check: the latest core "dpia" version must be approved, unrevoked and in date."""
    latest = await assessments.latest_version(use_case.id, "dpia")
    blocker = None
    if latest is None:
        blocker = "No DPIA is recorded."
    elif latest.status != "approved" or latest.decision != "approved":
        blocker = f"DPIA version {latest.number} is {latest.status}, not approved."
    elif latest.revoked_at is not None:
        blocker = f"The approval of DPIA version {latest.number} was revoked."
    elif latest.review_date is not None and latest.review_date < london_today(now):
        blocker = f"DPIA version {latest.number} passed its review date."
    if blocker:
        return [CheckResult("dpia", "DPIA", False, blocker, Role.INFORMATION_ASSURANCE)]
    return [
        CheckResult(
            "dpia",
            "DPIA",
            True,
            f"Version {latest.number} approved.",
            evidence={"assessment": gate.assessment_evidence(latest)},
        )
    ]


DPIA_CHECK = RegisteredCheck("dpia", "DPIA", dpia_check)


@dataclass
class Checks:
    """The package checks a test runs with; ``stub`` is registered by default."""

    stub: StubCheck = field(default_factory=StubCheck)

    def use(self, *checks: RegisteredCheck) -> None:
        """Register ``checks`` in place of the stub."""
        gate._registry.clear()
        for check in checks:
            gate.register_check(check)

    def add(self, check: RegisteredCheck) -> None:
        gate.register_check(check)


@pytest.fixture
def checks(db: str) -> Iterator[Checks]:
    """Run the test with only a passing stub check registered (plus the core's own checks)."""
    controller = Checks()
    with gate.checks_replaced([controller.stub.registered]):
        yield controller


@pytest.fixture
def web_checks(app, checks: Checks) -> Checks:
    """As ``checks``, for tests that use the app: set up after the app registered its packages."""
    controller = checks
    controller.use(controller.stub.registered)
    return controller


async def place_at(reference: str, stage: Stage) -> None:
    """Put a use case at ``stage`` directly, as an import would (no gate)."""
    await UseCase.update({UseCase.stage: stage.value, UseCase.version: UseCase.version + 1}).where(
        UseCase.reference == reference
    ).run()


async def approve_dpia(
    author: Actor, approver: Actor, use_case_id: int, *, review_date: dt.date | None = None
) -> assessments.VersionView:
    """Start, submit and approve a "dpia" version with an IA sign-off; return the approved version."""
    view = await assessments.start_version(author, use_case_id, "dpia", "test-1", TEST_WORKFLOW, {"purpose": "test"})
    view = await assessments.apply_action(author, view, view.version, TEST_WORKFLOW, "submit")
    async with write_transaction():
        view = await assessments.apply_action(
            approver,
            view,
            view.version,
            TEST_WORKFLOW,
            "approve",
            decision="approved",
            review_date=review_date,
        )
        await assessments.record_sign_off(
            approver, view, role=Role.INFORMATION_ASSURANCE, meaning="DPIA approved", decision="approved"
        )
    return view


async def audit_actions(reference: str) -> list[str]:
    return [entry["action"] for entry in await audit.history_for_use_case(reference)]


async def gather_in_order(first, second, entered: asyncio.Event):
    """Run ``first`` until it signals ``entered``, then start ``second``; return both outcomes."""

    async def start_second():
        await entered.wait()
        return await second()

    return await asyncio.gather(first(), start_second(), return_exceptions=True)


async def submit_form(client, url: str, data: dict) -> object:
    """Submit a form as a browser would, with the CSRF token from the ``ag_csrf`` cookie."""
    if not client.cookies.get("ag_csrf"):
        await client.get("/sign-in")
    fields = {key: str(value) for key, value in data.items()}
    fields["_csrf_token"] = client.cookies.get("ag_csrf", "")
    return await client.post(url, data=fields, follow_redirects=False)


async def browser_sign_in(client, username: str, password: str = "correct horse battery staple") -> None:
    response = await submit_form(client, "/sign-in", {"username": username, "password": password, "next": "/"})
    assert response.status_code == 303, response.text
