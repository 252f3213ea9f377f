"""Fixtures for the equality tests: an author, two equality leads, a use case in the author's
department, the people of the page tests and their signed-in browsers."""

from __future__ import annotations

import pytest

from governance.audit import Actor
from governance.register import UseCaseView
from governance.roles import Role
from tests.equality.helpers import PersonBrowser, sign_in
from tests.support import DEFAULT_DEPARTMENT, make_use_case


@pytest.fixture
async def owner(make_person) -> Actor:
    """A business owner in the use case's department."""
    return await make_person(Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT)


@pytest.fixture
async def lead(make_person) -> Actor:
    return await make_person(Role.EQUALITY_LEAD, username="lead")


@pytest.fixture
async def second_lead(make_person) -> Actor:
    return await make_person(Role.EQUALITY_LEAD, username="lead2")


@pytest.fixture
async def use_case(central) -> UseCaseView:
    return await make_use_case(central)


@pytest.fixture
def browser(client):
    """Return a factory: ``await browser(username)`` gives that person's signed-in browser."""

    async def open_as(username: str) -> PersonBrowser:
        person = PersonBrowser(client)
        await sign_in(person, username)
        return person

    return open_as


@pytest.fixture
async def people(make_person, central):
    """Create UC-001 and accounts for its business owner, a lead, an administrator and the board."""
    await make_use_case(central)
    return {
        "owner": await make_person(
            Role.BUSINESS_OWNER, username="owner", department=DEFAULT_DEPARTMENT
        ),
        "lead": await make_person(Role.EQUALITY_LEAD, username="lead"),
        "admin": await make_person(Role.ADMINISTRATOR, username="admin"),
        "board": await make_person(Role.PROGRAMME_BOARD, username="board"),
    }
