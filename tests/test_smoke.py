"""Smoke tests: the app starts, health answers, and a use case can be created through the API."""

from governance.roles import Role


async def test_health_reports_database_ok(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_create_use_case_through_api(client, api_headers, department):
    headers = await api_headers(Role.CENTRAL_TEAM)
    response = await client.post(
        "/api/v1/use-cases/",
        json={"title": "Vetting lookups", "department": department, "business_owner": "Grace Lin"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["reference"] == "UC-001"
