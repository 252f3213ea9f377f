"""A NUL character in a page form: the form comes back with the error at the field, input kept."""

from urllib.parse import urlencode

import pytest

from governance import register
from governance.roles import Role
from governance.tables import AuditEntry
from tests.support import (
    audit_head,
    csrf_token,
    fill_path,
    form_as_shown,
    make_use_case,
    sign_in,
    state_changing_routes,
)

EDIT = "/use-cases/UC-001/edit"


async def post_raw(client, url: str, fields: dict[str, str], headers: dict[str, str] | None = None):
    """Post a form body with the fields exactly as given, NUL characters included."""
    if not csrf_token(client):
        await client.get("/sign-in")
    body = urlencode([*fields.items(), ("_csrf_token", csrf_token(client))])
    return await client.post(
        url,
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        follow_redirects=False,
    )


@pytest.fixture
async def editor(client, make_person, central, department):
    await make_use_case(central)
    await make_person(Role.CENTRAL_TEAM, username="editor")
    await sign_in(client, "editor")
    return client


async def edit_with(client, **changes):
    fields = form_as_shown((await client.get(EDIT)).text, EDIT)
    return await post_raw(client, EDIT, {**fields, **changes})


async def test_edit_nul_shows_form_422(editor):
    response = await edit_with(editor, description="ok\x00nul")
    assert response.status_code == 422
    assert f'action="{EDIT}"' in response.text


async def test_edit_nul_error_at_field(editor):
    response = await edit_with(editor, description="ok\x00nul")
    assert 'id="description-error"' in response.text
    assert 'href="#description">Description: contained a NUL character' in response.text


async def test_edit_nul_keeps_input_without_nul(editor):
    response = await edit_with(editor, description="ok\x00nul", title="Kept title")
    shown = form_as_shown(response.text, EDIT)
    assert shown["description"] == "oknul"
    assert shown["title"] == "Kept title"


async def test_edit_nul_saves_nothing(editor):
    before = await audit_head()
    await edit_with(editor, description="ok\x00nul")
    assert await audit_head() == before
    assert (await register.get_use_case("UC-001")).version == 1


async def test_edit_nul_then_save_works(editor):
    response = await edit_with(editor, description="ok\x00nul")
    again = await post_raw(editor, EDIT, form_as_shown(response.text, EDIT))
    assert again.status_code == 303
    assert (await register.get_use_case("UC-001")).description == "oknul"


async def test_edit_nul_in_purpose_labelled(editor):
    response = await edit_with(editor, purpose_0="Recording\x00crime")
    assert 'href="#purposes-0-purpose">Purpose 1: contained a NUL character' in response.text


async def test_edit_nul_in_two_fields_both_listed(editor):
    response = await edit_with(editor, title="a\x00", business_owner="b\x00")
    assert 'href="#title"' in response.text
    assert 'href="#business_owner"' in response.text


async def test_new_use_case_nul_shows_form(editor):
    form = form_as_shown((await editor.get("/use-cases/new")).text, "/use-cases/new")
    response = await post_raw(editor, "/use-cases/new", {**form, "title": "Vet\x00ting", "business_owner": "Dan"})
    assert response.status_code == 422
    assert form_as_shown(response.text, "/use-cases/new")["title"] == "Vetting"


async def test_baseline_nul_labelled_as_form(editor):
    form = form_as_shown((await editor.get("/use-cases/UC-001/baseline")).text, "/use-cases/UC-001/baseline")
    fields = {**form, "volume_per_month": "10", "manual_minutes_per_item": "5", "residual_minutes_per_item": "1", "source_note": "Study\x00"}
    response = await post_raw(editor, "/use-cases/UC-001/baseline", fields)
    assert 'href="#source_note">Where the figures come from: contained a NUL character' in response.text


async def test_manual_check_nul_labelled_as_form(client, make_person, db):
    await make_person(Role.ADMINISTRATOR, username="check.admin")
    await sign_in(client, "check.admin")
    fields = {"key": "uat", "title": "UAT", "description": "x\x00", "signing_role": "business_owner", "active": "yes"}
    response = await post_raw(client, "/admin/manual-checks/", fields)
    assert response.status_code == 422
    assert 'href="#description">What the signer confirms: contained a NUL character' in response.text


