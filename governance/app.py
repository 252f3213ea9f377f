"""The application factory: assembles the core, the domain packages, templates and security."""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope
from piccolo.engine.postgres import PostgresEngine

from governance import gate_plugin
from governance.auth import PUBLIC, AuthenticationMiddleware, authorise, current_actor
from governance.database import (
    DatabaseUnavailable,
    check_database,
    describe_database_url,
    enable_sqlite_wal,
    get_engine,
)
from governance.logs import DICT_CONFIG_FORMATTER
from governance.packages import Contribution, NavItem, load_contributions, register_gate_checks
from governance.roles import ALL_ROLES, Role
from governance.settings import STATIC_DIR, TEMPLATE_DIR, Settings, SettingsError, get_settings
from governance.web import api, pages
from governance.web.errors import EXCEPTION_HANDLERS
from governance.web.input_guard import InputGuardMiddleware
from governance.web.templating import configure_environment

logger = logging.getLogger(__name__)

CORE_NAV: list[NavItem] = [
    NavItem("Register", "/use-cases", ALL_ROLES),
    NavItem("Programme", "/programme", ALL_ROLES),
    NavItem("Audit log", "/admin/audit", frozenset({Role.ADMINISTRATOR})),
    NavItem("Accounts", "/admin/accounts", frozenset({Role.ADMINISTRATOR})),
]


def resolve_secret_key(settings: Settings, *, allow_generated: bool) -> str:
    """Return the secret key, or a random one in development and demo mode.

    Raises ``SettingsError`` naming ``GOVERNANCE_SECRET_KEY`` when production mode has none.
    """
    if settings.secret_key:
        if len(settings.secret_key) < 32:
            raise SettingsError("GOVERNANCE_SECRET_KEY must be at least 32 characters long")
        return settings.secret_key
    if allow_generated or settings.development:
        return secrets.token_urlsafe(32)
    raise SettingsError(
        "GOVERNANCE_SECRET_KEY is not set. Set it to a random value of at least 32 characters "
        "(for example the output of: python -c 'import secrets; print(secrets.token_urlsafe(32))'), "
        "or set GOVERNANCE_ENV=development on a developer machine."
    )


# Content Security Policy for pages: no scripts from anywhere but this site, no framing. Inline
# style attributes are allowed; inline scripts are not. The OpenAPI viewer under /schema loads its
# scripts from a CDN, so it is left out.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    ]
    if not settings.development:
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


def _before_send(settings: Settings):
    common = _security_headers(settings)

    async def add_headers(message: Message, scope: Scope) -> None:
        """Add security headers to every response, and stop caching of pages and API responses."""
        if message["type"] != "http.response.start":
            return
        path = scope.get("path", "")
        headers = list(message.get("headers", []))
        present = {name.lower() for name, _ in headers}
        extra = list(common)
        if not path.startswith("/schema"):
            extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
        if not path.startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))
        headers.extend((name, value) for name, value in extra if name not in present)
        message["headers"] = headers

    return add_headers


def _lifespan(contributions: list[Contribution]):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        settings = get_settings()
        try:
            await check_database()
        except DatabaseUnavailable as error:
            logger.error(
                "Automation Governance cannot start: database %s is unavailable (%s)",
                describe_database_url(settings.database_url),
                error,
            )
            raise
        await enable_sqlite_wal()
        engine = get_engine()
        if isinstance(engine, PostgresEngine) and settings.db_pool_size > 0:
            await engine.start_connection_pool(min_size=1, max_size=settings.db_pool_size)
        logger.info(
            "Automation Governance started: database %s, packages %s, environment %s",
            describe_database_url(settings.database_url),
            ", ".join(contribution.name for contribution in contributions) or "none",
            settings.environment,
        )
        try:
            yield
        finally:
            if isinstance(engine, PostgresEngine) and engine.pool is not None:
                await engine.close_connection_pool()
            logger.info("Automation Governance stopped")

    return lifespan


def create_app(*, secret_key: str | None = None, debug: bool = False) -> Litestar:
    """Build the Litestar app; ``secret_key`` overrides the setting (tests and demo mode)."""
    settings = get_settings()
    key = secret_key or resolve_secret_key(settings, allow_generated=False)

    contributions = [*load_contributions(settings.packages), gate_plugin.contribute()]
    register_gate_checks(contributions)

    nav_items = list(CORE_NAV)
    route_handlers: list = [*api.ROUTES, *pages.ROUTES]
    for contribution in contributions:
        route_handlers.extend(contribution.route_handlers)
        nav_items[1:1] = contribution.nav_items

    route_handlers.append(
        create_static_files_router(path="/static", directories=[STATIC_DIR], opt=PUBLIC, name="static")
    )

    openapi_config = OpenAPIConfig(
        title="Automation Governance API",
        version="1.0.0",
        description=(
            "Register, assessments and go-live readiness for the automation programme. "
            "Authenticate with 'Authorization: Bearer <token>'; create tokens with "
            "'governance tokens create'."
        ),
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
        ),
        security=[{"bearer": []}],
        render_plugins=[SwaggerRenderPlugin()],
        openapi_router=Router(path="/schema", route_handlers=[], opt=PUBLIC, include_in_schema=False),
    )

    return Litestar(
        route_handlers=route_handlers,
        guards=[authorise],
        # The input guard runs after authentication (which reads only headers), so its log lines
        # name the caller, and before any handler or CSRF check reads the body.
        middleware=[AuthenticationMiddleware(), InputGuardMiddleware()],
        dependencies={"actor": Provide(current_actor, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        csrf_config=CSRFConfig(
            secret=key,
            cookie_name="ag_csrf",
            cookie_secure=not settings.development,
            cookie_httponly=True,
            cookie_samesite="lax",
            # Patterns are regular expressions searched anywhere in the path, so anchor them.
            exclude=["^/api/", "^/health$"],
        ),
        template_config=TemplateConfig(
            directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=configure_environment
        ),
        openapi_config=openapi_config,
        request_max_body_size=settings.max_body_bytes,
        state=State({"contributions": contributions, "nav_items": nav_items}),
        lifespan=[_lifespan(contributions)],
        before_send=[_before_send(settings)],
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            formatters={"standard": dict(DICT_CONFIG_FORMATTER)},
            log_exceptions="never",
            disable_stack_trace={404, 401, 403, 409, 422},
        ),
        debug=debug,
    )
