"""Health, the OpenAPI schema, error responses, security headers and logging of caught errors."""

import contextlib
import logging

import pytest

from governance.database import get_engine, is_sqlite
from governance.roles import Role
from tests.support import sign_in


@contextlib.contextmanager
def unreachable_database():
    """Point the engine at a database that cannot be reached, then restore it."""
    engine = get_engine()
    if is_sqlite():
        saved = engine.connection_kwargs["database"]
        engine.connection_kwargs["database"] = "/proc/no-such-directory/governance.db"
        try:
            yield
        finally:
            engine.connection_kwargs["database"] = saved
    else:
        # Open pools would keep working, so they are set aside as well as the address changed.
        saved, saved_pools = dict(engine.config), engine._pools
        engine.config, engine._pools = {**saved, "port": 1}, {}
        try:
            yield
        finally:
            engine.config, engine._pools = saved, saved_pools


# Health --------------------------------------------------------------------------------------------


async def test_health_ok(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_health_names_engine(client):
    response = await client.get("/health")
    assert response.json()["engine"] == ("sqlite" if is_sqlite() else "postgresql")


async def test_health_503_when_database_unreachable(client):
    with unreachable_database():
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_health_503_with_session_cookie(client, make_person):
    await make_person(Role.ADMINISTRATOR, username="sam")
    await sign_in(client, "sam")
    with unreachable_database():
        response = await client.get("/health")
    assert response.status_code == 503


async def test_health_503_hides_address(client):
    with unreachable_database():
        response = await client.get("/health")
    assert "no-such-directory" not in response.text


async def test_health_recovers(client):
    with unreachable_database():
        await client.get("/health")
    response = await client.get("/health")
    assert response.status_code == 200


async def test_health_needs_no_sign_in(client):
    response = await client.get("/health", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 200


# OpenAPI -------------------------------------------------------------------------------------------


async def test_schema_public(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200


async def test_schema_lists_api(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"/api/v1/use-cases", "/api/v1/use-cases/{reference}", "/health"} <= set(paths)


async def test_schema_lists_transitions(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert "post" in paths["/api/v1/use-cases/{reference}/transitions"]


async def test_schema_hides_pages(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert [path for path in paths if not path.startswith(("/api/", "/health"))] == []


async def test_schema_declares_bearer(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_schema_page_served(client):
    response = await client.get("/schema")
    assert response.status_code == 200


# Errors --------------------------------------------------------------------------------------------


@pytest.fixture
def broken_register(monkeypatch):
    async def explode(*args, **kwargs):
        raise RuntimeError("internal detail: password=hunter2 at /srv/governance")

    monkeypatch.setattr("governance.register.list_use_cases", explode)


async def test_unexpected_api_error_500(client, api_headers, broken_register):
    headers = await api_headers(Role.CENTRAL_TEAM)
    response = await client.get("/api/v1/use-cases", headers=headers)
    assert response.status_code == 500
    assert len(response.json()["error_id"]) == 12


async def test_unexpected_api_error_hides_detail(client, api_headers, broken_register):
    headers = await api_headers(Role.CENTRAL_TEAM)
    response = await client.get("/api/v1/use-cases", headers=headers)
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


async def test_unexpected_page_error_hides_detail(client, make_person, broken_register):
    await make_person(Role.CENTRAL_TEAM, username="priya")
    await sign_in(client, "priya")
    response = await client.get("/use-cases")
    assert response.status_code == 500
    assert "hunter2" not in response.text
    assert "error id" in response.text


async def test_unexpected_error_logged_with_id(client, api_headers, broken_register, caplog):
    headers = await api_headers(Role.CENTRAL_TEAM)
    with caplog.at_level(logging.ERROR, logger="governance.web.errors"):
        response = await client.get("/api/v1/use-cases", headers=headers)
    error_id = response.json()["error_id"]
    assert any(error_id in record.getMessage() for record in caplog.records)


async def test_refusal_logged_with_user(client, api_headers, caplog):
    headers = await api_headers(Role.PROGRAMME_BOARD)
    with caplog.at_level(logging.INFO, logger="governance.web.errors"):
        await client.get("/api/v1/audit", headers=headers)
    assert any("permission denied" in record.getMessage() for record in caplog.records)


async def test_api_404_json(client, api_headers):
    headers = await api_headers(Role.CENTRAL_TEAM)
    response = await client.get("/api/v1/nothing-here", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


async def test_page_404_html(client):
    response = await client.get("/nothing-here")
    assert response.status_code == 404
    assert "There is no page at this address" in response.text


async def test_api_405_json(client, api_headers):
    headers = await api_headers(Role.CENTRAL_TEAM)
    response = await client.delete("/api/v1/use-cases", headers=headers)
    assert response.status_code == 405
    assert response.json()["status_code"] == 405


async def test_api_without_token_401(client):
    response = await client.get("/api/v1/use-cases")
    assert response.status_code == 401


async def test_api_401_names_header(client):
    response = await client.get("/api/v1/use-cases")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_api_ignores_session_cookie(client, make_person):
    await make_person(Role.CENTRAL_TEAM, username="priya")
    await sign_in(client, "priya")
    response = await client.get("/api/v1/use-cases")
    assert response.status_code == 401


async def test_page_ignores_bearer_token(client, api_headers):
    headers = await api_headers(Role.CENTRAL_TEAM)
    response = await client.get("/use-cases", headers=headers, follow_redirects=False)
    assert response.status_code == 303


# Headers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cache-control", "no-store"),
    ],
)
async def test_security_header(client, header, value):
    response = await client.get("/sign-in")
    assert response.headers[header] == value


async def test_pages_forbid_scripts_from_elsewhere(client):
    response = await client.get("/sign-in")
    assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_stylesheet_public_and_cacheable(client):
    response = await client.get("/static/governance.css")
    assert response.status_code == 200
    assert "cache-control" not in response.headers


async def test_no_hsts_in_development(client):
    response = await client.get("/sign-in")
    assert "strict-transport-security" not in response.headers


async def test_page_while_database_down(client, make_person):
    """A failure while looking up the session still gets the error page, not a bare traceback."""
    await make_person(Role.CENTRAL_TEAM, username="priya")
    await sign_in(client, "priya")
    with unreachable_database():
        response = await client.get("/use-cases")
    assert response.status_code == 503
    assert "error id" in response.text


async def test_page_body_over_limit_413(client):
    from governance.settings import get_settings
    from tests.support import post_form

    limit = get_settings().max_body_bytes
    response = await post_form(client, "/sign-in", {"username": "x" * (limit + 1), "password": "y"})
    assert response.status_code == 413
    assert f"{limit:,} bytes" in response.text
