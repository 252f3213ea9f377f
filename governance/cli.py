"""The ``governance`` command: serve, migrate, manage accounts and tokens, verify the audit chain.

``DATABASE_URL`` selects the database for every command. Changes made here are audited under the
name ``cli:<operating-system user>``.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from governance.audit import Actor

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _run(coroutine_factory: Callable[[], Awaitable[T]]) -> T:
    """Run an async operation; print expected failures in one line and exit 1 (2 for bad settings)."""
    from governance.database import DatabaseUnavailable, DatabaseUrlError
    from governance.errors import DomainError, InvalidInput, as_sentence
    from governance.settings import SettingsError

    async def main() -> T:
        return await coroutine_factory()

    try:
        return asyncio.run(main())
    except DomainError as error:
        # An InvalidInput message starts with the field's name ("password: must be ...").
        message = error.message if isinstance(error, InvalidInput) else as_sentence(error.message)
        click.echo(f"Error: {message}", err=True)
        sys.exit(1)
    except MissingDatabaseFile as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    except DatabaseUnavailable as error:
        from governance.database import describe_database_url
        from governance.settings import get_settings

        where = describe_database_url(get_settings().database_url)
        click.echo(f"Error: cannot use the database {where} (set by DATABASE_URL): {error}", err=True)
        sys.exit(1)
    except (DatabaseUrlError, SettingsError) as error:
        # Exit status 2 marks a configuration error, as for serve's start-up checks.
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    except Exception as error:  # anything else: print what failed and keep the traceback in the log
        logger.debug("command failed", exc_info=error)
        click.echo(
            f"Error: {type(error).__name__}: {error} "
            "(set GOVERNANCE_LOG_LEVEL=DEBUG to see the traceback)",
            err=True,
        )
        sys.exit(1)


def _cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except Exception:  # getuser raises OSError or KeyError when no user name is available
        user = "unknown"
    return Actor(account_id=None, username=f"cli:{user}"[:64], kind="cli", display_name=f"Command line ({user})")


def _settings_or_exit():
    """Return the settings, or exit with status 2 and the message naming the bad variable."""
    from governance.settings import SettingsError, get_settings

    try:
        return get_settings()
    except SettingsError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)


def _configure_logging() -> None:
    from governance.logs import stream_handler

    level = _settings_or_exit().log_level
    logging.basicConfig(level=level, handlers=[stream_handler()])
    if level != "DEBUG":
        # Piccolo logs the server version at INFO on every connection check.
        logging.getLogger("piccolo").setLevel(logging.WARNING)


class MissingDatabaseFile(Exception):
    """DATABASE_URL names a SQLite file that does not exist yet."""


def _require_existing_database() -> None:
    """Raise ``MissingDatabaseFile`` when DATABASE_URL names a SQLite file that does not exist.

    Only ``serve`` and ``db upgrade`` create a database. Any other command run against a missing
    file would create an empty one and then report, say, that no account exists, when the real
    problem is a missing or mistyped ``DATABASE_URL``.
    """
    from governance.database import parse_database_url
    from governance.settings import DEMO_DATABASE_URL, get_settings

    kind, config = parse_database_url(get_settings().database_url)
    if kind == "sqlite" and not Path(config["path"]).exists():
        raise MissingDatabaseFile(
            f"the database file {config['path']} does not exist. Set DATABASE_URL to the "
            f"service's database (the demo uses {DEMO_DATABASE_URL}) or run "
            "`governance db upgrade` to create it."
        )


async def _migrate_database() -> None:
    """Check that the database is reachable and run pending migrations.

    A SQLite file that does not exist yet is created; only ``serve`` and ``db upgrade`` use this.
    """
    from governance.database import check_database, upgrade

    await check_database()
    await upgrade()


async def _check_database_file() -> None:
    """Run ``_require_existing_database`` through ``_run``, before a command reads a password."""
    _require_existing_database()


async def _prepare_database() -> None:
    """Check that the database exists and is reachable, and run pending migrations."""
    _require_existing_database()
    await _migrate_database()


@click.group()
def main() -> None:
    """Automation Governance: assessments, go-live gate and benefits for the automation programme."""
    # Piccolo warns on stderr when PostgreSQL is unreachable and carries on; the commands check the
    # connection themselves and report it in one line.
    warnings.filterwarnings("ignore", message=".*Unable to (connect to database|fetch server version)")
    _configure_logging()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option(
    "--demo",
    is_flag=True,
    help="Load the demo programme and print one password per demo account. Uses "
    "governance-demo.db unless DATABASE_URL is set.",
)
def serve(host: str, port: int, demo: bool) -> None:
    """Run database migrations, then serve the web pages and API."""
    import uvicorn

    from governance.settings import DEMO_DATABASE_URL, get_settings

    if demo:
        os.environ.setdefault("DATABASE_URL", DEMO_DATABASE_URL)
        os.environ.setdefault("GOVERNANCE_ENV", "development")
    get_settings.cache_clear()
    settings = _settings_or_exit()
    _configure_logging()

    from governance.app import create_app, resolve_secret_key
    from governance.database import DatabaseUrlError, describe_database_url
    from governance.settings import SettingsError

    try:
        secret_key = resolve_secret_key(settings, allow_generated=demo)
        database = describe_database_url(settings.database_url)
    except (SettingsError, DatabaseUrlError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)

    click.echo(f"Database: {database}")
    _run(_migrate_database)
    app = create_app(secret_key=secret_key)

    if demo:
        from governance.demo import load_demo

        passwords = _run(lambda: load_demo(app.state.contributions))
        click.echo("")
        click.echo(f"Demo programme loaded. Sign in at http://{host}:{port}/ with one of these accounts.")
        click.echo("The passwords are shown only now; restarting with --demo issues new ones.")
        for username, password in passwords.items():
            click.echo(f"  {username:<18} {password}")
        click.echo("")

    # log_config=None: uvicorn's own messages go through the service's logging set-up.
    uvicorn.run(app, host=host, port=port, log_config=None, proxy_headers=False)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Run every pending migration."""
    _configure_logging()

    async def go() -> list[str]:
        from governance.database import check_database, upgrade

        await check_database()
        return await upgrade()

    _run(go)
    click.echo("Database is up to date.")


