"""The use-case register through the JSON API: creation, bad input, edits, stage moves, history."""

import pytest

from governance.roles import Role
from governance.settings import get_settings
from governance.tables import UseCase
from tests.support import DEFAULT_DEPARTMENT, audit_head

URL = "/api/v1/use-cases"


def valid_body(**overrides):
    body = {
        "title": "Vetting lookups",
        "department": DEFAULT_DEPARTMENT,
        "business_owner": "Grace Lin",
        "description": "Runs the standard vetting lookups.",
        "systems": ["Police National Computer"],
        "data_categories": ["Criminal offence data"],
        "purposes": [{"purpose": "Vetting", "regime": "uk_gdpr"}],
        "rpa_platform": "uipath",
        "bot_identifiers": ["VET-Lookups"],
    }
    body.update(overrides)
    return body


async def stored_state():
    return (await UseCase.count().run(), await audit_head())


@pytest.fixture
async def headers(api_headers, department):
    return await api_headers(Role.CENTRAL_TEAM)


@pytest.fixture
async def existing(client, headers):
    response = await client.post(URL, json=valid_body(), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


# Creating ------------------------------------------------------------------------------------------


async def test_create_returns_201(client, headers):
    response = await client.post(URL, json=valid_body(), headers=headers)
    assert response.status_code == 201


async def test_create_assigns_reference(client, headers):
    response = await client.post(URL, json=valid_body(), headers=headers)
    assert response.json()["reference"] == "UC-001"


async def test_create_next_reference(client, headers, existing):
    response = await client.post(URL, json=valid_body(bot_identifiers=[]), headers=headers)
    assert response.json()["reference"] == "UC-002"


async def test_create_given_reference(client, headers):
    response = await client.post(URL, json=valid_body(reference="uc-120"), headers=headers)
    assert response.json()["reference"] == "UC-120"


async def test_create_starts_at_idea(client, headers):
    response = await client.post(URL, json=valid_body(), headers=headers)
    assert response.json()["stage"] == "idea"
    assert response.json()["version"] == 1


async def test_create_stores_every_field(client, headers):
    body = valid_body()
    created = (await client.post(URL, json=body, headers=headers)).json()
    fetched = (await client.get(f"{URL}/{created['reference']}", headers=headers)).json()
    assert {key: fetched[key] for key in body} == body


async def test_create_without_trailing_slash(client, headers):
    response = await client.post(URL, json=valid_body(), headers=headers)
    listed = await client.get(f"{URL}/", headers=headers)
    assert [item["reference"] for item in listed.json()] == [response.json()["reference"]]


async def test_create_lists_allowed_moves(client, headers):
    response = await client.post(URL, json=valid_body(), headers=headers)
    assert response.json()["allowed_moves"] == ["assessment", "on_hold", "rejected"]


# Bad input: 4xx naming the field, nothing stored ----------------------------------------------------


BAD_BODIES = [
    ("unknown field", valid_body(colour="blue"), "colour"),
    ("unknown nested field", valid_body(purposes=[{"purpose": "x", "regime": "uk_gdpr", "basis": "y"}]), "purposes[0].basis"),
    ("title wrong type", valid_body(title=5), "title"),
    ("systems wrong type", valid_body(systems="Niche RMS"), "systems"),
    ("regime wrong type", valid_body(purposes=[{"purpose": "x", "regime": 3}]), "purposes[0].regime"),
    ("title missing", {key: value for key, value in valid_body().items() if key != "title"}, "title"),
    ("empty title", valid_body(title="   "), "title"),
    ("title too long", valid_body(title="x" * 201), "title"),
    ("empty business owner", valid_body(business_owner=""), "business_owner"),
    ("unknown department", valid_body(department="Ministry of Magic"), "department"),
    ("bad reference", valid_body(reference="UC-1"), "reference"),
    ("unknown regime", valid_body(purposes=[{"purpose": "x", "regime": "gdpr"}]), "purposes[0].regime"),
    ("empty purpose", valid_body(purposes=[{"purpose": "", "regime": "uk_gdpr"}]), "purposes[0].purpose"),
    ("unknown platform", valid_body(rpa_platform="robots-r-us"), "rpa_platform"),
    ("bots without platform", valid_body(rpa_platform=""), "rpa_platform"),
    ("bad bot identifier", valid_body(bot_identifiers=["-starts-badly"]), "bot_identifiers"),
    ("body not an object", ["title"], "body"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_BODIES, ids=[case for case, _, _ in BAD_BODIES])
async def test_bad_input_names_field(client, headers, case, body, field):
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(("case", "body", "field"), BAD_BODIES, ids=[case for case, _, _ in BAD_BODIES])
async def test_bad_input_stores_nothing(client, headers, case, body, field):
    before = await stored_state()
    await client.post(URL, json=body, headers=headers)
    assert await stored_state() == before


async def test_bad_input_message_says_fix(client, headers):
    response = await client.post(URL, json=valid_body(department="Ministry of Magic"), headers=headers)
    assert "Force Contact Centre" in response.json()["errors"][0]["message"]


async def test_wrong_type_message_names_types(client, headers):
    response = await client.post(URL, json=valid_body(title=5), headers=headers)
    assert response.json()["errors"][0]["message"] == (
        "has the wrong type: expected text (a JSON string), got a whole number"
    )


async def test_unknown_field_message(client, headers):
    response = await client.post(URL, json=valid_body(colour="blue"), headers=headers)
    assert "unknown field" in response.json()["detail"]


async def test_duplicate_reference_refused(client, headers, existing):
    response = await client.post(URL, json=valid_body(reference="UC-001", bot_identifiers=[]), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reference"


async def test_duplicate_reference_stores_nothing(client, headers, existing):
    before = await stored_state()
    await client.post(URL, json=valid_body(reference="UC-001", bot_identifiers=[]), headers=headers)
    assert await stored_state() == before


async def test_bot_identifier_taken(client, headers, existing):
    response = await client.post(URL, json=valid_body(), headers=headers)
    error = response.json()["errors"][0]
    assert error["field"] == "bot_identifiers"
    assert "UC-001" in error["message"]


async def test_bot_identifier_taken_in_other_capitals(client, headers, existing):
    response = await client.post(URL, json=valid_body(bot_identifiers=["vet-lookups"]), headers=headers)
    assert response.json()["errors"][0]["field"] == "bot_identifiers"


async def test_bot_identifier_twice_in_one_body(client, headers):
    response = await client.post(URL, json=valid_body(bot_identifiers=["VET-A", "vet-a"]), headers=headers)
    assert response.json()["errors"][0]["field"] == "bot_identifiers"


async def test_malformed_json_400(client, headers):
    response = await client.post(
        URL, content=b'{"title": ', headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


async def test_body_over_limit_413(client, headers):
    limit = get_settings().max_body_bytes
    body = valid_body(description="x" * (limit + 1))
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 413


async def test_body_over_limit_names_limit(client, headers):
    limit = get_settings().max_body_bytes
    response = await client.post(URL, json=valid_body(description="x" * (limit + 1)), headers=headers)
    assert f"{limit:,} bytes" in response.json()["detail"]


async def test_body_over_limit_stores_nothing(client, headers):
    before = await stored_state()
    limit = get_settings().max_body_bytes
    await client.post(URL, json=valid_body(description="x" * (limit + 1)), headers=headers)
    assert await stored_state() == before


async def test_description_over_field_limit(client, headers):
    response = await client.post(URL, json=valid_body(description="x" * 10_001), headers=headers)
    assert response.json()["errors"][0]["field"] == "description"


# Reading -------------------------------------------------------------------------------------------


async def test_get_unknown_404(client, headers):
    response = await client.get(f"{URL}/UC-999", headers=headers)
    assert response.status_code == 404


async def test_get_lower_case_reference(client, headers, existing):
    response = await client.get(f"{URL}/uc-001", headers=headers)
    assert response.json()["reference"] == "UC-001"


async def test_list_filters_by_stage(client, headers, existing):
    await client.post(f"{URL}/UC-001/transitions", json={"to": "assessment"}, headers=headers)
    await client.post(URL, json=valid_body(bot_identifiers=[]), headers=headers)
    response = await client.get(URL, params={"stage": "assessment"}, headers=headers)
    assert [item["reference"] for item in response.json()] == ["UC-001"]


async def test_list_filters_by_department(client, headers, existing):
    response = await client.get(URL, params={"department": "Finance"}, headers=headers)
    assert response.json() == []


async def test_list_readable_by_programme_board(client, api_headers, existing):
    board = await api_headers(Role.PROGRAMME_BOARD, scopes=("api:read",))
    response = await client.get(URL, headers=board)
    assert response.status_code == 200


# Editing -------------------------------------------------------------------------------------------


async def test_patch_changes_field(client, headers, existing):
    response = await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "New"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["title"] == "New"


async def test_patch_increments_version(client, headers, existing):
    response = await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "New"}, headers=headers)
    assert response.json()["version"] == 2


async def test_patch_keeps_other_fields(client, headers, existing):
    response = await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "New"}, headers=headers)
    assert response.json()["systems"] == existing["systems"]


