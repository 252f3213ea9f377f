"""Edit conflicts: a save based on an old version never silently reverts another person's change."""

import pytest

from governance import conflicts, register
from governance.conflicts import ChangedField, apply_choices, changed_fields
from governance.errors import FieldError
from governance.roles import Role
from tests.support import form_as_shown, make_use_case, post_form, sign_in

FIELDS = [("title", "Title"), ("business_owner", "Business owner"), ("description", "Description")]
LOADED = {"title": "Crime reports", "business_owner": "Dan", "description": "Old"}


# Rules -------------------------------------------------------------------------------------------


def test_changed_by_other_listed():
    current = {**LOADED, "business_owner": "Priya"}
    sent = {**LOADED, "description": "New"}
    assert changed_fields(FIELDS, current, sent, LOADED) == [
        ChangedField("business_owner", "Business owner", "Priya", "Dan", you_changed=False)
    ]


def test_changed_only_by_sender_not_listed():
    sent = {**LOADED, "description": "New"}
    assert changed_fields(FIELDS, LOADED, sent, LOADED) == []


def test_changed_by_both_listed_as_yours():
    current = {**LOADED, "title": "Theirs"}
    sent = {**LOADED, "title": "Mine"}
    [item] = changed_fields(FIELDS, current, sent, LOADED)
    assert item.you_changed is True


def test_same_change_by_both_not_listed():
    current = {**LOADED, "title": "Same"}
    sent = {**LOADED, "title": "Same"}
    assert changed_fields(FIELDS, current, sent, LOADED) == []


def test_unknown_loaded_values_list_every_difference():
    current = {**LOADED, "business_owner": "Priya"}
    sent = {**LOADED, "description": "New"}
    assert [item.name for item in changed_fields(FIELDS, current, sent, None)] == ["business_owner", "description"]


def test_field_not_sent_not_listed():
    current = {**LOADED, "title": "Theirs"}
    assert changed_fields(FIELDS, current, {"description": "Old"}, LOADED) == []


def test_values_shown_as_text():
    current = {**LOADED, "title": ["a", "b"]}
    [item] = changed_fields(FIELDS, current, LOADED, LOADED, lambda name, value: "/".join(value) if isinstance(value, list) else value)
    assert (item.current, item.yours) == ("a/b", "Crime reports")


def test_preset_keeps_current_when_only_other_changed():
    assert ChangedField("title", "Title", "a", "b", you_changed=False).preset == "current"


def test_no_preset_when_both_changed():
    assert ChangedField("title", "Title", "a", "b", you_changed=True).preset == ""


def test_no_preset_when_loaded_unknown():
    assert ChangedField("title", "Title", "a", "b", you_changed=None).preset == ""


def test_form_values_carry_names_and_presets():
    changed = [ChangedField("title", "Title", "a", "b", True), ChangedField("business_owner", "Owner", "c", "d", False)]
    assert conflicts.form_values(changed, 3) == {
        "conflict_fields": "title,business_owner",
        "base_version": 3,
        "choice_business_owner": "current",
    }


def test_compared_names_ignore_unknown_fields():
    assert conflicts.compared_names({"conflict_fields": "title, version,stage"}, ["title", "stage"]) == ["title", "stage"]


def test_apply_keep_current():
    merged, errors = apply_choices(["title"], {"choice_title": "current"}, {"title": "Theirs"}, {"title": "Mine"})
    assert (merged, errors) == ({"title": "Theirs"}, [])


def test_apply_use_yours():
    merged, errors = apply_choices(["title"], {"choice_title": "yours"}, {"title": "Theirs"}, {"title": "Mine"})
    assert (merged, errors) == ({"title": "Mine"}, [])


def test_apply_missing_choice_is_error():
    merged, errors = apply_choices(["title"], {}, {"title": "Theirs"}, {"title": "Mine"})
    assert errors == [FieldError("choice_title", conflicts.CHOICE_MESSAGE)]


def test_apply_invalid_choice_is_error():
    merged, errors = apply_choices(["title"], {"choice_title": "both"}, {"title": "Theirs"}, {"title": "Mine"})
    assert [error.field for error in errors] == ["choice_title"]


def test_base_version_carried():
    assert conflicts.base_version({"base_version": "4"}, 7) == 4


def test_base_version_defaults_to_form_version():
    assert conflicts.base_version({}, 7) == 7


# The use-case edit form --------------------------------------------------------------------------


EDIT = "/use-cases/UC-001/edit"


@pytest.fixture
async def editor(client, make_person, central, department):
    await make_use_case(central)
    await make_person(Role.CENTRAL_TEAM, username="editor")
    await sign_in(client, "editor")
    return client


async def open_form(client) -> dict[str, str]:
    return form_as_shown((await client.get(EDIT)).text, EDIT)


async def two_tabs(client, tab_a: dict[str, str], tab_b: dict[str, str]):
    """Open the form twice, save tab A's change, then send tab B's; return tab B's response."""
    first = await open_form(client)
    second = dict(first)
    response = await post_form(client, EDIT, {**first, **tab_a})
    assert response.status_code == 303
    return await post_form(client, EDIT, {**second, **tab_b})


