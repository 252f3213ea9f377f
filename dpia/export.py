"""The DPIA as a Word document, laid out in the ICO's seven steps for Information Assurance's file.

Built with the house style in ``governance.documents``: the protective marking in the header and
footer, the version number and its SHA-256 hash, and the sign-off block. All user text passes through
``documents.clean_text`` there, so text pasted from Word or Excel cannot break the file.
"""

from __future__ import annotations

from typing import Any

from governance import documents
from governance.assessments import SignOffView, VersionView
from governance.clock import format_date, format_datetime, utcnow
from governance.register import PLATFORMS, REGIMES, UseCaseView

from dpia import rules, service
from dpia.outcomes import OutcomeRow
from dpia.rules import ScoringMatrix
from dpia.service import ConditionView
from dpia.workflow import status_label


def _answer(value: Any) -> str:
    return {"yes": "Yes", "no": "No"}.get(value, "Not answered")


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value.strip() else "Not recorded"


def _group(content: dict[str, Any], name: str) -> dict[str, Any]:
    value = content.get(name)
    return value if isinstance(value, dict) else {}


def _step_1(document: Any, content: dict[str, Any]) -> None:
    screening = _group(content, "screening")
    documents.add_heading(document, rules.STEPS[0][1])
    for group, title, questions in (
        ("triggers", "Processing that always needs a DPIA", rules.MANDATORY_TRIGGERS),
        ("high_risk", "Processing types the ICO considers likely to be high risk", rules.HIGH_RISK_TYPES),
    ):
        answers = screening.get(group) if isinstance(screening.get(group), dict) else {}
        documents.add_heading(document, title, level=2)
        documents.add_table(
            document,
            ["Question", "Answer", "Note"],
            [
                (label, _answer(_group(answers, key).get("answer")), _group(answers, key).get("note", ""))
                for key, label in questions.items()
            ],
        )

    documents.add_heading(document, "Purposes and processing regime", level=2)
    regimes = screening.get("regimes") if isinstance(screening.get("regimes"), list) else []
    documents.add_table(
        document,
        ["Purpose", "Regime"],
        [(item.get("purpose", ""), REGIMES.get(item.get("regime"), item.get("regime", ""))) for item in regimes if isinstance(item, dict)],
    )
    documents.add_summary(
        document,
        [
            ("Screening outcome", rules.OUTCOMES.get(screening.get("outcome"), "Not decided")),
            ("Reasons", _text(screening.get("reasons"))),
        ],
    )


def _step_2(document: Any, content: dict[str, Any]) -> None:
    documents.add_heading(document, rules.STEPS[1][1])
    processing = _group(content, "processing")
    documents.add_summary(
        document, [(label.split(":")[0], _text(processing.get(key))) for key, label in rules.PROCESSING_FIELDS.items()]
    )

    documents.add_heading(document, "Categories of data subject", level=2)
    subjects = _group(content, "data_subjects")
    categories = subjects.get("categories") if isinstance(subjects.get("categories"), list) else []
    names = [rules.DATA_SUBJECT_CATEGORIES.get(item, str(item)) for item in categories]
    documents.add_paragraph(document, "; ".join(names) or "Not recorded")
    if subjects.get("other"):
        documents.add_paragraph(document, f"Other people: {subjects['other']}")

    documents.add_heading(document, "How the bot's actions are logged", level=2)
    logging_group = _group(content, "logging")
    documents.add_table(
        document,
        ["Operation", "How it is logged"],
        [(label, _text(logging_group.get(key))) for key, label in rules.LOGGING_FIELDS.items()],
    )

    documents.add_heading(document, "Sensitive processing", level=2)
    sensitive = _group(content, "sensitive_processing")
    documents.add_summary(
        document,
        [
            ("Sensitive processing takes place", _answer(sensitive.get("applies"))),
            ("Condition relied on", _text(sensitive.get("condition"))),
            ("Appropriate policy document", _text(sensitive.get("policy_document"))),
        ],
    )

    documents.add_heading(document, "Human involvement in decisions", level=2)
    human = _group(content, "human_involvement")
    documents.add_summary(
        document,
        [
            ("Any decision taken without meaningful human involvement", _answer(human.get("solely_automated"))),
            ("Description", _text(human.get("description"))),
        ],
    )


def _risk_tables(document: Any, content: dict[str, Any], matrix: ScoringMatrix) -> None:
    scored = rules.score_risks(content, matrix)
    documents.add_heading(document, rules.STEPS[4][1])
    documents.add_note(
        document,
        f"Scored with the {matrix.title} (matrix {matrix.name}, version {matrix.version}): likelihood "
        f"{', '.join(label for _, label in matrix.likelihood)}; severity "
        f"{', '.join(label for _, label in matrix.severity)}.",
    )
    documents.add_table(
        document,
        ["No.", "Risk", "Source", "Harm", "Likelihood", "Severity", "Overall risk"],
        [
            (
                str(risk.number),
                risk.risk.get("description", ""),
                risk.risk.get("source", ""),
                risk.risk.get("harm", ""),
                matrix.label(risk.risk.get("likelihood")),
                matrix.label(risk.risk.get("severity")),
                matrix.label(risk.level) or "Not scored",
            )
            for risk in scored
        ],
    )

    documents.add_heading(document, rules.STEPS[5][1])
    rows = []
    for risk in scored:
        residual = matrix.label(risk.residual_level) or "Not scored"
        residual_scores = f"{residual} ({matrix.label(risk.risk.get('residual_likelihood'))}, {matrix.label(risk.risk.get('residual_severity'))})"
        if not risk.measures:
            rows.append((str(risk.number), "No measure recorded", "", residual_scores, ""))
        for measure in risk.measures:
            rows.append(
                (
                    str(risk.number),
                    measure.get("description", ""),
                    rules.EFFECTS.get(measure.get("effect"), "Not recorded"),
                    residual_scores,
                    _answer(measure.get("approved")),
                )
            )
    documents.add_table(document, ["Risk", "Measure", "Effect on risk", "Residual risk", "Measure approved"], rows)