async def test_patch_stale_version_409(client, headers, existing):
    await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "First"}, headers=headers)
    response = await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "Second"}, headers=headers)
    assert response.status_code == 409
    assert response.json()["current_version"] == 2


async def test_patch_stale_version_message(client, headers, existing):
    await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "First"}, headers=headers)
    response = await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "Second"}, headers=headers)
    assert response.json()["detail"] == (
        "Use case UC-001 was changed by someone else after you read it, so your change was not saved. "
        "Read it again, check the current values and make your change again."
    )


async def test_patch_stale_version_sent_version(client, headers, existing):
    await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "First"}, headers=headers)
    response = await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "Second"}, headers=headers)
    assert response.json()["expected_version"] == 1


async def test_patch_stale_version_unchanged(client, headers, existing):
    await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "First"}, headers=headers)
    before = await stored_state()
    await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "Second"}, headers=headers)
    fetched = await client.get(f"{URL}/UC-001", headers=headers)
    assert fetched.json()["title"] == "First"
    assert await stored_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": 1, "reference": "UC-002"}, "reference"),
        ({"version": 1, "stage": "live"}, "stage"),
        ({"version": 1, "title": ""}, "title"),
        ({"version": 1, "department": "Nowhere"}, "department"),
        ({"version": 1}, "body"),
        ({"title": "No version"}, "version"),
        ({"version": "one", "title": "x"}, "version"),
    ],
)
async def test_patch_bad_input(client, headers, existing, body, field):
    before = await stored_state()
    response = await client.patch(f"{URL}/UC-001", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert await stored_state() == before


async def test_patch_unknown_404(client, headers):
    response = await client.patch(f"{URL}/UC-404", json={"version": 1, "title": "x"}, headers=headers)
    assert response.status_code == 404


async def test_patch_replaces_bot_identifiers(client, headers, existing):
    body = {"version": 1, "bot_identifiers": ["VET-Lookups-2"]}
    response = await client.patch(f"{URL}/UC-001", json=body, headers=headers)
    assert response.json()["bot_identifiers"] == ["VET-Lookups-2"]


# Stage moves ---------------------------------------------------------------------------------------


async def test_move_allowed(client, headers, existing):
    response = await client.post(f"{URL}/UC-001/transitions", json={"to": "assessment"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["stage"] == "assessment"


async def test_move_refused_409(client, headers, existing):
    response = await client.post(f"{URL}/UC-001/transitions", json={"to": "build"}, headers=headers)
    assert response.status_code == 409


async def test_move_refused_lists_allowed(client, headers, existing):
    response = await client.post(f"{URL}/UC-001/transitions", json={"to": "build"}, headers=headers)
    assert response.json()["allowed_moves"] == ["assessment", "on_hold", "rejected"]


async def test_move_refused_changes_nothing(client, headers, existing):
    before = await stored_state()
    await client.post(f"{URL}/UC-001/transitions", json={"to": "build"}, headers=headers)
    fetched = await client.get(f"{URL}/UC-001", headers=headers)
    assert fetched.json()["stage"] == "idea"
    assert await stored_state() == before


async def test_move_unknown_stage_422(client, headers, existing):
    response = await client.post(f"{URL}/UC-001/transitions", json={"to": "launched"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"


async def test_move_missing_to_422(client, headers, existing):
    response = await client.post(f"{URL}/UC-001/transitions", json={}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"


async def test_move_stale_version_409(client, headers, existing):
    await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "New"}, headers=headers)
    body = {"to": "assessment", "version": 1}
    response = await client.post(f"{URL}/UC-001/transitions", json=body, headers=headers)
    assert response.status_code == 409


async def test_hold_and_return(client, headers, existing):
    await client.post(f"{URL}/UC-001/transitions", json={"to": "assessment"}, headers=headers)
    held = await client.post(f"{URL}/UC-001/transitions", json={"to": "on_hold"}, headers=headers)
    assert held.json()["allowed_moves"] == ["assessment", "rejected"]
    back = await client.post(f"{URL}/UC-001/transitions", json={"to": "assessment"}, headers=headers)
    assert back.json()["stage"] == "assessment"


async def test_gated_move_refused_without_checks(client, headers, existing):
    for stage in ("assessment", "qualified", "design", "build", "test"):
        await client.post(f"{URL}/UC-001/transitions", json={"to": stage}, headers=headers)
    response = await client.post(f"{URL}/UC-001/transitions", json={"to": "ready_for_live"}, headers=headers)
    assert response.status_code == 409
    assert "blockers" in response.json()


async def test_move_unknown_reference_404(client, headers):
    response = await client.post(f"{URL}/UC-404/transitions", json={"to": "assessment"}, headers=headers)
    assert response.status_code == 404


async def test_move_refused_for_business_owner(client, api_headers, existing):
    owner = await api_headers(Role.BUSINESS_OWNER, department=DEFAULT_DEPARTMENT)
    before = await stored_state()
    response = await client.post(f"{URL}/UC-001/transitions", json={"to": "assessment"}, headers=owner)
    assert response.status_code == 403
    assert await stored_state() == before


# History -------------------------------------------------------------------------------------------


async def test_history_lists_changes_in_order(client, headers, existing):
    await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "New"}, headers=headers)
    await client.post(f"{URL}/UC-001/transitions", json={"to": "assessment", "reason": "ready"}, headers=headers)
    history = (await client.get(f"{URL}/UC-001/history", headers=headers)).json()
    assert [entry["action"] for entry in history] == [
        "use_case.created",
        "use_case.updated",
        "use_case.moved",
    ]


async def test_history_has_before_and_after(client, headers, existing):
    await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "New"}, headers=headers)
    entry = (await client.get(f"{URL}/UC-001/history", headers=headers)).json()[1]
    assert entry["before"]["title"] == "Vetting lookups"
    assert entry["after"]["title"] == "New"