async def test_conflict_is_409(editor):
    response = await two_tabs(editor, {"business_owner": "Owner set in tab A"}, {"description": "Set in tab B"})
    assert response.status_code == 409


async def test_conflict_lists_other_change(editor):
    response = await two_tabs(editor, {"business_owner": "Owner set in tab A"}, {"description": "Set in tab B"})
    row = response.text.split('<th scope="row">Business owner</th>')[1].split("</tr>")[0]
    assert "<td>Owner set in tab A</td>" in row
    assert "<td>Dan Okafor<br>" in row


async def test_conflict_omits_own_change(editor):
    response = await two_tabs(editor, {"business_owner": "Owner set in tab A"}, {"description": "Set in tab B"})
    assert '<th scope="row">Description</th>' not in response.text


async def test_conflict_keeps_input(editor):
    response = await two_tabs(editor, {"business_owner": "Owner set in tab A"}, {"description": "Set in tab B"})
    assert form_as_shown(response.text, EDIT)["description"] == "Set in tab B"


async def test_resave_as_shown_keeps_other_change(editor):
    response = await two_tabs(editor, {"business_owner": "Owner set in tab A"}, {"description": "Set in tab B"})
    again = await post_form(editor, EDIT, form_as_shown(response.text, EDIT))
    view = await register.get_use_case("UC-001")
    assert again.status_code == 303
    assert view.business_owner == "Owner set in tab A"
    assert view.description == "Set in tab B"


async def test_both_changed_needs_choice(editor):
    response = await two_tabs(editor, {"title": "Title from tab A"}, {"title": "Title from tab B"})
    again = await post_form(editor, EDIT, form_as_shown(response.text, EDIT))
    assert again.status_code == 422
    assert 'href="#choice_title">Value to save for Title: choose whether to keep the current value or use yours' in again.text


async def test_missing_choice_saves_nothing(editor):
    response = await two_tabs(editor, {"title": "Title from tab A"}, {"title": "Title from tab B"})
    await post_form(editor, EDIT, form_as_shown(response.text, EDIT))
    assert (await register.get_use_case("UC-001")).title == "Title from tab A"


async def test_missing_choice_keeps_comparison(editor):
    response = await two_tabs(editor, {"title": "Title from tab A"}, {"title": "Title from tab B"})
    again = await post_form(editor, EDIT, form_as_shown(response.text, EDIT))
    assert form_as_shown(again.text, EDIT)["conflict_fields"] == "title"


async def test_choose_yours_saves_yours(editor):
    response = await two_tabs(editor, {"title": "Title from tab A"}, {"title": "Title from tab B"})
    await post_form(editor, EDIT, {**form_as_shown(response.text, EDIT), "choice_title": "yours"})
    assert (await register.get_use_case("UC-001")).title == "Title from tab B"


async def test_choose_current_keeps_theirs(editor):
    response = await two_tabs(editor, {"title": "Title from tab A"}, {"title": "Title from tab B", "description": "B"})
    await post_form(editor, EDIT, {**form_as_shown(response.text, EDIT), "choice_title": "current"})
    view = await register.get_use_case("UC-001")
    assert view.title == "Title from tab A"
    assert view.description == "B"


async def test_second_conflict_compares_again(editor, central):
    response = await two_tabs(editor, {"title": "Title from tab A"}, {"title": "Title from tab B"})
    await register.update_use_case(central, "UC-001", 2, {"business_owner": "Changed meanwhile"})
    again = await post_form(editor, EDIT, {**form_as_shown(response.text, EDIT), "choice_title": "yours"})
    assert again.status_code == 409
    assert form_as_shown(again.text, EDIT)["conflict_fields"] == "title,business_owner"


async def test_conflict_without_overlap_says_so(editor):
    response = await two_tabs(editor, {"business_owner": "Owner set in tab A"}, {"business_owner": "Owner set in tab A", "title": "B"})
    assert "Save again to keep both." in response.text


async def test_comparison_choices_labelled(editor):
    response = await two_tabs(editor, {"title": "Title from tab A"}, {"title": "Title from tab B"})
    assert "<legend class=\"fieldset__legend\">Value to save for Title</legend>" in response.text


# The benefits baseline form ----------------------------------------------------------------------

BASELINE_URL = "/use-cases/UC-001/baseline"
BASELINE = {"volume_per_month": 2400, "manual_minutes_per_item": 18, "residual_minutes_per_item": 3, "source_note": "Timed sample"}


@pytest.fixture
async def recorder(client, make_person, central, department):
    await make_use_case(central)
    await make_person(Role.CENTRAL_TEAM, username="recorder")
    await sign_in(client, "recorder")
    return client


