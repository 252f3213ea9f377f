"""Roles that people hold and scopes that API tokens carry."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CENTRAL_TEAM = "central_team"
    BUSINESS_OWNER = "business_owner"
    INFORMATION_ASSURANCE = "information_assurance"
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    EQUALITY_LEAD = "equality_lead"
    PROGRAMME_BOARD = "programme_board"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.CENTRAL_TEAM: "Central automation team",
    Role.BUSINESS_OWNER: "Business owner",
    Role.INFORMATION_ASSURANCE: "Information Assurance",
    Role.DATA_PROTECTION_OFFICER: "Data Protection Officer",
    Role.EQUALITY_LEAD: "Equality lead",
    Role.PROGRAMME_BOARD: "Programme board",
    Role.ADMINISTRATOR: "Administrator",
}

ALL_ROLES: frozenset[Role] = frozenset(Role)


class Scope(StrEnum):
    """What an API token may be used for, on top of its account's roles."""

    READINESS_READ = "readiness:read"
    RUNS_WRITE = "runs:write"
    API_READ = "api:read"
    API_WRITE = "api:write"

    @property
    def description(self) -> str:
        return SCOPE_DESCRIPTIONS[self]


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.READINESS_READ: "read go-live readiness (for release pipelines)",
    Scope.RUNS_WRITE: "upload bot run data",
    Scope.API_READ: "read everything the account's roles may read",
    Scope.API_WRITE: "change everything the account's roles may change (implies api:read)",
}


def parse_role(value: str) -> Role:
    """Return the role named ``value``; raise ``ValueError`` listing the valid names."""
    try:
        return Role(value.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        valid = ", ".join(role.value for role in Role)
        raise ValueError(f"unknown role {value!r}; valid roles are: {valid}") from None


def parse_scope(value: str) -> Scope:
    """Return the scope named ``value``; raise ``ValueError`` listing the valid names."""
    try:
        return Scope(value.strip().lower())
    except ValueError:
        valid = ", ".join(scope.value for scope in Scope)
        raise ValueError(f"unknown scope {value!r}; valid scopes are: {valid}") from None
