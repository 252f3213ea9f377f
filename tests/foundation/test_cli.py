"""The ``governance`` command, run as a real subprocess against the test's database."""

import contextlib
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from governance import accounts
from governance.clock import utcnow
from governance.tables import Account, AccountRole, ApiToken, UseCase
from tests.conftest import IS_POSTGRES, _admin_execute, _postgres_url
from tests.support import DEFAULT_PASSWORD, cli_command, run_cli


def create_user(database_url: str, username: str, *roles: str, password: str = DEFAULT_PASSWORD):
    role_args = [argument for role in roles for argument in ("--role", role)]
    return run_cli("users", "create", username, *role_args, database_url=database_url, stdin=f"{password}\n")


# users -------------------------------------------------------------------------------------------------


async def test_users_create(db):
    result = create_user(db, "grace", "central_team")
    assert result.returncode == 0
    assert result.stdout.strip() == "Created grace with roles: central_team"


async def test_users_create_hashes_password(db):
    create_user(db, "grace", "central_team")
    row = await Account.select(Account.password_hash).where(Account.username == "grace").first().run()
    assert row["password_hash"].startswith("$argon2id$")


async def test_users_create_password_works(db):
    create_user(db, "grace", "central_team")
    session = await accounts.sign_in("grace", DEFAULT_PASSWORD, "127.0.0.1")
    assert session.actor.username == "grace"


async def test_users_create_several_roles(db):
    create_user(db, "helen", "information_assurance", "data_protection_officer", "information_assurance")
    count = await AccountRole.count().where(AccountRole.account.username == "helen").run()
    assert count == 2


async def test_users_create_short_password(db):
    result = create_user(db, "grace", "central_team", password="short")
    assert result.returncode == 1
    assert "password: must be at least 12 characters" in result.stderr


async def test_users_create_unknown_role(db):
    result = create_user(db, "grace", "wizard")
    assert result.returncode == 1
    assert "valid roles are" in result.stderr


async def test_users_create_duplicate(db):
    create_user(db, "grace", "central_team")
    result = create_user(db, "grace", "central_team")
    assert result.returncode == 1
    assert "already taken" in result.stderr


async def test_users_create_without_stdin_password(db):
    result = run_cli("users", "create", "grace", "--role", "central_team", database_url=db, stdin="")
    assert result.returncode == 1
    assert await Account.count().run() == 0


async def test_users_list(db):
    create_user(db, "grace", "central_team", "administrator")
    result = run_cli("users", "list", database_url=db)
    line = next(line for line in result.stdout.splitlines() if line.startswith("grace"))
    assert line.split()[:3] == ["grace", "active", "administrator,central_team"]


async def test_users_list_department(db):
    run_cli("departments", "add", "Force Contact Centre", database_url=db)
    run_cli(
        "users", "create", "dan", "--role", "business_owner", "--department", "Force Contact Centre",
        database_url=db, stdin=f"{DEFAULT_PASSWORD}\n",
    )
    result = run_cli("users", "list", database_url=db)
    line = next(line for line in result.stdout.splitlines() if line.startswith("dan"))
    assert "Force Contact Centre" in line


async def test_users_list_no_department_dash(db):
    create_user(db, "grace", "central_team")
    result = run_cli("users", "list", database_url=db)
    line = next(line for line in result.stdout.splitlines() if line.startswith("grace"))
    assert line.split()[3] == "-"


async def test_users_disable(db):
    create_user(db, "grace", "central_team")
    result = run_cli("users", "disable", "grace", database_url=db)
    listed = run_cli("users", "list", database_url=db).stdout
    assert result.returncode == 0
    assert "disabled" in listed


async def test_users_disable_unknown(db):
    result = run_cli("users", "disable", "nobody", database_url=db)
    assert result.returncode == 1
    assert "No account is named 'nobody'." in result.stderr


async def pause_sign_in(username: str) -> None:
    from governance.errors import InvalidInput, TooManyRequests
    from governance.settings import get_settings

    for _ in range(get_settings().sign_in_max_failures):
        with contextlib.suppress(InvalidInput, TooManyRequests):
            await accounts.sign_in(username, "not the password", "127.0.0.1")


