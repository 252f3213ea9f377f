"""Builders for equality test data: complete screening and full-assessment answers, records driven
through the service to a given state, and a browser per person for the page tests."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from equality import service
from equality.rules import AIMS, ASSESSMENT, PROTECTED_KEYS, SCREENING
from governance.assessments import VersionView
from governance.audit import Actor
from governance.clock import london_today

# Due dates a few months ahead of the day the tests run, because past due dates are rejected.
MITIGATION_DUE = london_today() + dt.timedelta(days=120)
ACTION_DUE = london_today() + dt.timedelta(days=200)


def screening_data(
    impacts: dict[str, str] | None = None, keys: list[str] | None = None
) -> dict[str, Any]:
    """Return complete screening input: every characteristic neutral except those in ``impacts``."""
    impacts = impacts or {}
    keys = keys or sorted(PROTECTED_KEYS)
    return {
        "proposal": "The bot copies online crime reports into the records system.",
        "characteristics": {
            key: {
                "impact": impacts.get(key, "neutral"),
                "affected": "both" if key == "sex" else "public",
                "evidence": f"Evidence about {key.replace('_', ' ')}.",
            }
            for key in keys
        },
        "aims": {key: f"How the change affects: {label}." for key, label in AIMS.items()},
    }


def assessment_data(keys: list[str], *, remains: bool = False) -> dict[str, Any]:
    """Return complete full-assessment input covering ``keys``."""
    return {
        "impacts": {
            key: {
                "mitigation": f"Mitigation for {key}.",
                "owner": "Nadia Hussain",
                "due_date": MITIGATION_DUE.isoformat(),
                "remains": remains,
                "justification": "Proportionate to a legitimate aim." if remains else "",
            }
            for key in keys
        },
        "action_plan": [
            {
                "action": "Check the mitigations work.",
                "owner": "Nadia Hussain",
                "due_date": ACTION_DUE.isoformat(),
            }
        ],
        "engagement": "Consulted the disability advisory group and the victims' panel.",
    }


async def submitted_screening(
    author: Actor, reference: str, impacts: dict[str, str] | None = None
) -> VersionView:
    view = await service.start_version(author, reference, SCREENING)
    view = await service.save_draft(
        author, reference, SCREENING, view.number, view.version, screening_data(impacts)
    )
    return await service.submit(author, reference, SCREENING, view.number, view.version)


async def approved_screening(
    author: Actor, lead: Actor, reference: str, impacts: dict[str, str] | None = None
) -> VersionView:
    view = await submitted_screening(author, reference, impacts)
    return await service.decide(lead, reference, SCREENING, view.number, view.version, "approve")


async def submitted_assessment(
    author: Actor, reference: str, keys: list[str], *, remains: bool = False
) -> VersionView:
    view = await service.start_version(author, reference, ASSESSMENT)
    view = await service.save_draft(
        author,
        reference,
        ASSESSMENT,
        view.number,
        view.version,
        assessment_data(keys, remains=remains),
    )
    return await service.submit(author, reference, ASSESSMENT, view.number, view.version)


async def approved_assessment(
    author: Actor, lead: Actor, reference: str, keys: list[str], *, remains: bool = False
) -> VersionView:
    view = await submitted_assessment(author, reference, keys, remains=remains)
    return await service.decide(lead, reference, ASSESSMENT, view.number, view.version, "approve")


async def post_form(client: Any, url: str, data: dict[str, Any]) -> Any:
    """Submit a form as a browser would, with the CSRF token from the ``ag_csrf`` cookie.

    NOTE: ``tests.support.post_form`` passes the fields to httpx as a list of pairs. httpx sends
    such a list as a raw body, which its async client rejects, so this helper sends a dict.
    """
    if not client.cookies.get("ag_csrf"):
        await client.get("/sign-in")
    fields = {**data, "_csrf_token": client.cookies.get("ag_csrf", "")}
    return await client.post(url, data=fields, follow_redirects=False)


async def sign_in(
    client: Any, username: str, password: str = "correct horse battery staple"
) -> Any:
    response = await post_form(
        client, "/sign-in", {"username": username, "password": password, "next": "/"}
    )
    assert response.status_code == 303, response.text
    return response


class PersonBrowser:
    """One person's browser: their own cookies, sharing the test client (and the app's lifespan)."""

    def __init__(self, client) -> None:
        self.client = client
        self.cookies = httpx.Cookies()

    async def _send(self, method: str, url: str, **kwargs):
        self.client.cookies = self.cookies
        response = await getattr(self.client, method)(url, **kwargs)
        self.cookies = httpx.Cookies(self.client.cookies)
        return response

    async def get(self, url: str, **kwargs):
        return await self._send("get", url, **kwargs)

    async def post(self, url: str, **kwargs):
        return await self._send("post", url, **kwargs)


def hidden_version(html: str) -> str:
    """Return the first form's ``version`` field from a page."""
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no version field on the page"
    return match.group(1)


