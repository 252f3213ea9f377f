"""DPIA API: the whole workflow over HTTP, and each bad input or abuse rejected with 403, 409 or 422."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from governance.clock import london_today
from governance.roles import Role
from tests.support import DEFAULT_DEPARTMENT, token_headers

from tests.dpia.helpers import complete_content, not_required_content

NEXT_QUARTER = london_today() + dt.timedelta(days=90)


@pytest.fixture
async def tokens(author, ia, ia2, dpo):
    return {
        "author": await token_headers(author.username),
        "ia": await token_headers(ia.username),
        "ia2": await token_headers(ia2.username),
        "dpo": await token_headers(dpo.username),
    }


def _base(reference: str) -> str:
    return f"/api/v1/use-cases/{reference}/dpia"


async def _draft(client, tokens, reference, content=None) -> dict:
    started = await client.post(f"{_base(reference)}/versions", headers=tokens["author"])
    assert started.status_code == 201, started.text
    saved = await client.put(
        f"{_base(reference)}/versions/1/content",
        json={"version": started.json()["version"], "content": content or complete_content()},
        headers=tokens["author"],
    )
    return saved


async def _advised(client, tokens, reference) -> dict:
    saved = await _draft(client, tokens, reference)
    body = (await client.post(f"{_base(reference)}/versions/1/submit", json={"version": saved.json()["version"]}, headers=tokens["author"])).json()
    body = (await client.post(f"{_base(reference)}/versions/1/start-review", json={"version": body["version"]}, headers=tokens["ia"])).json()
    response = await client.post(
        f"{_base(reference)}/versions/1/dpo-advice",
        json={"version": body["version"], "advises_approval": True, "summary": "Proportionate."},
        headers=tokens["dpo"],
    )
    assert response.status_code == 200, response.text
    return response.json()


def _fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


async def test_workflow_through_api(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision",
        json={"version": advised["version"], "decision": "approve"},
        headers=tokens["ia"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "approved"
    assert body["hash_verified"] is True
    assert [item["meaning"] for item in body["sign_offs"]][-1] == "Measures and residual risks approved"

    current = (await client.get(_base(use_case.reference), headers=tokens["author"])).json()
    assert current["ready"] is True
    assert current["readiness"][0]["evidence"]["content_hash"] == body["content_hash"]


async def test_likelihood_outside_scale_is_422(client, tokens, use_case):
    content = complete_content()
    content["risks"][0]["likelihood"] = "certain"
    response = await _draft(client, tokens, use_case.reference, content)
    assert response.status_code == 422
    assert _fields(response) == ["risks[0].likelihood"]


async def test_severity_outside_scale_is_422(client, tokens, use_case):
    content = complete_content()
    content["risks"][0]["residual_severity"] = "extreme"
    response = await _draft(client, tokens, use_case.reference, content)
    assert response.status_code == 422
    assert _fields(response) == ["risks[0].residual_severity"]


async def test_unknown_regime_is_422(client, tokens, use_case):
    content = complete_content()
    content["screening"]["regimes"][0]["regime"] = "gdpr"
    response = await _draft(client, tokens, use_case.reference, content)
    assert response.status_code == 422
    assert _fields(response) == ["screening.regimes[0].regime"]


async def test_missing_step_is_422_at_submit(client, tokens, use_case):
    content = complete_content()
    del content["consultation"]
    saved = await _draft(client, tokens, use_case.reference, content)
    assert saved.status_code == 200
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/submit", json={"version": saved.json()["version"]}, headers=tokens["author"]
    )
    assert response.status_code == 422
    assert _fields(response) == ["consultation.individuals", "consultation.internal_and_experts"]


async def test_nothing_stored_on_422(client, tokens, use_case):
    saved = await _draft(client, tokens, use_case.reference)
    content = complete_content()
    content["risks"][0]["severity"] = "huge"
    await client.put(
        f"{_base(use_case.reference)}/versions/1/content",
        json={"version": saved.json()["version"], "content": content},
        headers=tokens["author"],
    )
    stored = (await client.get(f"{_base(use_case.reference)}/versions/1", headers=tokens["author"])).json()
    assert stored["content"]["risks"][0]["severity"] == "severe"


async def test_unknown_body_field_is_422(client, tokens, use_case):
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/submit", json={"version": 1, "force": True}, headers=tokens["author"]
    )
    assert response.status_code == 422
    assert _fields(response) == ["force"]


async def test_self_approval_is_403(client, make_person, tokens, use_case):
    author_ia = await make_person(Role.BUSINESS_OWNER, Role.INFORMATION_ASSURANCE, department=DEFAULT_DEPARTMENT, username="writer.ia")
    headers = await token_headers(author_ia.username)
    saved = await _draft(client, {"author": headers}, use_case.reference)
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/submit", json={"version": saved.json()["version"]}, headers=headers)).json()
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/start-review", json={"version": body["version"]}, headers=tokens["ia"])).json()
    body = (await client.post(
        f"{_base(use_case.reference)}/versions/1/dpo-advice",
        json={"version": body["version"], "advises_approval": True, "summary": "Fine."},
        headers=tokens["dpo"],
    )).json()
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision", json={"version": body["version"], "decision": "approve"}, headers=headers
    )
    assert response.status_code == 403
    current = (await client.get(f"{_base(use_case.reference)}/versions/1", headers=headers)).json()
    assert current["status"] == "dpo_advice_recorded"


async def test_wrong_role_is_403(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision", json={"version": advised["version"], "decision": "approve"}, headers=tokens["dpo"]
    )
    assert response.status_code == 403


async def test_author_cannot_advise_403(client, tokens, use_case):
    saved = await _draft(client, tokens, use_case.reference)
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/dpo-advice",
        json={"version": saved.json()["version"], "advises_approval": True, "summary": "Mine"},
        headers=tokens["author"],
    )
    assert response.status_code == 403


async def test_not_latest_version_is_409(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    started = await client.post(f"{_base(use_case.reference)}/versions", headers=tokens["author"])
    assert started.status_code == 201
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision", json={"version": advised["version"], "decision": "approve"}, headers=tokens["ia"]
    )
    assert response.status_code == 409
    assert response.json()["latest_version"] == 2


async def test_stale_version_is_409(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    first = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision", json={"version": advised["version"], "decision": "approve"}, headers=tokens["ia"]
    )
    second = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision",
        json={"version": advised["version"], "decision": "reject", "reasons": "No"},
        headers=tokens["ia2"],
    )
    assert first.status_code == 200
    assert second.status_code == 409
    signed = [item for item in first.json()["sign_offs"] if item["decision"] in ("approved", "rejected")]
    assert len(signed) == 1


async def test_overruling_without_reasons_is_422(client, tokens, use_case):
    saved = await _draft(client, tokens, use_case.reference)
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/submit", json={"version": saved.json()["version"]}, headers=tokens["author"])).json()
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/start-review", json={"version": body["version"]}, headers=tokens["ia"])).json()
    body = (await client.post(
        f"{_base(use_case.reference)}/versions/1/dpo-advice",
        json={"version": body["version"], "advises_approval": False, "summary": "Too risky."},
        headers=tokens["dpo"],
    )).json()
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision", json={"version": body["version"], "decision": "approve"}, headers=tokens["ia"]
    )
    assert response.status_code == 422
    assert _fields(response) == ["reasons"]


async def test_conditions_and_readiness_via_api(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    decided = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision",
        json={
            "version": advised["version"],
            "decision": "approve_with_conditions",
            "conditions": [{"text": "Brief the recorders.", "owner": "Training lead", "due_date": NEXT_QUARTER.isoformat()}],
        },
        headers=tokens["ia"],
    )
    assert decided.status_code == 200, decided.text
    condition = decided.json()["conditions"][0]
    readiness = (await client.get(f"{_base(use_case.reference)}/readiness", headers=tokens["author"])).json()
    assert readiness["ready"] is False
    met = await client.post(
        f"{_base(use_case.reference)}/conditions/{condition['id']}/met",
        json={"version": condition["version"], "note": "Done on 1 December."},
        headers=tokens["author"],
    )
    assert met.status_code == 200, met.text
    readiness = (await client.get(f"{_base(use_case.reference)}/readiness", headers=tokens["author"])).json()
    assert readiness["ready"] is True


async def test_ico_consultation_via_api(client, tokens, use_case):
    saved = await _draft(client, tokens, use_case.reference, complete_content(residual="high"))
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/submit", json={"version": saved.json()["version"]}, headers=tokens["author"])).json()
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/start-review", json={"version": body["version"]}, headers=tokens["ia"])).json()
    body = (await client.post(
        f"{_base(use_case.reference)}/versions/1/dpo-advice",
        json={"version": body["version"], "advises_approval": True, "summary": "Consult the ICO."},
        headers=tokens["dpo"],
    )).json()
    await client.post(f"{_base(use_case.reference)}/versions/1/decision", json={"version": body["version"], "decision": "approve"}, headers=tokens["ia"])
    recorded = await client.post(f"{_base(use_case.reference)}/ico-consultation", json={"submitted_on": "2026-11-02"}, headers=tokens["dpo"])
    assert recorded.status_code == 201, recorded.text
    bad = await client.post(
        f"{_base(use_case.reference)}/ico-consultation/response",
        json={"version": recorded.json()["version"], "response": "Fine", "response_received_on": "2026-11-20", "outcome": "perhaps"},
        headers=tokens["dpo"],
    )
    assert bad.status_code == 422
    assert _fields(bad) == ["outcome"]


async def test_review_date_and_revoke_via_api(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    decided = (await client.post(
        f"{_base(use_case.reference)}/versions/1/decision", json={"version": advised["version"], "decision": "approve"}, headers=tokens["ia"]
    )).json()
    moved = await client.post(
        f"{_base(use_case.reference)}/versions/1/review-date",
        json={"version": decided["version"], "review_date": NEXT_QUARTER.isoformat(), "reason": "Align with the force review cycle."},
        headers=tokens["ia"],
    )
    assert moved.json()["review_date"] == NEXT_QUARTER.isoformat()
    revoked = await client.post(
        f"{_base(use_case.reference)}/versions/1/revoke",
        json={"version": moved.json()["version"], "reason": "Processing changed."},
        headers=tokens["ia"],
    )
    assert revoked.json()["revocation_reason"] == "Processing changed."


async def test_diff_via_api(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    await client.post(f"{_base(use_case.reference)}/versions/1/decision", json={"version": advised["version"], "decision": "approve"}, headers=tokens["ia"])
    started = (await client.post(f"{_base(use_case.reference)}/versions", headers=tokens["author"])).json()
    content = copy.deepcopy(started["content"])
    content["processing"]["scope"] = "Now 5,000 reports a month."
    await client.put(f"{_base(use_case.reference)}/versions/2/content", json={"version": started["version"], "content": content}, headers=tokens["author"])
    diff = (await client.get(f"{_base(use_case.reference)}/diff?from=1&to=2", headers=tokens["author"])).json()
    assert [change["path"] for change in diff["changes"]] == ["processing.scope"]


async def test_export_via_api(client, tokens, use_case):
    await _draft(client, tokens, use_case.reference)
    response = await client.get(f"{_base(use_case.reference)}/versions/1/export", headers=tokens["author"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml.document")


async def test_reading_needs_token(client, use_case):
    response = await client.get(_base(use_case.reference))
    assert response.status_code == 401


@pytest.mark.parametrize("review_date", ["2099-01-01", "31/03/2027", ""])
async def test_review_date_outside_limits_via_api(client, tokens, use_case, review_date):
    advised = await _advised(client, tokens, use_case.reference)
    decided = (await client.post(
        f"{_base(use_case.reference)}/versions/1/decision", json={"version": advised["version"], "decision": "approve"}, headers=tokens["ia"]
    )).json()
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/review-date",
        json={"version": decided["version"], "review_date": review_date, "reason": "Align with the force review cycle."},
        headers=tokens["ia"],
    )
    assert response.status_code == 422
    assert _fields(response) == ["review_date"]


async def test_past_condition_due_date_is_422(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision",
        json={
            "version": advised["version"],
            "decision": "approve_with_conditions",
            "conditions": [{"text": "Brief the recorders.", "owner": "Training lead", "due_date": "2020-01-01"}],
        },
        headers=tokens["ia"],
    )
    assert response.status_code == 422
    assert _fields(response) == ["conditions[0].due_date"]
    current = (await client.get(_base(use_case.reference), headers=tokens["ia"])).json()
    assert current["conditions"] == []


async def test_past_added_condition_due_date_is_422(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    await client.post(f"{_base(use_case.reference)}/versions/1/decision", json={"version": advised["version"], "decision": "approve"}, headers=tokens["ia"])
    response = await client.post(
        f"{_base(use_case.reference)}/conditions",
        json={"text": "Pen test.", "owner": "Security", "due_date": "2019-01-01"},
        headers=tokens["ia"],
    )
    assert response.status_code == 422
    assert _fields(response) == ["due_date"]


# Every problem at once, in readable words ----------------------------------------------------------


async def _in_review(client, tokens, reference) -> dict:
    saved = await _draft(client, tokens, reference)
    body = (await client.post(f"{_base(reference)}/versions/1/submit", json={"version": saved.json()["version"]}, headers=tokens["author"])).json()
    return (await client.post(f"{_base(reference)}/versions/1/start-review", json={"version": body["version"]}, headers=tokens["ia"])).json()


async def test_dpo_advice_lists_both_missing(client, tokens, use_case):
    body = await _in_review(client, tokens, use_case.reference)
    response = await client.post(f"{_base(use_case.reference)}/versions/1/dpo-advice", json={"version": body["version"]}, headers=tokens["dpo"])
    assert response.status_code == 422
    assert _fields(response) == ["advises_approval", "summary"]


async def test_request_changes_without_reasons_is_422(client, tokens, use_case):
    body = await _in_review(client, tokens, use_case.reference)
    response = await client.post(f"{_base(use_case.reference)}/versions/1/request-changes", json={"version": body["version"]}, headers=tokens["ia"])
    assert response.status_code == 422
    assert _fields(response) == ["reasons"]


async def test_empty_condition_lists_each_field(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision",
        json={"version": advised["version"], "decision": "approve_with_conditions", "conditions": [{}]},
        headers=tokens["ia"],
    )
    assert response.status_code == 422
    assert _fields(response) == ["conditions[0].text", "conditions[0].owner"]


async def test_version_dependent_errors_come_together(client, tokens, use_case):
    saved = await _draft(client, tokens, use_case.reference, not_required_content())
    assert saved.status_code == 200, saved.text
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/submit", json={"version": saved.json()["version"]}, headers=tokens["author"])).json()
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/start-review", json={"version": body["version"]}, headers=tokens["ia"])).json()
    body = (await client.post(
        f"{_base(use_case.reference)}/versions/1/dpo-advice",
        json={"version": body["version"], "advises_approval": False, "summary": "A DPIA is needed."},
        headers=tokens["dpo"],
    )).json()
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision",
        json={"version": body["version"], "decision": "approve", "consultation_reasons": "None consulted."},
        headers=tokens["ia"],
    )
    assert response.status_code == 422
    assert _fields(response) == ["reasons", "consultation_reasons"]


async def test_ico_response_lists_every_missing_field(client, tokens, use_case):
    saved = await _draft(client, tokens, use_case.reference, complete_content(residual="high"))
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/submit", json={"version": saved.json()["version"]}, headers=tokens["author"])).json()
    body = (await client.post(f"{_base(use_case.reference)}/versions/1/start-review", json={"version": body["version"]}, headers=tokens["ia"])).json()
    body = (await client.post(
        f"{_base(use_case.reference)}/versions/1/dpo-advice",
        json={"version": body["version"], "advises_approval": True, "summary": "Consult the ICO."},
        headers=tokens["dpo"],
    )).json()
    await client.post(f"{_base(use_case.reference)}/versions/1/decision", json={"version": body["version"], "decision": "approve"}, headers=tokens["ia"])
    recorded = await client.post(f"{_base(use_case.reference)}/ico-consultation", json={"submitted_on": london_today().isoformat()}, headers=tokens["dpo"])
    response = await client.post(
        f"{_base(use_case.reference)}/ico-consultation/response", json={"version": recorded.json()["version"]}, headers=tokens["dpo"]
    )
    assert response.status_code == 422
    assert _fields(response) == ["response", "response_received_on", "outcome"]


async def test_detail_names_field_by_label_and_path(client, tokens, use_case):
    advised = await _advised(client, tokens, use_case.reference)
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/decision",
        json={
            "version": advised["version"],
            "decision": "approve_with_conditions",
            "conditions": [{"text": "Brief the recorders.", "owner": "Training lead", "due_date": "2020-01-01"}],
        },
        headers=tokens["ia"],
    )
    assert response.json()["detail"].startswith("Condition 1: due date (conditions[0].due_date): must be today")


async def test_measure_of_unknown_risk_says_what_is_accepted(client, tokens, use_case):
    content = complete_content()
    content["measures"][0]["risk"] = 99
    response = await _draft(client, tokens, use_case.reference, content)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "measures[0].risk", "message": "99 is not a recorded risk; use a risk number from 1 to 1"}
    ]


async def test_rejection_message_is_sentence(client, tokens, use_case):
    saved = await _draft(client, tokens, use_case.reference)
    response = await client.post(
        f"{_base(use_case.reference)}/versions/1/start-review", json={"version": saved.json()["version"]}, headers=tokens["ia"]
    )
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "DPIA version 1 is a draft, and only a submitted version can go into review."
    )
