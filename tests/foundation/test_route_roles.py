"""Every route declares who may call it, and the guards enforce exactly that, for every role.

The state-changing routes are read from the assembled app, so routes that packages add later are
covered without editing this file.
"""


import pytest

from governance.roles import ALL_ROLES, Role
from tests.support import (
    DEFAULT_DEPARTMENT,
    audit_head,
    browser,
    fill_path,
    make_use_case,
    post_form,
    route_handlers,
    sign_in,
    state_changing_routes,
    token_headers,
)

ALL_SCOPES = ("api:write", "api:read", "readiness:read", "runs:write")
GUARD_REFUSAL = "Your account does not hold a role that may do this"

# Routes anyone may call without signing in.
PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
}
PUBLIC_PREFIXES = ("/static/", "/schema")

CENTRAL = frozenset({Role.CENTRAL_TEAM})
EDITORS = frozenset({Role.CENTRAL_TEAM, Role.BUSINESS_OWNER})
ADMIN = frozenset({Role.ADMINISTRATOR})

# The intended matrix for the core's routes.
CORE_MATRIX = {
    ("POST", "/api/v1/use-cases"): EDITORS,
    ("PATCH", "/api/v1/use-cases/{reference:str}"): EDITORS,
    ("POST", "/api/v1/use-cases/{reference:str}/transitions"): CENTRAL,
    ("POST", "/api/v1/departments"): frozenset({Role.CENTRAL_TEAM, Role.ADMINISTRATOR}),
    ("POST", "/use-cases/new"): EDITORS,
    ("POST", "/use-cases/{reference:str}/edit"): EDITORS,
    ("POST", "/use-cases/{reference:str}/move"): CENTRAL,
    ("POST", "/sign-out"): ALL_ROLES,
    ("GET", "/use-cases/new"): EDITORS,
    ("GET", "/use-cases/{reference:str}/edit"): EDITORS,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/api/v1/audit"): ADMIN,
    ("GET", "/admin/accounts"): ADMIN,
    ("GET", "/use-cases"): ALL_ROLES,
    ("GET", "/use-cases/{reference:str}"): ALL_ROLES,
    ("GET", "/use-cases/{reference:str}/history"): ALL_ROLES,
    ("GET", "/programme"): ALL_ROLES,
    ("GET", "/api/v1/use-cases"): ALL_ROLES,
    ("GET", "/api/v1/use-cases/{reference:str}"): ALL_ROLES,
    ("GET", "/api/v1/use-cases/{reference:str}/history"): ALL_ROLES,
}


# Declarations --------------------------------------------------------------------------------------


def test_every_route_declares_access(app):
    undeclared = [
        f"{method} {path}"
        for method, path, handler in route_handlers(app)
        if not handler.opt.get("public") and not handler.opt.get("roles")
    ]
    assert undeclared == []


def test_public_routes_are_known(app):
    public = {
        (method, path)
        for method, path, handler in route_handlers(app)
        if handler.opt.get("public") and not path.startswith(PUBLIC_PREFIXES)
    }
    assert public <= PUBLIC_ROUTES | {("HEAD", "/health")}


def test_declared_roles_are_roles(app):
    strays = [
        f"{method} {path}"
        for method, path, handler in route_handlers(app)
        if not set(handler.opt.get("roles", frozenset())) <= ALL_ROLES
    ]
    assert strays == []


@pytest.mark.parametrize(("method", "path"), sorted(CORE_MATRIX))
def test_core_route_matrix(app, method, path):
    declared = {
        (route_method, route_path): handler.opt.get("roles")
        for route_method, route_path, handler in route_handlers(app)
    }
    assert declared[(method, path)] == CORE_MATRIX[(method, path)]


def test_board_changes_nothing(app):
    writable = [
        f"{method} {path}"
        for method, path, handler in state_changing_routes(app)
        if path != "/sign-out" and Role.PROGRAMME_BOARD in handler.opt["roles"]
    ]
    assert writable == []


def test_unknown_route_declaration_denied():
    """A handler that declares no roles is refused for everyone (the guard fails closed)."""
    from litestar import Litestar, post
    from litestar.testing import TestClient

    from governance.auth import AuthenticationMiddleware, authorise

    @post("/api/v1/forgotten")
    async def forgotten() -> None:
        return None

    app = Litestar(route_handlers=[forgotten], guards=[authorise], middleware=[AuthenticationMiddleware()])
    with TestClient(app) as client:
        response = client.post("/api/v1/forgotten")
    assert response.status_code == 403


# Every role against every state-changing route -----------------------------------------------------


@pytest.fixture
async def target(db, central):
    """A use case in the department of the people the table test creates."""
    return await make_use_case(central)