@main.group()
def users() -> None:
    """Manage accounts."""


def _read_password(confirm: bool = True) -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Repeat password: ") != password:
            click.echo("Error: the passwords do not match.", err=True)
            sys.exit(1)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@users.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="A role to grant; repeat for several.")
@click.option("--name", "display_name", default="", help="The person's name (defaults to the username).")
@click.option("--department", default=None, help="Department name, for business owners.")
@click.option("--machine", is_flag=True, help="Create an account without a password, for API tokens only.")
def users_create(username: str, roles: tuple[str, ...], display_name: str, department: str | None, machine: bool) -> None:
    """Create an account. The password is read from standard input."""
    from governance import accounts

    _configure_logging()
    _run(_check_database_file)
    password = None if machine else _read_password()

    async def go() -> Any:
        await _prepare_database()
        return await accounts.create_account(
            _cli_actor(),
            username=username,
            display_name=display_name or username,
            roles=list(roles),
            password=password,
            department=department,
        )

    view = _run(go)
    click.echo(f"Created {view.username} with roles: {', '.join(role.value for role in view.roles)}")


@users.command("list")
def users_list() -> None:
    """List accounts: username, status (with "machine" for token-only accounts), roles, department
    ("-" for none) and name."""
    from governance import accounts

    async def go() -> Any:
        await _prepare_database()
        return await accounts.list_accounts()

    for view in _run(go):
        status = "active" if view.active else "disabled"
        if view.machine:
            status += ",machine"
        roles = ",".join(role.value for role in view.roles)
        department = view.department or "-"
        click.echo(
            f"{view.username:<24} {status:<16} {roles:<40} {department:<28} {view.display_name}"
        )


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable an account, ending its sessions and revoking its tokens."""
    from governance import accounts

    _configure_logging()

    async def go() -> Any:
        await _prepare_database()
        return await accounts.disable_account(_cli_actor(), username)

    _run(go)
    click.echo(f"Disabled {username}.")


@users.command("enable")
@click.argument("username")
def users_enable(username: str) -> None:
    """Enable a disabled account. Tokens revoked when it was disabled stay revoked."""
    from governance import accounts

    _configure_logging()

    async def go() -> Any:
        await _prepare_database()
        return await accounts.enable_account(_cli_actor(), username)

    _run(go)
    click.echo(f"Enabled {username}.")


@users.command("set-password")
@click.argument("username")
def users_set_password(username: str) -> None:
    """Set a new password (read from standard input), end the account's sessions and lift a sign-in pause."""
    from governance import accounts

    _run(_check_database_file)
    password = _read_password()

    async def go() -> Any:
        await _prepare_database()
        return await accounts.set_password(_cli_actor(), username, password)

    result = _run(go)
    message = f"Password set for {username}; any sessions it had are ended."
    if result.pause_lifted:
        message += " Its sign-in pause after failed attempts is lifted, so it can sign in now."
    click.echo(message)


