"""API tokens: shown once, stored hashed, scoped, expiring, revocable, tied to an active account."""

import datetime as dt

import pytest

from governance import accounts
from governance.audit import SYSTEM
from governance.clock import utcnow
from governance.errors import Conflict, InvalidInput, NotFound
from governance.roles import Role
from governance.tables import Account, ApiToken, AuditEntry

URL = "/api/v1/use-cases"


@pytest.fixture
async def person(make_person, department):
    return await make_person(Role.CENTRAL_TEAM, username="pipeline.owner", department=department)


async def new_token(username: str = "pipeline.owner", *scopes: str, days: int = 90):
    return await accounts.create_token(SYSTEM, username=username, scopes=list(scopes or ("api:write",)), days=days)


def bearer(text: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {text}"}


# Creation and storage ----------------------------------------------------------------------------------


async def test_token_text_shape(person):
    text, view = await new_token()
    assert text.startswith(f"agt_{view.token_id}_")


async def test_secret_not_stored(person):
    text, _ = await new_token()
    secret = text.split("_", 2)[2]
    rows = await ApiToken.select().run()
    assert [value for row in rows for value in row.values() if secret in str(value)] == []


async def test_secret_not_in_audit(person):
    text, _ = await new_token()
    secret = text.split("_", 2)[2]
    rows = await AuditEntry.select(AuditEntry.before, AuditEntry.after, AuditEntry.note).run()
    assert [row for row in rows if secret in str(row)] == []


async def test_view_has_no_secret(person):
    text, view = await new_token()
    assert text.split("_", 2)[2] not in repr(await accounts.get_token(view.token_id))


async def test_scopes_stored(person):
    _, view = await new_token("pipeline.owner", "readiness:read", "runs:write")
    assert {scope.value for scope in view.scopes} == {"readiness:read", "runs:write"}


async def test_expiry_from_days(person):
    _, view = await new_token(days=30)
    assert view.expires_at - view.created_at == dt.timedelta(days=30)


async def test_creation_audited(person):
    _, view = await new_token()
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "token.created") & (AuditEntry.entity_ref == view.token_id)
    ).run()


@pytest.mark.parametrize(
    ("scopes", "days", "field"),
    [
        (["everything"], 90, "scope"),
        ([], 90, "scope"),
        (["api:read"], 0, "days"),
        (["api:read"], 367, "days"),
    ],
)
async def test_bad_token_request(person, scopes, days, field):
    with pytest.raises(InvalidInput) as caught:
        await accounts.create_token(SYSTEM, username="pipeline.owner", scopes=scopes, days=days)
    assert caught.value.errors[0].field == field


async def test_token_for_unknown_account(db):
    with pytest.raises(NotFound):
        await accounts.create_token(SYSTEM, username="nobody", scopes=["api:read"])


async def test_token_for_disabled_account(person):
    await accounts.disable_account(SYSTEM, "pipeline.owner")
    with pytest.raises(Conflict):
        await new_token()


# Using tokens ------------------------------------------------------------------------------------------


async def test_token_authenticates(client, person):
    text, _ = await new_token()
    response = await client.get(URL, headers=bearer(text))
    assert response.status_code == 200


async def test_me_names_account(client, person):
    text, _ = await new_token()
    response = await client.get("/api/v1/me", headers=bearer(text))
    assert response.json()["username"] == "pipeline.owner"
    assert response.json()["roles"] == ["central_team"]


async def test_last_used_recorded(client, person):
    text, view = await new_token()
    await client.get(URL, headers=bearer(text))
    assert (await accounts.get_token(view.token_id)).last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer not-a-token",
        "Bearer agt_000000000000_wrongsecret",
        "Basic dXNlcjpwYXNz",
    ],
)
async def test_missing_or_bad_token_401(client, person, header):
    headers = {"Authorization": header} if header else {}
    response = await client.get(URL, headers=headers)
    assert response.status_code == 401


async def test_wrong_secret_401(client, person):
    text, view = await new_token()
    response = await client.get(URL, headers=bearer(f"agt_{view.token_id}_{'x' * 43}"))
    assert response.status_code == 401


async def test_expired_token_401(client, person):
    text, view = await new_token()
    await ApiToken.update({ApiToken.expires_at: utcnow() - dt.timedelta(seconds=1)}).where(
        ApiToken.token_id == view.token_id
    ).run()
    response = await client.get(URL, headers=bearer(text))
    assert response.status_code == 401


async def test_revoked_token_401(client, person):
    text, view = await new_token()
    await accounts.revoke_token(SYSTEM, view.token_id)
    response = await client.get(URL, headers=bearer(text))
    assert response.status_code == 401


