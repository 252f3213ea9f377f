"""Canonical JSON, content hashes, and the UK formats for dates and money."""

import datetime as dt
import hashlib
import unicodedata

import pytest

from governance import clock
from governance.canonical import canonical_json, content_hash
from governance.clock import (
    LONDON,
    as_utc,
    financial_year_of,
    format_date,
    format_datetime,
    format_pence,
    london_today,
)


def test_keys_sorted_without_spaces():
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'


def test_key_order_does_not_change_hash():
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})


def test_nested_key_order_does_not_change_hash():
    assert content_hash({"x": {"b": 1, "a": 2}}) == content_hash({"x": {"a": 2, "b": 1}})


def test_unicode_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Zoë")
    assert canonical_json(decomposed) == canonical_json("Zoë")


def test_non_ascii_written_as_utf8():
    assert canonical_json("£3.03m") == '"£3.03m"'


def test_hash_is_sha256_of_canonical_text():
    expected = hashlib.sha256('{"a":1}'.encode()).hexdigest()
    assert content_hash({"a": 1}) == expected


def test_whole_float_equals_int():
    assert canonical_json(2.0) == canonical_json(2)


def test_nan_rejected():
    with pytest.raises(ValueError):
        canonical_json(float("nan"))


def test_naive_datetime_rejected():
    with pytest.raises(ValueError):
        canonical_json(dt.datetime(2026, 1, 1))


def test_aware_datetime_written_in_utc():
    moment = dt.datetime(2026, 7, 1, 12, 0, tzinfo=LONDON)
    assert canonical_json(moment) == '"2026-07-01T11:00:00+00:00"'


def test_date_written_iso():
    assert canonical_json(dt.date(2026, 12, 4)) == '"2026-12-04"'


def test_tuple_same_as_list():
    assert canonical_json((1, 2)) == canonical_json([1, 2])


def test_different_content_different_hash():
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_format_date_gov_uk_style():
    assert format_date(dt.date(2026, 12, 4)) == "4 December 2026"


def test_format_date_converts_to_london():
    late_utc = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.timezone.utc)
    assert format_date(late_utc) == "1 July 2026"


def test_format_datetime_summer_time():
    moment = dt.datetime(2026, 7, 1, 18, 55, tzinfo=dt.timezone.utc)
    assert format_datetime(moment) == "1 July 2026, 7:55pm"


def test_format_datetime_winter_time():
    moment = dt.datetime(2026, 12, 4, 0, 5, tzinfo=dt.timezone.utc)
    assert format_datetime(moment) == "4 December 2026, 12:05am"


def test_as_utc_rejects_naive():
    with pytest.raises(ValueError):
        as_utc(dt.datetime(2026, 1, 1))


def test_london_today_after_midnight_bst():
    moment = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.timezone.utc)
    assert london_today(moment) == dt.date(2026, 7, 1)


@pytest.mark.parametrize(
    ("pence", "short", "expected"),
    [
        (154_000_000, False, "£1,540,000.00"),
        (154_000_000, True, "£1.54m"),
        (391_500_000, True, "£3.915m"),
        (387_000_000, True, "£3.87m"),
        (59_000_000, True, "£0.59m"),
        (4_500_000, True, "£45,000.00"),
        (-199, False, "-£1.99"),
        (0, False, "£0.00"),
    ],
)
def test_format_pence(pence, short, expected):
    assert format_pence(pence, short=short) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 3, 31), "2024/25"),
        (dt.date(2025, 4, 1), "2025/26"),
        (dt.date(2099, 12, 31), "2099/00"),
    ],
)
def test_financial_year_of(day, expected):
    assert financial_year_of(day) == expected


def test_records_dated_pins_utcnow():
    moment = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.timezone.utc)
    with clock.records_dated(moment):
        assert clock.utcnow() == moment


def test_records_dated_restored_after_block():
    moment = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.timezone.utc)
    with clock.records_dated(moment):
        pass
    assert clock.utcnow() > moment


def test_wall_clock_ignores_records_dated():
    moment = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.timezone.utc)
    with clock.records_dated(moment):
        assert clock.wall_clock_now() > moment
