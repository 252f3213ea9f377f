"""Idempotent creation: a repeated form post or API request creates one use case, not two."""

import asyncio
import re

import pytest

from governance import register
from governance.errors import InvalidInput
from governance.roles import Role
from governance.submissions import RepeatedSubmission
from governance.tables import AuditEntry, FormSubmission, UseCase
from tests.foundation.test_pages import form_fields
from tests.foundation.test_register_api import valid_body
from tests.support import browser, make_use_case, post_form, sign_in

URL = "/api/v1/use-cases"
KEY = "3f1c1a52-8f8e-4d8e-9d55-0a4c7f3b6c11"


async def created_count() -> int:
    return await UseCase.count().run()


# Service -----------------------------------------------------------------------------------------------


async def test_repeat_returns_first(central):
    first = await make_use_case(central, idempotency_key=KEY)
    second = await make_use_case(central, idempotency_key=KEY)
    assert second.reference == first.reference
    assert await created_count() == 1


async def test_repeat_audited_once(central):
    await make_use_case(central, idempotency_key=KEY)
    await make_use_case(central, idempotency_key=KEY)
    assert await AuditEntry.count().where(AuditEntry.action == "use_case.created").run() == 1


async def test_concurrent_repeats_create_one(central):
    results = await asyncio.gather(
        make_use_case(central, idempotency_key=KEY), make_use_case(central, idempotency_key=KEY)
    )
    assert {view.reference for view in results} == {"UC-001"}
    assert await created_count() == 1


async def test_repeat_with_explicit_reference(central):
    """A repeat finds the first use case before the reference is checked for reuse."""
    first = await make_use_case(central, reference="UC-100", idempotency_key=KEY)
    second = await make_use_case(central, reference="UC-100", idempotency_key=KEY)
    assert second.reference == first.reference


async def test_different_content_rejected(central):
    await make_use_case(central, idempotency_key=KEY)
    with pytest.raises(RepeatedSubmission) as caught:
        await make_use_case(central, title="Something else", idempotency_key=KEY)
    assert caught.value.reference == "UC-001"
    assert await created_count() == 1


async def test_key_is_per_actor(central, make_person, department):
    other = await make_person(Role.CENTRAL_TEAM, username="other.central")
    await make_use_case(central, idempotency_key=KEY)
    second = await make_use_case(other, idempotency_key=KEY)
    assert second.reference == "UC-002"


async def test_without_key_creates_each_time(central):
    await make_use_case(central)
    await make_use_case(central)
    assert await created_count() == 2


@pytest.mark.parametrize("key", ["short", "x" * 201, "has space in it", "tab\tinside"])
async def test_bad_key_rejected(central, key):
    with pytest.raises(InvalidInput) as caught:
        await make_use_case(central, idempotency_key=key)
    assert caught.value.errors[0].field == "Idempotency-Key"


async def test_failed_create_keeps_key_free(central):
    """A create that fails validation stores nothing, so the corrected request goes through."""
    with pytest.raises(InvalidInput):
        await make_use_case(central, title="", idempotency_key=KEY)
    view = await make_use_case(central, idempotency_key=KEY)
    assert view.reference == "UC-001"


async def test_unique_per_actor_action_key(central):
    """The database backs the rule: one row per actor, action and id."""
    await make_use_case(central, idempotency_key=KEY)
    row = FormSubmission(actor="central", action=register.CREATE_ACTION, form_id=KEY, request_hash="0" * 64, result="UC-009")
    with pytest.raises(Exception, match=r"(?i)unique"):
        await FormSubmission.insert(row).run()


# Page --------------------------------------------------------------------------------------------------


def form_id_of(html: str) -> str:
    return re.search(r'name="form_id" value="([^"]+)"', html).group(1)


@pytest.fixture
async def signed_in_form(client, make_person, department):
    await make_person(Role.CENTRAL_TEAM, username="grace")
    await sign_in(client, "grace")
    return form_id_of((await client.get("/use-cases/new")).text)


async def test_new_form_has_form_id(signed_in_form):
    assert len(signed_in_form) >= 16


async def test_new_form_ids_differ(client, signed_in_form):
    assert form_id_of((await client.get("/use-cases/new")).text) != signed_in_form


