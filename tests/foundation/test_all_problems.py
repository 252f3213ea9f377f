"""Forms and API calls report every problem at once, including those the database finds."""

import pytest

from governance import register
from governance.errors import ErrorCollector, FieldError, InvalidInput
from governance.roles import Role
from tests.foundation.test_pages import form_fields, signed_in
from tests.foundation.test_register_api import valid_body
from tests.support import make_use_case, post_form

URL = "/api/v1/use-cases"


def fields_of(error: InvalidInput) -> list[str]:
    return [item.field for item in error.errors]


# The error collector -----------------------------------------------------------------------------


def test_collector_records_repeat_once():
    errors = ErrorCollector()
    errors.add("rpa_platform", "choose the RPA platform the bots run on")
    errors.add("rpa_platform", "choose the RPA platform the bots run on")
    assert errors.errors == [FieldError("rpa_platform", "choose the RPA platform the bots run on")]


def test_collector_has_part_of_field():
    errors = ErrorCollector()
    errors.add("purposes[0].regime", "unknown regime")
    assert errors.has("purposes")


def test_collector_has_not_other_field():
    errors = ErrorCollector()
    errors.add("purposes_note", "too long")
    assert not errors.has("purposes")


def test_validate_fields_collects_without_raising():
    errors = ErrorCollector()
    register.validate_fields({"title": "", "department": "x", "business_owner": ""}, partial=False, errors=errors)
    assert [error.field for error in errors.errors] == ["title", "business_owner"]


# Creating a use case -----------------------------------------------------------------------------


async def test_create_unknown_department_with_field_errors(central, department):
    data = {**valid_body(), "department": "Nowhere", "rpa_platform": "", "title": ""}
    with pytest.raises(InvalidInput) as raised:
        await register.create_use_case(central, data)
    assert fields_of(raised.value) == ["title", "rpa_platform", "department"]


async def test_create_used_reference_with_field_errors(central, department):
    await make_use_case(central, bot_identifiers=[])
    data = {**valid_body(), "reference": "UC-001", "business_owner": ""}
    with pytest.raises(InvalidInput) as raised:
        await register.create_use_case(central, data)
    assert fields_of(raised.value) == ["business_owner", "reference"]


async def test_create_taken_bot_with_field_errors(central, department):
    await make_use_case(central, bot_identifiers=["VET-Lookups"])
    data = {**valid_body(), "title": ""}
    with pytest.raises(InvalidInput) as raised:
        await register.create_use_case(central, data)
    assert fields_of(raised.value) == ["title", "bot_identifiers"]


async def test_create_every_taken_bot_named(central, department):
    await make_use_case(central, bot_identifiers=["BOT-A", "BOT-B"])
    with pytest.raises(InvalidInput) as raised:
        await register.create_use_case(central, valid_body(bot_identifiers=["BOT-A", "BOT-B"]))
    assert len(raised.value.errors) == 2


async def test_create_all_problems_store_nothing(central, department):
    data = {**valid_body(), "department": "Nowhere", "rpa_platform": ""}
    with pytest.raises(InvalidInput):
        await register.create_use_case(central, data)
    assert await register.list_use_cases() == []


async def test_create_form_lists_unknown_department_too(client, make_person, department):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await post_form(client, "/use-cases/new", form_fields(department="Nowhere", rpa_platform=""))
    summary = response.text.split('class="error-summary"')[1].split("</div>")[0]
    assert "RPA platform:" in summary
    assert "Department: unknown department &#39;Nowhere&#39;" in summary


async def test_create_api_lists_unknown_department_too(client, api_headers, department):
    headers = await api_headers(Role.CENTRAL_TEAM)
    response = await client.post(URL, json=valid_body(department="Nowhere", title=""), headers=headers)
    assert [error["field"] for error in response.json()["errors"]] == ["title", "department"]


# Editing a use case ------------------------------------------------------------------------------


async def test_update_unknown_department_with_field_errors(central, department):
    await make_use_case(central)
    with pytest.raises(InvalidInput) as raised:
        await register.update_use_case(central, "UC-001", 1, {"department": "Nowhere", "title": ""})
    assert fields_of(raised.value) == ["title", "department"]


async def test_update_field_errors_before_stale_version(central, department):
    await make_use_case(central)
    await register.update_use_case(central, "UC-001", 1, {"title": "Changed"})
    with pytest.raises(InvalidInput):
        await register.update_use_case(central, "UC-001", 1, {"department": "Nowhere"})


async def test_update_api_lists_unknown_department_too(client, api_headers, central, department):
    await make_use_case(central)
    headers = await api_headers(Role.CENTRAL_TEAM)
    body = {"version": 1, "department": "Nowhere", "business_owner": ""}
    response = await client.patch(f"{URL}/UC-001", json=body, headers=headers)
    assert [error["field"] for error in response.json()["errors"]] == ["business_owner", "department"]


# Moving a use case -------------------------------------------------------------------------------


async def test_move_unknown_stage_and_long_reason(central, department):
    await make_use_case(central)
    with pytest.raises(InvalidInput) as raised:
        await register.move_use_case(central, "UC-001", "banana", reason="x" * 2001)
    assert fields_of(raised.value) == ["reason", "to"]


