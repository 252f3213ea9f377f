"""Pure equality rules: screening content, the outcome, full-assessment content and review dates."""

from __future__ import annotations

import datetime as dt

import pytest

from equality.rules import (
    ASSESSMENT,
    OUTCOME_NOT_NEEDED,
    OUTCOME_REQUIRED,
    SCREENING,
    Characteristic,
    FlaggedImpact,
    ScreeningBasis,
    check_lock,
    clean_assessment,
    clean_decision,
    clean_review_change,
    clean_revocation,
    clean_screening,
    flagged_impacts,
    protected_characteristics,
    rebase_screening,
    review_date_for,
    screening_outcome,
)
from governance.errors import ErrorCollector, InvalidInput
from tests.equality.helpers import assessment_data, screening_data

TODAY = dt.date(2026, 12, 4)
CHARACTERISTICS = protected_characteristics()
LOCAL = Characteristic("socio_economic_status", "Socio-economic status", "local")


def fields_of(error: InvalidInput) -> list[str]:
    return [item.field for item in error.errors]


def test_protected_characteristics_statutory_order():
    keys = [item.key for item in CHARACTERISTICS]
    assert keys == [
        "age",
        "disability",
        "gender_reassignment",
        "marriage_and_civil_partnership",
        "pregnancy_and_maternity",
        "race",
        "religion_or_belief",
        "sex",
        "sexual_orientation",
    ]


def test_outcome_all_neutral_not_needed():
    content = clean_screening(screening_data(), CHARACTERISTICS, complete=True)
    assert content["outcome"] == OUTCOME_NOT_NEEDED


@pytest.mark.parametrize("impact", ["negative", "not_known"])
def test_outcome_flagged_impact_requires_assessment(impact):
    content = clean_screening(screening_data({"race": impact}), CHARACTERISTICS, complete=True)
    assert content["outcome"] == OUTCOME_REQUIRED


def test_outcome_positive_impacts_not_needed():
    content = clean_screening(screening_data({"age": "positive"}), CHARACTERISTICS, complete=True)
    assert content["outcome"] == OUTCOME_NOT_NEEDED


def test_outcome_unknown_while_unanswered():
    answers = {"age": {"impact": "neutral"}}
    assert screening_outcome(CHARACTERISTICS, answers) is None


def test_outcome_required_before_all_answered():
    answers = {"disability": {"impact": "negative"}}
    assert screening_outcome(CHARACTERISTICS, answers) == OUTCOME_REQUIRED


def test_outcome_override_rejected():
    data = screening_data({"disability": "negative"})
    data["outcome"] = OUTCOME_NOT_NEEDED
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=False)
    assert fields_of(caught.value) == ["outcome"]
    assert "Disability" in caught.value.errors[0].message


def test_outcome_matching_claim_accepted():
    data = screening_data({"disability": "negative"})
    data["outcome"] = OUTCOME_REQUIRED
    content = clean_screening(data, CHARACTERISTICS, complete=True)
    assert content["outcome"] == OUTCOME_REQUIRED


def test_outcome_claim_required_when_none_flagged_rejected():
    data = screening_data()
    data["outcome"] = OUTCOME_REQUIRED
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=True)
    assert fields_of(caught.value) == ["outcome"]


def test_impact_outside_list_names_field():
    data = screening_data()
    data["characteristics"]["race"]["impact"] = "catastrophic"
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=False)
    assert fields_of(caught.value) == ["characteristics.race.impact"]
    assert "not_known" in caught.value.errors[0].message


def test_affected_outside_list_names_field():
    data = screening_data()
    data["characteristics"]["age"]["affected"] = "everyone"
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=False)
    assert fields_of(caught.value) == ["characteristics.age.affected"]


def test_staff_is_a_valid_group():
    data = screening_data()
    data["characteristics"]["sex"]["affected"] = "staff"
    content = clean_screening(data, CHARACTERISTICS, complete=True)
    assert content["characteristics"]["sex"]["affected"] == "staff"


def test_unknown_characteristic_rejected():
    data = screening_data()
    data["characteristics"]["height"] = {"impact": "neutral"}
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=False)
    assert fields_of(caught.value) == ["characteristics.height"]


def test_draft_may_leave_answers_empty():
    content = clean_screening(
        {"characteristics": {"age": {"impact": "neutral"}}}, CHARACTERISTICS, complete=False
    )
    assert content["characteristics"]["race"] == {"impact": "", "affected": "", "evidence": ""}


def test_submission_names_unanswered_characteristic():
    data = screening_data()
    del data["characteristics"]["race"]
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=True)
    assert fields_of(caught.value) == [
        "characteristics.race.impact",
        "characteristics.race.affected",
        "characteristics.race.evidence",
    ]