async def test_double_submit_one_use_case(client, signed_in_form):
    fields = form_fields(form_id=signed_in_form)
    first = await post_form(client, "/use-cases/new", fields)
    second = await post_form(client, "/use-cases/new", fields)
    assert first.headers["location"] == "/use-cases/UC-001?created=1"
    assert second.headers["location"] == "/use-cases/UC-001?created=1"
    assert await created_count() == 1


async def test_concurrent_submit_one_use_case(client, signed_in_form):
    fields = form_fields(form_id=signed_in_form)
    responses = await asyncio.gather(
        post_form(client, "/use-cases/new", fields), post_form(client, "/use-cases/new", fields)
    )
    assert [response.status_code for response in responses] == [303, 303]
    assert await created_count() == 1


async def test_changed_resubmit_goes_to_first(client, signed_in_form):
    """Back, change a field, save again: the form already created a use case, so that one opens."""
    await post_form(client, "/use-cases/new", form_fields(form_id=signed_in_form))
    second = await post_form(client, "/use-cases/new", form_fields(form_id=signed_in_form, title="Changed"))
    assert second.headers["location"] == "/use-cases/UC-001?created=1"
    assert await created_count() == 1


async def test_error_page_keeps_form_id(client, signed_in_form):
    response = await post_form(client, "/use-cases/new", form_fields(form_id=signed_in_form, title=""))
    assert form_id_of(response.text) == signed_in_form


async def test_form_without_id_gets_one(client, signed_in_form):
    response = await post_form(client, "/use-cases/new", form_fields(title=""))
    assert len(form_id_of(response.text)) >= 16


async def test_edit_form_has_no_form_id(client, signed_in_form, central):
    await make_use_case(central)
    assert 'name="form_id"' not in (await client.get("/use-cases/UC-001/edit")).text


async def test_form_id_per_person(app, client, signed_in_form, make_person):
    """Another person posting the same form id creates their own use case."""
    await post_form(client, "/use-cases/new", form_fields(form_id=signed_in_form))
    await make_person(Role.CENTRAL_TEAM, username="harry")
    async with browser(app) as other:
        await sign_in(other, "harry")
        fields = form_fields(form_id=signed_in_form, bot_identifiers="")
        response = await post_form(other, "/use-cases/new", fields)
    assert response.headers["location"] == "/use-cases/UC-002?created=1"


# API ---------------------------------------------------------------------------------------------------


@pytest.fixture
async def headers(api_headers, department):
    return await api_headers(Role.CENTRAL_TEAM)


async def test_api_repeat_same_response(client, headers):
    first = await client.post(URL, json=valid_body(), headers={**headers, "Idempotency-Key": KEY})
    second = await client.post(URL, json=valid_body(), headers={**headers, "Idempotency-Key": KEY})
    assert second.status_code == 201
    assert second.json()["reference"] == first.json()["reference"]
    assert await created_count() == 1


async def test_api_concurrent_repeats(client, headers):
    responses = await asyncio.gather(
        client.post(URL, json=valid_body(), headers={**headers, "Idempotency-Key": KEY}),
        client.post(URL, json=valid_body(), headers={**headers, "Idempotency-Key": KEY}),
    )
    assert {response.json()["reference"] for response in responses} == {"UC-001"}
    assert await created_count() == 1


async def test_api_key_reused_different_body_409(client, headers):
    await client.post(URL, json=valid_body(), headers={**headers, "Idempotency-Key": KEY})
    response = await client.post(URL, json=valid_body(title="Other"), headers={**headers, "Idempotency-Key": KEY})
    assert response.status_code == 409
    assert response.json()["reference"] == "UC-001"


async def test_api_bad_key_422(client, headers):
    response = await client.post(URL, json=valid_body(), headers={**headers, "Idempotency-Key": "short"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_api_without_key_creates_each_time(client, headers):
    await client.post(URL, json=valid_body(), headers=headers)
    await client.post(URL, json=valid_body(bot_identifiers=[]), headers=headers)
    assert await created_count() == 2


async def test_api_key_documented(client):
    schema = (await client.get("/schema/openapi.json")).json()
    parameters = schema["paths"]["/api/v1/use-cases"]["post"]["parameters"]
    assert [parameter["name"] for parameter in parameters] == ["Idempotency-Key"]
