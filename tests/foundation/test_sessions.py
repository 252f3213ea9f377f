"""Accounts and browser sessions: argon2 hashes, sign-in, throttling, expiry, cookies and CSRF."""

import asyncio
import datetime as dt

import pytest

from governance import accounts
from governance.audit import SYSTEM
from governance.clock import utcnow
from governance.errors import InvalidInput, TooManyRequests
from governance.roles import Role
from governance.settings import get_settings
from governance.tables import Account, AccountRole, SignInAttempt, WebSession
from tests.support import DEFAULT_PASSWORD, audit_head, browser, csrf_token, post_form, sign_in


@pytest.fixture
async def person(make_person, department):
    return await make_person(Role.CENTRAL_TEAM, username="priya", department=department)


def set_cookie_headers(response, name: str) -> list[str]:
    return [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")]


# Accounts ------------------------------------------------------------------------------------------


async def test_password_stored_as_argon2id(person):
    row = await Account.select(Account.password_hash).where(Account.username == "priya").first().run()
    assert row["password_hash"].startswith("$argon2id$")


async def test_password_not_stored_in_clear(person):
    row = await Account.select(Account.password_hash).where(Account.username == "priya").first().run()
    assert DEFAULT_PASSWORD not in row["password_hash"]


async def test_duplicate_role_granted_once(db):
    await accounts.create_account(
        SYSTEM, username="twice", display_name="Twice", roles=["central_team", "central_team"], password=None
    )
    count = await AccountRole.count().where(AccountRole.account.username == "twice").run()
    assert count == 1


async def test_several_roles_held(make_person):
    actor = await make_person(Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER)
    assert actor.roles == {Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": "X"}, "username"),
        ({"username": "has space"}, "username"),
        ({"roles": ["wizard"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"password": "short"}, "password"),
        ({"display_name": " "}, "display_name"),
        ({"department": "Nowhere"}, "department"),
    ],
)
async def test_create_account_bad_input(db, fields, field):
    values = {
        "username": "valid.name",
        "display_name": "Valid Name",
        "roles": ["central_team"],
        "password": DEFAULT_PASSWORD,
        **fields,
    }
    with pytest.raises(InvalidInput) as caught:
        await accounts.create_account(SYSTEM, **values)
    assert field in [error.field for error in caught.value.errors]


async def test_duplicate_username_refused(person):
    with pytest.raises(InvalidInput) as caught:
        await accounts.create_account(
            SYSTEM, username="Priya", display_name="Other", roles=["central_team"], password=None
        )
    assert caught.value.errors[0].field == "username"


async def test_account_creation_audited(person):
    from governance.tables import AuditEntry

    row = await AuditEntry.select().where(AuditEntry.action == "account.created").first().run()
    assert '"central_team"' in row["after"]


# Signing in ----------------------------------------------------------------------------------------


async def test_sign_in_redirects(client, person):
    response = await sign_in(client, "priya")
    assert response.headers["location"] == "/"


async def test_sign_in_opens_session(client, person):
    await sign_in(client, "priya")
    response = await client.get("/use-cases")
    assert response.status_code == 200


async def test_session_cookie_not_stored(client, person):
    response = await sign_in(client, "priya")
    cookie = response.cookies["ag_session"]
    stored = await WebSession.select(WebSession.token_hash).run()
    assert [row["token_hash"] for row in stored] != [cookie]


async def test_sign_in_case_insensitive_username(client, person):
    response = await sign_in(client, " PRIYA ")
    assert response.status_code == 303


async def test_wrong_password_422(client, person):
    response = await post_form(client, "/sign-in", {"username": "priya", "password": "wrong password!"})
    assert response.status_code == 422


async def test_wrong_password_error_summary(client, person):
    response = await post_form(client, "/sign-in", {"username": "priya", "password": "wrong password!"})
    assert 'href="#password"' in response.text


async def test_wrong_password_no_session(client, person):
    await post_form(client, "/sign-in", {"username": "priya", "password": "wrong password!"})
    assert await WebSession.count().run() == 0


async def test_unknown_user_same_message(client, person):
    wrong = await post_form(client, "/sign-in", {"username": "priya", "password": "wrong password!"})
    unknown = await post_form(client, "/sign-in", {"username": "nobody", "password": "wrong password!"})
    assert wrong.text.count("not right") == unknown.text.count("not right") > 0


async def test_empty_fields_named(client, person):
    response = await post_form(client, "/sign-in", {"username": "", "password": ""})
    assert 'href="#username"' in response.text
    assert 'href="#password"' in response.text


async def test_machine_account_cannot_sign_in(client, db):
    await accounts.create_account(
        SYSTEM, username="pipeline", display_name="Pipeline", roles=["central_team"], password=None
    )
    response = await post_form(client, "/sign-in", {"username": "pipeline", "password": DEFAULT_PASSWORD})
    assert response.status_code == 422


async def test_disabled_account_cannot_sign_in(client, person):
    await accounts.disable_account(SYSTEM, "priya")
    response = await post_form(client, "/sign-in", {"username": "priya", "password": DEFAULT_PASSWORD})
    assert response.status_code == 422


async def test_sign_in_audited(client, person):
    await sign_in(client, "priya")
    from governance.tables import AuditEntry

    assert await AuditEntry.exists().where(AuditEntry.action == "account.signed_in").run()


# Throttling ----------------------------------------------------------------------------------------


async def fail_sign_ins(app, count: int) -> None:
    """Send ``count`` wrong passwords, each from a new browser."""
    for _ in range(count):
        async with browser(app) as other:
            await post_form(other, "/sign-in", {"username": "priya", "password": "wrong password!"})


async def test_throttled_after_failures(app, client, person):
    await fail_sign_ins(app, get_settings().sign_in_max_failures)
    response = await post_form(client, "/sign-in", {"username": "priya", "password": "wrong password!"})
    assert response.status_code == 429


async def test_throttle_refuses_right_password(app, client, person):
    await fail_sign_ins(app, get_settings().sign_in_max_failures)
    response = await post_form(client, "/sign-in", {"username": "priya", "password": DEFAULT_PASSWORD})
    assert response.status_code == 429


async def test_throttle_message_says_wait(app, client, person):
    await fail_sign_ins(app, get_settings().sign_in_max_failures)
    response = await post_form(client, "/sign-in", {"username": "priya", "password": DEFAULT_PASSWORD})
    assert f"Wait {get_settings().sign_in_window_minutes} minutes" in response.text


async def test_below_limit_not_throttled(app, client, person):
    await fail_sign_ins(app, get_settings().sign_in_max_failures - 1)
    response = await post_form(client, "/sign-in", {"username": "priya", "password": DEFAULT_PASSWORD})
    assert response.status_code == 303


async def test_throttle_ends_after_window(app, client, person):
    await fail_sign_ins(app, get_settings().sign_in_max_failures)
    earlier = utcnow() - dt.timedelta(minutes=get_settings().sign_in_window_minutes + 1)
    await SignInAttempt.update({SignInAttempt.attempted_at: earlier}, force=True).run()
    response = await post_form(client, "/sign-in", {"username": "priya", "password": DEFAULT_PASSWORD})
    assert response.status_code == 303


async def test_throttle_is_per_username(app, client, person, make_person):
    await make_person(Role.ADMINISTRATOR, username="sam")
    await fail_sign_ins(app, get_settings().sign_in_max_failures)
    response = await post_form(client, "/sign-in", {"username": "sam", "password": DEFAULT_PASSWORD})
    assert response.status_code == 303


async def test_new_password_lifts_pause(app, client, person):
    await fail_sign_ins(app, get_settings().sign_in_max_failures)
    await accounts.set_password(SYSTEM, "priya", "another long password")
    response = await post_form(client, "/sign-in", {"username": "priya", "password": "another long password"})
    assert response.status_code == 303


async def test_new_password_reports_lift(app, person):
    limit = get_settings().sign_in_max_failures
    await fail_sign_ins(app, limit)
    result = await accounts.set_password(SYSTEM, "priya", "another long password")
    assert result == accounts.PasswordSet(failures_cleared=limit, pause_lifted=True)


async def test_new_password_without_pause(app, person):
    await fail_sign_ins(app, 1)
    result = await accounts.set_password(SYSTEM, "priya", "another long password")
    assert result == accounts.PasswordSet(failures_cleared=1, pause_lifted=False)


async def test_pause_lift_audited(app, person):
    from governance.tables import AuditEntry

    await fail_sign_ins(app, get_settings().sign_in_max_failures)
    await accounts.set_password(SYSTEM, "priya", "another long password")
    entry = await AuditEntry.select().where(AuditEntry.action == "account.sign_in_pause_lifted").first().run()
    assert entry["entity_ref"] == "priya"
    assert entry["actor"] == "system"


async def test_no_lift_entry_without_pause(app, person):
    from governance.tables import AuditEntry

    await fail_sign_ins(app, get_settings().sign_in_max_failures - 1)
    await accounts.set_password(SYSTEM, "priya", "another long password")
    assert not await AuditEntry.exists().where(AuditEntry.action == "account.sign_in_pause_lifted").run()


async def test_cleared_failures_kept(app, person):
    limit = get_settings().sign_in_max_failures
    await fail_sign_ins(app, limit)
    await accounts.set_password(SYSTEM, "priya", "another long password")
    assert await SignInAttempt.count().where(SignInAttempt.cleared_at.is_not_null()).run() == limit


async def test_failures_after_reset_count_again(app, client, person):
    await fail_sign_ins(app, get_settings().sign_in_max_failures)
    await accounts.set_password(SYSTEM, "priya", "another long password")
    await fail_sign_ins(app, get_settings().sign_in_max_failures)
    response = await post_form(client, "/sign-in", {"username": "priya", "password": "another long password"})
    assert response.status_code == 429


async def test_reset_clears_only_that_username(app, client, person, make_person):
    await make_person(Role.ADMINISTRATOR, username="sam")
    for _ in range(get_settings().sign_in_max_failures):
        async with browser(app) as other:
            await post_form(other, "/sign-in", {"username": "sam", "password": "wrong password!"})
    await accounts.set_password(SYSTEM, "priya", "another long password")
    response = await post_form(client, "/sign-in", {"username": "sam", "password": DEFAULT_PASSWORD})
    assert response.status_code == 429


async def test_parallel_guesses_capped(person):
    """Guesses sent at once cannot get past the limit by all passing the check together."""
    limit = get_settings().sign_in_max_failures

    async def guess(number: int):
        try:
            await accounts.sign_in("priya", f"wrong password {number}", "127.0.0.1")
        except (InvalidInput, TooManyRequests) as error:
            return type(error)

    outcomes = await asyncio.gather(*(guess(number) for number in range(limit * 3)))
    assert outcomes.count(InvalidInput) == limit


async def test_parallel_guesses_stored_once(person):
    limit = get_settings().sign_in_max_failures

    async def guess(number: int):
        try:
            await accounts.sign_in("priya", f"wrong password {number}", "127.0.0.1")
        except (InvalidInput, TooManyRequests):
            pass

    await asyncio.gather(*(guess(number) for number in range(limit * 3)))
    assert await SignInAttempt.count().run() == limit


# Session expiry and sign-out -----------------------------------------------------------------------


async def test_idle_session_expires(client, person):
    await sign_in(client, "priya")
    idle = dt.timedelta(minutes=get_settings().session_idle_minutes + 2)
    await WebSession.update({WebSession.last_seen_at: utcnow() - idle}, force=True).run()
    response = await client.get("/use-cases", follow_redirects=False)
    assert response.headers["location"].startswith("/sign-in")


async def test_idle_session_removed(client, person):
    await sign_in(client, "priya")
    idle = dt.timedelta(minutes=get_settings().session_idle_minutes + 2)
    await WebSession.update({WebSession.last_seen_at: utcnow() - idle}, force=True).run()
    await client.get("/use-cases", follow_redirects=False)
    assert await WebSession.count().run() == 0


async def test_idle_limit_never_early(client, person):
    await sign_in(client, "priya")
    just_over = dt.timedelta(minutes=get_settings().session_idle_minutes, seconds=30)
    await WebSession.update({WebSession.last_seen_at: utcnow() - just_over}, force=True).run()
    response = await client.get("/use-cases", follow_redirects=False)
    assert response.status_code == 200


async def test_active_session_kept_alive(client, person):
    await sign_in(client, "priya")
    recent = utcnow() - dt.timedelta(minutes=get_settings().session_idle_minutes - 1)
    await WebSession.update({WebSession.last_seen_at: recent}, force=True).run()
    await client.get("/use-cases")
    row = await WebSession.select(WebSession.last_seen_at).first().run()
    assert row["last_seen_at"] > recent + dt.timedelta(minutes=1)


async def test_absolute_expiry(client, person):
    await sign_in(client, "priya")
    await WebSession.update({WebSession.expires_at: utcnow() - dt.timedelta(seconds=1)}, force=True).run()
    response = await client.get("/use-cases", follow_redirects=False)
    assert response.status_code == 303


async def test_absolute_expiry_set_from_setting(client, person):
    await sign_in(client, "priya")
    row = await WebSession.select().first().run()
    lifetime = row["expires_at"] - row["created_at"]
    assert lifetime == dt.timedelta(hours=get_settings().session_absolute_hours)


async def test_sign_out_ends_session(client, person):
    response = await sign_in(client, "priya")
    cookie = response.cookies["ag_session"]
    await post_form(client, "/sign-out", {})
    async with browser(client.app) as replay:
        replay.cookies.set("ag_session", cookie)
        again = await replay.get("/use-cases", follow_redirects=False)
    assert again.status_code == 303


async def test_sign_out_removes_row(client, person):
    await sign_in(client, "priya")
    await post_form(client, "/sign-out", {})
    assert await WebSession.count().run() == 0


async def test_sign_out_clears_cookie(client, person):
    await sign_in(client, "priya")
    response = await post_form(client, "/sign-out", {})
    assert "Max-Age=0" in set_cookie_headers(response, "ag_session")[0]


async def test_sign_out_redirects(client, person):
    await sign_in(client, "priya")
    response = await post_form(client, "/sign-out", {})
    assert response.headers["location"] == "/sign-in?signed_out=1"


async def test_disable_ends_sessions(client, person):
    await sign_in(client, "priya")
    await accounts.disable_account(SYSTEM, "priya")
    response = await client.get("/use-cases", follow_redirects=False)
    assert response.status_code == 303


async def test_new_password_ends_sessions(client, person):
    await sign_in(client, "priya")
    await accounts.set_password(SYSTEM, "priya", "another long password")
    response = await client.get("/use-cases", follow_redirects=False)
    assert response.status_code == 303


# Cookies -------------------------------------------------------------------------------------------


async def test_session_cookie_flags_development(client, person):
    header = set_cookie_headers(await sign_in(client, "priya"), "ag_session")[0]
    flags = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= flags


async def test_session_cookie_not_secure_in_development(client, person):
    header = set_cookie_headers(await sign_in(client, "priya"), "ag_session")[0]
    assert "secure" not in header.lower()


@pytest.fixture
async def production_client(db, monkeypatch):
    """A client of an app built with GOVERNANCE_ENV=production, over HTTPS."""
    from litestar.testing import AsyncTestClient

    from governance.app import create_app

    monkeypatch.setenv("GOVERNANCE_ENV", "production")
    get_settings.cache_clear()
    app = create_app()
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        yield client
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_session_cookie_secure_in_production(production_client, person):
    response = await sign_in(production_client, "priya")
    flags = {part.strip().lower() for part in set_cookie_headers(response, "ag_session")[0].split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags


async def test_csrf_cookie_secure_in_production(production_client, person):
    response = await production_client.get("/sign-in")
    flags = {part.strip().lower() for part in set_cookie_headers(response, "ag_csrf")[0].split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags


async def test_hsts_in_production(production_client):
    response = await production_client.get("/sign-in")
    assert "max-age" in response.headers["strict-transport-security"]


# CSRF ----------------------------------------------------------------------------------------------


async def test_form_without_csrf_refused(client, person):
    await sign_in(client, "priya")
    before = await audit_head()
    response = await client.post(
        "/use-cases/new",
        data={"title": "No token", "department": "Force Contact Centre", "business_owner": "A"},
    )
    assert response.status_code == 403
    assert await audit_head() == before


async def test_form_with_wrong_csrf_refused(client, person):
    await sign_in(client, "priya")
    before = await audit_head()
    response = await client.post(
        "/use-cases/new",
        data={"title": "Bad token", "department": "Force Contact Centre", "business_owner": "A", "_csrf_token": "forged"},
    )
    assert response.status_code == 403
    assert await audit_head() == before


async def test_csrf_refusal_page_explains(client, person):
    await sign_in(client, "priya")
    response = await client.post("/sign-out", data={})
    assert "security token" in response.text


async def test_sign_in_without_csrf_refused(client, person):
    await client.get("/sign-in")
    response = await client.post("/sign-in", data={"username": "priya", "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    assert await WebSession.count().run() == 0


async def test_every_form_carries_token(client, person):
    await sign_in(client, "priya")
    page = await client.get("/use-cases/new")
    post_forms = page.text.count("<form") - page.text.count('method="get"')
    assert page.text.count('name="_csrf_token"') == post_forms


async def test_csrf_token_in_form_matches_cookie(client, person):
    page = await client.get("/sign-in")
    assert f'value="{csrf_token(client)}"' in page.text


# Redirects after sign-in ---------------------------------------------------------------------------


async def test_page_without_session_redirects(client):
    response = await client.get("/use-cases?stage=idea", follow_redirects=False)
    assert response.headers["location"] == "/sign-in?next=/use-cases%3Fstage%3Didea"


async def test_next_followed(client, person):
    response = await post_form(
        client, "/sign-in", {"username": "priya", "password": DEFAULT_PASSWORD, "next": "/use-cases?stage=idea"}
    )
    assert response.headers["location"] == "/use-cases?stage=idea"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
async def test_next_offsite_ignored(client, person, target):
    response = await post_form(
        client, "/sign-in", {"username": "priya", "password": DEFAULT_PASSWORD, "next": target}
    )
    assert response.headers["location"] == "/"


async def test_sign_in_form_keeps_safe_next(client):
    response = await client.get("/sign-in", params={"next": "//evil.example"})
    assert 'name="next" value="/"' in response.text


async def test_second_sign_in_ends_first_session(client, person):
    await sign_in(client, "priya")
    await sign_in(client, "priya")
    assert await WebSession.count().run() == 1
