"""Shared fixtures and helpers: people with roles, API tokens, signed-in browsers and use cases."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from governance import accounts, register
from governance.audit import SYSTEM, Actor
from governance.auth import is_generated_options
from governance.roles import Role

DEFAULT_PASSWORD = "correct horse battery staple"
DEFAULT_DEPARTMENT = "Force Contact Centre"
_usernames = itertools.count(1)

MakePerson = Callable[..., Awaitable[Actor]]


@pytest.fixture
async def department(db: str) -> str:
    await accounts.ensure_department(SYSTEM, DEFAULT_DEPARTMENT)
    return DEFAULT_DEPARTMENT


@pytest.fixture
def make_person(db: str) -> MakePerson:
    """Return a factory: ``await make_person(Role.X, ...)`` creates an account and returns its actor."""

    async def make(
        *roles: Role | str,
        username: str | None = None,
        department: str | None = None,
        password: str | None = DEFAULT_PASSWORD,
    ) -> Actor:
        name = username or f"person{next(_usernames)}"
        if department is not None:
            await accounts.ensure_department(SYSTEM, department)
        await accounts.create_account(
            SYSTEM,
            username=name,
            display_name=name.title(),
            roles=[str(role) for role in roles],
            password=password,
            department=department,
        )
        return await accounts.actor_for_username(name)

    return make


async def token_headers(username: str, *scopes: str) -> dict[str, str]:
    """Create an API token for ``username`` and return the Authorization header for it."""
    text, _ = await accounts.create_token(SYSTEM, username=username, scopes=list(scopes or ("api:write",)))
    return {"Authorization": f"Bearer {text}"}


@pytest.fixture
def api_headers(make_person: MakePerson) -> Callable[..., Awaitable[dict[str, str]]]:
    """Return a factory: headers for a new person holding ``roles`` with an ``api:write`` token."""

    async def make(*roles: Role, scopes: tuple[str, ...] = ("api:write",), department: str | None = None) -> dict[str, str]:
        actor = await make_person(*roles, department=department)
        return await token_headers(actor.username, *scopes)

    return make


def csrf_token(client: Any) -> str:
    """Return the browser's CSRF token, which Litestar stores in the ``ag_csrf`` cookie."""
    return client.cookies.get("ag_csrf", "")


