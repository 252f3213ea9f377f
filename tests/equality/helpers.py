"""Builders for equality test data: complete screening and full-assessment answers, and records
driven through the service to a given state."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
