"""NUL characters and deeply nested JSON get 4xx before any handler or the database reads them.

PostgreSQL rejects NUL in text while SQLite stores it, so these run on both engines and must agree.
"""

import json
from urllib.parse import urlencode

import pytest

from governance.errors import BadRequest, InvalidInput
from governance.roles import Role
from governance.settings import get_settings
from governance.tables import SignInAttempt, UseCase
from governance.web.input_guard import MAX_JSON_DEPTH, find_json_problem
from tests.foundation.test_register_api import valid_body
from tests.support import DEFAULT_DEPARTMENT, audit_head, csrf_token, make_use_case

URL = "/api/v1/use-cases"


@pytest.fixture
async def headers(api_headers, department):
    return await api_headers(Role.CENTRAL_TEAM)


@pytest.fixture
async def readiness_headers(api_headers, department):
    return await api_headers(Role.CENTRAL_TEAM, scopes=("readiness:read", "api:read"))


async def stored_state():
    return (await UseCase.count().run(), await audit_head())


# Paths and query strings -------------------------------------------------------------------------------


API_PATHS = [
    "/api/v1/use-cases/UC-001%00/readiness",
    "/api/v1/bots/uipath/X%00/readiness",
    "/api/v1/bots/uipath/readiness?identifier=X%00",
    "/api/v1/use-cases/UC-00%001",
    "/api/v1/use-cases?stage=%00",
    "/api/v1/no-such-route%00",
]


@pytest.mark.parametrize("path", API_PATHS)
async def test_api_path_nul_400(client, readiness_headers, central, path):
    await make_use_case(central)
    response = await client.get(path, headers=readiness_headers)
    assert response.status_code == 400


@pytest.mark.parametrize("path", API_PATHS)
async def test_api_path_nul_json(client, readiness_headers, path):
    response = await client.get(path, headers=readiness_headers)
    assert "NUL" in response.json()["detail"]


async def test_path_nul_names_path(client, readiness_headers):
    response = await client.get("/api/v1/use-cases/UC-001%00", headers=readiness_headers)
    assert response.json()["errors"][0]["field"] == "path"


async def test_query_nul_names_query(client, readiness_headers):
    response = await client.get("/api/v1/use-cases?stage=%00", headers=readiness_headers)
    assert response.json()["errors"][0]["field"] == "query"


async def test_health_query_nul_json(client):
    response = await client.get("/health?x=%00")
    assert response.json()["status_code"] == 400


@pytest.mark.parametrize("path", ["/static/%00", "/static/governance.css%00", "/use-cases/UC-001%00", "/nothing%00", "/sign-in?next=%00"])
async def test_page_path_nul_400(client, path):
    response = await client.get(path)
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/static/%00", "/use-cases/UC-001%00"])
async def test_page_path_nul_error_page(client, path):
    response = await client.get(path)
    assert "The address contains a NUL character" in response.text


async def test_page_path_nul_html(client):
    response = await client.get("/static/%00")
    assert response.headers["content-type"].startswith("text/html")


async def test_path_without_nul_unaffected(client):
    response = await client.get("/static/governance.css")
    assert response.status_code == 200


# JSON bodies -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (valid_body(title="Vetting\x00lookups"), "title"),
        (valid_body(description="\x00"), "description"),
        (valid_body(purposes=[{"purpose": "Vetting", "regime": "uk_gdpr"}, {"purpose": "a\x00", "regime": "uk_gdpr"}]), "purposes[1].purpose"),
        (valid_body(systems=["Niche", "PNC\x00"]), "systems[1]"),
        ({**valid_body(), "ti\x00tle": "x"}, "ti\\x00tle"),
    ],
)
async def test_json_nul_names_field(client, headers, body, field):
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_json_nul_stores_nothing(client, headers):
    before = await stored_state()
    await client.post(URL, json=valid_body(title="a\x00b"), headers=headers)
    assert await stored_state() == before


async def test_json_nul_escaped_in_raw_body(client, headers):
    """The JSON text carries ``\\u0000``, as clients write it."""
    content = json.dumps(valid_body(title="a\x00b")).encode()
    assert b"\\u0000" in content
    response = await client.post(URL, content=content, headers={**headers, "Content-Type": "application/json"})
    assert response.json()["errors"][0]["field"] == "title"


async def test_json_nul_any_content_type(client, headers):
    """The API reads a body as JSON whatever its Content-Type, so the check does too."""
    content = json.dumps(valid_body(title="a\x00b")).encode()
    response = await client.post(URL, content=content, headers={**headers, "Content-Type": "text/plain"})
    assert response.status_code == 422