def test_submission_needs_each_aim():
    data = screening_data()
    data["aims"]["foster_good_relations"] = "   "
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=True)
    assert fields_of(caught.value) == ["aims.foster_good_relations"]


def test_submission_needs_proposal():
    data = screening_data()
    data["proposal"] = ""
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=True)
    assert fields_of(caught.value) == ["proposal"]


def test_local_characteristic_must_be_answered():
    with pytest.raises(InvalidInput) as caught:
        clean_screening(screening_data(), [*CHARACTERISTICS, LOCAL], complete=True)
    assert "characteristics.socio_economic_status.impact" in fields_of(caught.value)


def test_screened_list_recorded_in_content():
    keys = [item.key for item in CHARACTERISTICS] + [LOCAL.key]
    content = clean_screening(screening_data(keys=keys), [*CHARACTERISTICS, LOCAL], complete=True)
    assert content["characteristics_screened"][-1] == LOCAL.as_dict()


def test_evidence_too_long_rejected():
    data = screening_data()
    data["characteristics"]["age"]["evidence"] = "x" * 8_001
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=False)
    assert fields_of(caught.value) == ["characteristics.age.evidence"]


def test_rebase_keeps_answers_and_adds_local():
    content = clean_screening(screening_data({"race": "negative"}), CHARACTERISTICS, complete=True)
    rebased = rebase_screening(content, [*CHARACTERISTICS, LOCAL])
    assert rebased["characteristics"]["race"]["impact"] == "negative"
    assert rebased["characteristics"]["socio_economic_status"]["impact"] == ""


def test_rebase_drops_inactive_local():
    keys = [item.key for item in CHARACTERISTICS] + [LOCAL.key]
    content = clean_screening(screening_data(keys=keys), [*CHARACTERISTICS, LOCAL], complete=True)
    rebased = rebase_screening(content, CHARACTERISTICS)
    assert "socio_economic_status" not in rebased["characteristics"]


def test_flagged_impacts_in_screening_order():
    content = clean_screening(
        screening_data({"race": "not_known", "age": "negative"}), CHARACTERISTICS, complete=True
    )
    assert [item.key for item in flagged_impacts(content)] == ["age", "race"]


# Full assessment -----------------------------------------------------------------------------------

BASIS = ScreeningBasis(
    2,
    "a" * 64,
    (
        FlaggedImpact("age", "Age", "not_known", "public", "No data on older victims."),
        FlaggedImpact("disability", "Disability", "negative", "public", "Standard print only."),
    ),
)


def test_assessment_complete_accepted():
    data = assessment_data(["age", "disability"])
    content = clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert content["screening"] == {"version": 2, "content_hash": "a" * 64}


def test_assessment_names_missing_mitigation_fields():
    data = assessment_data(["age", "disability"])
    data["impacts"]["age"] = {}
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert fields_of(caught.value) == [
        "impacts.age.mitigation",
        "impacts.age.owner",
        "impacts.age.due_date",
        "impacts.age.remains",
    ]


def test_assessment_remaining_impact_needs_justification():
    data = assessment_data(["age", "disability"], remains=True)
    data["impacts"]["disability"]["justification"] = ""
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert fields_of(caught.value) == ["impacts.disability.justification"]


def test_assessment_invalid_due_date_named():
    data = assessment_data(["age", "disability"])
    data["impacts"]["age"]["due_date"] = "31/03/2027"
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=False, today=TODAY)
    assert fields_of(caught.value) == ["impacts.age.due_date"]


def test_assessment_unflagged_impact_rejected():
    data = assessment_data(["age", "disability", "race"])
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=False, today=TODAY)
    assert fields_of(caught.value) == ["impacts.race"]


def test_assessment_needs_action_plan_and_engagement():
    data = assessment_data(["age", "disability"])
    data["action_plan"] = []
    data["engagement"] = ""
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert fields_of(caught.value) == ["action_plan", "engagement"]


def test_action_plan_row_half_filled_named():
    data = assessment_data(["age", "disability"])
    data["action_plan"].append({"action": "Survey older victims", "owner": "", "due_date": ""})
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=False, today=TODAY)
    assert fields_of(caught.value) == ["action_plan[1].owner", "action_plan[1].due_date"]


def test_action_plan_empty_rows_skipped():
    data = assessment_data(["age", "disability"])
    data["action_plan"].append({"action": "", "owner": "", "due_date": ""})
    content = clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert len(content["action_plan"]) == 1


def test_mitigation_due_yesterday_rejected():
    data = assessment_data(["age", "disability"])
    data["impacts"]["age"]["due_date"] = "2026-12-03"
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=False, today=TODAY)
    assert fields_of(caught.value) == ["impacts.age.due_date"]
    assert caught.value.errors[0].message == "must be today (4 December 2026) or later"