async def baseline_tabs(client, tab_a: dict, tab_b: dict):
    first = form_as_shown((await client.get(BASELINE_URL)).text, BASELINE_URL)
    second = dict(first)
    response = await post_form(client, BASELINE_URL, {**first, **tab_a})
    assert response.status_code == 303
    return await post_form(client, BASELINE_URL, {**second, **tab_b})


async def test_baseline_conflict_keeps_other_change(recorder, central):
    from benefits import baselines

    await baselines.record_baseline(central, "UC-001", BASELINE)
    response = await baseline_tabs(recorder, {"volume_per_month": "3000"}, {"source_note": "Second study"})
    again = await post_form(recorder, BASELINE_URL, form_as_shown(response.text, BASELINE_URL))
    stored = await baselines.baseline_for("UC-001")
    assert response.status_code == 409
    assert again.status_code == 303
    assert (stored.volume_per_month, stored.source_note) == (3000, "Second study")


async def test_baseline_conflict_lists_minutes_as_typed(recorder, central):
    from benefits import baselines

    await baselines.record_baseline(central, "UC-001", BASELINE)
    response = await baseline_tabs(recorder, {"manual_minutes_per_item": "20.5"}, {"source_note": "Second study"})
    row = response.text.split('<th scope="row">Manual minutes per item</th>')[1].split("</tr>")[0]
    assert "<td>20.5</td>" in row


async def test_baseline_first_record_race_needs_choice(recorder, central):
    """Two people open the empty form; the second save must not silently replace the first."""
    from benefits import baselines

    first = form_as_shown((await recorder.get(BASELINE_URL)).text, BASELINE_URL)
    await baselines.record_baseline(central, "UC-001", BASELINE)
    response = await post_form(recorder, BASELINE_URL, {**first, **BASELINE, "volume_per_month": "100", "source_note": "Mine"})
    again = await post_form(recorder, BASELINE_URL, form_as_shown(response.text, BASELINE_URL))
    assert response.status_code == 409
    assert again.status_code == 422
    assert (await baselines.baseline_for("UC-001")).volume_per_month == 2400


async def test_baseline_first_record_race_choose_yours(recorder, central):
    from benefits import baselines

    first = form_as_shown((await recorder.get(BASELINE_URL)).text, BASELINE_URL)
    await baselines.record_baseline(central, "UC-001", BASELINE)
    response = await post_form(recorder, BASELINE_URL, {**first, **BASELINE, "volume_per_month": "100", "source_note": "Mine"})
    shown = form_as_shown(response.text, BASELINE_URL)
    choices = {f"choice_{name}": "yours" for name in shown["conflict_fields"].split(",")}
    again = await post_form(recorder, BASELINE_URL, {**shown, **choices})
    assert again.status_code == 303
    assert (await baselines.baseline_for("UC-001")).volume_per_month == 100


# The manual check form ---------------------------------------------------------------------------

CHECK_URL = "/admin/manual-checks/uat"


@pytest.fixture
async def administrator(client, make_person, db):
    from governance import manual_checks

    admin = await make_person(Role.ADMINISTRATOR, username="check.admin")
    await manual_checks.create_definition(admin, {"key": "uat", "title": "UAT", "signing_role": "business_owner"})
    await sign_in(client, "check.admin")
    return client


async def check_tabs(client, tab_a: dict, tab_b: dict):
    first = form_as_shown((await client.get(CHECK_URL)).text, CHECK_URL)
    second = dict(first)
    response = await post_form(client, CHECK_URL, {**first, **tab_a})
    assert response.status_code == 303
    return await post_form(client, CHECK_URL, {**second, **tab_b})


async def test_check_conflict_keeps_other_change(administrator):
    from governance import manual_checks

    response = await check_tabs(administrator, {"signing_role": "information_assurance"}, {"title": "User acceptance testing"})
    again = await post_form(administrator, CHECK_URL, form_as_shown(response.text, CHECK_URL))
    stored = await manual_checks.get_definition("uat")
    assert response.status_code == 409
    assert again.status_code == 303
    assert (stored.signing_role, stored.title) == (Role.INFORMATION_ASSURANCE, "User acceptance testing")


async def test_check_conflict_shows_role_labels(administrator):
    response = await check_tabs(administrator, {"signing_role": "information_assurance"}, {"title": "User acceptance testing"})
    row = response.text.split('<th scope="row">Role that signs it</th>')[1].split("</tr>")[0]
    assert "<td>Information Assurance</td>" in row


async def test_check_unticked_active_conflict(administrator):
    """Retiring a check in one tab is not undone by a title change saved from another."""
    from governance import manual_checks

    first = form_as_shown((await administrator.get(CHECK_URL)).text, CHECK_URL)
    retire = {name: value for name, value in first.items() if name != "active"}
    await post_form(administrator, CHECK_URL, retire)
    response = await post_form(administrator, CHECK_URL, {**first, "title": "UAT sign-off"})
    await post_form(administrator, CHECK_URL, form_as_shown(response.text, CHECK_URL))
    stored = await manual_checks.get_definition("uat")
    assert (stored.active, stored.title) == (False, "UAT sign-off")
