"""Test set-up: one fresh, fully migrated database per test, on SQLite or PostgreSQL.

The engine comes from ``DATABASE_URL`` as in production. With a ``sqlite:///`` URL (or none) each test
gets a copy of a migrated template file. With a ``postgresql://`` URL the suite connects to that
server, builds a migrated template database once, and gives each test its own database cloned from
it with ``CREATE DATABASE ... TEMPLATE``; every database it creates, it drops.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import itertools
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GOVERNANCE_ENV", "development")
os.environ["GOVERNANCE_SECRET_KEY"] = "test-secret-key-that-is-long-enough-0123456789"
# Small pools: the app's lifespan opens one on the test client's loop, ``db`` one on the test's.
os.environ["GOVERNANCE_DB_POOL_SIZE"] = "3"
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


class PostgresDatabases:
    """Clones test databases from the template ahead of need and drops used ones, off the test's path.

    On PostgreSQL 15 a clone or a drop takes a few tenths of a second, mostly waiting on the disk,
    which would double the run time. A thread with its own event loop keeps ``ahead`` clones ready
    and drops released databases in the background; ``close`` waits for all of it.
    """

    def __init__(self, template: str, ahead: int = 2) -> None:
        self.template = template
        self.ahead = ahead
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-databases", daemon=True)
        self.thread.start()
        self.ready: collections.deque[concurrent.futures.Future] = collections.deque()
        self.drops: list[concurrent.futures.Future] = []

    def _submit(self, coroutine) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    async def _create(self, name: str) -> str:
        await _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def _fill(self) -> None:
        while len(self.ready) < self.ahead:
            name = f"ag_test_{RUN_ID}_{next(_counter)}"
            self.ready.append(self._submit(self._create(name)))

    def acquire(self) -> str:
        self._fill()
        future = self.ready.popleft()
        self._fill()
        return future.result(timeout=120)

    def release(self, name: str) -> None:
        self.drops.append(self._submit(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))

    def close(self) -> None:
        while self.ready:
            self.release(self.ready.popleft().result(timeout=120))
        for future in self.drops:
            future.result(timeout=120)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def _drop_leftovers() -> None:
    """Drop every database this run created, including any a crashed test left behind."""
    import asyncpg

    _, config = database.parse_database_url(SERVER_URL)
    connection = await asyncpg.connect(**config)
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"ag_test_%{RUN_ID}%"
        )
        for row in rows:
            await connection.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await connection.close()


_postgres_databases: PostgresDatabases | None = None


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    """Create and migrate the template database once per test run."""
    global _postgres_databases

    get_settings.cache_clear()
    if IS_POSTGRES:
        name = _template_name()
        asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
        url = _postgres_url(name)
    else:
        url = f"sqlite:///{TEST_WORKDIR / 'template.db'}"

    database.configure(url)
    asyncio.run(database.upgrade())
    if IS_POSTGRES:
        _postgres_databases = PostgresDatabases(_template_name())
    yield url

    if IS_POSTGRES:
        assert _postgres_databases is not None
        _postgres_databases.close()
        database.configure(_postgres_url("postgres"))
        asyncio.run(_drop_leftovers())
    shutil.rmtree(TEST_WORKDIR, ignore_errors=True)


@pytest.fixture
async def db(template_database: str) -> AsyncIterator[str]:
    """A fresh migrated database for one test; the engine points at it until the test ends."""
    if IS_POSTGRES:
        assert _postgres_databases is not None
        name = _postgres_databases.acquire()
        url = _postgres_url(name)
    else:
        path = TEST_WORKDIR / f"test_{next(_counter)}.db"
        # The template is in WAL mode: copy its log too in case a checkpoint has not emptied it.
        for suffix in ("", "-wal"):
            source = TEST_WORKDIR / f"template.db{suffix}"
            if source.exists():
                shutil.copyfile(source, f"{path}{suffix}")
        url = f"sqlite:///{path}"

    engine = database.configure(url)
    if IS_POSTGRES:
        await engine.start_connection_pool(min_size=1, max_size=3)
    yield url

    if IS_POSTGRES:
        await engine.close_connection_pool()
        _postgres_databases.release(name)
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
