"""Settings read once from the environment.

Every setting has an environment variable; nothing secret has a default. ``get_settings`` caches the
result, so tests that change the environment call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_DATABASE_URL = "sqlite:///governance.db"
DEMO_DATABASE_URL = "sqlite:///governance-demo.db"

# Domain packages loaded by the app factory, in the order their gate checks run.
DEFAULT_PACKAGES = ("dpia", "equality", "benefits")


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names the environment variable to set."""


@dataclass(frozen=True)
class Settings:
    """Service settings; see ``docs/configuration.md`` for each variable."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None
    environment: str = "production"
    protective_marking: str = "OFFICIAL"
    session_idle_minutes: int = 60
    session_absolute_hours: int = 10
    max_body_bytes: int = 512 * 1024
    sign_in_max_failures: int = 5
    sign_in_window_minutes: int = 15
    log_level: str = "INFO"
    db_pool_size: int = 10
    packages: tuple[str, ...] = field(default=DEFAULT_PACKAGES)

    @property
    def development(self) -> bool:
        """True when running on a developer's machine, where cookies may travel over plain HTTP."""
        return self.environment == "development"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


def _int_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default

    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None

    if value <= 0:
        raise SettingsError(f"{name} must be greater than 0, got {value}")
    return value


def _pool_size_from_env() -> int:
    """PostgreSQL pool size; 0 turns the pool off (each query opens its own connection)."""
    raw = os.environ.get("GOVERNANCE_DB_POOL_SIZE", "10")
    if not raw.isdigit():
        raise SettingsError(f"GOVERNANCE_DB_POOL_SIZE must be a whole number of 0 or more, got {raw!r}")
    return int(raw)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level_from_env() -> str:
    level = os.environ.get("GOVERNANCE_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise SettingsError(f"GOVERNANCE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings from the environment once."""
    environment = os.environ.get("GOVERNANCE_ENV", "production").strip().lower()
    if environment not in {"production", "development"}:
        raise SettingsError(
            f"GOVERNANCE_ENV must be 'production' or 'development', got {environment!r}"
        )

    packages_raw = os.environ.get("GOVERNANCE_PACKAGES")
    packages = (
        tuple(name.strip() for name in packages_raw.split(",") if name.strip())
        if packages_raw is not None
        else DEFAULT_PACKAGES
    )

    return Settings(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        secret_key=os.environ.get("GOVERNANCE_SECRET_KEY") or None,
        environment=environment,
        protective_marking=os.environ.get("GOVERNANCE_PROTECTIVE_MARKING", "OFFICIAL").strip()
        or "OFFICIAL",
        session_idle_minutes=_int_from_env("GOVERNANCE_SESSION_IDLE_MINUTES", 60),
        session_absolute_hours=_int_from_env("GOVERNANCE_SESSION_ABSOLUTE_HOURS", 10),
        max_body_bytes=_int_from_env("GOVERNANCE_MAX_BODY_BYTES", 512 * 1024),
        sign_in_max_failures=_int_from_env("GOVERNANCE_SIGN_IN_MAX_FAILURES", 5),
        sign_in_window_minutes=_int_from_env("GOVERNANCE_SIGN_IN_WINDOW_MINUTES", 15),
        log_level=_log_level_from_env(),
        db_pool_size=_pool_size_from_env(),
        packages=packages,
    )