def test_action_due_in_past_rejected():
    data = assessment_data(["age", "disability"])
    data["action_plan"][0]["due_date"] = "2020-02-03"
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert fields_of(caught.value) == ["action_plan[0].due_date"]


def test_due_date_today_accepted():
    data = assessment_data(["age", "disability"])
    data["impacts"]["age"]["due_date"] = TODAY.isoformat()
    data["action_plan"][0]["due_date"] = TODAY.isoformat()
    content = clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert content["impacts"]["age"]["due_date"] == "2026-12-04"


def test_past_due_date_not_also_reported_missing():
    data = assessment_data(["age", "disability"])
    data["impacts"]["age"]["due_date"] = "2019-01-01"
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert fields_of(caught.value) == ["impacts.age.due_date"]


def test_bad_dates_and_missing_justification_together():
    data = assessment_data(["age", "disability"], remains=True)
    data["impacts"]["age"]["due_date"] = "2020-02-03"
    data["impacts"]["disability"]["justification"] = ""
    data["action_plan"][0]["due_date"] = "next spring"
    with pytest.raises(InvalidInput) as caught:
        clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert fields_of(caught.value) == [
        "impacts.age.due_date",
        "impacts.disability.justification",
        "action_plan[0].due_date",
    ]


def test_screening_bad_value_and_missing_together():
    data = screening_data()
    data["characteristics"]["age"]["impact"] = "terrible"
    del data["characteristics"]["race"]
    with pytest.raises(InvalidInput) as caught:
        clean_screening(data, CHARACTERISTICS, complete=True)
    assert fields_of(caught.value) == [
        "characteristics.age.impact",
        "characteristics.race.impact",
        "characteristics.race.affected",
        "characteristics.race.evidence",
    ]


# The equality lead's inputs ------------------------------------------------------------------------


def test_decision_problems_together():
    with pytest.raises(InvalidInput) as caught:
        clean_decision("", "x" * 8_001, 5)
    assert fields_of(caught.value) == ["action", "summary", "reasons"]


def test_decision_unknown_action_named():
    with pytest.raises(InvalidInput) as caught:
        clean_decision("maybe", "", "")
    assert "'maybe' is not a decision" in caught.value.errors[0].message


@pytest.mark.parametrize("action", ["request_changes", "reject"])
def test_decision_needs_reasons(action):
    with pytest.raises(InvalidInput) as caught:
        clean_decision(action, "", "  ")
    assert fields_of(caught.value) == ["reasons"]


def test_approval_without_reasons_accepted():
    assert clean_decision("approve", " Fine. ", "") == ("approve", "Fine.", "")


def test_revocation_needs_reason():
    with pytest.raises(InvalidInput) as caught:
        clean_revocation("")
    assert fields_of(caught.value) == ["reason"]


def test_review_change_problems_together():
    with pytest.raises(InvalidInput) as caught:
        clean_review_change("2001-01-01", "", TODAY)
    assert fields_of(caught.value) == ["review_date", "reason"]


def test_review_change_accepted():
    day, reason = clean_review_change("2027-06-01", "Survey results due", TODAY)
    assert (day, reason) == (dt.date(2027, 6, 1), "Survey results due")


@pytest.mark.parametrize("value", [None, "3", True, 0, -1, 2.5])
def test_lock_value_rejected(value):
    errors = ErrorCollector()
    check_lock(errors, value)
    assert [error.field for error in errors.errors] == ["version"]


def test_lock_value_accepted():
    errors = ErrorCollector()
    assert check_lock(errors, 3) == 3
    assert errors.errors == []


# Review dates --------------------------------------------------------------------------------------


def test_review_screening_no_impact_twelve_months():
    content = {"outcome": OUTCOME_NOT_NEEDED}
    assert review_date_for(SCREENING, dt.date(2026, 12, 4), content) == dt.date(2027, 12, 4)


def test_review_screening_flagged_six_months():
    content = {"outcome": OUTCOME_REQUIRED}
    assert review_date_for(SCREENING, dt.date(2026, 12, 4), content) == dt.date(2027, 6, 4)


def test_review_assessment_remaining_impact_six_months():
    content = clean_assessment(
        assessment_data(["age", "disability"], remains=True), BASIS, complete=True, today=TODAY
    )
    assert review_date_for(ASSESSMENT, dt.date(2026, 12, 4), content) == dt.date(2027, 6, 4)


def test_review_assessment_nothing_remains_twelve_months():
    data = assessment_data(["age", "disability"])
    content = clean_assessment(data, BASIS, complete=True, today=TODAY)
    assert review_date_for(ASSESSMENT, dt.date(2026, 12, 4), content) == dt.date(2027, 12, 4)