def _step_7(
    document: Any,
    view: VersionView,
    outcome_rows: list[OutcomeRow],
    sign_offs: list[SignOffView],
    conditions: list[ConditionView],
) -> None:
    documents.add_heading(document, rules.STEPS[6][1])
    documents.add_heading(document, "Sign-off and outcomes", level=2)
    documents.add_table(
        document,
        ["Item", "Name and date", "Notes"],
        [(row.item, row.signed_by, row.notes) for row in outcome_rows],
    )

    documents.add_heading(document, "Signatures", level=2)
    documents.add_sign_off_block(document, sign_offs)

    if conditions:
        documents.add_heading(document, "Conditions of approval", level=2)
        documents.add_table(
            document,
            ["No.", "Condition", "Owner", "Due", "Before go-live", "State"],
            [
                (
                    str(item.number),
                    item.text,
                    item.owner,
                    format_date(item.due_date) or "No date",
                    "Yes" if item.before_go_live else "No",
                    {"met": f"Met {format_date(item.met_at)}: {item.met_note}", "withdrawn": f"Withdrawn: {item.withdrawal_reason}"}.get(item.state, "Open"),
                )
                for item in conditions
            ],
        )
    if view.revoked_at is not None:
        documents.add_heading(document, "Approval revoked", level=2)
        documents.add_paragraph(
            document, f"Revoked on {format_datetime(view.revoked_at)} by {view.revoked_by}: {view.revocation_reason}", bold=True
        )


def _assessed_scope(document: Any, view: VersionView) -> None:
    """Add the processing the register recorded for the use case when this version was submitted."""
    documents.add_heading(document, "Processing assessed", level=2)
    scope = view.content.get(rules.SCOPE_KEY)
    if not isinstance(scope, dict):
        documents.add_note(document, "Recorded from the use-case register when this version is submitted.")
        return

    def listed(name: str) -> str:
        items = scope.get(name) if isinstance(scope.get(name), list) else []
        return "; ".join(str(item) for item in items) or "None recorded"

    purposes = scope.get("purposes") if isinstance(scope.get("purposes"), list) else []
    documents.add_summary(
        document,
        [
            ("RPA platform", PLATFORMS.get(scope.get("rpa_platform") or "", scope.get("rpa_platform") or "None recorded")),
            ("Bot identifiers", listed("bot_identifiers")),
            (
                "Purposes and regimes",
                "; ".join(
                    f"{item.get('purpose', '')} ({REGIMES.get(item.get('regime'), item.get('regime', ''))})"
                    for item in purposes
                    if isinstance(item, dict)
                )
                or "None recorded",
            ),
            ("Data categories", listed("data_categories")),
            ("Systems touched", listed("systems")),
        ],
    )
    documents.add_note(
        document,
        "Recorded from the use-case register when this version was submitted and covered by its hash. "
        "If the register changes, the go-live gate stops the use case until a new version assesses it.",
    )


def build_document(
    use_case: UseCaseView,
    view: VersionView,
    matrix: ScoringMatrix,
    sign_offs: list[SignOffView],
    conditions: list[ConditionView],
    outcome_rows: list[OutcomeRow],
    *,
    marking: str | None = None,
    author: str | None = None,
) -> bytes:
    """Return the .docx bytes for one DPIA version; ``author`` is the exporting person's name."""
    content = view.content
    document = documents.new_document(
        "Data protection impact assessment",
        subtitle=f"{use_case.reference}: {use_case.title}",
        marking=marking,
        author=author,
    )
    documents.add_summary(
        document,
        [
            ("Use case", f"{use_case.reference} {use_case.title}"),
            ("Department", use_case.department),
            ("Business owner", use_case.business_owner),
            ("Exported", format_datetime(utcnow())),
        ],
    )
    documents.add_version_block(
        document, number=view.number, content_hash=view.content_hash, status=status_label(view.status)
    )

    _assessed_scope(document, view)
    _step_1(document, content)
    if rules.outcome_of(content) == "required":
        _step_2(document, content)
        documents.add_heading(document, rules.STEPS[2][1])
        consultation = _group(content, "consultation")
        documents.add_summary(
            document, [(label, _text(consultation.get(key))) for key, label in rules.CONSULTATION_FIELDS.items()]
        )
        documents.add_heading(document, rules.STEPS[3][1])
        necessity = _group(content, "necessity")
        documents.add_summary(
            document, [(label, _text(necessity.get(key))) for key, label in rules.NECESSITY_FIELDS.items()]
        )
        _risk_tables(document, content, matrix)
    else:
        for _, heading in rules.STEPS[1:6]:
            documents.add_heading(document, heading)
            documents.add_note(document, "Not applicable: the screening found that a full DPIA is not required.")

    _step_7(document, view, outcome_rows, sign_offs, conditions)
    return documents.to_bytes(document)


def filename(use_case: UseCaseView, view: VersionView) -> str:
    return f"{use_case.reference}-DPIA-v{view.number}.docx"


async def export_version(reference: str, number: int, *, author: str | None = None) -> tuple[str, bytes]:
    """Return (file name, .docx bytes) for version ``number`` of a use case's DPIA."""
    state = await service.overview(reference)
    view = state.version(number)
    matrix = await service.matrix_for(view.content)
    body = build_document(
        state.use_case,
        view,
        matrix,
        state.sign_offs.get(number, []),
        state.conditions_of(number),
        await service.sign_off_and_outcomes(state, view),
        author=author,
    )
    return filename(state.use_case, view), body