@main.group()
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.option("--user", "username", required=True, help="The account the token acts for.")
@click.option("--scope", "scopes", multiple=True, required=True, help="readiness:read, runs:write, api:read or api:write; repeatable.")
@click.option("--days", default=90, show_default=True, type=int, help="Days until the token expires (1 to 366).")
@click.option("--label", default="", help="A note on what uses the token, for example the pipeline's name.")
def tokens_create(username: str, scopes: tuple[str, ...], days: int, label: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    from governance import accounts

    _configure_logging()

    async def go() -> Any:
        await _prepare_database()
        return await accounts.create_token(_cli_actor(), username=username, scopes=list(scopes), days=days, label=label)

    text, view = _run(go)
    click.echo(text)
    click.echo(
        f"Token {view.token_id} for {view.username}, scopes {' '.join(scope.value for scope in view.scopes)}, "
        f"expires {view.expires_at:%Y-%m-%d}. Store it now: it cannot be shown again.",
        err=True,
    )


@tokens.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets): id, account, status, expiry, scopes and label."""
    from governance import accounts
    from governance.clock import utcnow

    async def go() -> Any:
        await _prepare_database()
        return await accounts.list_tokens()

    now = utcnow()
    for view in _run(go):
        if view.revoked_at:
            status = "revoked"
        elif view.expires_at <= now:
            status = "expired"
        else:
            status = "active"
        scopes = " ".join(scope.value for scope in view.scopes)
        click.echo(
            f"{view.token_id}  {view.username:<20} {status:<8} expires {view.expires_at:%Y-%m-%d}  "
            f"{scopes:<28} {view.label}"
        )


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id (the part after 'agt_', before the next underscore)."""
    from governance import accounts

    _configure_logging()

    async def go() -> Any:
        await _prepare_database()
        return await accounts.revoke_token(_cli_actor(), token_id)

    _run(go)
    click.echo(f"Revoked token {token_id}.")


@main.group()
def departments() -> None:
    """Manage departments."""


@departments.command("add")
@click.argument("name")
def departments_add(name: str) -> None:
    """Add a department."""
    from governance import accounts

    async def go() -> None:
        await _prepare_database()
        await accounts.ensure_department(_cli_actor(), name)

    _run(go)
    click.echo(f"Department {name!r} is on the list.")


@departments.command("list")
def departments_list() -> None:
    from governance import accounts

    async def go() -> list[str]:
        await _prepare_database()
        return await accounts.list_departments()

    for name in _run(go):
        click.echo(name)


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 and name the first bad entry if any was altered, removed or reordered."""
    from governance import audit as audit_log
    from governance.database import check_database

    async def go() -> Any:
        _require_existing_database()
        await check_database()
        return await audit_log.verify_chain()

    report = _run(go)
    if report.ok:
        click.echo(f"Audit chain intact: {report.checked} entries verified. Head hash {report.head_hash}.")
        return
    click.echo(
        f"Audit chain BROKEN at entry seq {report.bad_seq} (row id {report.bad_id}): {report.problem}. "
        f"{report.checked} entries before it verified.",
        err=True,
    )
    sys.exit(1)


@main.group()
def gate() -> None:
    """The go-live gate."""


def _register_checks() -> None:
    from governance.packages import load_contributions, register_gate_checks
    from governance.settings import get_settings

    register_gate_checks(load_contributions(get_settings().packages))


@gate.command("sweep")
def gate_sweep() -> None:
    """Re-check every live and ready-for-live use case and expire overdue emergency go-lives.

    Run it daily, for example from cron. It flags use cases whose readiness lapsed (such as a
    review date that passed) and clears the flags of use cases that are ready again.
    """
    from governance import golive

    _configure_logging()
    _register_checks()

    async def go() -> Any:
        await _prepare_database()
        return await golive.sweep(actor=_cli_actor())

    report = _run(go)
    click.echo(
        f"Checked {report.checked} use cases: {len(report.lapsed)} newly lapsed, "
        f"{len(report.restored)} ready again, {len(report.still_lapsed)} still not ready, "
        f"{len(report.expired_overrides)} emergency go-lives expired."
    )
    for reference in report.lapsed:
        click.echo(f"  lapsed: {reference}")
    for reference in report.restored:
        click.echo(f"  ready again: {reference}")
    if report.errors:
        click.echo(f"Error: the sweep failed for {', '.join(report.errors)}; see the log.", err=True)
        sys.exit(1)


@gate.command("readiness")
@click.argument("reference")
def gate_readiness(reference: str) -> None:
    """Print a use case's readiness; exit 0 when ready, 3 when not ready."""
    from governance import golive

    _register_checks()

    async def go() -> Any:
        await _prepare_database()
        return await golive.readiness_report(reference)

    report = _run(go)
    click.echo(f"{report['reference']} ({report['stage']}): {'ready' if report['ready'] else 'NOT READY'}")
    for check in report["checks"]:
        mark = "pass" if check["passed"] else "FAIL"
        click.echo(f"  {mark}  {check['name']}: {check['detail']}")
    if report["emergency_override"]:
        override = report["emergency_override"]
        click.echo(f"  emergency go-live {override['id']} ({override['status']}) until {override['expires_at']}")
    sys.exit(0 if report["ready"] else 3)
