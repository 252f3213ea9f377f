"""Readable audit entries for the history page: action headings and changed fields."""

from __future__ import annotations

from governance.history import HistoryLabels, action_label, changed_values, generic_label

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