def screening_form(
    version: int, impacts: dict[str, str] | None = None, action: str = "save"
) -> dict[str, str]:
    """Return the fields of a complete screening form: every impact neutral except ``impacts``."""
    impacts = impacts or {}
    fields = {
        "version": str(version),
        "action": action,
        "proposal": "The bot copies online reports.",
    }
    for key in PROTECTED_KEYS:
        fields[f"characteristics.{key}.impact"] = impacts.get(key, "neutral")
        fields[f"characteristics.{key}.affected"] = "public"
        fields[f"characteristics.{key}.evidence"] = f"Evidence about {key}."
    for key in AIMS:
        fields[f"aims.{key}"] = "Considered."
    return fields


# Use-case states for the page tests, each built through the service by an author and a lead -----

REFERENCE = "UC-001"
State = Callable[[Actor, Actor], Awaitable[None]]


async def screening_draft(author: Actor, lead: Actor) -> None:
    view = await service.start_version(author, REFERENCE, SCREENING)
    await service.save_draft(author, REFERENCE, SCREENING, 1, view.version, screening_data())


async def screening_submitted(author: Actor, lead: Actor) -> None:
    await submitted_screening(author, REFERENCE)


async def screening_approved(author: Actor, lead: Actor) -> None:
    await approved_screening(author, lead, REFERENCE)


async def screening_changes_requested(author: Actor, lead: Actor) -> None:
    view = await submitted_screening(author, REFERENCE)
    await service.decide(
        lead, REFERENCE, SCREENING, 1, view.version, "request_changes", reasons="More evidence"
    )


async def screening_rejected(author: Actor, lead: Actor) -> None:
    view = await submitted_screening(author, REFERENCE)
    await service.decide(lead, REFERENCE, SCREENING, 1, view.version, "reject", reasons="No")


async def screening_revoked(author: Actor, lead: Actor) -> None:
    view = await approved_screening(author, lead, REFERENCE)
    await service.revoke(lead, REFERENCE, SCREENING, 1, view.version, "Process changed")


async def assessment_draft(author: Actor, lead: Actor) -> None:
    await approved_screening(author, lead, REFERENCE, {"disability": "negative"})
    view = await service.start_version(author, REFERENCE, ASSESSMENT)
    data = assessment_data(["disability"])
    await service.save_draft(author, REFERENCE, ASSESSMENT, 1, view.version, data)


async def assessment_before_screening_approved(author: Actor, lead: Actor) -> None:
    await submitted_screening(author, REFERENCE, {"disability": "negative"})
    await submitted_assessment(author, REFERENCE, ["disability"])


async def assessment_submitted(author: Actor, lead: Actor) -> None:
    await approved_screening(author, lead, REFERENCE, {"disability": "negative"})
    await submitted_assessment(author, REFERENCE, ["disability"])


async def assessment_approved(author: Actor, lead: Actor) -> None:
    await approved_screening(author, lead, REFERENCE, {"disability": "negative"})
    await approved_assessment(author, lead, REFERENCE, ["disability"])


async def assessment_changes_requested(author: Actor, lead: Actor) -> None:
    await approved_screening(author, lead, REFERENCE, {"disability": "negative"})
    view = await submitted_assessment(author, REFERENCE, ["disability"])
    await service.decide(
        lead, REFERENCE, ASSESSMENT, 1, view.version, "request_changes", reasons="Owner missing"
    )


async def assessment_revoked(author: Actor, lead: Actor) -> None:
    await approved_screening(author, lead, REFERENCE, {"disability": "negative"})
    view = await approved_assessment(author, lead, REFERENCE, ["disability"])
    await service.revoke(lead, REFERENCE, ASSESSMENT, 1, view.version, "Mitigation withdrawn")


STATES: dict[str, State] = {
    "screening draft": screening_draft,
    "screening submitted": screening_submitted,
    "screening approved": screening_approved,
    "screening changes requested": screening_changes_requested,
    "screening rejected": screening_rejected,
    "screening revoked": screening_revoked,
    "assessment draft": assessment_draft,
    "assessment before screening approved": assessment_before_screening_approved,
    "assessment submitted": assessment_submitted,
    "assessment approved": assessment_approved,
    "assessment changes requested": assessment_changes_requested,
    "assessment revoked": assessment_revoked,
}
