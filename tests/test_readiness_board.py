"""The readiness board, its CSV export, and the flags on the register and the use-case page."""

import csv
import datetime as dt
import io

from governance import golive, overrides, register
from governance.clock import utcnow
from governance.roles import Role
from governance.stages import Stage
from tests.gate_support import browser_sign_in, place_at
from tests.support import make_use_case


async def setup_programme(web_checks, central):
    """Three use cases: one live and lapsed (Contact Centre), one blocked at test (Vetting), one idea."""
    live = await make_use_case(central, title="Crime recording")
    await place_at(live.reference, Stage.READY_FOR_LIVE)
    await register.move_use_case(central, live.reference, "live")
    blocked = await make_use_case(central, title="Vetting lookups", department="Vetting Unit")
    await place_at(blocked.reference, Stage.TEST)
    idea = await make_use_case(central, title="ANPR hits")
    web_checks.stub.passed = False
    await golive.sweep()
    return live, blocked, idea


def csv_rows(response) -> list[dict[str, str]]:
    """Parse a CSV download as Excel does: UTF-8 after the byte order mark."""
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_board_lists_every_use_case(client, web_checks, central):
    live, blocked, idea = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    response = await client.get("/readiness")
    assert response.status_code == 200
    for view in (live, blocked, idea):
        assert view.reference in response.text


async def test_board_puts_lapsed_first(client, web_checks, central):
    live, blocked, idea = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    text = (await client.get("/readiness")).text
    attention = text.split("<h2>Needs attention</h2>")[1].split("<h2>")[0]
    assert live.reference in attention
    assert blocked.reference not in attention


async def test_board_filters_by_department(client, web_checks, central):
    live, blocked, idea = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    text = (await client.get("/readiness", params={"department": "Vetting Unit"})).text
    assert f'/use-cases/{blocked.reference}"' in text
    assert f'/use-cases/{live.reference}"' not in text


async def test_board_filters_by_blocker(client, web_checks, central, make_person):
    from governance import manual_checks

    live, blocked, idea = await setup_programme(web_checks, central)
    admin = await make_person(Role.ADMINISTRATOR)
    await manual_checks.create_definition(admin, {"key": "uat", "title": "UAT", "signing_role": "business_owner"})
    owner = await make_person(Role.BUSINESS_OWNER, department="Vetting Unit")
    await manual_checks.sign(owner, blocked.reference, "uat")
    await browser_sign_in(client, "central")
    text = (await client.get("/readiness", params={"blocker": "manual:uat"})).text
    assert f'/use-cases/{live.reference}"' in text
    assert f'/use-cases/{blocked.reference}"' not in text


async def test_board_forbidden_to_business_owner(client, web_checks, make_person):
    owner = await make_person(Role.BUSINESS_OWNER)
    await browser_sign_in(client, owner.username)
    response = await client.get("/readiness")
    assert response.status_code == 403


async def test_board_open_to_programme_board(client, web_checks, make_person):
    board = await make_person(Role.PROGRAMME_BOARD)
    await browser_sign_in(client, board.username)
    response = await client.get("/readiness")
    assert response.status_code == 200