async def test_history_records_reason(client, headers, existing):
    await client.post(f"{URL}/UC-001/transitions", json={"to": "assessment", "reason": "ready"}, headers=headers)
    entry = (await client.get(f"{URL}/UC-001/history", headers=headers)).json()[-1]
    assert entry["note"] == "ready"
    assert entry["after"]["stage"] == "assessment"


async def test_history_timestamps_utc(client, headers, existing):
    entry = (await client.get(f"{URL}/UC-001/history", headers=headers)).json()[0]
    assert entry["occurred_at"].endswith("+00:00")


# Business owners -----------------------------------------------------------------------------------


async def test_owner_creates_in_own_department(client, api_headers, department):
    owner = await api_headers(Role.BUSINESS_OWNER, department=DEFAULT_DEPARTMENT)
    response = await client.post(URL, json=valid_body(), headers=owner)
    assert response.status_code == 201


async def test_owner_refused_other_department(client, api_headers, department):
    owner = await api_headers(Role.BUSINESS_OWNER, department="Finance")
    before = await stored_state()
    response = await client.post(URL, json=valid_body(), headers=owner)
    assert response.status_code == 403
    assert await stored_state() == before


async def test_owner_edits_own_department(client, api_headers, existing):
    owner = await api_headers(Role.BUSINESS_OWNER, department=DEFAULT_DEPARTMENT)
    response = await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "Mine"}, headers=owner)
    assert response.status_code == 200


