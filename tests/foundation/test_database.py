"""The database layer: WAL mode, IMMEDIATE write transactions with a busy timeout, serialised writes."""

import asyncio
import sqlite3

import pytest

from governance import database, register
from governance.database import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    DatabaseUrlError,
    describe_database_url,
    get_engine,
    parse_database_url,
    write_transaction,
)
from governance.tables import Department
from tests.conftest import IS_POSTGRES
from tests.support import make_use_case

sqlite_only = pytest.mark.skipif(IS_POSTGRES, reason="SQLite behaviour")


# DATABASE_URL ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///governance.db", ("sqlite", {"path": "governance.db"})),
        ("sqlite:////var/lib/governance/governance.db", ("sqlite", {"path": "/var/lib/governance/governance.db"})),
        (
            "postgresql://postgres@127.0.0.1:5432/governance",
            ("postgres", {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "governance"}),
        ),
        (
            "postgresql://app:s%40cret@db:6543/gov",
            ("postgres", {"host": "db", "port": 6543, "user": "app", "database": "gov", "password": "s@cret"}),
        ),
    ],
)
def test_parse_database_url(url, expected):
    assert parse_database_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite:///", "postgresql://127.0.0.1:5432/", "governance.db"])
def test_bad_database_url(url):
    with pytest.raises(DatabaseUrlError):
        parse_database_url(url)


def test_described_url_hides_password():
    assert describe_database_url("postgresql://app:hunter2@db:5432/gov") == "postgresql://app@db:5432/gov"


# SQLite settings ---------------------------------------------------------------------------------------


@sqlite_only
async def test_sqlite_wal_mode(db):
    path = parse_database_url(db)[1]["path"]
    with sqlite3.connect(path) as connection:
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


@sqlite_only
async def test_sqlite_busy_timeout(db):
    assert get_engine().connection_kwargs["timeout"] == SQLITE_BUSY_TIMEOUT_SECONDS


@sqlite_only
async def test_sqlite_write_begins_immediate(db):
    from piccolo.engine.sqlite import TransactionType

    async with write_transaction():
        current = get_engine().current_transaction.get()
        assert current.transaction_type is TransactionType.immediate


@sqlite_only
async def test_sqlite_new_file_gets_wal(tmp_path):
    """A database file created by the migrations is switched to WAL mode."""
    saved = get_engine().connection_kwargs["database"]
    path = tmp_path / "fresh.db"
    database.configure(f"sqlite:///{path}")
    try:
        await database.upgrade()
    finally:
        database.configure(f"sqlite:///{saved}")
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# Serialised writes -------------------------------------------------------------------------------------


async def test_write_transactions_serialised(db):
    """A second writer waits for the first, then reads its write: no "database is locked"."""
    order: list[str] = []
    first_inside = asyncio.Event()
    release_first = asyncio.Event()

    async def add_department(label: str, hold: bool) -> None:
        async with write_transaction():
            order.append(f"{label} inside")
            count = await Department.count().run()
            if hold:
                first_inside.set()
                await release_first.wait()
            await Department.insert(Department(name=f"Department {count}")).run()
            order.append(f"{label} wrote")

    async def second() -> None:
        await first_inside.wait()
        order.append("second waiting")
        await add_department("second", hold=False)

    async def release() -> None:
        await first_inside.wait()
        await asyncio.sleep(0.2)  # long enough for the second writer to block on its lock
        release_first.set()

    await asyncio.gather(add_department("first", hold=True), second(), release())
    assert order == ["first inside", "second waiting", "first wrote", "second inside", "second wrote"]


async def test_serialised_writers_see_each_other(db):
    async def add_department() -> None:
        async with write_transaction():
            count = await Department.count().run()
            await Department.insert(Department(name=f"Department {count}")).run()

    await asyncio.gather(*(add_department() for _ in range(6)))
    names = sorted(row["name"] for row in await Department.select(Department.name).run())
    assert names == [f"Department {number}" for number in range(6)]


async def test_concurrent_creates_get_unique_references(db, central):
    await make_use_case(central, bot_identifiers=[])
    results = await asyncio.gather(
        *(make_use_case(central, title=f"Use case {number}", bot_identifiers=[]) for number in range(5))
    )
    assert sorted(view.reference for view in results) == [f"UC-00{number}" for number in range(2, 7)]


async def test_concurrent_edits_one_wins(db, central):
    await make_use_case(central)
    outcomes = await asyncio.gather(
        *(register.update_use_case(central, "UC-001", 1, {"title": f"Edit {number}"}) for number in range(4)),
        return_exceptions=True,
    )
    succeeded = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    assert len(succeeded) == 1


@sqlite_only
async def test_deferred_read_then_write_fails(db):
    """The failure IMMEDIATE prevents: two deferred read-then-write transactions on SQLite."""
    engine = get_engine()
    from piccolo.engine.sqlite import TransactionType

    both_read = asyncio.Barrier(2)
    errors: list[str] = []

    async def deferred_writer(number: int) -> None:
        try:
            async with engine.transaction(transaction_type=TransactionType.deferred):
                await Department.count().run()
                await both_read.wait()
                await Department.insert(Department(name=f"Deferred {number}")).run()
        except sqlite3.OperationalError as error:
            errors.append(str(error))

    await asyncio.gather(deferred_writer(1), deferred_writer(2))
    assert errors == ["database is locked"]


async def test_write_inside_read_transaction_refused(db):
    async with get_engine().transaction():
        with pytest.raises(RuntimeError):
            async with write_transaction():
                pass


async def test_nested_write_joins_outer(db):
    async with write_transaction():
        outer = get_engine().current_transaction.get()
        async with write_transaction():
            inner = get_engine().current_transaction.get()
    assert inner is outer


async def test_failed_write_rolls_back(db):
    with pytest.raises(ValueError):
        async with write_transaction():
            await Department.insert(Department(name="Rolled back")).run()
            raise ValueError("fail after the insert")
    assert await Department.count().run() == 0