async def test_set_password_lifts_pause(db):
    create_user(db, "grace", "central_team")
    await pause_sign_in("grace")
    run_cli("users", "set-password", "grace", database_url=db, stdin="a brand new password\n")
    session = await accounts.sign_in("grace", "a brand new password", "127.0.0.1")
    assert session.actor.username == "grace"


async def test_set_password_says_pause_lifted(db):
    create_user(db, "grace", "central_team")
    await pause_sign_in("grace")
    result = run_cli("users", "set-password", "grace", database_url=db, stdin="a brand new password\n")
    assert result.returncode == 0
    assert "sign-in pause after failed attempts is lifted" in result.stdout


async def test_set_password_no_pause_no_claim(db):
    create_user(db, "grace", "central_team")
    result = run_cli("users", "set-password", "grace", database_url=db, stdin="a brand new password\n")
    assert result.stdout.strip() == "Password set for grace; any sessions it had are ended."


async def test_users_list_marks_machine_account(db):
    run_cli("users", "create", "pipeline", "--role", "programme_board", "--machine", database_url=db)
    result = run_cli("users", "list", database_url=db)
    line = next(line for line in result.stdout.splitlines() if line.startswith("pipeline"))
    assert line.split()[1] == "active,machine"


async def test_set_password_refused_for_machine_account(db):
    run_cli("users", "create", "pipeline", "--role", "programme_board", "--machine", database_url=db)
    result = run_cli("users", "set-password", "pipeline", database_url=db, stdin=f"{DEFAULT_PASSWORD}\n")
    assert "machine account" in result.stderr


async def test_users_enable(db):
    create_user(db, "grace", "central_team")
    run_cli("users", "disable", "grace", database_url=db)
    result = run_cli("users", "enable", "grace", database_url=db)
    line = next(line for line in run_cli("users", "list", database_url=db).stdout.splitlines() if line.startswith("grace"))
    assert (result.returncode, line.split()[1]) == (0, "active")


async def test_cli_changes_audited(db):
    create_user(db, "grace", "central_team")
    from governance.tables import AuditEntry

    row = await AuditEntry.select(AuditEntry.actor).where(AuditEntry.action == "account.created").first().run()
    assert row["actor"].startswith("cli:")


# tokens ------------------------------------------------------------------------------------------------


async def test_tokens_create_prints_once(db):
    create_user(db, "pipeline", "central_team")
    result = run_cli("tokens", "create", "--user", "pipeline", "--scope", "readiness:read", database_url=db)
    token = result.stdout.strip()
    assert result.returncode == 0
    assert re.fullmatch(r"agt_[0-9a-f]{12}_\S{40,}", token) is not None


async def test_tokens_create_stored_hashed(db):
    create_user(db, "pipeline", "central_team")
    token = run_cli("tokens", "create", "--user", "pipeline", "--scope", "api:read", database_url=db).stdout.strip()
    row = await ApiToken.select().first().run()
    assert token.split("_", 2)[2] not in str(row)


async def test_tokens_list_hides_secret(db):
    create_user(db, "pipeline", "central_team")
    token = run_cli("tokens", "create", "--user", "pipeline", "--scope", "api:read", database_url=db).stdout.strip()
    listed = run_cli("tokens", "list", database_url=db).stdout
    assert token.split("_")[1] in listed
    assert token.split("_", 2)[2] not in listed


async def test_tokens_list_shows_label(db):
    create_user(db, "pipeline", "central_team")
    run_cli("tokens", "create", "--user", "pipeline", "--scope", "readiness:read", "--label", "release pipeline", database_url=db)
    listed = run_cli("tokens", "list", database_url=db).stdout
    line = next(line for line in listed.splitlines() if "pipeline " in line)
    assert line.endswith("release pipeline")


async def test_tokens_list_shows_expired(db):
    create_user(db, "pipeline", "central_team")
    run_cli("tokens", "create", "--user", "pipeline", "--scope", "api:read", database_url=db)
    await ApiToken.update({ApiToken.expires_at: utcnow() - dt.timedelta(days=1)}).where(ApiToken.id > 0).run()
    listed = run_cli("tokens", "list", database_url=db).stdout
    assert " expired " in listed


async def test_tokens_create_bad_scope(db):
    create_user(db, "pipeline", "central_team")
    result = run_cli("tokens", "create", "--user", "pipeline", "--scope", "root", database_url=db)
    assert result.returncode == 1
    assert "valid scopes are" in result.stderr


