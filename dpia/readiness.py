"""The DPIA's part of the go-live decision, as a pure function over a snapshot of the records.

A use case passes only when the DPIA version on record (the highest-numbered one) is approved, its
content still matches the hash that was signed, it is neither revoked nor past its review date, no
prior consultation with the ICO is missing or pending, every condition that must be met before
go-live is met, and the use case's processing (bots, purposes, data, systems) is still the one the
version recorded when it was submitted. Otherwise each failure is reported separately, with the role that can clear it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from governance.clock import format_date
from governance.roles import Role

from dpia.rules import KIND
from dpia.workflow import APPROVED, status_label


@dataclass(frozen=True)
class VersionFacts:
    number: int
    status: str
    outcome: str
    content_hash: str | None
    hash_matches: bool
    signed_hash_matches: bool
    decided_at: dt.datetime | None
    review_date: dt.date | None
    revoked: bool
    revocation_reason: str = ""
    ico_required: bool = False


@dataclass(frozen=True)
class IcoFacts:
    status: str
    outcome: str | None
    submitted_on: dt.date


@dataclass(frozen=True)
class ConditionFacts:
    """An open condition; ``number`` is its position among its DPIA version's conditions, from 1."""

    number: int
    text: str
    owner: str
    due_date: dt.date | None


@dataclass(frozen=True)
class Snapshot:
    """What the readiness rule needs: the version on record and what hangs off it."""

    today: dt.date
    latest: VersionFacts | None
    last_approved_number: int | None = None
    ico: IcoFacts | None = None
    open_conditions: tuple[ConditionFacts, ...] = ()
    # How the register's processing differs from what the version on record assessed.
    scope_changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    passed: bool
    detail: str
    clearing_role: Role | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


# ICO outcomes after which processing may go ahead.
ICO_CLEARED_OUTCOMES = frozenset({"no_objection", "advice_followed"})

_WAITING: dict[str, tuple[str, Role]] = {
    "draft": ("is a draft that has not been submitted; complete and submit it", Role.BUSINESS_OWNER),
    "submitted": ("is submitted and waits for Information Assurance to start the review", Role.INFORMATION_ASSURANCE),
    "in_review": ("is in review and waits for the Data Protection Officer's advice", Role.DATA_PROTECTION_OFFICER),
    "dpo_advice_recorded": ("has DPO advice and waits for Information Assurance's decision", Role.INFORMATION_ASSURANCE),
    "changes_requested": (
        "had changes requested; start the next version, make the changes and submit it",
        Role.BUSINESS_OWNER,
    ),
    "rejected": ("was rejected; start the next version, address the reasons and submit it", Role.BUSINESS_OWNER),
}


def as_sentence(text: str) -> str:
    """Return ``text`` ending in a full stop, unless it already ends in one, "?" or "!".

    Reasons and condition texts are typed by people, who may or may not end them with a full stop.
    """
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _waiting(latest: VersionFacts, last_approved: int | None) -> Finding:
    text, role = _WAITING.get(
        latest.status, (f"is {status_label(latest.status).lower()}, not approved", Role.INFORMATION_ASSURANCE)
    )
    detail = f"DPIA version {latest.number} {text}."
    if last_approved is not None and last_approved != latest.number:
        detail += (
            f" Version {last_approved} was approved, but version {latest.number} replaces it, so that "
            "approval no longer covers the DPIA on record."
        )
    return Finding(False, detail, role)


def assess(snapshot: Snapshot) -> list[Finding]:
    """Return one passing finding with its evidence, or one failing finding per problem."""
    latest = snapshot.latest
    if latest is None:
        return [
            Finding(
                False,
                "No DPIA has been started for this use case; start one with its screening.",
                Role.BUSINESS_OWNER,
            )
        ]
    if latest.status not in APPROVED:
        return [_waiting(latest, snapshot.last_approved_number)]

    version = f"DPIA version {latest.number}"
    failures: list[Finding] = []
    if latest.revoked:
        reason = f": {latest.revocation_reason}" if latest.revocation_reason else ""
        failures.append(
            Finding(
                False,
                as_sentence(f"{version} was approved but the approval was revoked{reason}"),
                Role.INFORMATION_ASSURANCE,
            )
        )
    if not latest.hash_matches:
        failures.append(
            Finding(
                False,
                f"{version}'s stored content no longer matches the hash it was approved under; the record "
                "may have been altered and must be investigated.",
                Role.ADMINISTRATOR,
            )
        )
    if not latest.signed_hash_matches:
        failures.append(
            Finding(
                False,
                f"{version} has no Information Assurance decision signed on its content hash.",
                Role.INFORMATION_ASSURANCE,
            )
        )
    if latest.review_date is None:
        failures.append(Finding(False, f"{version} has no review date.", Role.INFORMATION_ASSURANCE))
    elif latest.review_date < snapshot.today:
        failures.append(
            Finding(
                False,
                f"{version} was due for review on {format_date(latest.review_date)} and has lapsed; review "
                "it and approve a new version, or move the review date with a reason.",
                Role.INFORMATION_ASSURANCE,
            )
        )
    if snapshot.scope_changes:
        failures.append(
            Finding(
                False,
                f"The use case's processing has changed since {version} was submitted: "
                f"{'; '.join(snapshot.scope_changes)}. Start DPIA version {latest.number + 1} so that "
                "Information Assurance can assess the change, or change the use case back.",
                Role.BUSINESS_OWNER,
            )
        )
    if latest.ico_required:
        failures.extend(_ico_findings(version, snapshot.ico))
    for condition in snapshot.open_conditions:
        due = f" (due {format_date(condition.due_date)})" if condition.due_date else ""
        failures.append(
            Finding(
                False,
                f"Condition {condition.number} of {version} must be met before go-live and is not met{due}: "
                f"{as_sentence(condition.text)} Owner: {as_sentence(condition.owner)}",
                Role.BUSINESS_OWNER,
            )
        )
    if failures:
        return failures

    # "kind", "number" and "content_hash" let the gate find and later re-verify this version.
    evidence = {
        "kind": KIND,
        "number": latest.number,
        "version": latest.number,
        "content_hash": latest.content_hash,
        "decision": latest.status,
        "screening_outcome": latest.outcome,
        "decided_at": latest.decided_at.isoformat() if latest.decided_at else None,
        "review_date": latest.review_date.isoformat() if latest.review_date else None,
    }
    detail = f"{version} is {status_label(latest.status).lower()} and in force until {format_date(latest.review_date)}."
    return [Finding(True, detail, None, evidence)]


def _ico_findings(version: str, ico: IcoFacts | None) -> list[Finding]:
    if ico is None:
        return [
            Finding(
                False,
                f"{version} leaves a high residual risk, so the ICO must be consulted before processing "
                "starts; no consultation has been recorded.",
                Role.DATA_PROTECTION_OFFICER,
            )
        ]
    if ico.status == "pending":
        return [
            Finding(
                False,
                f"Prior consultation with the ICO about {version}, submitted on {format_date(ico.submitted_on)}, "
                "is pending; record the ICO's response and outcome.",
                Role.DATA_PROTECTION_OFFICER,
            )
        ]
    if ico.outcome not in ICO_CLEARED_OUTCOMES:
        return [
            Finding(
                False,
                f"The ICO's response to the consultation about {version} does not allow the processing to "
                "go ahead; revise the DPIA.",
                Role.INFORMATION_ASSURANCE,
            )
        ]
    return []