@pytest.mark.parametrize("role", sorted(Role, key=lambda role: role.value))
async def test_role_against_every_write_route(app, make_person, target, role):
    person = await make_person(role, username=f"only.{role.value}", department=DEFAULT_DEPARTMENT)
    headers = await token_headers(person.username, *ALL_SCOPES)
    problems = []

    async with browser(app) as page_client, browser(app) as api_client:
        await sign_in(page_client, person.username)
        for method, path, handler in state_changing_routes(app):
            url = fill_path(path, target.reference)
            allowed = role in handler.opt["roles"]
            before = await audit_head()

            if path.startswith("/api/"):
                response = await api_client.request(method, url, json={}, headers=headers)
            else:
                response = await post_form(page_client, url, {}) if method == "POST" else (
                    await page_client.request(method, url, follow_redirects=False)
                )
            changed = await audit_head() != before
            label = f"{method} {path} as {role.value}: {response.status_code}"
            if "security token" in response.text:
                problems.append(f"{label}, the form's CSRF token was refused, so nothing was tested")

            if not allowed:
                if response.status_code != 403:
                    problems.append(f"{label}, expected 403")
                if changed:
                    problems.append(f"{label}, refused but the audit log changed")
                continue

            if response.status_code == 401:
                problems.append(f"{label}, allowed role was treated as signed out")
            if response.status_code == 403 and GUARD_REFUSAL in response.text:
                problems.append(f"{label}, allowed role was refused by the guard")
            if response.status_code == 403 and changed:
                problems.append(f"{label}, refused but the audit log changed")

    assert problems == []


# The intended matrix, with real requests --------------------------------------------------------------


def use_case_body(department: str = DEFAULT_DEPARTMENT) -> dict:
    return {"title": "Role matrix use case", "department": department, "business_owner": "Grace Lin"}


API_EXPECTATIONS = {
    # role: (create, edit, move, add department)
    Role.CENTRAL_TEAM: (201, 200, 200, 201),
    Role.BUSINESS_OWNER: (201, 200, 403, 403),
    Role.INFORMATION_ASSURANCE: (403, 403, 403, 403),
    Role.DATA_PROTECTION_OFFICER: (403, 403, 403, 403),
    Role.EQUALITY_LEAD: (403, 403, 403, 403),
    Role.PROGRAMME_BOARD: (403, 403, 403, 403),
    Role.ADMINISTRATOR: (403, 403, 403, 201),
}


@pytest.mark.parametrize("role", sorted(API_EXPECTATIONS, key=lambda role: role.value))
async def test_core_api_matrix(client, make_person, target, role):
    person = await make_person(role, username=f"api.{role.value}", department=DEFAULT_DEPARTMENT)
    headers = await token_headers(person.username, "api:write")

    create = await client.post("/api/v1/use-cases", json=use_case_body(), headers=headers)
    edit = await client.patch(
        f"/api/v1/use-cases/{target.reference}", json={"version": 1, "title": "Edited"}, headers=headers
    )
    current = (await client.get(f"/api/v1/use-cases/{target.reference}", headers=headers)).json()
    move = await client.post(
        f"/api/v1/use-cases/{target.reference}/transitions",
        json={"to": "assessment", "version": current["version"]},
        headers=headers,
    )
    department = await client.post("/api/v1/departments", json={"name": "Finance"}, headers=headers)
    statuses = (create.status_code, edit.status_code, move.status_code, department.status_code)
    assert statuses == API_EXPECTATIONS[role]


async def test_owner_limited_to_own_department(client, make_person, central):
    other = await make_use_case(central, department="Finance", bot_identifiers=[])
    owner = await make_person(Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT)
    headers = await token_headers(owner.username, "api:write")
    before = await audit_head()
    response = await client.patch(
        f"/api/v1/use-cases/{other.reference}", json={"version": 1, "title": "Not mine"}, headers=headers
    )
    assert response.status_code == 403
    assert await audit_head() == before


@pytest.mark.parametrize("role", sorted(Role, key=lambda role: role.value))
async def test_audit_log_only_for_administrators(client, make_person, role):
    person = await make_person(role, username=f"reader.{role.value}")
    headers = await token_headers(person.username, "api:read")
    response = await client.get("/api/v1/audit", headers=headers)
    assert response.status_code == (200 if role is Role.ADMINISTRATOR else 403)


async def test_several_roles_combine(client, make_person, target):
    person = await make_person(Role.PROGRAMME_BOARD, Role.CENTRAL_TEAM, username="both")
    headers = await token_headers(person.username, "api:write")
    response = await client.post(
        f"/api/v1/use-cases/{target.reference}/transitions", json={"to": "assessment"}, headers=headers
    )
    assert response.status_code == 200