async def test_token_from_cli_works(db, client):
    create_user(db, "pipeline", "central_team")
    token = run_cli("tokens", "create", "--user", "pipeline", "--scope", "api:read", database_url=db).stdout.strip()
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["username"] == "pipeline"


async def test_tokens_revoke(db, client):
    create_user(db, "pipeline", "central_team")
    token = run_cli("tokens", "create", "--user", "pipeline", "--scope", "api:read", database_url=db).stdout.strip()
    result = run_cli("tokens", "revoke", token.split("_")[1], database_url=db)
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert result.returncode == 0
    assert response.status_code == 401


async def test_tokens_revoke_unknown(db):
    result = run_cli("tokens", "revoke", "000000000000", database_url=db)
    assert result.returncode == 1


async def test_disable_stops_cli_token(db, client):
    create_user(db, "pipeline", "central_team")
    token = run_cli("tokens", "create", "--user", "pipeline", "--scope", "api:read", database_url=db).stdout.strip()
    run_cli("users", "disable", "pipeline", database_url=db)
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


# db upgrade --------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def empty_database(tmp_path: Path):
    """Yield the URL of a database with no tables, on the engine under test."""
    if IS_POSTGRES:
        name = f"ag_test_empty_{os.getpid()}_{time.monotonic_ns()}"
        await _admin_execute(f'CREATE DATABASE "{name}"')
        try:
            yield _postgres_url(name)
        finally:
            await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


async def test_db_upgrade_on_empty_database(tmp_path):
    async with empty_database(tmp_path) as url:
        result = run_cli("db", "upgrade", database_url=url)
        listed = run_cli("users", "list", database_url=url)
    assert result.returncode == 0
    assert result.stdout.strip() == "Database is up to date."
    assert listed.returncode == 0


async def test_db_upgrade_twice(db):
    result = run_cli("db", "upgrade", database_url=db)
    assert result.returncode == 0


async def test_db_upgrade_unreachable():
    url = "postgresql://postgres@127.0.0.1:1/nothing" if IS_POSTGRES else "sqlite:////proc/no-such-dir/x.db"
    result = run_cli("db", "upgrade", database_url=url)
    assert result.returncode == 1
    assert "Error: cannot use the database" in result.stderr


MISSING_COMMANDS = [
    ("users", "list"),
    ("users", "disable", "grace"),
    ("tokens", "create", "--user", "central.team", "--scope", "readiness:read"),
    ("tokens", "list"),
    ("departments", "list"),
    ("audit", "verify"),
    ("gate", "readiness", "UC-001"),
    ("gate", "sweep"),
]


@pytest.mark.parametrize("command", MISSING_COMMANDS)
async def test_missing_database_file_refused(tmp_path, command):
    path = tmp_path / "governance.db"
    result = run_cli(*command, database_url=f"sqlite:///{path}")
    assert result.returncode == 1
    assert f"Error: the database file {path} does not exist." in result.stderr
    assert not path.exists()


async def test_missing_database_message(tmp_path):
    result = run_cli("users", "list", database_url=f"sqlite:///{tmp_path / 'governance.db'}")
    assert "the demo uses sqlite:///governance-demo.db" in result.stderr
    assert "run `governance db upgrade` to create it" in result.stderr


async def test_missing_database_before_password(tmp_path):
    """users create stops before it reads a password."""
    path = tmp_path / "governance.db"
    result = run_cli("users", "create", "grace", "--role", "central_team", database_url=f"sqlite:///{path}", stdin="")
    assert result.returncode == 1
    assert "does not exist" in result.stderr


async def test_db_upgrade_creates_missing_file(tmp_path):
    path = tmp_path / "new.db"
    result = run_cli("db", "upgrade", database_url=f"sqlite:///{path}")
    assert result.returncode == 0
    assert path.exists()


async def test_bad_database_url_named():
    result = run_cli("users", "list", database_url="mysql://somewhere/db")
    assert result.returncode == 2
    assert "DATABASE_URL must start with" in result.stderr


# serve -------------------------------------------------------------------------------------------------


