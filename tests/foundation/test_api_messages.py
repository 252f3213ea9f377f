"""API error messages in plain words: dates and times, and a missing body."""

import datetime as dt

import msgspec
import pytest
from litestar.exceptions import ValidationException

from governance.roles import Role
from governance.web.errors import MISSING_BODY_MESSAGE, _field_errors

URL = "/api/v1/use-cases"


@pytest.fixture
async def headers(api_headers, department):
    return await api_headers(Role.CENTRAL_TEAM)


class Dates(msgspec.Struct):
    day: dt.date | None = None
    moment: dt.datetime | None = None
    clock: dt.time | None = None


def msgspec_message(**values) -> str:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert(values, Dates)
    return str(caught.value)


def explained(message: str) -> dict[str, str]:
    error = ValidationException(extra=[{"message": message, "key": "data", "source": "body"}])
    return _field_errors(error)[0]


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"day": "2027-13-01"}, "day", "must be a date in the form YYYY-MM-DD, such as 2027-03-31"),
        ({"moment": "tomorrow"}, "moment", "must be a date and time in RFC 3339 form"),
        ({"clock": "25:00"}, "clock", "must be a time in the form HH:MM:SS"),
    ],
)
def test_date_messages(values, field, expected):
    item = explained(msgspec_message(**values))
    assert item["field"] == field
    assert item["message"].startswith(expected)


def test_date_wrong_type_named():
    item = explained(msgspec_message(day=5))
    assert item["message"] == "has the wrong type: expected a date in the form YYYY-MM-DD or null, got a whole number"


async def test_review_date_message(client, api_headers, department):
    """A real route with a date field: the DPIA review date."""
    headers = await api_headers(Role.INFORMATION_ASSURANCE)
    body = {"version": 1, "review_date": "2027-02-30", "reason": "annual review"}
    response = await client.post(f"{URL}/UC-001/dpia/versions/1/review-date", json=body, headers=headers)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "review_date"
    assert "YYYY-MM-DD" in error["message"]


async def test_missing_body_message(client, headers):
    response = await client.post(URL, content=b"", headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body", "message": MISSING_BODY_MESSAGE}]


async def test_no_body_no_content_type(client, headers):
    response = await client.post(URL, headers=headers)
    assert response.json()["detail"] == f"body: {MISSING_BODY_MESSAGE}"


# Capital letters and role labels -------------------------------------------------------------------


@pytest.fixture
def lower_case_route(app):
    """A route, as a package might add, whose Conflict message starts in lower case."""
    from litestar import get

    from governance.auth import PUBLIC
    from governance.errors import Conflict

    @get(["/api/v1/lower-case-conflict", "/lower-case-conflict"], opt=PUBLIC)
    async def lower_case_conflict() -> None:
        raise Conflict("equality screening version 1 was changed by someone else")

    app.register(lower_case_conflict)


async def test_package_message_capitalised_api(client, lower_case_route):
    response = await client.get("/api/v1/lower-case-conflict")
    assert response.json()["detail"] == "Equality screening version 1 was changed by someone else"


async def test_package_message_capitalised_page(client, lower_case_route):
    response = await client.get("/lower-case-conflict")
    assert "<p>Equality screening version 1 was changed by someone else</p>" in response.text


async def test_field_errors_keep_field_name(client, headers):
    response = await client.post(URL, json={"title": "", "department": "x", "business_owner": "y"}, headers=headers)
    assert response.json()["detail"].startswith("title: ")


async def test_role_refusal_names_role_labels(client, api_headers):
    headers = await api_headers(Role.PROGRAMME_BOARD)
    response = await client.post(URL, json={}, headers=headers)
    assert response.json()["detail"] == (
        "Your account does not hold a role that may do this. Roles allowed: Business owner or Central automation team."
    )


def test_roles_in_words_three():
    from governance.auth import roles_in_words

    roles = frozenset({Role.CENTRAL_TEAM, Role.INFORMATION_ASSURANCE, Role.DATA_PROTECTION_OFFICER})
    assert roles_in_words(roles) == "Central automation team, Data Protection Officer or Information Assurance"