async def test_csv_has_one_row_per_use_case(client, web_checks, central):
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    response = await client.get("/readiness.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert len(csv_rows(response)) == 3


async def test_csv_starts_with_byte_order_mark(client, web_checks, central):
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    response = await client.get("/readiness.csv")
    assert response.content.startswith(b"\xef\xbb\xbfreference,")


async def test_csv_content_type_names_charset_once(client, web_checks, central):
    await browser_sign_in(client, "central")
    response = await client.get("/readiness.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


async def test_csv_keeps_welsh_letters(client, web_checks, central):
    await make_use_case(central, title="Llythyrau cydnabod ŵ ŷ – dioddefwyr")
    await browser_sign_in(client, "central")
    rows = csv_rows(await client.get("/readiness.csv"))
    assert rows[0]["title"] == "Llythyrau cydnabod ŵ ŷ – dioddefwyr"


async def test_csv_lapsed_row_first_and_flagged(client, web_checks, central):
    live, blocked, idea = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    rows = csv_rows(await client.get("/readiness.csv"))
    assert (rows[0]["reference"], rows[0]["flags"]) == (live.reference, "Readiness lapsed")


async def test_csv_filters_by_department(client, web_checks, central):
    live, blocked, idea = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    rows = csv_rows(await client.get("/readiness.csv", params={"department": "Vetting Unit"}))
    assert [row["reference"] for row in rows] == [blocked.reference]


async def test_csv_filters_by_blocker(client, web_checks, central):
    live, blocked, idea = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    rows = csv_rows(await client.get("/readiness.csv", params={"blocker": "stub_assessment"}))
    assert sorted(row["reference"] for row in rows) == [live.reference, blocked.reference, idea.reference]


async def test_csv_unknown_blocker_400(client, web_checks, central):
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    response = await client.get("/readiness.csv", params={"blocker": "no_such_check"})
    assert response.status_code == 400
    assert "The check &#39;no_such_check&#39; is not recognised." in response.text


async def test_csv_unknown_department_400(client, web_checks, central):
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    response = await client.get("/readiness.csv", params={"department": "Nowhere"})
    assert response.status_code == 400


# Filter values that name nothing --------------------------------------------------------------------


async def test_board_unknown_blocker_400(client, web_checks, central):
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    response = await client.get("/readiness", params={"blocker": "zzz"})
    assert response.status_code == 400


async def test_board_unknown_blocker_explained(client, web_checks, central):
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    text = (await client.get("/readiness", params={"blocker": "zzz"})).text
    assert '<a href="#blocker">The check &#39;zzz&#39; is not recognised. Choose one from the list.</a>' in text
    assert 'id="blocker-error"' in text


async def test_board_unknown_filter_shows_no_count(client, web_checks, central):
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    text = (await client.get("/readiness", params={"blocker": "zzz"})).text
    assert "0 use cases" not in text
    assert "No use cases match these filters." not in text


async def test_board_unknown_department_explained(client, web_checks, central):
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    text = (await client.get("/readiness", params={"department": "Nowhere"})).text
    assert "The department &#39;Nowhere&#39; is not recognised." in text


async def test_board_both_unknown_listed(client, web_checks, central):
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    text = (await client.get("/readiness", params={"department": "Nowhere", "blocker": "zzz"})).text
    assert 'href="#department"' in text
    assert 'href="#blocker"' in text


async def test_board_known_idle_check_accepted(client, web_checks, central):
    """A real check that blocks nothing now is a valid filter: the board shows no use cases."""
    await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    response = await client.get("/readiness", params={"blocker": "suspension"})
    assert response.status_code == 200
    assert '<option value="suspension" selected>' in response.text


async def test_board_api_unknown_blocker_400(client, web_checks, central, make_person):
    from tests.support import token_headers

    await setup_programme(web_checks, central)
    headers = await token_headers("central", "api:read")
    response = await client.get("/api/v1/readiness", params={"blocker": "zzz"}, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "blocker"


async def test_board_api_unknown_lists_checks(client, web_checks, central):
    from tests.support import token_headers

    await setup_programme(web_checks, central)
    headers = await token_headers("central", "api:read")
    response = await client.get("/api/v1/readiness", params={"blocker": "zzz"}, headers=headers)
    assert "Known checks: " in response.json()["detail"]
    assert "stub_assessment" in response.json()["detail"]


async def test_board_api_unknown_department_400(client, web_checks, central):
    from tests.support import token_headers

    await setup_programme(web_checks, central)
    headers = await token_headers("central", "api:read")
    response = await client.get("/api/v1/readiness", params={"department": "Nowhere"}, headers=headers)
    assert response.json()["errors"] == [
        {"field": "department", "message": "The department 'Nowhere' is not recognised. Choose one from the list."}
    ]


def test_filter_problems_none_for_known():
    from governance.readiness_board import BoardFilter, filter_problems

    assert filter_problems(BoardFilter("Finance", "dpia"), ["Finance"], {"dpia": "DPIA"}) == []


def test_filter_problems_empty_filters():
    from governance.readiness_board import BoardFilter, filter_problems

    assert filter_problems(BoardFilter(), [], {}) == []


def test_filter_problems_both_fields():
    from governance.readiness_board import BoardFilter, filter_problems

    problems = filter_problems(BoardFilter("Nowhere", "zzz"), ["Finance"], {"dpia": "DPIA"})
    assert [problem.field for problem in problems] == ["department", "blocker"]


async def test_csv_lists_blockers_and_roles(client, web_checks, central):
    live, blocked, idea = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    rows = csv_rows(await client.get("/readiness.csv", params={"department": "Vetting Unit"}))
    assert (rows[0]["blockers"], rows[0]["clearing_roles"]) == ("stub_assessment", "Information Assurance")


async def test_csv_escapes_formula_titles(client, web_checks, central):
    await make_use_case(central, title="=HYPERLINK(\"http://example.invalid\")")
    await browser_sign_in(client, "central")
    rows = csv_rows(await client.get("/readiness.csv"))
    assert rows[0]["title"].startswith("'=")


# Flags on other pages ------------------------------------------------------------------------------


async def test_register_list_flags_lapsed(client, web_checks, central):
    live, _, _ = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    text = (await client.get("/use-cases")).text
    row = text.split(f">{live.reference}</a>")[1].split("</tr>")[0]
    assert "Readiness lapsed" in row


async def test_use_case_page_shows_lapse_banner(client, web_checks, central):
    live, _, _ = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    text = (await client.get(f"/use-cases/{live.reference}")).text
    assert 'aria-label="Readiness lapsed"' in text


async def test_override_flagged_on_register_and_page(client, web_checks, central, make_person):
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    dpo = await make_person(Role.DATA_PROTECTION_OFFICER)
    view = await make_use_case(central)
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    web_checks.stub.passed = False
    requested = await overrides.request_override(central, view.reference, "urgent", utcnow() + dt.timedelta(days=3))
    await overrides.approve(ia, requested.id, "information_assurance")
    await overrides.approve(dpo, requested.id, "data_protection_officer")
    await register.move_use_case(central, view.reference, "live")
    await browser_sign_in(client, "central")
    listing = (await client.get("/use-cases")).text
    detail = (await client.get(f"/use-cases/{view.reference}")).text
    board = csv_rows(await client.get("/readiness.csv"))
    assert "Emergency go-live" in listing
    assert "Emergency go-live in force" in detail
    assert board[0]["flags"] == "Emergency go-live"


async def test_decisions_page_shows_hash(client, web_checks, central):
    live, _, _ = await setup_programme(web_checks, central)
    decision = await golive.latest_granted(live.id, Stage.LIVE)
    await browser_sign_in(client, "central")
    text = (await client.get(f"/use-cases/{live.reference}/go-live-decisions")).text
    assert decision.decision_hash in text


async def test_suspend_from_page(client, web_checks, central):
    live, _, _ = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    from tests.gate_support import submit_form

    response = await submit_form(
        client, f"/use-cases/{live.reference}/suspend", {"reason": "approval lapsed", "version": (await register.get_use_case(live.reference)).version}
    )
    assert response.status_code == 303
    assert (await register.get_use_case(live.reference)).stage is Stage.SUSPENDED


async def test_suspend_page_needs_reason(client, web_checks, central):
    live, _, _ = await setup_programme(web_checks, central)
    await browser_sign_in(client, "central")
    from tests.gate_support import submit_form

    response = await submit_form(client, f"/use-cases/{live.reference}/suspend", {"reason": ""})
    assert response.status_code == 422
    assert 'href="#reason"' in response.text


async def test_suspend_stale_form_keeps_reason(client, web_checks, central):
    from tests.gate_support import submit_form

    live, _, _ = await setup_programme(web_checks, central)
    stale = (await register.get_use_case(live.reference)).version
    await register.update_use_case(central, live.reference, stale, {"title": "Renamed meanwhile"})
    await browser_sign_in(client, "central")
    response = await submit_form(client, f"/use-cases/{live.reference}/suspend", {"reason": "approval lapsed", "version": stale})
    assert response.status_code == 409
    assert ">approval lapsed</textarea>" in response.text
    assert f'name="version" value="{stale + 1}"' in response.text


async def test_suspend_stale_form_suspends_nothing(client, web_checks, central):
    from tests.gate_support import submit_form

    live, _, _ = await setup_programme(web_checks, central)
    stale = (await register.get_use_case(live.reference)).version
    await register.update_use_case(central, live.reference, stale, {"title": "Renamed meanwhile"})
    await browser_sign_in(client, "central")
    await submit_form(client, f"/use-cases/{live.reference}/suspend", {"reason": "approval lapsed", "version": stale})
    assert (await register.get_use_case(live.reference)).stage is Stage.LIVE


async def test_board_says_new_version_restores(client, web_checks, central, make_person):
    from governance import assessments
    from tests.gate_support import DPIA_CHECK, TEST_WORKFLOW, approve_dpia

    web_checks.use(DPIA_CHECK)
    author = await make_person(Role.BUSINESS_OWNER, department="Force Contact Centre")
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await make_use_case(central)
    await place_at(view.reference, Stage.READY_FOR_LIVE)
    await approve_dpia(author, ia, view.id)
    await register.move_use_case(central, view.reference, "live")
    await assessments.start_version(author, view.id, "dpia", "test-1", TEST_WORKFLOW)
    await browser_sign_in(client, "central")
    text = (await client.get("/readiness")).text
    assert "replaces version 1 on record, so readiness returns only when version 2 is approved" in text
