"""The readiness API for release pipelines: contract, tokens and the bot route."""

from governance import register
from governance.roles import Role
from governance.stages import Stage
from tests.gate_support import place_at
from tests.support import make_use_case, token_headers


async def pipeline_headers(make_person, *scopes: str) -> dict[str, str]:
    machine = await make_person(Role.PROGRAMME_BOARD, username="release-pipeline", password=None)
    return await token_headers(machine.username, *(scopes or ("readiness:read",)))


async def test_ready_use_case_reports_ready(client, web_checks, make_person, central):
    view = await make_use_case(central)
    headers = await pipeline_headers(make_person)
    response = await client.get(f"/api/v1/use-cases/{view.reference}/readiness", headers=headers)
    assert response.status_code == 200
    assert response.json()["ready"] is True


async def test_not_ready_use_case_reports_200(client, web_checks, make_person, central):
    view = await make_use_case(central)
    web_checks.stub.passed = False
    headers = await pipeline_headers(make_person)
    response = await client.get(f"/api/v1/use-cases/{view.reference}/readiness", headers=headers)
    assert response.status_code == 200
    assert response.json()["ready"] is False


async def test_response_has_contract_fields(client, web_checks, make_person, central):
    view = await make_use_case(central)
    web_checks.stub.passed = False
    headers = await pipeline_headers(make_person)
    body = (await client.get(f"/api/v1/use-cases/{view.reference}/readiness", headers=headers)).json()
    assert {"reference", "ready", "checks", "evaluated_at"} <= set(body)
    assert body["reference"] == view.reference
    assert {"name", "passed", "detail"} <= set(body["checks"][0])


async def test_blocker_detail_is_specific(client, web_checks, make_person, central):
    view = await make_use_case(central)
    web_checks.stub.passed = False
    headers = await pipeline_headers(make_person)
    body = (await client.get(f"/api/v1/use-cases/{view.reference}/readiness", headers=headers)).json()
    stub = [check for check in body["checks"] if check["name"] == "stub_assessment"][0]
    assert (stub["passed"], stub["detail"], stub["clearing_role"]) == (
        False,
        "stub assessment is not approved",
        "information_assurance",
    )


async def test_unknown_reference_404(client, web_checks, make_person):
    headers = await pipeline_headers(make_person)
    response = await client.get("/api/v1/use-cases/UC-999/readiness", headers=headers)
    assert response.status_code == 404


async def test_missing_token_401(client, web_checks, central):
    view = await make_use_case(central)
    response = await client.get(f"/api/v1/use-cases/{view.reference}/readiness")
    assert response.status_code == 401


async def test_invalid_token_401(client, web_checks, central):
    view = await make_use_case(central)
    response = await client.get(
        f"/api/v1/use-cases/{view.reference}/readiness", headers={"Authorization": "Bearer agt_nope_nope"}
    )
    assert response.status_code == 401


async def test_api_read_token_403(client, web_checks, make_person, central):
    view = await make_use_case(central)
    headers = await pipeline_headers(make_person, "api:read")
    response = await client.get(f"/api/v1/use-cases/{view.reference}/readiness", headers=headers)
    assert response.status_code == 403


async def test_readiness_token_cannot_read_register(client, web_checks, make_person, central):
    view = await make_use_case(central)
    headers = await pipeline_headers(make_person)
    response = await client.get(f"/api/v1/use-cases/{view.reference}", headers=headers)
    assert response.status_code == 403


async def test_readiness_token_cannot_move(client, web_checks, make_person, central):
    view = await make_use_case(central)
    machine = await make_person(Role.CENTRAL_TEAM, password=None)
    headers = await token_headers(machine.username, "readiness:read")
    response = await client.post(f"/api/v1/use-cases/{view.reference}/transitions", json={"to": "assessment"}, headers=headers)
    assert response.status_code == 403


async def test_bot_route_finds_use_case(client, web_checks, make_person, central):
    view = await make_use_case(central, bot_identifiers=["OCR-CrimeRecording"])
    headers = await pipeline_headers(make_person)
    response = await client.get("/api/v1/bots/uipath/OCR-CrimeRecording/readiness", headers=headers)
    assert response.json()["reference"] == view.reference


async def test_bot_route_ignores_capitals(client, web_checks, make_person, central):
    view = await make_use_case(central, bot_identifiers=["OCR-CrimeRecording"])
    headers = await pipeline_headers(make_person)
    response = await client.get("/api/v1/bots/uipath/ocr-crimerecording/readiness", headers=headers)
    assert response.json()["reference"] == view.reference


async def test_bot_route_unknown_bot_404(client, web_checks, make_person):
    headers = await pipeline_headers(make_person)
    response = await client.get("/api/v1/bots/uipath/No-Such-Bot/readiness", headers=headers)
    assert response.status_code == 404


async def test_bot_route_unknown_platform_404(client, web_checks, make_person, central):
    await make_use_case(central, bot_identifiers=["OCR-CrimeRecording"])
    headers = await pipeline_headers(make_person)
    response = await client.get("/api/v1/bots/jenkins/OCR-CrimeRecording/readiness", headers=headers)
    assert response.status_code == 404


async def test_bot_route_query_form_with_slash(client, web_checks, make_person, central):
    view = await make_use_case(central, bot_identifiers=["Contact/CrimeRecording"])
    headers = await pipeline_headers(make_person)
    response = await client.get(
        "/api/v1/bots/uipath/readiness", params={"identifier": "Contact/CrimeRecording"}, headers=headers
    )
    assert response.json()["reference"] == view.reference


async def test_bot_route_needs_token(client, web_checks, central):
    await make_use_case(central, bot_identifiers=["OCR-CrimeRecording"])
    response = await client.get("/api/v1/bots/uipath/OCR-CrimeRecording/readiness")
    assert response.status_code == 401


async def test_suspended_reports_not_ready(client, web_checks, make_person, central):
    view = await make_use_case(central)
    await place_at(view.reference, Stage.SUSPENDED)
    headers = await pipeline_headers(make_person)
    body = (await client.get(f"/api/v1/use-cases/{view.reference}/readiness", headers=headers)).json()
    assert (body["ready"], body["stage"]) == (False, "suspended")


async def test_readiness_read_is_not_audited(client, web_checks, make_person, central):
    from governance import audit

    view = await make_use_case(central)
    before = len(await audit.history_for_use_case(view.reference))
    headers = await pipeline_headers(make_person)
    await client.get(f"/api/v1/use-cases/{view.reference}/readiness", headers=headers)
    assert len(await audit.history_for_use_case(view.reference)) == before


async def test_decisions_api_lists_hashes(client, web_checks, make_person, central):
    view = await make_use_case(central)
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    await register.move_use_case(central, view.reference, "live")
    headers = await token_headers(central.username, "api:read")
    decisions = (await client.get(f"/api/v1/use-cases/{view.reference}/go-live-decisions", headers=headers)).json()
    detail = (await client.get(f"/api/v1/go-live-decisions/{decisions[0]['id']}", headers=headers)).json()
    assert detail["verification"]["ok"] is True
    assert len(detail["decision_hash"]) == 64


async def test_bot_query_route_names_missing_identifier(client, web_checks, make_person):
    headers = await pipeline_headers(make_person)
    response = await client.get("/api/v1/bots/uipath/readiness", headers=headers)
    assert response.json()["errors"] == [{"field": "identifier", "message": "is required; add ?identifier=... to the address"}]
