"""Pure DPIA rules: matrix scoring, validation, review dates, workflow and form translation."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from governance.assessments import WorkflowError
from governance.errors import FieldError

from dpia import forms, rules
from dpia.workflow import WORKFLOW, decision_meaning, overrules_advice
from tests.dpia.helpers import complete_content, not_required_content

ICO_3X3 = {
    "likelihood": [{"key": "remote", "label": "Remote"}, {"key": "possible", "label": "Possible"}, {"key": "probable", "label": "Probable"}],
    "severity": [{"key": "minimal", "label": "Minimal"}, {"key": "significant", "label": "Significant"}, {"key": "severe", "label": "Severe"}],
    "levels": [{"key": "low", "label": "Low"}, {"key": "medium", "label": "Medium"}, {"key": "high", "label": "High"}],
    "cells": {
        "remote": {"minimal": "low", "significant": "low", "severe": "medium"},
        "possible": {"minimal": "low", "significant": "medium", "severe": "high"},
        "probable": {"minimal": "medium", "significant": "high", "severe": "high"},
    },
}
MATRIX = rules.parse_matrix("ico-3x3", 1, "ICO matrix", ICO_3X3)


def _fields(errors) -> list[str]:
    return [error.field for error in errors]


@pytest.mark.parametrize(
    ("likelihood", "severity", "level"),
    [
        ("remote", "minimal", "low"),
        ("remote", "significant", "low"),
        ("remote", "severe", "medium"),
        ("possible", "minimal", "low"),
        ("possible", "significant", "medium"),
        ("possible", "severe", "high"),
        ("probable", "minimal", "medium"),
        ("probable", "significant", "high"),
        ("probable", "severe", "high"),
    ],
)
def test_matrix_scores_every_cell(likelihood, severity, level):
    assert MATRIX.score(likelihood, severity) == level


def test_matrix_score_unknown_is_none():
    assert MATRIX.score("certain", "severe") is None


def test_matrix_score_missing_is_none():
    assert MATRIX.score(None, "severe") is None


def test_parse_matrix_rejects_missing_cell():
    broken = copy.deepcopy(ICO_3X3)
    del broken["cells"]["probable"]["severe"]
    with pytest.raises(rules.MatrixError, match="probable/severe"):
        rules.parse_matrix("broken", 1, "Broken", broken)


def test_parse_matrix_rejects_unknown_level():
    broken = copy.deepcopy(ICO_3X3)
    broken["cells"]["remote"]["minimal"] = "tiny"
    with pytest.raises(rules.MatrixError, match="tiny"):
        rules.parse_matrix("broken", 1, "Broken", broken)


def test_levels_come_from_matrix_not_content():
    content = complete_content(residual="high")
    content["risks"][0]["level"] = "low"
    assert "risks[0].level" in _fields(rules.validate_draft(content, MATRIX))


def test_score_risks_attaches_measures():
    scored = rules.score_risks(complete_content(), MATRIX)
    assert len(scored[0].measures) == 1


def test_highest_residual_level():
    assert rules.highest_residual_level(complete_content(residual="medium"), MATRIX) == "medium"


def test_highest_residual_level_without_risks():
    assert rules.highest_residual_level(not_required_content(), MATRIX) == "low"


def test_ico_required_for_high_residual():
    assert rules.ico_consultation_required(complete_content(residual="high"), MATRIX)


def test_ico_not_required_for_medium_residual():
    assert not rules.ico_consultation_required(complete_content(residual="medium"), MATRIX)


def test_complete_content_submits():
    assert rules.validate_for_submission(complete_content(), MATRIX) == []


def test_not_required_content_submits():
    assert rules.validate_for_submission(not_required_content(), MATRIX) == []


def test_empty_draft_saves():
    assert rules.validate_draft({}, MATRIX) == []


def test_empty_content_fails_submission():
    fields = _fields(rules.validate_for_submission({}, MATRIX))
    assert "screening.outcome" in fields


@pytest.mark.parametrize("field", ["likelihood", "severity", "residual_likelihood", "residual_severity"])
def test_score_outside_scale_rejected_in_draft(field):
    content = complete_content()
    content["risks"][0][field] = "catastrophic"
    assert f"risks[0].{field}" in _fields(rules.validate_draft(content, MATRIX))


def test_unknown_regime_rejected_in_draft():
    content = complete_content()
    content["screening"]["regimes"][0]["regime"] = "gdpr_99"
    assert "screening.regimes[0].regime" in _fields(rules.validate_draft(content, MATRIX))


def test_unknown_top_level_field_rejected():
    assert "colour" in _fields(rules.validate_draft({"colour": "red"}, MATRIX))


def test_unknown_risk_field_rejected():
    content = complete_content()
    content["risks"][0]["owner"] = "someone"
    assert "risks[0].owner" in _fields(rules.validate_draft(content, MATRIX))


@pytest.mark.parametrize(
    "path",
    [
        ("processing", "nature"),
        ("consultation", "individuals"),
        ("necessity", "retention"),
        ("logging", "erasure"),
        ("human_involvement", "description"),
    ],
)
def test_missing_step_field_named_at_submit(path):
    content = complete_content()
    content[path[0]][path[1]] = ""
    assert f"{path[0]}.{path[1]}" in _fields(rules.validate_for_submission(content, MATRIX))


def test_missing_step_named_at_submit():
    content = complete_content()
    del content["necessity"]
    assert "necessity.lawful_basis" in _fields(rules.validate_for_submission(content, MATRIX))


def test_missing_risks_named_at_submit():
    content = complete_content()
    content["risks"] = []
    content["measures"] = []
    assert "risks" in _fields(rules.validate_for_submission(content, MATRIX))


def test_missing_likelihood_named_at_submit():
    content = complete_content()
    content["risks"][0]["likelihood"] = ""
    assert "risks[0].likelihood" in _fields(rules.validate_for_submission(content, MATRIX))


def test_untreated_high_risk_named_at_submit():
    content = complete_content()
    content["measures"] = []
    assert "risks[0]" in _fields(rules.validate_for_submission(content, MATRIX))


def test_measure_for_unknown_risk_rejected():
    content = complete_content()
    content["measures"][0]["risk"] = 7
    assert "measures[0].risk" in _fields(rules.validate_draft(content, MATRIX))


def test_measure_effect_outside_list_rejected():
    content = complete_content()
    content["measures"][0]["effect"] = "ignore"
    assert "measures[0].effect" in _fields(rules.validate_draft(content, MATRIX))


def test_sensitive_processing_needs_condition():
    content = complete_content()
    content["sensitive_processing"]["condition"] = ""
    assert "sensitive_processing.condition" in _fields(rules.validate_for_submission(content, MATRIX))


def test_other_data_subjects_need_description():
    content = complete_content()
    content["data_subjects"]["categories"].append("other")
    assert "data_subjects.other" in _fields(rules.validate_for_submission(content, MATRIX))


def test_unknown_data_subject_rejected():
    content = complete_content()
    content["data_subjects"]["categories"] = ["passers-by"]
    assert "data_subjects.categories[0]" in _fields(rules.validate_draft(content, MATRIX))


def test_yes_answer_needs_note():
    content = complete_content()
    content["screening"]["high_risk"]["data_matching"]["note"] = ""
    assert "screening.high_risk.data_matching.note" in _fields(rules.validate_for_submission(content, MATRIX))


def test_not_required_with_trigger_rejected():
    content = not_required_content()
    content["screening"]["triggers"]["public_monitoring"] = {"answer": "yes", "note": "Cameras"}
    assert "screening.outcome" in _fields(rules.validate_draft(content, MATRIX))


def test_not_required_needs_reasons():
    content = not_required_content()
    content["screening"]["reasons"] = " "
    assert "screening.reasons" in _fields(rules.validate_for_submission(content, MATRIX))


def test_not_required_skips_assessment():
    content = not_required_content()
    content["risks"] = [{"description": "partial"}]
    assert rules.validate_for_submission(content, MATRIX) == []


def test_wrong_matrix_reference_rejected():
    content = complete_content()
    content["matrix"] = {"name": "other", "version": 9}
    assert "matrix" in _fields(rules.validate_draft(content, MATRIX))


def test_overlong_text_rejected():
    content = complete_content()
    content["processing"]["nature"] = "x" * (rules.TEXT_LIMIT + 1)
    assert "processing.nature" in _fields(rules.validate_draft(content, MATRIX))


def test_non_text_rejected():
    content = complete_content()
    content["processing"]["nature"] = 42
    assert "processing.nature" in _fields(rules.validate_draft(content, MATRIX))


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 15), 6, dt.date(2026, 7, 15)),
        (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
        (dt.date(2027, 8, 31), 6, dt.date(2028, 2, 29)),
        (dt.date(2026, 12, 4), 12, dt.date(2027, 12, 4)),
        (dt.date(2026, 11, 30), 24, dt.date(2028, 11, 30)),
    ],
)
def test_add_months(day, months, expected):
    assert rules.add_months(day, months) == expected


@pytest.mark.parametrize(("level", "months"), [("high", 6), ("medium", 12), ("low", 24)])
def test_review_date_by_residual_level(level, months):
    approved_on = dt.date(2026, 3, 10)
    assert rules.review_date_for(level, approved_on) == rules.add_months(approved_on, months)


def test_blank_content_prefills_regimes():
    content = rules.blank_content(MATRIX, [{"purpose": "Recording crime", "regime": "dpa_2018_part_3"}])
    assert content["screening"]["regimes"] == [{"purpose": "Recording crime", "regime": "dpa_2018_part_3"}]


# Workflow -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("draft", "submit", "submitted"),
        ("submitted", "start_review", "in_review"),
        ("submitted", "request_changes", "changes_requested"),
        ("in_review", "record_dpo_advice", "dpo_advice_recorded"),
        ("in_review", "request_changes", "changes_requested"),
        ("dpo_advice_recorded", "approve", "approved"),
        ("dpo_advice_recorded", "approve_with_conditions", "approved_with_conditions"),
        ("dpo_advice_recorded", "reject", "rejected"),
        ("dpo_advice_recorded", "request_changes", "changes_requested"),
        ("in_review", "supersede", "superseded"),
    ],
)
def test_workflow_transitions(status, action, after):
    assert WORKFLOW.next_status(status, action) == after


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", "approve"),
        ("submitted", "approve"),
        ("in_review", "approve"),
        ("submitted", "record_dpo_advice"),
        ("approved", "approve"),
        ("rejected", "submit"),
        ("changes_requested", "submit"),
    ],
)
def test_workflow_rejects_out_of_order(status, action):
    with pytest.raises(WorkflowError):
        WORKFLOW.next_status(status, action)


def test_only_submit_freezes():
    assert WORKFLOW.frozen_by == frozenset({"submit"})


@pytest.mark.parametrize(
    ("action", "advises_approval", "overruled"),
    [
        ("approve", True, False),
        ("approve_with_conditions", True, False),
        ("reject", True, True),
        ("approve", False, True),
        ("approve_with_conditions", False, True),
        ("reject", False, False),
    ],
)
def test_overrules_advice(action, advises_approval, overruled):
    assert overrules_advice(action, advises_approval) is overruled


def test_decision_meaning_for_not_required():
    assert decision_meaning("approve", "not_required") == "Screening outcome approved: no DPIA needed"


def test_decision_meaning_for_rejection():
    assert decision_meaning("reject", "required") == "DPIA rejected"


# Forms ----------------------------------------------------------------------------------------------


def test_form_round_trip():
    content = complete_content()
    values = {path: str(value) for path, value in forms.flatten(content).items() if path != "data_subjects.categories"}
    values.update({f"data_subjects.categories.{key}": "yes" for key in content["data_subjects"]["categories"]})
    parsed, errors = forms.assessment_from_form(values)
    assert parsed["risks"] == content["risks"]
    assert parsed["measures"] == content["measures"]
    assert errors == []


def test_form_drops_blank_risk_and_renumbers():
    values = {
        "risks[0].description": "",
        "risks[1].description": "Second risk",
        "measures[0].risk": "2",
        "measures[0].description": "Treats the second risk",
    }
    parsed, _ = forms.assessment_from_form(values)
    assert parsed["measures"][0]["risk"] == 1


def test_form_measure_of_blank_risk_is_error():
    values = {"risks[0].description": "", "measures[0].risk": "1", "measures[0].description": "Orphan"}
    parsed, errors = forms.assessment_from_form(values)
    assert parsed["measures"][0]["risk"] is None
    assert errors == [FieldError("measures[0].risk", "names risk 1, which is empty; fill in risk 1 or choose another risk")]


def test_form_measure_of_unknown_risk_is_error():
    values = {
        "risks[0].description": "First risk",
        "risks[1].description": "",
        "risks[2].description": "Third risk",
        "measures[0].risk": "99",
        "measures[0].description": "Tampered",
    }
    _, errors = forms.assessment_from_form(values)
    assert errors == [FieldError("measures[0].risk", "'99' is not a recorded risk; choose risk 1 or 3")]


def test_form_measure_without_risks_is_error():
    values = {"measures[0].risk": "abc", "measures[0].description": "Tampered"}
    _, errors = forms.assessment_from_form(values)
    assert errors[0].message.startswith("'abc' is not a recorded risk, and no risk is recorded yet")


def test_form_measure_without_risk_has_no_error():
    values = {"risks[0].description": "First risk", "measures[0].description": "Not linked yet"}
    parsed, errors = forms.assessment_from_form(values)
    assert parsed["measures"][0]["risk"] is None
    assert errors == []


def test_screening_form_drops_blank_purpose():
    values = {"screening.regimes[0].purpose": "Recording", "screening.regimes[0].regime": "uk_gdpr", "screening.regimes[1].purpose": ""}
    assert len(forms.screening_from_form(values)["regimes"]) == 1


def test_field_label_for_risk():
    assert forms.field_label("risks[2].likelihood") == "Risk 3: likelihood before measures"


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("conditions[0].due_date", "Condition 1: due date"),
        ("conditions[1].text", "Condition 2"),
        ("conditions[0].before_go_live", "Condition 1 must be met before go-live"),
        ("measures[0].risk", "Measure 1: risk it treats"),
        ("screening.regimes[0].regime", "Regime for purpose 1"),
        ("logging.collection", "Logging of collection"),
        ("screening.outcome", "Is a full DPIA required?"),
    ],
)
def test_field_label_matches_form(path, label):
    assert forms.field_label(path) == label


def test_form_label_numbers_condition():
    assert forms.form_label("met", "note", 2) == "How condition 2 was met"


def test_form_label_falls_back_to_field_label():
    assert forms.form_label("decision", "conditions[0].owner") == "Condition 1: owner"


def test_readable_errors_keep_path():
    errors = [FieldError("conditions[0].due_date", "must be today or later"), FieldError("reasons", "is missing")]
    assert forms.readable_errors(errors) == (
        "Condition 1: due date (conditions[0].due_date): must be today or later; Reasons: is missing"
    )


def test_form_fields_tick_categories():
    fields = forms.form_fields(complete_content(), "assessment")
    assert fields["data_subjects.categories.victims"] == "yes"
    assert "data_subjects.categories" not in fields
    assert fields["measures[0].risk"] == "1"


def test_form_fields_of_screening_only():
    fields = forms.form_fields(complete_content(), "screening")
    assert all(name.startswith("screening.") for name in fields)


def test_field_page_for_screening():
    assert forms.form_page_for("screening.outcome") == "screening"
