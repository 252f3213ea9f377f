"""Database engine, write transactions, migrations and the health probe.

One engine object serves the whole process. Piccolo's ``piccolo_conf.DB`` is that same object, so
tables, migrations and the service layer all use it; tests retarget it at a fresh database with
``configure``.

Writes are serialised. On SQLite every write transaction begins IMMEDIATE (the writer lock is taken
before the first read, so a read-then-write cannot fail half-way with "database is locked"). On
PostgreSQL every write transaction first takes one transaction-scoped advisory lock. Both engines
therefore run write transactions one at a time, which is what makes the go-live gate's
read-then-move safe against a concurrent revocation.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.columns import Column
from piccolo.columns.combination import Where
from piccolo.columns.operators.comparison import ComparisonOperator
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
# Arbitrary constant that identifies this service's global write lock in pg_advisory_xact_lock.
WRITE_LOCK_KEY = 727_001


class DatabaseUrlError(ValueError):
    """DATABASE_URL is not a ``sqlite:///`` or ``postgresql://`` address."""


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or queried."""


class GovernanceSQLiteTransaction(SQLiteTransaction):
    """SQLite transaction that always closes its connection.

    Piccolo's own transaction leaves the aiosqlite connection open when BEGIN or COMMIT fails, and
    with aiosqlite 0.22 that open connection keeps a non-daemon thread alive, so the process hangs
    at exit. This subclass closes the connection on every path.
    """

    is_write: bool = False

    async def __aenter__(self) -> GovernanceSQLiteTransaction:
        if self._parent is not None:
            return self._parent

        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            await self.connection.close()
            raise

        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None

        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            try:
                await self.connection.close()
            finally:
                self.engine.current_transaction.reset(self.context)

        return exception is None


class GovernanceSQLiteEngine(SQLiteEngine):
    """SQLite engine with a busy timeout and transactions that close their connections."""

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> GovernanceSQLiteTransaction:
        return GovernanceSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


class GovernancePostgresTransaction(PostgresTransaction):
    """PostgreSQL transaction that can be marked as a write (Piccolo's class has fixed slots)."""

    is_write: bool = False


class GovernancePostgresEngine(PostgresEngine):
    """PostgreSQL engine whose connection pool belongs to the event loop that started it.

    asyncpg connections only work on the loop that opened them. The service runs on one loop, but
    a test client runs the app on a loop of its own beside the test's, so each loop gets its own
    pool. A loop without a pool opens a connection per query, as Piccolo does.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pools: dict[asyncio.AbstractEventLoop | None, Any] = {}
        super().__init__(*args, **kwargs)

    @staticmethod
    def _loop() -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    @property  # type: ignore[override]
    def pool(self) -> Any:
        return self._pools.get(self._loop())

    @pool.setter
    def pool(self, value: Any) -> None:
        if value is None:
            self._pools.pop(self._loop(), None)
        else:
            self._pools[self._loop()] = value

    @property
    def has_pools(self) -> bool:
        """True while any event loop still has a pool open."""
        return bool(self._pools)

    def transaction(self, allow_nested: bool = True) -> GovernancePostgresTransaction:
        return GovernancePostgresTransaction(engine=self, allow_nested=allow_nested)


def parse_database_url(url: str) -> tuple[str, dict[str, Any]]:
    """Split DATABASE_URL into an engine kind ("sqlite" or "postgres") and its settings."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path:
            raise DatabaseUrlError(
                "DATABASE_URL sqlite:/// needs a file path, for example sqlite:///governance.db"
            )
        return "sqlite", {"path": path}

    parts = urlsplit(url)
    if parts.scheme in {"postgresql", "postgres"}:
        database = parts.path.lstrip("/")
        if not database:
            raise DatabaseUrlError(
                "DATABASE_URL needs a database name, for example "
                "postgresql://postgres@127.0.0.1:5432/governance"
            )
        try:
            port = parts.port or 5432
        except ValueError:
            # The message leaves the URL out: it may hold a password.
            raise DatabaseUrlError(
                "DATABASE_URL has a port that is not a number from 1 to 65535, for example "
                "postgresql://postgres@127.0.0.1:5432/governance"
            ) from None
        config: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": port,
            "user": unquote(parts.username) if parts.username else "postgres",
            "database": unquote(database),
        }
        if parts.password:
            config["password"] = unquote(parts.password)
        return "postgres", config

    raise DatabaseUrlError(
        "DATABASE_URL must start with sqlite:/// or postgresql://, "
        f"got one starting {url.split(':', 1)[0]!r}"
    )


