"""Test set-up: one fresh, fully migrated database per test, on SQLite or PostgreSQL.

The engine comes from ``DATABASE_URL`` as in production. With a ``sqlite:///`` URL (or none) each test
gets a copy of a migrated template file. With a ``postgresql://`` URL the suite connects to that
server, builds a migrated template database once, and gives each test its own database cloned from
it with ``CREATE DATABASE ... TEMPLATE``; every database it creates, it drops.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GOVERNANCE_ENV", "development")
os.environ["GOVERNANCE_SECRET_KEY"] = "test-secret-key-that-is-long-enough-0123456789"
os.environ["GOVERNANCE_DB_POOL_SIZE"] = "0"
os.environ.setdefault("GOVERNANCE_LOG_LEVEL", "WARNING")

TEST_WORKDIR = Path(tempfile.mkdtemp(prefix="governance-tests-"))
SERVER_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{TEST_WORKDIR / 'template.db'}"
os.environ["DATABASE_URL"] = SERVER_URL

import argon2  # noqa: E402

import governance  # noqa: E402,F401  (sets PICCOLO_CONF)
from governance import database, security  # noqa: E402
from governance.settings import get_settings  # noqa: E402

# Cheap hashing keeps account creation fast in tests; production uses argon2-cffi's defaults.
security._hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

IS_POSTGRES = SERVER_URL.startswith("postgres")
RUN_ID = uuid.uuid4().hex[:8]
_counter = itertools.count(1)


def _postgres_url(name: str) -> str:
    kind, config = database.parse_database_url(SERVER_URL)
    password = f":{config['password']}" if "password" in config else ""
    return f"postgresql://{config['user']}{password}@{config['host']}:{config['port']}/{name}"


async def _admin_execute(statement: str) -> None:
    import asyncpg

    _, config = database.parse_database_url(SERVER_URL)
    connection = await asyncpg.connect(**config)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _template_name() -> str:
    return f"ag_test_template_{RUN_ID}"


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    """Create and migrate the template database once per test run."""
    get_settings.cache_clear()
    if IS_POSTGRES:
        name = _template_name()
        asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
        url = _postgres_url(name)
    else:
        url = f"sqlite:///{TEST_WORKDIR / 'template.db'}"

    database.configure(url)
    asyncio.run(database.upgrade())
    yield url

    if IS_POSTGRES:
        database.configure(_postgres_url("postgres"))
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{_template_name()}"'))
    shutil.rmtree(TEST_WORKDIR, ignore_errors=True)


@pytest.fixture
async def db(template_database: str) -> AsyncIterator[str]:
    """A fresh migrated database for one test; the engine points at it until the test ends."""
    number = next(_counter)
    if IS_POSTGRES:
        name = f"ag_test_{RUN_ID}_{number}"
        await _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{_template_name()}"')
        url = _postgres_url(name)
    else:
        path = TEST_WORKDIR / f"test_{number}.db"
        shutil.copyfile(TEST_WORKDIR / "template.db", path)
        url = f"sqlite:///{path}"

    database.configure(url)
    yield url

    if IS_POSTGRES:
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def app(db: str):
    """The full application on the test's database."""
    from governance.app import create_app

    return create_app()


@pytest.fixture
async def client(app) -> AsyncIterator:
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip PostgreSQL-only tests on SQLite runs."""
    if IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs DATABASE_URL pointing at PostgreSQL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


pytest_plugins = ["tests.support", "tests.gate_support"]
