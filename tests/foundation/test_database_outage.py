"""Requests that fail because the database is out of reach get 503 with an error id, not 500."""

import sqlite3

import pytest

from governance import register
from governance.roles import Role
from governance.web.errors import is_database_unavailable

URL = "/api/v1/use-cases"


class FakeAsyncpgError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def test_refused_connection_is_unavailable():
    assert is_database_unavailable(ConnectionRefusedError(111, "Connection refused"))


def test_connection_sqlstate_is_unavailable():
    assert is_database_unavailable(FakeAsyncpgError("connection does not exist", "08003"))


def test_missing_database_is_unavailable():
    assert is_database_unavailable(FakeAsyncpgError('database "x" does not exist', "3D000"))


def test_locked_sqlite_is_unavailable():
    assert is_database_unavailable(sqlite3.OperationalError("database is locked"))


def test_wrapped_cause_is_unavailable():
    try:
        try:
            raise ConnectionResetError("reset")
        except ConnectionResetError as cause:
            raise RuntimeError("query failed") from cause
    except RuntimeError as error:
        assert is_database_unavailable(error)


def test_constraint_violation_is_a_bug():
    assert not is_database_unavailable(FakeAsyncpgError("duplicate key", "23505"))


def test_plain_bug_is_not_unavailable():
    assert not is_database_unavailable(KeyError("title"))


@pytest.fixture
async def outage(monkeypatch):
    async def refuse(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(register, "list_use_cases", refuse)


async def test_api_outage_gets_503(client, api_headers, outage):
    response = await client.get(URL, headers=await api_headers(Role.CENTRAL_TEAM))
    assert response.status_code == 503


async def test_api_outage_has_retry_after(client, api_headers, outage):
    response = await client.get(URL, headers=await api_headers(Role.CENTRAL_TEAM))
    assert response.headers["retry-after"] == "30"


async def test_api_outage_names_error_id(client, api_headers, outage):
    response = await client.get(URL, headers=await api_headers(Role.CENTRAL_TEAM))
    assert response.json()["error_id"] in response.json()["detail"]