def describe_database_url(url: str) -> str:
    """Return the URL without its password, for logs and the health page."""
    kind, config = parse_database_url(url)
    if kind == "sqlite":
        return f"sqlite:///{config['path']}"
    return f"postgresql://{config['user']}@{config['host']}:{config['port']}/{config['database']}"


_engine: Engine | None = None


def _make_parent_directory(path: str) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseUnavailable(
            f"cannot create the directory for the SQLite file {path}: {error.strerror}"
        ) from error


def _build_engine(url: str) -> Engine:
    kind, config = parse_database_url(url)
    if kind == "sqlite":
        _make_parent_directory(config["path"])
        return GovernanceSQLiteEngine(path=config["path"], timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    return GovernancePostgresEngine(config=config)


def configure(url: str) -> Engine:
    """Point the process's engine at ``url``, creating the engine on first use.

    Retargeting keeps the same engine object, because Piccolo tables and migrations cache it. The
    engine kind cannot change within a process.
    """
    global _engine

    if _engine is None:
        _engine = _build_engine(url)
        return _engine

    kind, config = parse_database_url(url)
    if kind == "sqlite" and isinstance(_engine, SQLiteEngine):
        _make_parent_directory(config["path"])
        _engine.connection_kwargs["database"] = config["path"]
    elif kind == "postgres" and isinstance(_engine, PostgresEngine):
        if getattr(_engine, "has_pools", _engine.pool is not None):
            raise RuntimeError("close the connection pools before retargeting the engine")
        _engine.config = config
    else:
        raise RuntimeError(f"cannot switch the engine from {_engine.engine_type} to {kind}")
    return _engine


def get_engine() -> Engine:
    """Return the process's engine, configured from the settings on first use."""
    if _engine is None:
        from governance.settings import get_settings

        configure(get_settings().database_url)
    assert _engine is not None
    return _engine


def is_sqlite() -> bool:
    return get_engine().engine_type == "sqlite"


# The escape character of the LIKE patterns that ``text_contains`` builds. PostgreSQL uses a
# backslash by default, but SQLite has no default, so every pattern names it with ESCAPE.
LIKE_ESCAPE = "\\"


class _LikeEscaped(ComparisonOperator):
    template = "{name} LIKE {value} ESCAPE '\\'"


class _ILikeEscaped(ComparisonOperator):
    template = "{name} ILIKE {value} ESCAPE '\\'"


def like_substring_pattern(text: str) -> str:
    """Return a LIKE pattern that matches ``text`` anywhere, with ``%``, ``_`` and ``\\`` taken literally."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
    escaped = escaped.replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def text_contains(column: Column, text: str) -> Where:
    """Build a condition that ``column`` contains ``text``, ignoring case, with no wildcards.

    PostgreSQL compares with ILIKE. SQLite's LIKE ignores case only for ASCII letters, so there
    "É" and "é" still differ.
    """
    operator = _LikeEscaped if is_sqlite() else _ILikeEscaped
    return Where(column=column, value=like_substring_pattern(text), operator=operator)


def in_write_transaction() -> bool:
    """True when the current task is inside ``write_transaction``."""
    current = get_engine().current_transaction.get()
    return bool(current is not None and getattr(current, "is_write", False))


@contextlib.asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """Run the block as one serialised write transaction, or join the one already open.

    Every service function that changes data opens this, so a request that fails part-way changes
    nothing, and the audit entry commits or rolls back with the change it describes.
    """
    engine = get_engine()
    current = engine.current_transaction.get()
    if current is not None:
        if not getattr(current, "is_write", False):
            raise RuntimeError("a write was attempted inside a read-only transaction")
        yield
        return

    if isinstance(engine, SQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate) as transaction:
            transaction.is_write = True
            yield
        return

    async with engine.transaction() as transaction:
        transaction.is_write = True
        await transaction.connection.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
        yield


@contextlib.asynccontextmanager
async def savepoint() -> AsyncIterator[None]:
    """Undo the block's writes if it raises, keeping the surrounding transaction usable.

    On PostgreSQL a failed statement aborts the whole transaction; rolling back to a savepoint
    recovers it, so a caller can log the error and carry on. Outside a transaction it does nothing.
    """
    current = get_engine().current_transaction.get()
    if current is None:
        yield
        return

    point = await current.savepoint()
    try:
        yield
    except BaseException:
        await point.rollback_to()
        raise
    await point.release()


async def check_database(timeout_seconds: float = 3.0) -> None:
    """Run a trivial query; raise ``DatabaseUnavailable`` if it fails or times out.

    Piccolo's PostgreSQL engine only warns when the server is unreachable, so start-up and the
    health route call this to find out for certain.
    """
    engine = get_engine()
    try:
        await asyncio.wait_for(engine._run_in_new_connection("SELECT 1"), timeout_seconds)
    except asyncio.TimeoutError as error:
        raise DatabaseUnavailable(f"database did not respond within {timeout_seconds:g} s") from error
    except (OSError, sqlite3.Error, Exception) as error:  # asyncpg raises many unrelated types
        raise DatabaseUnavailable(f"database query failed: {describe_error(error)}") from error


def describe_error(error: BaseException) -> str:
    """Return an error's class and first line, cleaned for a one-line message.

    Driver messages name the database, host or user but never a password, so operators may see them.
    They are cut to 200 characters so that one message stays on one line.
    """
    text = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def enable_sqlite_wal() -> None:
    """Switch an SQLite database to WAL mode, which lets readers work while a write is open.

    WAL mode is stored in the database file, so this only needs to run once per file.
    """
    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        await engine._run_in_new_connection("PRAGMA journal_mode=WAL")


async def upgrade() -> list[str]:
    """Run every pending migration of every app; return Piccolo's progress lines.

    Raises ``RuntimeError`` when a migration fails, with Piccolo's message.
    """
    from piccolo.apps.migrations.commands.forwards import run_forwards

    await enable_sqlite_wal()

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        result = await run_forwards(app_name="all")

    lines = [line for line in captured.getvalue().splitlines() if line.strip()]
    for line in lines:
        logger.debug("migrations: %s", line)

    if not result.success:
        raise RuntimeError(f"database migration failed: {result.message}")
    return lines


def append_only_statements(engine_type: str, table: str) -> list[str]:
    """Return the DDL that makes ``table`` reject UPDATE and DELETE (and TRUNCATE on PostgreSQL).

    Migrations call this so each engine gets its own trigger syntax. The error text names the table
    so that a refused statement explains itself.
    """
    if engine_type == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE is not allowed'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE is not allowed'); END",
        ]

    return [
        f"""
        CREATE OR REPLACE FUNCTION {table}_reject_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{table} is append-only: % is not allowed', TG_OP;
        END;
        $$ LANGUAGE plpgsql
        """,
        f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_reject_change()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_reject_change()",
    ]


async def make_append_only(table: str) -> None:
    """Install the append-only triggers on ``table`` with the current engine."""
    engine = get_engine()
    for statement in append_only_statements(engine.engine_type, table):
        await engine.run_ddl(statement)


async def create_unique_index(table: str, *columns: str) -> None:
    """Create a unique index over ``columns`` of ``table``; migrations use it for composite keys."""
    name = f"{table}_{'_'.join(columns)}_key"
    column_list = ", ".join(f'"{column}"' for column in columns)
    await get_engine().run_ddl(
        f'CREATE UNIQUE INDEX IF NOT EXISTS {name} ON "{table}" ({column_list})'
    )
