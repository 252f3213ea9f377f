"""The demo's own accounts take UC-022 from DPIA screening to live, through the pages alone.

Each person signs in with the password the demo issued and uses only the forms their pages offer,
as a new user of the demo would.
"""

import re

import pytest

from governance import golive, register
from governance.stages import Stage
from tests.support import browser, form_as_shown, post_form, sign_in

REFERENCE = "UC-022"
BASE = f"/use-cases/{REFERENCE}"


@pytest.fixture
async def demo(app, db):
    from governance.demo import load_demo

    return await load_demo(app.state.contributions)


def problems_on(html: str) -> str:
    """Return the error summary's items, to explain a form that did not go through."""
    return "; ".join(re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", html.split("error-summary", 1)[-1])[:10])


class Person:
    """A demo account in its own browser."""

    def __init__(self, app, username: str, password: str) -> None:
        self.client = browser(app)
        self.username = username
        self.password = password

    async def __aenter__(self) -> "Person":
        await self.client.__aenter__()
        await sign_in(self.client, self.username, self.password)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.__aexit__(*exc)

    async def submit(self, page: str, action: str, fields: dict[str, str] | None = None) -> str:
        """Open ``page``, fill its form posting to ``action`` and send it; return where it led."""
        html = (await self.client.get(page)).text
        shown = form_as_shown(html, action)
        response = await post_form(self.client, action, {**shown, **(fields or {})})
        assert response.status_code == 303, f"{self.username} at {action}: {response.status_code} {problems_on(response.text)}"
        return response.headers["location"]


def every_answer(html: str, pattern: str, value: str) -> dict[str, str]:
    """Return ``value`` for every radio group on the page whose name matches ``pattern``."""
    return {name: value for name in set(re.findall(r'name="(' + pattern + r')" type="radio"', html))}


async def test_demo_use_case_goes_live_in_browser(app, demo):
    people = {name: Person(app, name, password) for name, password in demo.items()}
    owner, central, ia, dpo, lead = (
        people["business.owner"], people["central.team"], people["info.assurance"], people["dpo"], people["equality.lead"]
    )
    async with owner, central, ia, dpo, lead:
        # The business owner screens the DPIA and submits it.
        await owner.submit(f"{BASE}/dpia", f"{BASE}/dpia/start")
        screening = (await owner.client.get(f"{BASE}/dpia/screening")).text
        answers = every_answer(screening, r"screening\.[a-z_]+\.[a-z_]+\.answer", "no")
        await owner.submit(
            f"{BASE}/dpia/screening",
            f"{BASE}/dpia/screening",
            {**answers, "screening.outcome": "not_required", "screening.reasons": "Transcripts the handler already holds, attached to one incident; no new processing."},
        )
        await owner.submit(f"{BASE}/dpia", f"{BASE}/dpia/submit")

        # Information Assurance reviews, the DPO advises, Information Assurance decides.
        version = f"{BASE}/dpia/versions/1"
        await ia.submit(version, f"{version}/start-review")
        await dpo.submit(version, f"{version}/dpo-advice", {"advises_approval": "yes", "summary": "Proportionate; approve."})
        await ia.submit(version, f"{version}/decision", {"decision": "approve"})

        # The business owner screens for equality impact and the equality lead approves.
        edit = await owner.submit(f"{BASE}/equality", f"{BASE}/equality/screening/start")
        form = (await owner.client.get(edit)).text
        fields = {
            **every_answer(form, r"characteristics\.[a-z_]+\.impact", "neutral"),
            **every_answer(form, r"characteristics\.[a-z_]+\.affected", "public"),
            **{name: "Transcripts are attached unchanged, whoever wrote them." for name in re.findall(r'name="(characteristics\.[a-z_]+\.evidence)"', form)},
            **{name: "Officers see what the caller said." for name in re.findall(r'name="(aims\.[a-z_]+)"', form)},
            "proposal": "Contact handlers no longer copy chat transcripts into incident logs by hand.",
            "action": "submit",
        }
        await owner.submit(edit, edit, fields)
        screening_version = f"{BASE}/equality/screening/versions/1"
        await lead.submit(screening_version, f"{screening_version}/decision", {"action": "approve"})

        # The central team records the baseline and moves the use case to test.
        await central.submit(
            f"{BASE}/baseline",
            f"{BASE}/baseline",
            {"volume_per_month": "1200", "manual_minutes_per_item": "4", "residual_minutes_per_item": "0.5", "source_note": "Web chat statistics, last quarter."},
        )
        for stage in ("qualified", "design", "build", "test"):
            await central.submit(BASE, f"{BASE}/move", {"to": stage})

        # Information Assurance and the business owner sign the manual checks.
        await ia.submit(BASE, f"{BASE}/manual-checks/security_sign_off/sign")
        await owner.submit(BASE, f"{BASE}/manual-checks/user_acceptance_testing/sign")

        # The central team takes it through the go-live gate.
        await central.submit(BASE, f"{BASE}/move", {"to": "ready_for_live"})
        await central.submit(BASE, f"{BASE}/move", {"to": "live"})

    view = await register.get_use_case(REFERENCE)
    report = await golive.readiness_report(REFERENCE)
    assert view.stage is Stage.LIVE
    assert report["ready"] is True


async def test_demo_use_case_starts_without_assessments(demo):
    from governance import assessments

    use_case_id = (await register.get_use_case(REFERENCE)).id
    assert await assessments.latest_version(use_case_id, "dpia") is None
    assert await assessments.latest_version(use_case_id, "equality_screening") is None


async def test_demo_use_case_belongs_to_owner_department(demo):
    from governance import accounts

    owner = await accounts.get_account("business.owner")
    assert (await register.get_use_case(REFERENCE)).department == owner.department


async def test_demo_use_case_at_assessment(demo):
    assert (await register.get_use_case(REFERENCE)).stage is Stage.ASSESSMENT
