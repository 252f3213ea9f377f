"""The equality API over HTTP: every step, and bad input and abuse getting a clear 4xx."""

from __future__ import annotations

import io

import pytest
from docx import Document

from governance.roles import Role
from governance.tables import SignOff
from tests.equality.helpers import assessment_data, screening_data
from tests.support import DEFAULT_DEPARTMENT, make_use_case, token_headers

BASE = "/api/v1/use-cases/UC-001/equality"


@pytest.fixture
async def setup(central, make_person):
    """A use case, and API headers for an author, two equality leads, an administrator and the board."""
    await make_use_case(central)
    people = {
        "owner": await make_person(
            Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT
        ),
        "lead": await make_person(Role.EQUALITY_LEAD, username="lead"),
        "lead2": await make_person(Role.EQUALITY_LEAD, username="lead2"),
        "admin": await make_person(Role.ADMINISTRATOR, username="admin"),
        "board": await make_person(Role.PROGRAMME_BOARD, username="board"),
    }
    return {name: await token_headers(actor.username) for name, actor in people.items()}


def body(version: int, data: dict) -> dict:
    return {"version": version, **data}


def error_fields(response) -> list[str]:
    return [item["field"] for item in response.json()["errors"]]


async def start(client, headers, kind="screening"):
    response = await client.post(f"{BASE}/{kind}/versions", headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def save(client, headers, data, kind="screening", number=1):
    current = await client.get(f"{BASE}/{kind}/versions/{number}", headers=headers)
    return await client.put(
        f"{BASE}/{kind}/versions/{number}",
        json=body(current.json()["version"], data),
        headers=headers,
    )


async def submit(client, headers, kind="screening", number=1):
    current = await client.get(f"{BASE}/{kind}/versions/{number}", headers=headers)
    return await client.post(
        f"{BASE}/{kind}/versions/{number}/submit",
        json={"version": current.json()["version"]},
        headers=headers,
    )


async def decide(
    client, headers, action="approve", kind="screening", number=1, version=None, reasons=""
):
    if version is None:
        current = await client.get(f"{BASE}/{kind}/versions/{number}", headers=headers)
        version = current.json()["version"]
    return await client.post(
        f"{BASE}/{kind}/versions/{number}/decision",
        json={"version": version, "action": action, "reasons": reasons},
        headers=headers,
    )


async def submitted(client, setup, impacts=None):
    await start(client, setup["owner"])
    response = await save(client, setup["owner"], screening_data(impacts))
    assert response.status_code == 200, response.text
    response = await submit(client, setup["owner"])
    assert response.status_code == 200, response.text
    return response.json()


# Bad input -----------------------------------------------------------------------------------------


async def test_impact_outside_list_422(client, setup):
    await start(client, setup["owner"])
    data = screening_data({"race": "very bad"})
    response = await save(client, setup["owner"], data)
    assert response.status_code == 422
    assert error_fields(response) == ["characteristics.race.impact"]


async def test_impact_wrong_type_422(client, setup):
    await start(client, setup["owner"])
    data = screening_data()
    data["characteristics"]["race"]["impact"] = 5
    response = await save(client, setup["owner"], data)
    assert response.status_code == 422
    assert error_fields(response) == ["characteristics.race.impact"]


async def test_unknown_body_field_422(client, setup):
    await start(client, setup["owner"])
    response = await save(client, setup["owner"], {**screening_data(), "approved": True})
    assert response.status_code == 422
    assert error_fields(response) == ["approved"]


async def test_screening_body_problems_listed_together(client, setup):
    await start(client, setup["owner"])
    data = screening_data({"race": "very bad"})
    data["proposal"] = 5
    data["characteristics"]["age"] = "negative"
    response = await save(client, setup["owner"], {**data, "approved": True})
    assert response.status_code == 422
    assert error_fields(response) == [
        "approved",
        "proposal",
        "characteristics.age",
        "characteristics.race.impact",
    ]


async def test_draft_without_version_named_with_content(client, setup):
    await start(client, setup["owner"])
    response = await client.put(
        f"{BASE}/screening/versions/1",
        json=screening_data({"race": "very bad"}),
        headers=setup["owner"],
    )
    assert response.status_code == 422
    assert error_fields(response) == ["version", "characteristics.race.impact"]


async def test_decision_body_problems_listed_together(client, setup):
    await submitted(client, setup)
    response = await client.post(
        f"{BASE}/screening/versions/1/decision",
        json={"action": "reject", "reasons": 7, "signed": True},
        headers=setup["lead"],
    )
    assert response.status_code == 422
    assert error_fields(response) == ["signed", "version", "reasons"]


async def test_review_date_body_problems_listed_together(client, setup):
    await submitted(client, setup)
    approved = (await decide(client, setup["lead"])).json()
    response = await client.post(
        f"{BASE}/screening/versions/1/review-date",
        json={"version": approved["version"], "review_date": "2020-01-01", "reason": ""},
        headers=setup["lead"],
    )
    assert response.status_code == 422
    assert error_fields(response) == ["review_date", "reason"]


async def test_past_due_dates_422_on_api(client, setup):
    await submitted(client, setup, {"disability": "negative"})
    await decide(client, setup["lead"])
    await start(client, setup["owner"], "full-assessment")
    data = assessment_data(["disability"])
    data["impacts"]["disability"]["due_date"] = "2020-02-03"
    data["action_plan"][0]["due_date"] = "2019-01-01"
    response = await save(client, setup["owner"], data, "full-assessment")
    assert response.status_code == 422
    assert error_fields(response) == ["impacts.disability.due_date", "action_plan[0].due_date"]
    assert response.json()["errors"][0]["message"].startswith("must be today (")


async def test_local_characteristic_body_problems_together(client, setup):
    response = await client.post(
        "/api/v1/equality/local-characteristics",
        json={"label": "", "key": "Not A Key", "colour": "red"},
        headers=setup["admin"],
    )
    assert response.status_code == 422
    assert error_fields(response) == ["colour", "label", "key"]


async def test_local_characteristic_null_label_422(client, setup):
    created = await client.post(
        "/api/v1/equality/local-characteristics",
        json={"label": "Care experience"},
        headers=setup["admin"],
    )
    response = await client.patch(
        "/api/v1/equality/local-characteristics/care_experience",
        json={"version": created.json()["version"], "label": None, "active": "no"},
        headers=setup["admin"],
    )
    assert response.status_code == 422
    assert error_fields(response) == ["label", "active"]


async def test_unanswered_characteristic_422_on_submit(client, setup):
    await start(client, setup["owner"])
    data = screening_data()
    del data["characteristics"]["religion_or_belief"]
    await save(client, setup["owner"], data)
    response = await submit(client, setup["owner"])
    assert response.status_code == 422
    assert error_fields(response) == [
        "characteristics.religion_or_belief.impact",
        "characteristics.religion_or_belief.affected",
        "characteristics.religion_or_belief.evidence",
    ]


async def test_outcome_override_422(client, setup):
    await start(client, setup["owner"])
    data = {**screening_data({"disability": "negative"}), "outcome": "no_full_assessment_needed"}
    response = await save(client, setup["owner"], data)
    assert response.status_code == 422
    assert error_fields(response) == ["outcome"]


async def test_stale_draft_save_409(client, setup):
    await start(client, setup["owner"])
    first = await client.put(
        f"{BASE}/screening/versions/1", json=body(1, screening_data()), headers=setup["owner"]
    )
    assert first.status_code == 200
    second = await client.put(
        f"{BASE}/screening/versions/1",
        json=body(1, screening_data({"age": "positive"})),
        headers=setup["owner"],
    )
    assert second.status_code == 409
    assert second.json()["current_version"] == 2


async def test_anonymous_401(client, setup):
    response = await client.get(f"{BASE}/screening/versions")
    assert response.status_code == 401


async def test_unknown_use_case_404(client, setup):
    response = await client.get(
        "/api/v1/use-cases/UC-999/equality/screening/versions", headers=setup["lead"]
    )
    assert response.status_code == 404


# Abuse ---------------------------------------------------------------------------------------------


async def test_self_approval_403(client, setup, make_person):
    both = await make_person(Role.BUSINESS_OWNER, Role.EQUALITY_LEAD, department=DEFAULT_DEPARTMENT)
    headers = await token_headers(both.username)
    await start(client, headers)
    await save(client, headers, screening_data())
    await submit(client, headers)
    response = await decide(client, headers)
    assert response.status_code == 403
    assert await SignOff.count().run() == 0


async def test_wrong_role_approval_403(client, setup):
    await submitted(client, setup)
    response = await decide(client, setup["owner"])
    assert response.status_code == 403


async def test_board_cannot_start_403(client, setup):
    response = await client.post(f"{BASE}/screening/versions", headers=setup["board"])
    assert response.status_code == 403


async def test_read_only_token_cannot_approve_403(client, setup):
    await submitted(client, setup)
    headers = await token_headers("lead2", "api:read")
    response = await decide(client, headers)
    assert response.status_code == 403


async def test_stale_approval_409(client, setup):
    view = await submitted(client, setup)
    response = await decide(client, setup["lead"], version=view["version"] - 1)
    assert response.status_code == 409
    assert await SignOff.count().run() == 0


async def test_second_approval_409(client, setup):
    view = await submitted(client, setup)
    first = await decide(client, setup["lead"], version=view["version"])
    second = await decide(client, setup["lead2"], version=view["version"])
    assert first.status_code == 200
    assert second.status_code == 409
    assert await SignOff.count().run() == 1


async def test_repeat_approval_409_says_recorded_once(client, setup):
    view = await submitted(client, setup)
    first = await decide(client, setup["lead"], version=view["version"])
    again = await decide(client, setup["lead"], version=view["version"])
    assert first.status_code == 200
    assert again.status_code == 409
    assert again.json()["detail"].startswith("You already approved equality screening version 1")
    assert again.json()["already_recorded"] == "approved"


async def test_stale_save_names_current_version(client, setup):
    await start(client, setup["owner"])
    await save(client, setup["owner"], screening_data())
    response = await client.put(
        f"{BASE}/screening/versions/1",
        json=body(1, screening_data({"age": "positive"})),
        headers=setup["owner"],
    )
    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert '"version": 2' in response.json()["detail"]


async def test_not_latest_approval_409(client, setup):
    view = await submitted(client, setup)
    await start(client, setup["owner"])
    response = await decide(client, setup["lead"], version=view["version"])
    assert response.status_code == 409
    assert response.json()["latest_version"] == 2


async def test_request_changes_without_reasons_422(client, setup):
    await submitted(client, setup)
    response = await decide(client, setup["lead"], action="request_changes")
    assert response.status_code == 422
    assert error_fields(response) == ["reasons"]


# Every step ----------------------------------------------------------------------------------------


async def test_screening_approval_reported(client, setup):
    await submitted(client, setup)
    response = await decide(client, setup["lead"])
    data = response.json()
    assert data["status"] == "approved"
    assert data["outcome"] == "no_full_assessment_needed"
    assert data["hash_matches"] is True
    assert data["sign_offs"][0]["content_hash"] == data["content_hash"]


async def test_full_journey_over_api(client, setup):
    await submitted(client, setup, {"disability": "negative", "age": "not_known"})
    await decide(client, setup["lead"])

    started = await start(client, setup["owner"], "full-assessment")
    assert list(started["content"]["impacts"]) == ["age", "disability"]
    response = await save(
        client, setup["owner"], assessment_data(["age", "disability"]), "full-assessment"
    )
    assert response.status_code == 200, response.text
    response = await submit(client, setup["owner"], "full-assessment")
    assert response.status_code == 200, response.text
    response = await decide(client, setup["lead"], kind="full-assessment")
    assert response.json()["status"] == "approved"

    readiness = await client.get(f"{BASE}/readiness", headers=setup["board"])
    [result] = readiness.json()
    assert result["passed"] is True
    assert result["evidence"]["full_assessment"]["version"] == 1


async def test_summary_reports_required(client, setup):
    await submitted(client, setup, {"disability": "negative"})
    response = await client.get(f"{BASE}/", headers=setup["board"])
    data = response.json()
    assert data["full_assessment_required"] is True
    assert data["readiness"][0]["clearing_role"] == "equality_lead"


async def test_revoke_and_review_date_over_api(client, setup):
    await submitted(client, setup)
    approved = (await decide(client, setup["lead"])).json()
    moved = await client.post(
        f"{BASE}/screening/versions/1/review-date",
        json={"version": approved["version"], "review_date": "2020-01-01", "reason": "Earlier"},
        headers=setup["lead"],
    )
    assert moved.status_code == 422
    assert error_fields(moved) == ["review_date"]
    revoked = await client.post(
        f"{BASE}/screening/versions/1/revocation",
        json={"version": approved["version"], "reason": "The process changed"},
        headers=setup["lead"],
    )
    assert revoked.status_code == 200
    assert revoked.json()["revocation_reason"] == "The process changed"


async def test_diff_against_approved(client, setup):
    await submitted(client, setup)
    await decide(client, setup["lead"])
    await start(client, setup["owner"])
    saved = await save(client, setup["owner"], screening_data({"age": "positive"}), number=2)
    assert saved.status_code == 200, saved.text
    response = await client.get(f"{BASE}/screening/versions/2/diff", headers=setup["board"])
    data = response.json()
    assert data["compared_with"] == 1
    assert {
        "path": "characteristics.age.impact",
        "kind": "changed",
        "before": "neutral",
        "after": "positive",
    } in data["changes"]


async def test_export_over_api(client, setup):
    await submitted(client, setup)
    response = await client.get(f"{BASE}/screening/versions/1/export.docx", headers=setup["board"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "UC-001-equality-screening-v1.docx" in response.headers["content-disposition"]
    document = Document(io.BytesIO(response.content))
    assert document.paragraphs[0].text.startswith("Equality screening: UC-001")


async def test_queue_lists_submitted(client, setup):
    await submitted(client, setup)
    response = await client.get("/api/v1/equality/queue", headers=setup["lead"])
    [item] = response.json()["decisions"]
    assert item["use_case"] == "UC-001"
    assert item["compared_with_version"] is None


async def test_queue_needs_lead(client, setup):
    response = await client.get("/api/v1/equality/queue", headers=setup["owner"])
    assert response.status_code == 403


# Local characteristics -----------------------------------------------------------------------------


async def test_local_characteristic_lifecycle(client, setup):
    created = await client.post(
        "/api/v1/equality/local-characteristics/",
        json={"label": "Socio-economic status", "description": "Low income or deprivation"},
        headers=setup["admin"],
    )
    assert created.status_code == 201
    assert created.json()["key"] == "socio_economic_status"
    changed = await client.patch(
        "/api/v1/equality/local-characteristics/socio_economic_status",
        json={"version": 1, "active": False},
        headers=setup["admin"],
    )
    assert changed.json()["active"] is False
    stale = await client.patch(
        "/api/v1/equality/local-characteristics/socio_economic_status",
        json={"version": 1, "active": True},
        headers=setup["admin"],
    )
    assert stale.status_code == 409


async def test_local_characteristic_needs_admin(client, setup):
    response = await client.post(
        "/api/v1/equality/local-characteristics/",
        json={"label": "Care experience"},
        headers=setup["lead"],
    )
    assert response.status_code == 403


async def test_local_characteristic_bad_key_422(client, setup):
    response = await client.post(
        "/api/v1/equality/local-characteristics/",
        json={"label": "Care experience", "key": "Care Experience!"},
        headers=setup["admin"],
    )
    assert response.status_code == 422
    assert error_fields(response) == ["key"]


async def test_reference_data_lists_characteristics(client, setup):
    response = await client.get("/api/v1/equality/reference-data", headers=setup["board"])
    data = response.json()
    assert list(data["impacts"]) == ["positive", "neutral", "negative", "not_known"]
    assert [item["key"] for item in data["characteristics"]][-1] == "sexual_orientation"


async def test_openapi_lists_equality_routes(client, setup):
    response = await client.get("/schema/openapi.json")
    paths = response.json()["paths"]
    assert "/api/v1/use-cases/{reference}/equality/screening/versions/{number}/decision" in paths
    assert "/api/v1/use-cases/{reference}/equality/full-assessment/versions/{number}" in paths


async def test_openapi_describes_draft_body(client, setup):
    response = await client.get("/schema/openapi.json")
    paths = response.json()["paths"]
    path = paths["/api/v1/use-cases/{reference}/equality/screening/versions/{number}"]
    schema = path["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["version"]
    fields = {"version", "proposal", "characteristics", "aims", "outcome"}
    assert set(schema["properties"]) == fields
    assert schema["additionalProperties"] is False


async def test_queue_counts_changes_since_previous(client, setup):
    await submitted(client, setup)
    await decide(client, setup["lead"], action="request_changes", reasons="Say more about age")
    await start(client, setup["owner"])
    await save(client, setup["owner"], screening_data({"age": "not_known"}), number=2)
    await submit(client, setup["owner"], number=2)
    response = await client.get("/api/v1/equality/queue", headers=setup["lead"])
    [item] = response.json()["decisions"]
    assert item["compared_with_version"] == 1
    assert item["compared_with_approved"] is False
    assert item["changed_fields"] == ["characteristics.age.impact", "outcome"]


async def test_gate_refuses_move_until_approved(client, setup, central):
    central_headers = await token_headers(central.username)
    for stage in ("assessment", "qualified", "design", "build", "test"):
        moved = await client.post("/api/v1/use-cases/UC-001/transitions", json={"to": stage}, headers=central_headers)
        assert moved.status_code == 200, moved.text

    refused = await client.post(
        "/api/v1/use-cases/UC-001/transitions", json={"to": "ready_for_live"}, headers=central_headers
    )
    assert refused.status_code == 409
    [blocker] = [item for item in refused.json()["blockers"] if item["name"] == "equality"]
    assert blocker["detail"].startswith("No equality screening has been started")

    await submitted(client, setup, {"disability": "negative"})
    await decide(client, setup["lead"])
    refused = await client.post(
        "/api/v1/use-cases/UC-001/transitions", json={"to": "ready_for_live"}, headers=central_headers
    )
    [blocker] = [item for item in refused.json()["blockers"] if item["name"] == "equality"]
    assert "but none has been started" in blocker["detail"]
