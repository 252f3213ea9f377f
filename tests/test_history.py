"""Readable audit entries for the history page: action headings and changed fields."""

from __future__ import annotations

from governance.history import (
    HistoryLabels,
    action_label,
    changed_values,
    generic_label,
    key_in_words,
    readable_changes,
    value_text,
)

DPIA = HistoryLabels(
    prefix="dpia",
    phrases={"start_review": "review started"},
    field_label=lambda path: "Risk 1: likelihood" if path == "risks[0].likelihood" else "",
)


def test_action_label_dpia_submit():
    assert action_label("dpia.submit") == "DPIA submitted"


def test_action_label_package_phrase():
    assert action_label("dpia.start_review", [DPIA]) == "DPIA review started"


def test_action_label_unregistered_verb():
    assert action_label("dpia.condition_added", [DPIA]) == "DPIA condition added"


def test_action_label_core_record():
    assert action_label("use_case.moved") == "Use case moved"


def test_action_label_approval_with_conditions():
    assert action_label("dpia.approve_with_conditions") == "DPIA approved with conditions"


def test_action_label_registered_kind():
    import equality.rules  # noqa: F401 (registers the equality kinds' names)

    assert action_label("equality_assessment.approve") == "Full equality impact assessment approved"


def test_generic_label_path():
    assert generic_label("screening.high_risk[0].note") == "Screening: high risk 1: note"


def test_generic_label_record_version():
    assert generic_label("version") == "Record version"


def test_changes_scalar_fields():
    rows = changed_values("dpia.submit", {"status": "draft", "version": 3}, {"status": "submitted", "version": 4})
    assert rows == [("Status", "draft", "submitted"), ("Record version", 3, 4)]


def test_changes_expand_nested_content():
    before = {"risks": [{"likelihood": "possible", "severity": "severe"}]}
    after = {"risks": [{"likelihood": "remote", "severity": "severe"}]}
    assert changed_values("dpia.draft_saved", before, after, [DPIA]) == [("Risk 1: likelihood", "possible", "remote")]


def test_changes_fall_back_to_generic_label():
    before = {"processing": {"scope": "100 a month"}}
    after = {"processing": {"scope": "5,000 a month"}}
    assert changed_values("dpia.draft_saved", before, after, [DPIA]) == [
        ("Processing: scope", "100 a month", "5,000 a month")
    ]


def test_changes_added_group():
    rows = changed_values("dpia.draft_saved", {}, {"necessity": {"retention": "Six years"}})
    assert rows == [("Necessity: retention", None, "Six years")]


def test_changes_scalar_replaced_by_object():
    rows = changed_values("x.updated", {"value": "text"}, {"value": {"a": 1}})
    assert rows == [("Value", "text", {"a": 1})]


def test_changes_need_both_states():
    assert changed_values("dpia.version_started", None, {"status": "draft"}) == []


def test_changes_skip_equal_values():
    assert changed_values("dpia.submit", {"status": "draft"}, {"status": "draft"}) == []


def test_changes_added_record_listed_by_field():
    rows = changed_values("dpia.draft_saved", {"risks": []}, {"risks": [{"likelihood": "possible", "severity": "severe"}]}, [DPIA])
    assert rows == [("Risk 1: likelihood", None, "possible"), ("Risks 1: severity", None, "severe")]


def test_changes_plain_list_stays_whole():
    rows = changed_values("dpia.draft_saved", {"tags": ["a"]}, {"tags": ["a", "b"]})
    assert rows == [("Tags", ["a"], ["a", "b"])]


# Values in words ------------------------------------------------------------------------------------

DPIA_VALUES = HistoryLabels(prefix="dpia", value_labels={"status": {"in_review": "In review, awaiting DPO advice"}})


def test_value_date_in_words():
    assert value_text("review_date", "2028-12-04") == "4 December 2028"


def test_value_utc_time_in_london():
    assert value_text("met_at", "2026-12-04T23:27:57.131434+00:00") == "4 December 2026, 11:27pm"


def test_value_summer_time_in_london():
    assert value_text("signed_at", "2026-07-01T08:05:00+00:00") == "1 July 2026, 9:05am"


def test_value_time_with_z():
    assert value_text("expires_at", "2026-12-04T12:00:00Z") == "4 December 2026, 12:00pm"


def test_value_impossible_date_kept():
    assert value_text("review_date", "2027-02-30") == "2027-02-30"


def test_value_text_mentioning_date_kept():
    assert value_text("note", "reviewed 2026-12-04 by IA") == "reviewed 2026-12-04 by IA"


def test_value_status_in_words():
    assert value_text("status", "approved_with_conditions") == "Approved with conditions"


def test_value_decision_in_words():
    assert value_text("decision", "approved_with_conditions") == "Approved with conditions"


def test_value_abbreviation_kept():
    assert value_text("status", "dpo_advice_recorded") == "DPO advice recorded"


def test_value_nested_status_in_words():
    assert value_text("conditions[0].status", "open") == "Open"


def test_value_registered_label():
    assert value_text("status", "in_review", DPIA_VALUES) == "In review, awaiting DPO advice"


def test_value_registered_field_unknown_value():
    assert value_text("status", "changes_requested", DPIA_VALUES) == "Changes requested"


def test_value_stage_label():
    assert value_text("stage", "ready_for_live") == "Ready for live"


def test_value_role_labels():
    assert value_text("roles", ["information_assurance", "central_team"]) == "Information Assurance; Central automation team"


def test_value_kind_label():
    assert value_text("kind", "dpia") == "DPIA"


def test_value_regime_label():
    assert value_text("purposes[0].regime", "uk_gdpr") == "UK GDPR (general processing)"


def test_value_platform_label():
    assert value_text("rpa_platform", "blue_prism") == "Blue Prism"


def test_value_free_text_unchanged():
    assert value_text("title", "approved_with_conditions") == "approved_with_conditions"


def test_value_missing_is_dash():
    assert value_text("decision", None) == "–"


def test_value_empty_text():
    assert value_text("description", "") == "(empty)"


def test_value_boolean_in_words():
    assert value_text("revoked", True) == "Yes"


def test_value_empty_list():
    assert value_text("systems", []) == "(none)"


def test_key_in_words_ico():
    assert key_in_words("ico_consultation_reopened") == "ICO consultation reopened"


def test_readable_changes_decision_row():
    before = {"status": "dpo_advice_recorded", "decision": None, "review_date": None}
    after = {"status": "approved_with_conditions", "decision": "approved_with_conditions", "review_date": "2028-12-04"}
    assert readable_changes("dpia.approve_with_conditions", before, after) == [
        ("Decision", "–", "Approved with conditions"),
        ("Review date", "–", "4 December 2028"),
        ("Status", "DPO advice recorded", "Approved with conditions"),
    ]


def test_readable_changes_use_package_labels():
    rows = readable_changes("dpia.start_review", {"status": "submitted"}, {"status": "in_review"}, [DPIA_VALUES])
    assert rows == [("Status", "Submitted", "In review, awaiting DPO advice")]


def test_readable_changes_other_prefix_ignores_labels():
    rows = readable_changes("equality_screening.start", {"status": "submitted"}, {"status": "in_review"}, [DPIA_VALUES])
    assert rows == [("Status", "Submitted", "In review")]
