"""Fixtures for the equality tests: an author, two equality leads and a use case in the author's department."""

from __future__ import annotations

import pytest

from governance.audit import Actor
from governance.register import UseCaseView
from governance.roles import Role
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
