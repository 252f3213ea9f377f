"""The pure comparison of a use case's processing with what an assessment recorded."""

from __future__ import annotations

from governance.register import scope_changes

ASSESSED = {
    "rpa_platform": "uipath",
    "bot_identifiers": ["OCR-CrimeRecording"],
    "purposes": [{"purpose": "Recording crime", "regime": "dpa_2018_part_3"}],
    "data_categories": ["Criminal offence data"],
    "systems": ["Niche RMS"],
}


def changed(**fields):
    return {**ASSESSED, **fields}


def test_same_scope_has_no_changes():
    assert scope_changes(ASSESSED, dict(ASSESSED)) == []


def test_added_bot_named():
    assert scope_changes(ASSESSED, changed(bot_identifiers=["OCR-CrimeRecording", "NewBot"])) == [
        "bot identifiers: added NewBot"
    ]


def test_removed_system_named():
    assert scope_changes(ASSESSED, changed(systems=[])) == ["systems touched: removed Niche RMS"]


def test_regime_change_names_both_regimes():
    [change] = scope_changes(ASSESSED, changed(purposes=[{"purpose": "Recording crime", "regime": "uk_gdpr"}]))
    assert "added Recording crime (UK GDPR" in change


def test_platform_change_uses_labels():
    assert scope_changes(ASSESSED, changed(rpa_platform="blue_prism")) == [
        "RPA platform changed from UiPath to Blue Prism"
    ]


def test_missing_record_counts_as_change():
    assert scope_changes(None, ASSESSED) == ["the assessment does not record the processing it covered"]


def test_each_changed_field_reported():
    assert len(scope_changes(ASSESSED, changed(systems=[], data_categories=[]))) == 2