async def test_json_nul_patch(client, headers, central):
    await make_use_case(central)
    response = await client.patch(f"{URL}/UC-001", json={"version": 1, "title": "x\x00"}, headers=headers)
    assert response.json()["errors"][0]["field"] == "title"


async def test_json_without_nul_accepted(client, headers):
    response = await client.post(URL, json=valid_body(title="Vetting lookups \\u0000 as text"), headers=headers)
    assert response.status_code == 201


async def test_truncated_json_400(client, headers):
    response = await client.post(URL, content=b'{"title": ', headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON (Input data was truncated)" in response.json()["detail"]


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded"])
async def test_form_body_to_api_explained(client, headers, content_type):
    extra = {"Content-Type": content_type} if content_type else {}
    response = await client.post(URL, content=b"title=x", headers={**headers, **extra})
    assert response.status_code == 400
    assert "Content-Type: application/json" in response.json()["detail"]


async def test_page_non_json_body_left_alone(client, make_person):
    """Pages read forms only; a body that is neither form nor JSON reaches the CSRF check as before."""
    response = await client.post("/sign-in", content=b"hello", headers={"Content-Type": "text/plain"})
    assert response.status_code == 403


async def test_body_limit_still_413(client, headers):
    limit = get_settings().max_body_bytes
    body = valid_body(description="\x00" + "x" * limit)
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 413


# Nesting -----------------------------------------------------------------------------------------------


async def test_deep_json_400(client, headers):
    response = await client.post(URL, content=b"[" * 100_000, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"
    assert "nested too deeply" in response.json()["detail"]


async def test_deep_valid_json_400(client, headers):
    depth = MAX_JSON_DEPTH + 1
    content = b"[" * depth + b"]" * depth
    response = await client.post(URL, content=content, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


async def test_deep_json_stores_nothing(client, headers):
    before = await stored_state()
    await client.post(URL, content=b"[" * 100_000, headers={**headers, "Content-Type": "application/json"})
    assert await stored_state() == before


def test_depth_limit_allows_limit():
    document: list = []
    for _ in range(MAX_JSON_DEPTH - 1):
        document = [document]
    assert find_json_problem(document) is None


def test_depth_limit_rejects_deeper():
    document: list = []
    for _ in range(MAX_JSON_DEPTH):
        document = [document]
    assert isinstance(find_json_problem(document), BadRequest)


def test_first_nul_reported_first():
    problem = find_json_problem({"a": "ok", "b": ["x", "\x00"], "c": "\x00"})
    assert isinstance(problem, InvalidInput)
    assert problem.errors[0].field == "b[1]"


def test_nul_at_top_level_names_body():
    problem = find_json_problem("\x00")
    assert problem.errors[0].field == "body"


# Form bodies -------------------------------------------------------------------------------------------


async def post_raw_form(client, url, fields):
    if not csrf_token(client):
        await client.get("/sign-in")
    body = urlencode([*fields.items(), ("_csrf_token", csrf_token(client))])
    return await client.post(url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})


async def test_sign_in_nul_422(client, make_person):
    await make_person(Role.CENTRAL_TEAM, username="grace")
    response = await post_raw_form(client, "/sign-in", {"username": "gr\x00ace", "password": "x" * 12, "next": "/"})
    assert response.status_code == 422
    assert 'href="#username">Username: contained a NUL character' in response.text


async def test_sign_in_nul_not_recorded(client, make_person):
    await make_person(Role.CENTRAL_TEAM, username="grace")
    await post_raw_form(client, "/sign-in", {"username": "gr\x00ace", "password": "x" * 12, "next": "/"})
    assert await SignInAttempt.count().run() == 0


async def test_form_nul_in_field_name(client):
    response = await post_raw_form(client, "/sign-in", {"user\x00name": "grace", "password": "x" * 12})
    assert response.status_code == 422
    assert "User\\x00name: contained a NUL character" in response.text


async def test_use_case_form_nul_422(client, make_person, department):
    from tests.support import sign_in

    await make_person(Role.CENTRAL_TEAM, username="grace")
    await sign_in(client, "grace")
    fields = {"title": "a\x00b", "department": DEFAULT_DEPARTMENT, "business_owner": "Dan", "purpose_0": "", "regime_0": ""}
    response = await post_raw_form(client, "/use-cases/new", fields)
    assert response.status_code == 422
    assert await UseCase.count().run() == 0


async def test_multipart_nul_422(client, make_person):
    await make_person(Role.CENTRAL_TEAM, username="grace")
    await client.get("/sign-in")
    response = await client.post(
        "/sign-in",
        files={"username": (None, "gr\x00ace"), "password": (None, "x" * 12), "_csrf_token": (None, csrf_token(client))},
    )
    assert response.status_code == 422