async def test_owner_cannot_edit_other_department(client, api_headers, existing):
    owner = await api_headers(Role.BUSINESS_OWNER, department="Finance")
    before = await stored_state()
    response = await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "Theirs"}, headers=owner)
    assert response.status_code == 403
    assert await stored_state() == before


async def test_owner_cannot_move_to_other_department(client, api_headers, headers, existing):
    await client.post("/api/v1/departments", json={"name": "Finance"}, headers=headers)
    owner = await api_headers(Role.BUSINESS_OWNER, department=DEFAULT_DEPARTMENT)
    before = await stored_state()
    body = {"version": 1, "department": "Finance"}
    response = await client.patch(f"{URL}/UC-001", json=body, headers=owner)
    assert response.status_code == 403
    assert await stored_state() == before


async def test_board_cannot_create(client, api_headers, department):
    board = await api_headers(Role.PROGRAMME_BOARD)
    before = await stored_state()
    response = await client.post(URL, json=valid_body(), headers=board)
    assert response.status_code == 403
    assert await stored_state() == before


async def test_list_unknown_stage_422(client, headers):
    response = await client.get(URL, params={"stage": "launched"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "stage"


async def test_list_stage_label_accepted(client, headers, existing):
    response = await client.get(URL, params={"stage": "Idea"}, headers=headers)
    assert [item["reference"] for item in response.json()] == ["UC-001"]