# Handlers that do not show their form again -------------------------------------------------------


async def test_unhandled_form_nul_error_page(editor):
    response = await post_raw(editor, "/use-cases/UC-001/move", {"to": "assessment", "reason": "x\x00", "version": "1"})
    assert response.status_code == 422
    assert "<strong>Reason</strong>: Contained a NUL character" in response.text


async def test_unhandled_form_nul_back_to_referrer(editor):
    response = await post_raw(
        editor,
        "/use-cases/UC-001/move",
        {"to": "assessment", "reason": "x\x00", "version": "1"},
        headers={"Referer": "http://testserver.local/use-cases/UC-001"},
    )
    assert '<a href="/use-cases/UC-001">Go back to the form</a>' in response.text


async def test_unhandled_form_nul_other_site_referrer_ignored(editor):
    response = await post_raw(
        editor,
        "/use-cases/UC-001/move",
        {"to": "assessment", "reason": "x\x00", "version": "1"},
        headers={"Referer": "http://evil.example/use-cases/UC-001"},
    )
    assert "Go back to the form" not in response.text


@pytest.fixture
def package_form(app):
    """A form, as a package might add, whose handler leaves NUL errors to the core's error page."""
    from litestar import Request, get, post

    from governance.auth import PUBLIC
    from governance.web.forms import read_form

    @get("/package-form", opt=PUBLIC)
    async def show() -> str:
        return "form"

    @post("/package-form", opt=PUBLIC)
    async def save(request: Request) -> str:
        await read_form(request)
        return "saved"

    app.register(show)
    app.register(save)


async def test_unhandled_form_nul_back_to_own_page(client, package_form):
    """Without a referrer, a post to an address that also serves the form goes back there."""
    response = await post_raw(client, "/package-form", {"characteristics.age.impact": "x\x00"})
    assert response.status_code == 422
    assert '<a href="/package-form">Go back to the form</a>' in response.text


async def test_unhandled_form_nul_names_field_in_words(client, package_form):
    response = await post_raw(client, "/package-form", {"characteristics.age.impact": "x\x00"})
    assert "<strong>Characteristics: age: impact</strong>: Contained a NUL character" in response.text


async def test_unhandled_form_nul_no_page_no_back_link(editor):
    response = await post_raw(editor, "/use-cases/UC-001/move", {"to": "assessment", "reason": "x\x00", "version": "1"})
    assert "Go back to the form" not in response.text


async def test_unhandled_form_nul_stores_nothing(editor):
    before = await audit_head()
    await post_raw(editor, "/use-cases/UC-001/move", {"to": "assessment", "reason": "x\x00", "version": "1"})
    assert await audit_head() == before


# Every page form ---------------------------------------------------------------------------------


def page_post_routes():
    from governance.app import create_app

    return sorted(
        {path for method, path, handler in state_changing_routes(create_app()) if not path.startswith("/api/") and path != "/sign-out"}
    )


@pytest.fixture(scope="module")
def page_paths():
    import os

    os.environ.setdefault("GOVERNANCE_ENV", "development")
    return page_post_routes()


async def test_every_page_form_rejects_nul(app, client, make_person, central, department, page_paths):
    """Whatever the route, a NUL character in any field never reaches the database or a 500."""
    await make_use_case(central)
    await make_person(*Role, username="everyone", department=department)
    await sign_in(client, "everyone")
    fields = {name: "x\x00y" for name in ("reason", "note", "title", "description", "summary", "label", "key")}
    statuses = {}
    for path in page_paths:
        response = await post_raw(client, fill_path(path, "UC-001"), fields)
        statuses[path] = response.status_code
    stored = await AuditEntry.select(AuditEntry.after, AuditEntry.note).run()
    assert [path for path, status in statuses.items() if status >= 500] == []
    assert [row for row in stored if "\\u0000" in (row["after"] or "") or "\x00" in (row["after"] or "") + row["note"]] == []
