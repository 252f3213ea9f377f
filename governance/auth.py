"""Authentication (session cookie for pages, bearer token for the API) and the deny-by-default guard.

Every route handler declares who may call it in its ``opt``: ``allow(...)`` names roles (and, for
API tokens, a scope), ``PUBLIC`` marks the few routes anyone may call. The app-wide guard rejects a
handler that declares neither, so a forgotten declaration fails closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeAlias

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from governance import accounts
from governance.audit import Actor
from governance.roles import ALL_ROLES, Role
from governance.roles import Scope as TokenScope

logger = logging.getLogger(__name__)

SESSION_COOKIE = "ag_session"
API_PREFIX = "/api/"
# Scope key holding why a real bearer token was rejected (expired, revoked), for the 401 message.
TOKEN_REJECTION_KEY = "governance.token_rejection"


@dataclass(frozen=True)
class Principal:
    """The caller of a request: an actor, how they authenticated, and (for tokens) the scopes."""

    actor: Actor
    via: str
    scopes: frozenset[TokenScope]
    credential_id: str

    def permits(self, scope: TokenScope) -> bool:
        """Sessions may do anything their roles allow; tokens only what their scopes also allow."""
        if self.via == "session":
            return True
        if scope in self.scopes:
            return True
        return scope is TokenScope.API_READ and TokenScope.API_WRITE in self.scopes


def allow(*roles: Role, scope: TokenScope | None = None) -> dict[str, Any]:
    """Build a handler's ``opt``: the roles that may call it and, optionally, the token scope.

    Without ``scope``, reads need ``api:read`` and writes ``api:write``.
    """
    if not roles:
        raise ValueError("allow() needs at least one role; use PUBLIC for open routes")
    return {"roles": frozenset(roles), "scope": scope}


def allow_everyone(scope: TokenScope | None = None) -> dict[str, Any]:
    """Any signed-in person with any role (reads that every role needs)."""
    return allow(*ALL_ROLES, scope=scope)


PUBLIC: dict[str, Any] = {"public": True}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _bearer_token(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def _session_cookie(headers: Headers) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    # Parsed by hand: http.cookies stops at the first cookie it cannot parse, so one odd cookie
    # set by another application on the same host would hide the session cookie.
    for part in raw.split(";"):
        name, separator, value = part.strip().partition("=")
        if separator and name == SESSION_COOKIE:
            return value.strip().strip('"') or None
    return None


def _needs_no_principal(path: str) -> bool:
    """Paths served to anyone without looking up a caller, so they work while the database is down."""
    return path == "/health" or path.startswith("/static/")


async def resolve_principal(scope: Scope) -> Principal | None:
    """Find who is calling: API paths accept only bearer tokens, pages only the session cookie."""
    if _needs_no_principal(scope["path"]):
        return None
    headers = Headers.from_scope(scope)

    if scope["path"].startswith(API_PREFIX):
        token = _bearer_token(headers)
        if token is None:
            return None
        try:
            resolved = await accounts.resolve_token(token)
        except accounts.TokenRejected as rejection:
            scope[TOKEN_REJECTION_KEY] = str(rejection)
            return None
        if resolved is None:
            return None
        actor, scopes, token_id = resolved
        return Principal(actor, "token", scopes, token_id)

    cookie = _session_cookie(headers)
    if cookie is None:
        return None
    session = await accounts.resolve_session(cookie)
    if session is None:
        return None
    actor, session_id = session
    return Principal(actor, "session", frozenset(TokenScope), str(session_id))


class AuthenticationMiddleware(ASGIMiddleware):
    """Puts the caller's ``Principal`` (or None) in ``scope["user"]`` before the guard runs."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["user"] = await resolve_principal(scope)
        scope["auth"] = None
        await next_app(scope, receive, send)


def principal_of(connection: ASGIConnection) -> Principal | None:
    return connection.scope.get("user")  # type: ignore[return-value]


def is_generated_options(handler: BaseRouteHandler) -> bool:
    """True for the OPTIONS handler Litestar adds to every path, which only lists the methods."""
    function = getattr(handler, "fn", None)
    return (
        getattr(function, "__module__", "") == "litestar.routes.http"
        and set(getattr(handler, "http_methods", ())) == {"OPTIONS"}
    )


def roles_in_words(roles: frozenset[Role]) -> str:
    """Return role labels as a list in words: "Information Assurance or Data Protection Officer"."""
    labels = sorted(role.label for role in roles)
    if len(labels) == 1:
        return labels[0]
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def authorise(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-wide guard: deny unless the handler's ``opt`` grants the caller's roles and scope."""
    opt = handler.opt
    if opt.get("public") or is_generated_options(handler):
        return

    roles: frozenset[Role] | None = opt.get("roles")
    if roles is None:
        logger.error("route %r declares no roles; denying", connection.scope.get("path"))
        raise PermissionDeniedException("This route declares no roles, so nobody may use it.")

    principal = principal_of(connection)
    if principal is None:
        if connection.scope["path"].startswith(API_PREFIX):
            rejection = connection.scope.get(TOKEN_REJECTION_KEY)
            if rejection:
                detail = (
                    f"Authentication failed: {rejection}. Ask an administrator for a new token "
                    "(governance tokens create)."
                )
                challenge = 'Bearer realm="automation-governance", error="invalid_token"'
            else:
                detail = (
                    "Authentication required: send 'Authorization: Bearer <token>' with a valid token."
                )
                challenge = 'Bearer realm="automation-governance"'
            raise NotAuthorizedException(detail, headers={"WWW-Authenticate": challenge})
        raise NotAuthorizedException("Sign in to continue.")

    if not principal.actor.has_any(*roles):
        raise PermissionDeniedException(
            f"Your account does not hold a role that may do this. Roles allowed: {roles_in_words(roles)}."
        )

    required: TokenScope | None = opt.get("scope")
    if required is None:
        required = TokenScope.API_READ if connection.scope["method"] in SAFE_METHODS else TokenScope.API_WRITE
    if not principal.permits(required):
        raise PermissionDeniedException(
            f"This API token lacks the {required.value} scope. Create a token with "
            f"--scope {required.value} to call this route."
        )


# Handlers declare ``actor: CurrentActor`` to receive the signed-in actor from ``current_actor``.
CurrentActor: TypeAlias = NamedDependency[Actor]


def current_actor(request: ASGIConnection) -> Actor:
    """Dependency: the signed-in actor; the guard has already rejected anonymous callers."""
    principal = principal_of(request)
    if principal is None:
        raise NotAuthorizedException("Sign in to continue.")
    return principal.actor