async def test_serve_refuses_without_secret_key(db):
    result = run_cli(
        "serve",
        "--port",
        "1",
        database_url=db,
        env={"GOVERNANCE_ENV": "production", "GOVERNANCE_SECRET_KEY": None},
        timeout=30,
    )
    assert result.returncode == 2
    assert "GOVERNANCE_SECRET_KEY" in result.stderr


async def test_serve_refuses_short_secret_key(db):
    result = run_cli(
        "serve",
        database_url=db,
        env={"GOVERNANCE_ENV": "production", "GOVERNANCE_SECRET_KEY": "short"},
        timeout=30,
    )
    assert result.returncode == 2
    assert "at least 32 characters" in result.stderr


async def test_serve_refuses_bad_environment(db):
    result = run_cli("serve", database_url=db, env={"GOVERNANCE_ENV": "staging"}, timeout=30)
    assert result.returncode == 2
    assert "GOVERNANCE_ENV must be" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(tmp_path: Path, database_url: str, *arguments: str, env: dict | None = None):
    """Start ``governance serve`` on a free port; yield (base URL, output file); stop it after."""
    port = free_port()
    output = tmp_path / "serve.log"
    environment = {**os.environ, "DATABASE_URL": database_url, "GOVERNANCE_LOG_LEVEL": "INFO", **(env or {})}
    with output.open("w") as log:
        process = subprocess.Popen(
            [*cli_command(), "serve", "--port", str(port), *arguments],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={key: value for key, value in environment.items() if value is not None},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, "the server did not start within 90 seconds"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield base, output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def demo_passwords(output: str) -> dict[str, str]:
    block = output.split("restarting with --demo issues new ones.")[1]
    return dict(re.findall(r"^  (\S+)\s+(\S+)$", block, re.M))


def browser_sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    client.get("/sign-in")
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "next": "/", "_csrf_token": client.cookies["ag_csrf"]},
    )


DEMO_ACCOUNTS = {
    "central.team": "central_team",
    "business.owner": "business_owner",
    "info.assurance": "information_assurance",
    "dpo": "data_protection_officer",
    "equality.lead": "equality_lead",
    "programme.board": "programme_board",
    "admin": "administrator",
}


async def test_serve_demo_end_to_end(db, tmp_path):
    """The main job: serve --demo loads the programme, prints passwords, and every role can sign in.

    A restart with --demo on the same database keeps the programme and issues new passwords.
    """
    with running_server(tmp_path, db, "--demo", env={"GOVERNANCE_ENV": None}) as (base, output):
        passwords = demo_passwords(output.read_text())
        assert set(passwords) == set(DEMO_ACCOUNTS)

        for username, role in DEMO_ACCOUNTS.items():
            with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as client:
                assert browser_sign_in(client, username, passwords[username]).status_code == 303, username
                register_page = client.get("/use-cases")
                assert register_page.status_code == 200, username
                assert len(set(re.findall(r'href="/use-cases/(UC-\d+)"', register_page.text))) >= 20
                audit_page = client.get("/admin/audit")
                assert audit_page.status_code == (200 if role == "administrator" else 403), username

        with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as client:
            browser_sign_in(client, "programme.board", passwords["programme.board"])
            programme = client.get("/programme").text
            assert "£3.915m" in programme
            assert "£3.87m" in programme

    log = output.read_text()
    assert "Automation Governance started" in log
    assert "Automation Governance stopped" in log
    assert await UseCase.count().where(UseCase.stage == "live").run() >= 1

    with running_server(tmp_path, db, "--demo", env={"GOVERNANCE_ENV": None}) as (base, output):
        new_passwords = demo_passwords(output.read_text())
        with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as client:
            old = browser_sign_in(client, "admin", passwords["admin"])
    assert new_passwords["admin"] != passwords["admin"]
    assert old.status_code == 422


async def test_serve_without_demo_starts_empty(db, tmp_path):
    with running_server(tmp_path, db, env={"GOVERNANCE_ENV": "development"}) as (base, _):
        health = httpx.get(f"{base}/health", timeout=5)
    assert health.status_code == 200
    assert await UseCase.count().run() == 0
    assert await Account.count().run() == 0


async def test_bad_log_level_named(db):
    result = run_cli("users", "list", database_url=db, env={"GOVERNANCE_LOG_LEVEL": "LOUD"})
    assert result.returncode == 2
    assert "GOVERNANCE_LOG_LEVEL must be one of" in result.stderr