async def test_expired_token_says_expired(client, person):
    text, view = await new_token()
    await ApiToken.update({ApiToken.expires_at: utcnow() - dt.timedelta(seconds=1)}).where(
        ApiToken.token_id == view.token_id
    ).run()
    response = await client.get(URL, headers=bearer(text))
    assert "the token has expired" in response.json()["detail"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_revoked_token_says_revoked(client, person):
    text, view = await new_token()
    await accounts.revoke_token(SYSTEM, view.token_id)
    response = await client.get(URL, headers=bearer(text))
    assert "the token has been revoked" in response.json()["detail"]


async def test_disabled_account_token_says_so(client, person):
    text, _ = await new_token()
    await Account.update({Account.active: False}).where(Account.username == "pipeline.owner").run()
    response = await client.get(URL, headers=bearer(text))
    assert "account is disabled" in response.json()["detail"]


async def test_revoked_token_wrong_secret_says_nothing(client, person):
    """Only the holder of a token's secret learns why it stopped working."""
    _, view = await new_token()
    await accounts.revoke_token(SYSTEM, view.token_id)
    response = await client.get(URL, headers=bearer(f"agt_{view.token_id}_{'x' * 43}"))
    assert "revoked" not in response.json()["detail"]
    assert response.json()["detail"].startswith("Authentication required")


async def test_unknown_token_says_nothing(client, person):
    response = await client.get(URL, headers=bearer("agt_000000000000_wrongsecret"))
    assert response.json()["detail"].startswith("Authentication required")


async def test_expired_token_public_route_works(client, person):
    """A rejected token on a route that needs none changes nothing: /health still returns 200."""
    text, view = await new_token()
    await accounts.revoke_token(SYSTEM, view.token_id)
    response = await client.get("/health", headers=bearer(text))
    assert response.status_code == 200


async def test_revoke_twice_conflict(person):
    _, view = await new_token()
    await accounts.revoke_token(SYSTEM, view.token_id)
    with pytest.raises(Conflict):
        await accounts.revoke_token(SYSTEM, view.token_id)


async def test_revocation_audited(person):
    _, view = await new_token()
    await accounts.revoke_token(SYSTEM, view.token_id)
    assert await AuditEntry.exists().where(AuditEntry.action == "token.revoked").run()


async def test_disabled_account_token_401(client, person):
    text, _ = await new_token()
    await accounts.disable_account(SYSTEM, "pipeline.owner")
    response = await client.get(URL, headers=bearer(text))
    assert response.status_code == 401


async def test_disable_revokes_tokens(person):
    _, view = await new_token()
    await accounts.disable_account(SYSTEM, "pipeline.owner")
    assert (await accounts.get_token(view.token_id)).revoked_at is not None


async def test_inactive_account_token_401(client, person):
    """Even a token left unrevoked stops working once its account is inactive."""
    text, _ = await new_token()
    await Account.update({Account.active: False}).where(Account.username == "pipeline.owner").run()
    response = await client.get(URL, headers=bearer(text))
    assert response.status_code == 401


# Scopes ------------------------------------------------------------------------------------------------


async def test_readiness_token_cannot_read_register(client, person):
    text, _ = await new_token("pipeline.owner", "readiness:read")
    response = await client.get(URL, headers=bearer(text))
    assert response.status_code == 403
    assert "api:read" in response.json()["detail"]


async def test_readiness_token_cannot_write(client, person):
    text, _ = await new_token("pipeline.owner", "readiness:read")
    body = {"title": "x", "department": "Force Contact Centre", "business_owner": "y"}
    response = await client.post(URL, json=body, headers=bearer(text))
    assert response.status_code == 403
    assert "api:write" in response.json()["detail"]


async def test_runs_token_cannot_write_register(client, person):
    text, _ = await new_token("pipeline.owner", "runs:write")
    body = {"title": "x", "department": "Force Contact Centre", "business_owner": "y"}
    response = await client.post(URL, json=body, headers=bearer(text))
    assert response.status_code == 403


async def test_read_token_cannot_write(client, person):
    text, _ = await new_token("pipeline.owner", "api:read")
    body = {"title": "x", "department": "Force Contact Centre", "business_owner": "y"}
    response = await client.post(URL, json=body, headers=bearer(text))
    assert response.status_code == 403


async def test_scope_refusal_stores_nothing(client, person):
    from tests.support import audit_head

    text, _ = await new_token("pipeline.owner", "api:read")
    before = await audit_head()
    body = {"title": "x", "department": "Force Contact Centre", "business_owner": "y"}
    await client.post(URL, json=body, headers=bearer(text))
    assert await audit_head() == before


async def test_write_scope_implies_read(client, person):
    text, _ = await new_token("pipeline.owner", "api:write")
    response = await client.get(URL, headers=bearer(text))
    assert response.status_code == 200


async def test_scope_does_not_add_roles(client, make_person, department):
    """A token's scope narrows what its account may do; it never widens it."""
    await make_person(Role.PROGRAMME_BOARD, username="board")
    text, _ = await new_token("board", "api:write")
    body = {"title": "x", "department": "Force Contact Centre", "business_owner": "y"}
    response = await client.post(URL, json=body, headers=bearer(text))
    assert response.status_code == 403


def test_principal_scope_rules():
    from governance.auth import Principal
    from governance.roles import Scope

    token = Principal(SYSTEM, "token", frozenset({Scope.READINESS_READ}), "abc")
    assert token.permits(Scope.READINESS_READ)
    assert not token.permits(Scope.API_READ)
    assert not token.permits(Scope.RUNS_WRITE)
