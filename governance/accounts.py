"""Accounts, roles, browser sessions, sign-in throttling and API tokens."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import anyio

from governance import audit
from governance.audit import Actor
from governance.clock import utcnow
from governance.database import write_transaction
from governance.errors import Conflict, ErrorCollector, InvalidInput, NotFound, TooManyRequests
from governance.roles import Role, Scope, parse_role, parse_scope
from governance.security import (
    hash_password,
    new_api_token,
    new_secret,
    password_problem,
    same_text,
    sha256_text,
    split_api_token,
    verify_password,
)
from governance.settings import get_settings
from governance.tables import Account, AccountRole, ApiToken, Department, SignInAttempt, WebSession

logger = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_TOKEN_DAYS = 366
# Sessions and tokens record when they were last used at most this often, to spare the database.
TOUCH_INTERVAL = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class AccountView:
    """An account as shown to administrators; never carries the password hash."""

    id: int
    username: str
    display_name: str
    roles: tuple[Role, ...]
    department: str | None
    active: bool
    created_at: dt.datetime
    last_sign_in_at: dt.datetime | None
    # A machine account has no password and authenticates with API tokens only.
    machine: bool = False


async def _roles_of(account_id: int) -> frozenset[Role]:
    rows = await AccountRole.select(AccountRole.role).where(AccountRole.account == account_id).run()
    return frozenset(Role(row["role"]) for row in rows)


async def actor_for(account_id: int, kind: str = "user") -> Actor | None:
    """Build the ``Actor`` for an active account, or None when it is missing or disabled."""
    row = (
        await Account.select(Account.id, Account.username, Account.display_name, Account.active)
        .where(Account.id == account_id)
        .first()
        .run()
    )
    if row is None or not row["active"]:
        return None
    return Actor(
        account_id=row["id"],
        username=row["username"],
        roles=await _roles_of(row["id"]),
        kind=kind,
        display_name=row["display_name"],
    )


async def actor_for_username(username: str) -> Actor:
    """Return the actor for ``username``; raise ``NotFound`` if there is no such active account."""
    row = await Account.select(Account.id).where(Account.username == username).first().run()
    actor = await actor_for(row["id"]) if row else None
    if actor is None:
        raise NotFound(f"No active account is named {username!r}.")
    return actor


async def _department_id(name: str | None, errors: ErrorCollector) -> int | None:
    if not name:
        return None
    row = await Department.select(Department.id).where(Department.name == name).first().run()
    if row is None:
        errors.add("department", f"unknown department {name!r}; add it first or pick an existing one")
        return None
    return row["id"]


async def create_account(
    actor: Actor,
    *,
    username: str,
    display_name: str,
    roles: list[str],
    password: str | None,
    department: str | None = None,
) -> AccountView:
    """Create an account. ``password`` None makes a machine account that only uses API tokens."""
    errors = ErrorCollector()
    username = username.strip().lower()

    if not USERNAME_PATTERN.match(username):
        errors.add(
            "username",
            "use 2 to 64 lower-case letters, digits, dots, hyphens or underscores, "
            "starting with a letter or digit",
        )
    if not display_name.strip():
        errors.add("display_name", "enter the person's name")
    if len(display_name) > 120:
        errors.add("display_name", "must be at most 120 characters")

    parsed_roles: list[Role] = []
    for value in roles:
        try:
            parsed_roles.append(parse_role(value))
        except ValueError as error:
            errors.add("roles", str(error))
    if not roles:
        errors.add("roles", "give the account at least one role")

    if password is not None:
        problem = password_problem(password)
        if problem:
            errors.add("password", problem)

    # Hashing takes tens of milliseconds, so it happens before the write lock is taken.
    password_hash = None
    if password is not None and not errors.errors:
        password_hash = await anyio.to_thread.run_sync(hash_password, password)

    async with write_transaction():
        department_id = await _department_id(department, errors)
        if username and await Account.exists().where(Account.username == username).run():
            errors.add("username", f"{username!r} is already taken; choose another username")
        errors.raise_if_any()

        account = Account(
            username=username,
            display_name=display_name.strip(),
            password_hash=password_hash,
            department=department_id,
            active=True,
            created_at=utcnow(),
        )
        await account.save().run()
        for role in sorted(set(parsed_roles)):
            await AccountRole.insert(AccountRole(account=account.id, role=role.value)).run()

        view = await get_account(username)
        await audit.record(
            actor,
            "account.created",
            "account",
            username,
            after=_account_snapshot(view),
        )
    logger.info("account %s created by %s", username, actor.username)
    return view


def _account_snapshot(view: AccountView) -> dict:
    return {
        "username": view.username,
        "display_name": view.display_name,
        "roles": [role.value for role in view.roles],
        "department": view.department,
        "active": view.active,
    }


async def get_account(username: str) -> AccountView:
    row = (
        await Account.select(
            Account.all_columns(),
            Account.department.name.as_alias("department_name"),
        )
        .where(Account.username == username)
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"No account is named {username!r}.")
    return AccountView(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=tuple(sorted(await _roles_of(row["id"]))),
        department=row["department_name"],
        active=row["active"],
        created_at=row["created_at"],
        last_sign_in_at=row["last_sign_in_at"],
        machine=row["password_hash"] is None,
    )


async def list_accounts() -> list[AccountView]:
    rows = await Account.select(Account.username).order_by(Account.username).run()
    return [await get_account(row["username"]) for row in rows]


async def disable_account(actor: Actor, username: str) -> AccountView:
    """Disable an account, end its sessions and revoke its tokens."""
    async with write_transaction():
        before = await get_account(username)
        if not before.active:
            raise Conflict(f"Account {username!r} is already disabled.")

        await Account.update({Account.active: False, Account.version: Account.version + 1}).where(
            Account.id == before.id
        ).run()
        await WebSession.delete().where(WebSession.account == before.id).run()
        now = utcnow()
        await ApiToken.update({ApiToken.revoked_at: now}).where(
            (ApiToken.account == before.id) & ApiToken.revoked_at.is_null()
        ).run()

        after = await get_account(username)
        await audit.record(
            actor,
            "account.disabled",
            "account",
            username,
            before=_account_snapshot(before),
            after=_account_snapshot(after),
        )
    logger.info("account %s disabled by %s", username, actor.username)
    return after


async def enable_account(actor: Actor, username: str) -> AccountView:
    """Enable a disabled account. Its old sessions and tokens stay ended; issue new tokens."""
    async with write_transaction():
        before = await get_account(username)
        if before.active:
            raise Conflict(f"Account {username!r} is already active.")

        await Account.update({Account.active: True, Account.version: Account.version + 1}).where(
            Account.id == before.id
        ).run()
        after = await get_account(username)
        await audit.record(
            actor,
            "account.enabled",
            "account",
            username,
            before=_account_snapshot(before),
            after=_account_snapshot(after),
        )
    logger.info("account %s enabled by %s", username, actor.username)
    return after


def password_refusal(view: AccountView) -> str:
    """Return why ``view`` may not be given a password, or "" if it may."""
    if view.machine:
        return (
            f"{view.username} is a machine account: it uses API tokens only and never signs in to "
            "the pages. Create a personal account for a person who needs to sign in."
        )
    if not view.active:
        return f"{view.username} is disabled. Enable it first with: governance users enable {view.username}"
    return ""


@dataclass(frozen=True)
class PasswordSet:
    """The side effects of setting a password: failed sign-ins cleared, and whether a pause ended."""

    failures_cleared: int
    pause_lifted: bool


async def set_password(actor: Actor, username: str, password: str) -> PasswordSet:
    """Replace an account's password, end its sessions and clear its failed sign-ins.

    Clearing the failures lifts a sign-in pause, because the failed guesses were made against the
    old password. A lifted pause gets its own audit entry.

    Raises ``Conflict`` for a machine account, which must never gain a way to sign in to the pages,
    and for a disabled account.
    """
    problem = password_problem(password)
    if problem:
        raise InvalidInput.single("password", problem)

    password_hash = await anyio.to_thread.run_sync(hash_password, password)
    settings = get_settings()
    async with write_transaction():
        account = await get_account(username)
        refusal = password_refusal(account)
        if refusal:
            raise Conflict(refusal)
        now = utcnow()
        window_start = now - dt.timedelta(minutes=settings.sign_in_window_minutes)
        recent_failures = await _recent_failures(account.username, window_start)
        cleared = (
            await SignInAttempt.update({SignInAttempt.cleared_at: now})
            .where(
                (SignInAttempt.username == account.username)
                & (SignInAttempt.succeeded == False)  # noqa: E712 - Piccolo needs ==
                & SignInAttempt.cleared_at.is_null()
            )
            .returning(SignInAttempt.id)
            .run()
        )
        await Account.update({Account.password_hash: password_hash}).where(
            Account.id == account.id
        ).run()
        await WebSession.delete().where(WebSession.account == account.id).run()
        await audit.record(
            actor,
            "account.password_set",
            "account",
            username,
            after={"failed_sign_ins_cleared": len(cleared)},
        )

        paused = recent_failures >= settings.sign_in_max_failures
        if paused:
            await audit.record(
                actor,
                "account.sign_in_pause_lifted",
                "account",
                username,
                before={"failed_sign_ins_in_window": recent_failures},
                after={"failed_sign_ins_in_window": 0},
                note="the password was set again",
            )
    if paused:
        logger.info("sign-in pause of %s lifted by %s with a new password", username, actor.username)
    return PasswordSet(failures_cleared=len(cleared), pause_lifted=paused)


# Browser sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    """A session just created: ``cookie_value`` goes to the browser and is not stored."""

    cookie_value: str
    actor: Actor
    expires_at: dt.datetime


async def _recent_failures(username: str, since: dt.datetime) -> int:
    """Count the failed sign-ins for ``username`` since ``since`` that no password reset cleared."""
    return await SignInAttempt.count().where(
        (SignInAttempt.username == username)
        & (SignInAttempt.attempted_at >= since)
        & (SignInAttempt.succeeded == False)  # noqa: E712 - Piccolo needs ==
        & SignInAttempt.cleared_at.is_null()
    ).run()


def _throttled(username: str, remote_address: str) -> TooManyRequests:
    settings = get_settings()
    logger.warning("sign-in throttled for %s from %s", username, remote_address)
    return TooManyRequests(
        f"Too many failed sign-in attempts. Wait {settings.sign_in_window_minutes} minutes, "
        "then try again, or ask an administrator to reset your password."
    )


async def sign_in(username: str, password: str, remote_address: str) -> NewSession:
    """Check a password and open a session.

    Raises ``InvalidInput`` for a wrong username or password (one message for both, so usernames
    cannot be discovered) and ``TooManyRequests`` after too many failures in the window.
    """
    settings = get_settings()
    username = username.strip().lower()[:64]
    now = utcnow()
    window_start = now - dt.timedelta(minutes=settings.sign_in_window_minutes)

    # A cheap check first, so a throttled username costs no password hashing.
    if await _recent_failures(username, window_start) >= settings.sign_in_max_failures:
        raise _throttled(username, remote_address)

    row = (
        await Account.select(Account.id, Account.password_hash, Account.active)
        .where(Account.username == username)
        .first()
        .run()
    )
    stored_hash = row["password_hash"] if row and row["active"] else None
    matched = await anyio.to_thread.run_sync(verify_password, stored_hash, password)

    async with write_transaction():
        # Count again inside the serialised write: guesses sent in parallel all passed the first
        # check before any of their failures was stored. The outcome of the guess is not revealed.
        if await _recent_failures(username, window_start) >= settings.sign_in_max_failures:
            raise _throttled(username, remote_address)

        await SignInAttempt.insert(
            SignInAttempt(
                username=username,
                remote_address=remote_address[:64],
                attempted_at=now,
                succeeded=matched,
            )
        ).run()
        if not matched:
            logger.info("failed sign-in for %s from %s", username, remote_address)
            failure = InvalidInput.single(
                "password", "The username or password is not right. Check both and try again."
            )
        else:
            assert row is not None
            actor = await actor_for(row["id"])
            assert actor is not None
            cookie_value = new_secret()
            expires_at = now + dt.timedelta(hours=settings.session_absolute_hours)
            session = WebSession(
                token_hash=sha256_text(cookie_value),
                account=row["id"],
                csrf_secret=new_secret(),
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                remote_address=remote_address[:64],
            )
            await session.save().run()
            await Account.update({Account.last_sign_in_at: now}).where(Account.id == row["id"]).run()
            await audit.record(
                actor, "account.signed_in", "account", username, note=f"session {session.id}"
            )

    # The failed attempt must be committed before the error is raised, or it would not count.
    if not matched:
        raise failure
    logger.info("%s signed in from %s (session %s)", username, remote_address, session.id)
    return NewSession(cookie_value=cookie_value, actor=actor, expires_at=expires_at)


async def resolve_session(cookie_value: str) -> tuple[Actor, int] | None:
    """Return (actor, session id) for a live session cookie, or None; removes expired sessions."""
    settings = get_settings()
    now = utcnow()
    row = (
        await WebSession.select()
        .where(WebSession.token_hash == sha256_text(cookie_value))
        .first()
        .run()
    )
    if row is None:
        return None

    # last_seen_at is refreshed at most once per TOUCH_INTERVAL, so allow that much on top: a
    # session then ends between the idle limit and one interval later, never before the limit.
    idle_limit = dt.timedelta(minutes=settings.session_idle_minutes) + TOUCH_INTERVAL
    if row["expires_at"] <= now or now - row["last_seen_at"] > idle_limit:
        async with write_transaction():
            await WebSession.delete().where(WebSession.id == row["id"]).run()
        logger.info("session %s of account %s expired", row["id"], row["account"])
        return None

    actor = await actor_for(row["account"])
    if actor is None:
        return None

    if now - row["last_seen_at"] > TOUCH_INTERVAL:
        async with write_transaction():
            await WebSession.update({WebSession.last_seen_at: now}).where(
                WebSession.id == row["id"]
            ).run()
    return actor, row["id"]


async def sign_out(cookie_value: str) -> None:
    async with write_transaction():
        row = (
            await WebSession.select(WebSession.id, WebSession.account)
            .where(WebSession.token_hash == sha256_text(cookie_value))
            .first()
            .run()
        )
        if row is None:
            return
        await WebSession.delete().where(WebSession.id == row["id"]).run()
        actor = await actor_for(row["account"])
        if actor is not None:
            await audit.record(actor, "account.signed_out", "account", actor.username)


# API tokens ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenView:
    token_id: str
    username: str
    label: str
    scopes: tuple[Scope, ...]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


def _token_view(row: dict) -> TokenView:
    return TokenView(
        token_id=row["token_id"],
        username=row["account.username"],
        label=row["label"],
        scopes=tuple(Scope(value) for value in row["scopes"].split()),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


async def create_token(
    actor: Actor,
    *,
    username: str,
    scopes: list[str],
    days: int = 90,
    label: str = "",
) -> tuple[str, TokenView]:
    """Create an API token and return (token text, view). The text is never retrievable again."""
    errors = ErrorCollector()
    parsed: list[Scope] = []
    for value in scopes:
        try:
            parsed.append(parse_scope(value))
        except ValueError as error:
            errors.add("scope", str(error))
    if not scopes:
        errors.add("scope", "give at least one scope, for example readiness:read")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        errors.add("days", f"must be between 1 and {MAX_TOKEN_DAYS}")
    errors.raise_if_any()

    text, token_id, secret_hash = new_api_token()
    now = utcnow()
    async with write_transaction():
        account = await get_account(username)
        if not account.active:
            raise Conflict(f"Account {username!r} is disabled, so no token can be issued to it.")

        scope_text = " ".join(sorted({scope.value for scope in parsed}))
        await ApiToken.insert(
            ApiToken(
                token_id=token_id,
                secret_hash=secret_hash,
                account=account.id,
                label=label.strip()[:120],
                scopes=scope_text,
                created_at=now,
                expires_at=now + dt.timedelta(days=days),
            )
        ).run()
        view = await get_token(token_id)
        await audit.record(
            actor,
            "token.created",
            "api_token",
            token_id,
            after={"username": username, "scopes": scope_text, "expires_at": view.expires_at},
        )
    logger.info("API token %s created for %s by %s", token_id, username, actor.username)
    return text, view


async def get_token(token_id: str) -> TokenView:
    row = (
        await ApiToken.select(ApiToken.all_columns(), ApiToken.account.username)
        .where(ApiToken.token_id == token_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"No API token has the id {token_id!r}.")
    return _token_view(row)


async def list_tokens() -> list[TokenView]:
    rows = (
        await ApiToken.select(ApiToken.all_columns(), ApiToken.account.username)
        .order_by(ApiToken.created_at, ascending=False)
        .run()
    )
    return [_token_view(row) for row in rows]


async def revoke_token(actor: Actor, token_id: str) -> TokenView:
    async with write_transaction():
        before = await get_token(token_id)
        if before.revoked_at is not None:
            raise Conflict(f"API token {token_id!r} is already revoked.")
        await ApiToken.update({ApiToken.revoked_at: utcnow()}).where(
            ApiToken.token_id == token_id
        ).run()
        after = await get_token(token_id)
        await audit.record(
            actor,
            "token.revoked",
            "api_token",
            token_id,
            before={"revoked_at": None},
            after={"revoked_at": after.revoked_at},
        )
    logger.info("API token %s revoked by %s", token_id, actor.username)
    return after


class TokenRejected(Exception):
    """A bearer token whose secret is right but which may no longer be used.

    The message states why (expired, revoked, account disabled). Only a caller that has the
    token's secret learns it. An unknown token or a wrong secret gets no reason.
    """


async def resolve_token(text: str) -> tuple[Actor, frozenset[Scope], str] | None:
    """Return (actor, scopes, token id) for a valid, unexpired, unrevoked token, or None.

    Returns None for a value that is not a stored token with its right secret. Raises
    ``TokenRejected`` for a real token that has expired or been revoked, or whose account is
    disabled.
    """
    parts = split_api_token(text)
    if parts is None:
        logger.info("API request with a bearer value that is not shaped like a token")
        return None
    token_id, secret = parts

    row = await ApiToken.select().where(ApiToken.token_id == token_id).first().run()
    if row is None or not same_text(row["secret_hash"], sha256_text(secret)):
        logger.info("API request with unknown token id %r or a wrong secret", token_id[:24])
        return None

    now = utcnow()
    if row["revoked_at"] is not None:
        logger.info("API request with revoked token %s", token_id)
        raise TokenRejected(f"the token has been revoked (on {row['revoked_at']:%Y-%m-%d})")
    if row["expires_at"] <= now:
        logger.info("API request with expired token %s", token_id)
        raise TokenRejected(f"the token has expired (on {row['expires_at']:%Y-%m-%d})")

    actor = await actor_for(row["account"], kind="token")
    if actor is None:
        logger.info("API request with token %s of a disabled account", token_id)
        raise TokenRejected("the token's account is disabled")

    if row["last_used_at"] is None or now - row["last_used_at"] > TOUCH_INTERVAL:
        async with write_transaction():
            await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"]).run()
    scopes = frozenset(Scope(value) for value in row["scopes"].split())
    return actor, scopes, token_id


async def ensure_department(actor: Actor, name: str) -> int:
    """Return the id of department ``name``, creating it (with an audit entry) if needed.

    A name that differs from an existing department only in capitals is refused, so one department
    is never listed twice.
    """
    name = name.strip()
    if not name:
        raise InvalidInput.single("name", "enter the department's name")
    if len(name) > 120:
        raise InvalidInput.single("name", "must be at most 120 characters")

    async with write_transaction():
        for row in await Department.select(Department.id, Department.name).run():
            if row["name"] == name:
                return row["id"]
            if row["name"].casefold() == name.casefold():
                raise InvalidInput.single(
                    "name", f"department {row['name']!r} already exists; use that spelling"
                )
        department = Department(name=name, created_at=utcnow())
        await department.save().run()
        await audit.record(actor, "department.created", "department", name, after={"name": name})
        return department.id


async def list_departments() -> list[str]:
    rows = await Department.select(Department.name).order_by(Department.name).run()
    return [row["name"] for row in rows]

