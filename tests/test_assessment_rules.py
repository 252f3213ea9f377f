"""Pure rules of the shared assessment machinery: review dates, due dates and kind labels."""

from __future__ import annotations

import datetime as dt

import pytest

from governance import assessments
from governance.assessments import add_months, check_due_date, check_review_date, parse_iso_date

TODAY = dt.date(2026, 12, 4)


def test_add_months_clamps_month_end():
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)


def test_add_months_leap_year():
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)


def test_add_months_crosses_years():
    assert add_months(dt.date(2026, 12, 4), 36) == dt.date(2029, 12, 4)


def test_review_date_today_rejected():
    assert "after today" in check_review_date(TODAY, TODAY)


def test_review_date_past_rejected():
    assert "after today" in check_review_date(dt.date(2026, 1, 1), TODAY)


def test_review_date_tomorrow_accepted():
    assert check_review_date(dt.date(2026, 12, 5), TODAY) == ""


def test_review_date_at_limit_accepted():
    assert check_review_date(dt.date(2029, 12, 4), TODAY) == ""


def test_review_date_past_limit_rejected():
    assert "36 months" in check_review_date(dt.date(2029, 12, 5), TODAY)


def test_due_date_yesterday_rejected():
    assert "or later" in check_due_date(dt.date(2026, 12, 3), TODAY)


def test_due_date_today_accepted():
    assert check_due_date(TODAY, TODAY) == ""


def test_due_date_years_ahead_accepted():
    assert check_due_date(dt.date(2031, 1, 1), TODAY) == ""


def test_due_date_missing_asks_for_format():
    assert "YYYY-MM-DD" in check_due_date(None, TODAY)


def test_review_date_limit_names_last_day():
    assert "4 December 2029" in check_review_date(dt.date(2099, 1, 1), TODAY)


def test_review_date_missing_asks_format():
    assert "YYYY-MM-DD" in check_review_date(None, TODAY)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-03-31", dt.date(2027, 3, 31)),
        (" 2027-03-31 ", dt.date(2027, 3, 31)),
        (dt.date(2027, 3, 31), dt.date(2027, 3, 31)),
        ("31/03/2027", None),
        ("", None),
        (None, None),
        (20270331, None),
        (dt.datetime(2027, 3, 31, 12, 0), None),
    ],
)
def test_parse_iso_date(value, expected):
    assert parse_iso_date(value) == expected


def test_kind_label_dpia():
    assert assessments.kind_label("dpia") == "DPIA"


def test_kind_label_registered():
    import equality.rules  # noqa: F401 (registers the equality kinds' labels)

    assert assessments.kind_label("equality_assessment") == "full equality impact assessment"


def test_kind_label_unknown_kind():
    assert assessments.kind_label("benefit_review") == "benefit review"


def test_workflow_error_reads_as_words():
    error = assessments.WorkflowError("dpo_advice_recorded", "record_dpo_advice", ["approve", "reject"])
    assert str(error) == (
        "Cannot record DPO advice: the version's status is DPO advice recorded. Allowed now: approve, reject."
    )
