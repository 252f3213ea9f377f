"""Word exports of equality screenings and full equality impact assessments, in the house style.

Each export carries the protective marking, the version number and content hash, the content, and
the sign-off table with the hash each signature was bound to (``governance.documents``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from equality.rules import (
    AFFECTED,
    AIMS,
    ASSESSMENT,
    IMPACTS,
    KIND_LABELS,
    KIND_SLUGS,
    OUTCOMES,
    OUTCOME_REQUIRED,
    flagged_impacts,
    parse_date,
    screened_characteristics,
)
from equality.permissions import outcome_of
from governance import documents
from governance.assessments import SignOffView, VersionView
from governance.clock import format_date, format_datetime, utcnow
from governance.register import UseCaseView

DUTY = "Public Sector Equality Duty (Equality Act 2010, section 149)"


def status_label(view: VersionView) -> str:
    """Return the version's status in words, saying when an approval was revoked."""
    label = view.status.replace("_", " ").capitalize()
    if view.revoked_at is not None:
        label += f" (approval revoked on {format_date(view.revoked_at)})"
    return label


def _date_text(value: Any) -> str:
    day = parse_date(value)
    return format_date(day) if day else ""


def _record_summary(use_case: UseCaseView, view: VersionView) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = [
        ("Use case", f"{use_case.reference} {use_case.title}"),
        ("Department", use_case.department),
        ("Business owner", use_case.business_owner),
        ("Written by", view.author),
    ]
    if view.submitted_at:
        pairs.append(("Submitted", f"{format_datetime(view.submitted_at)} by {view.submitted_by}"))
    if view.decided_at:
        pairs.append(
            (
                "Decision",
                f"{(view.decision or '').replace('_', ' ')} on {format_datetime(view.decided_at)}",
            )
        )
    if view.review_date:
        pairs.append(("Review date", format_date(view.review_date)))
    if view.revoked_at:
        pairs.append(
            (
                "Approval revoked",
                f"{format_datetime(view.revoked_at)} by {view.revoked_by}: {view.revocation_reason}",
            )
        )
    return pairs


def _screening_body(document: Any, view: VersionView) -> None:
    content = view.content
    outcome = outcome_of(view)
    documents.add_heading(document, "The change being screened")
    documents.add_paragraph(document, content.get("proposal") or "Not yet described.")

    documents.add_heading(document, "Impact on each characteristic")
    documents.add_note(
        document,
        "The nine protected characteristics of the Equality Act 2010, followed by the local "
        "characteristics this version was screened against.",
    )
    answers = content.get("characteristics") or {}
    rows = []
    for item in screened_characteristics(content):
        answer = answers.get(item.key) or {}
        label = item.label if item.kind == "protected" else f"{item.label} (local)"
        rows.append(
            (
                label,
                IMPACTS.get(answer.get("impact", ""), "Not answered"),
                AFFECTED.get(answer.get("affected", ""), "Not answered"),
                answer.get("evidence") or "Not given",
            )
        )
    documents.add_table(
        document, ["Characteristic", "Likely impact", "Who is affected", "Evidence"], rows
    )

    documents.add_heading(document, "The three aims of the duty")
    aims = content.get("aims") or {}
    documents.add_table(
        document,
        ["Aim", "How the change affects it"],
        [(label, aims.get(key) or "Not given") for key, label in AIMS.items()],
    )

    documents.add_heading(document, "Outcome")
    if outcome == OUTCOME_REQUIRED:
        flagged = ", ".join(impact.description for impact in flagged_impacts(content))
        documents.add_paragraph(
            document,
            f"{OUTCOMES[OUTCOME_REQUIRED]}: the screening found a negative or not known impact on "
            f"{flagged}. A full equality impact assessment must be approved before go-live.",
            bold=True,
        )
    elif outcome is not None:
        documents.add_paragraph(
            document,
            f"{OUTCOMES[outcome]}: no impact is negative or not known.",
            bold=True,
        )
    else:
        documents.add_paragraph(document, "Not yet known: some characteristics are unanswered.")


def _assessment_body(document: Any, view: VersionView) -> None:
    content = view.content
    screening = content.get("screening") or {}
    documents.add_heading(document, "Screening this assessment responds to")
    documents.add_summary(
        document,
        [
            ("Equality screening version", screening.get("version", "")),
            ("Screening content hash (SHA-256)", screening.get("content_hash", "")),
        ],
    )

    documents.add_heading(document, "Impacts and mitigations")
    impacts = content.get("impacts") or {}
    if not impacts:
        documents.add_note(document, "No impacts to mitigate.")
    for key, entry in impacts.items():
        impact = IMPACTS.get(entry.get("impact", ""), entry.get("impact", ""))
        remains = entry.get("remains")
        documents.add_heading(
            document, f"{entry.get('label', key)}: {impact.lower()} impact", level=2
        )
        pairs = [
            ("Who is affected", AFFECTED.get(entry.get("affected", ""), "Not given")),
            ("Mitigation", entry.get("mitigation") or "Not given"),
            ("Owner", entry.get("owner") or "Not given"),
            ("Due", _date_text(entry.get("due_date")) or "Not given"),
            (
                "Impact remains after mitigation",
                {True: "Yes", False: "No"}.get(remains, "Not answered"),
            ),
        ]
        if remains or entry.get("justification"):
            pairs.append(
                ("Justification for what remains", entry.get("justification") or "Not given")
            )
        documents.add_summary(document, pairs)

    documents.add_heading(document, "Action plan")
    plan = content.get("action_plan") or []
    if plan:
        documents.add_table(
            document,
            ["Action", "Owner", "Due"],
            [
                (row.get("action", ""), row.get("owner", ""), _date_text(row.get("due_date")))
                for row in plan
            ],
        )
    else:
        documents.add_note(document, "No actions recorded yet.")

    documents.add_heading(document, "Engagement and consultation")
    documents.add_paragraph(document, content.get("engagement") or "Not yet described.")


def build_export(
    use_case: UseCaseView, view: VersionView, sign_offs: Sequence[SignOffView], *, author: str | None = None
) -> bytes:
    """Return the .docx bytes of one version of a screening or full assessment.

    ``author`` is the exporting person's name, recorded as the document's author.
    """
    kind_label = KIND_LABELS[view.kind]
    document = documents.new_document(
        f"{kind_label}: {use_case.reference} {use_case.title}",
        subtitle=f"{use_case.department}. {DUTY}.",
        author=author,
    )
    documents.add_version_block(
        document, number=view.number, content_hash=view.content_hash, status=status_label(view)
    )
    documents.add_summary(document, _record_summary(use_case, view))

    if view.kind == ASSESSMENT:
        _assessment_body(document, view)
    else:
        _screening_body(document, view)

    documents.add_heading(document, "Sign-off")
    documents.add_sign_off_block(document, sign_offs)
    documents.add_note(
        document,
        f"Exported on {format_datetime(utcnow())} (UK time) by Automation Governance. The content "
        "hash identifies this version exactly: each signature above was given on the hash shown "
        "next to it.",
    )
    return documents.to_bytes(document)


def export_filename(use_case: UseCaseView, view: VersionView) -> str:
    return f"{use_case.reference}-equality-{KIND_SLUGS[view.kind]}-v{view.number}.docx"