async def post_form(client: Any, url: str, data: dict[str, Any] | list[tuple[str, Any]]) -> Any:
    """Submit a form as a browser would: fetch a page first so the CSRF cookie exists."""
    if not csrf_token(client):
        await client.get("/sign-in")
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    fields.append(("_csrf_token", csrf_token(client)))
    # httpx's async client treats ``data`` given as a list of pairs as a synchronous byte stream
    # and fails. Encoding the body here also keeps repeated field names.
    return await client.post(
        url,
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


async def sign_in(client: Any, username: str, password: str = DEFAULT_PASSWORD) -> Any:
    response = await post_form(client, "/sign-in", {"username": username, "password": password, "next": "/"})
    assert response.status_code == 303, response.text
    return response


async def make_use_case(actor: Actor, *, idempotency_key: str | None = None, **fields: Any) -> register.UseCaseView:
    """Create a use case with sensible defaults, overridden by ``fields``."""
    data: dict[str, Any] = {
        "title": "Online crime reports into crime records",
        "department": DEFAULT_DEPARTMENT,
        "business_owner": "Dan Okafor",
        "description": "Creates crime records from online reports.",
        "systems": ["Niche RMS"],
        "data_categories": ["Criminal offence data"],
        "purposes": [{"purpose": "Recording crime", "regime": "dpa_2018_part_3"}],
        "rpa_platform": "uipath",
        "bot_identifiers": [],
    }
    data.update(fields)
    await accounts.ensure_department(SYSTEM, data["department"])
    return await register.create_use_case(actor, data, idempotency_key=idempotency_key)


@pytest.fixture
async def central(make_person: MakePerson) -> Actor:
    """A member of the central automation team."""
    return await make_person(Role.CENTRAL_TEAM, username="central")


async def audit_head() -> tuple[int, str]:
    """Return (sequence number, hash) of the newest audit entry, or (0, "") for an empty log."""
    from governance.tables import AuditEntry

    row = (
        await AuditEntry.select(AuditEntry.seq, AuditEntry.entry_hash)
        .order_by(AuditEntry.seq, ascending=False)
        .first()
        .run()
    )
    return (row["seq"], row["entry_hash"]) if row else (0, "")


def browser(app: Any) -> Any:
    """Return a new test client with its own cookie jar, for one signed-in person."""
    from litestar.testing import AsyncTestClient

    return AsyncTestClient(app=app, base_url="http://testserver.local")


def cli_command() -> list[str]:
    """The ``governance`` command of the interpreter running the tests."""
    import sys

    return [sys.executable, "-m", "governance"]


def run_cli(
    *args: str,
    database_url: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Any:
    """Run ``governance ARGS`` as a subprocess against ``database_url``; return the finished process."""
    import os
    import subprocess

    environment = dict(os.environ)
    environment["DATABASE_URL"] = database_url
    environment["GOVERNANCE_LOG_LEVEL"] = "WARNING"
    environment.update(env or {})
    return subprocess.run(
        [*cli_command(), *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env={key: value for key, value in environment.items() if value is not None},
        timeout=timeout,
    )


# Routes of the assembled app -----------------------------------------------------------------------

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def route_handlers(app: Any):
    """Yield (method, path, handler) for every handler of the app, except generated OPTIONS ones."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if is_generated_options(handler):
                continue
            for method in sorted(handler.http_methods):
                yield method, route.path, handler


def state_changing_routes(app: Any) -> list:
    """List (method, path, handler) of every POST, PUT, PATCH and DELETE route that is not public."""
    routes = [
        (method, path, handler)
        for method, path, handler in route_handlers(app)
        if method in STATE_CHANGING and not handler.opt.get("public")
    ]
    # Sign-out ends the session the other requests use, so it goes last.
    return sorted(routes, key=lambda item: (item[1] == "/sign-out", item[1], item[0]))


def fill_path(path: str, reference: str) -> str:
    """Fill a route's path parameters: ``reference`` with the given use case, others with 1 or x."""

    def value(match: re.Match) -> str:
        name, kind = match.group(1), match.group(2) or "str"
        if name == "reference":
            return reference
        return "1" if kind == "int" else "x"

    return re.sub(r"\{(\w+)(?::(\w+))?\}", value, path)


# Forms as a browser submits them ------------------------------------------------------------------


class _FormReader(HTMLParser):
    """Collects each form's action and the fields a browser would submit without any change."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append({"action": attributes.get("action", ""), "method": attributes.get("method", "get"), "fields": []})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"radio", "checkbox"} and "checked" not in attributes:
                return
            if kind == "submit":
                return
            fields.append((name, attributes.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            fields.append((name, ""))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attributes and not self._select_chosen:
                fields.append((self._select, value))
                self._select_chosen = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self.forms:
            fields = self.forms[-1]["fields"]
            name, text = fields[-1]
            fields[-1] = (name, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self.forms[-1]["fields"].append((self._select, self._select_first))
            self._select = None


def page_forms(html: str) -> list[dict[str, Any]]:
    """Return every form on a page: its action, method and the fields it would submit as shown."""
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


def form_as_shown(html: str, action: str) -> dict[str, str]:
    """Return the fields of the page's form posting to ``action``, without the CSRF token."""
    for form in page_forms(html):
        if form["action"] == action:
            return {name: value for name, value in form["fields"] if name != "_csrf_token"}
    raise AssertionError(f"no form posts to {action}")


def handler_for(app: Any, method: str, path: str) -> Any:
    """Return the app's route handler for ``method`` on a concrete ``path``, or None."""
    path = path.rstrip("/") or "/"
    for route in app.routes:
        if method not in getattr(route, "methods", ()):
            continue
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route.path))
        if re.fullmatch(pattern, path):
            for handler in getattr(route, "route_handlers", []):
                if method in handler.http_methods:
                    return handler
    return None
