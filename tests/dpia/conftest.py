"""Fixtures for the DPIA tests: a use case, its author, two IA officers and a DPO."""

from __future__ import annotations

import pytest

from governance.roles import Role
from tests.support import DEFAULT_DEPARTMENT, make_use_case


@pytest.fixture
async def author(make_person):
    return await make_person(Role.BUSINESS_OWNER, username="author", department=DEFAULT_DEPARTMENT)


@pytest.fixture
async def ia(make_person):
    return await make_person(Role.INFORMATION_ASSURANCE, username="ia.one")


@pytest.fixture
async def ia2(make_person):
    return await make_person(Role.INFORMATION_ASSURANCE, username="ia.two")


@pytest.fixture
async def dpo(make_person):
    return await make_person(Role.DATA_PROTECTION_OFFICER, username="dpo")


@pytest.fixture
async def use_case(central):
    return await make_use_case(central)