# Benefits baselines ------------------------------------------------------------------------------

BASELINE = {
    "volume_per_month": "-5",
    "manual_minutes_per_item": "12.55",
    "residual_minutes_per_item": "20",
    "source_note": "",
}


def baseline_problems(**changes) -> list[str]:
    from benefits.baselines import validate_baseline

    with pytest.raises(InvalidInput) as raised:
        validate_baseline({**BASELINE, **changes})
    return fields_of(raised.value)


def test_baseline_reports_residual_with_other_errors():
    assert baseline_problems() == [
        "volume_per_month",
        "manual_minutes_per_item",
        "residual_minutes_per_item",
        "source_note",
    ]


def test_baseline_negative_volume_named_as_range():
    from benefits.baselines import validate_baseline

    with pytest.raises(InvalidInput) as raised:
        validate_baseline({**BASELINE, "source_note": "study", "manual_minutes_per_item": "30"})
    assert raised.value.errors[0].message == "must be between 1 and 10,000,000"


def test_baseline_no_comparison_against_negative_manual():
    assert baseline_problems(manual_minutes_per_item="-1", residual_minutes_per_item="0") == [
        "volume_per_month",
        "manual_minutes_per_item",
        "source_note",
    ]


def test_baseline_no_comparison_when_residual_unreadable():
    assert "residual_minutes_per_item" in baseline_problems(residual_minutes_per_item="lots")


def test_baseline_residual_equal_to_manual_allowed():
    problems = baseline_problems(manual_minutes_per_item="12.5", residual_minutes_per_item="12.5")
    assert "residual_minutes_per_item" not in problems


async def test_baseline_form_lists_residual_too(client, make_person, central, department):
    await make_use_case(central)
    await signed_in(client, make_person, Role.CENTRAL_TEAM, username="baseline.keeper")
    response = await post_form(client, "/use-cases/UC-001/baseline", BASELINE)
    summary = response.text.split('class="error-summary"')[1].split("</div>")[0]
    assert summary.count("<li>") == 4
    assert "must not exceed the manual minutes per item" in summary


async def test_baseline_api_lists_residual_too(client, api_headers, central, department):
    await make_use_case(central)
    headers = await api_headers(Role.CENTRAL_TEAM)
    body = {"volume_per_month": -5, "manual_minutes_per_item": 12.55, "residual_minutes_per_item": 20, "source_note": ""}
    response = await client.put(f"{URL}/UC-001/baseline", json=body, headers=headers)
    assert [error["field"] for error in response.json()["errors"]] == [
        "volume_per_month",
        "manual_minutes_per_item",
        "residual_minutes_per_item",
        "source_note",
    ]


# Manual checks and emergency go-lives ------------------------------------------------------------


async def test_manual_check_used_key_with_field_errors(make_person, db):
    from governance import manual_checks

    admin = await make_person(Role.ADMINISTRATOR)
    await manual_checks.create_definition(admin, {"key": "uat", "title": "UAT", "signing_role": "business_owner"})
    with pytest.raises(InvalidInput) as raised:
        await manual_checks.create_definition(admin, {"key": "uat", "title": "", "signing_role": "wizard"})
    assert fields_of(raised.value) == ["title", "signing_role", "key"]


async def test_manual_check_form_lists_used_key_too(client, make_person, db):
    from governance import manual_checks

    admin = await make_person(Role.ADMINISTRATOR, username="admin.person")
    await manual_checks.create_definition(admin, {"key": "uat", "title": "UAT", "signing_role": "business_owner"})
    from tests.support import sign_in

    await sign_in(client, "admin.person")
    response = await post_form(client, "/admin/manual-checks/", {"key": "uat", "title": "", "signing_role": "", "active": "yes"})
    summary = response.text.split('class="error-summary"')[1].split("</div>")[0]
    assert summary.count("<li>") == 3


async def test_override_reason_and_expiry_together(central, department):
    from governance import overrides

    await make_use_case(central)
    with pytest.raises(InvalidInput) as raised:
        await overrides.request_override(central, "UC-001", "", None)
    assert fields_of(raised.value) == ["reason", "expires_at"]


async def test_override_form_unreadable_date_with_reason(client, make_person, central, department):
    from tests.gate_support import place_at
    from governance.stages import Stage

    await make_use_case(central)
    await place_at("UC-001", Stage.TEST)
    await signed_in(client, make_person, Role.CENTRAL_TEAM, username="requester")
    response = await post_form(client, "/use-cases/UC-001/emergency-override", {"reason": "", "expires_on": "soon"})
    assert 'href="#reason"' in response.text
    assert 'href="#expires_on"' in response.text


async def test_override_api_unreadable_date_with_reason(client, api_headers, central, department):
    await make_use_case(central)
    headers = await api_headers(Role.CENTRAL_TEAM)
    response = await client.post(f"{URL}/UC-001/emergency-overrides", json={"reason": " ", "expires_at": "soon"}, headers=headers)
    assert [error["field"] for error in response.json()["errors"]] == ["reason", "expires_at"]
