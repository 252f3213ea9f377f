"""Server-rendered pages: what each role can open, forms with error summaries, demo labels, accessibility."""

import re
from html.parser import HTMLParser

import pytest

from governance import register
from governance.clock import format_datetime
from governance.roles import ALL_ROLES, Role
from tests.support import (
    DEFAULT_DEPARTMENT,
    audit_head,
    fill_path,
    make_use_case,
    post_form,
    route_handlers,
    sign_in,
)


class PageParser(HTMLParser):
    """Collects element ids, label targets, form controls and error-summary links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.label_targets: set[str] = set()
        self.controls: list[dict] = []
        self.summary_links: list[str] = []
        self.in_summary = 0
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "label" and "for" in attributes:
            self.label_targets.add(attributes["for"])
        if tag in {"input", "select", "textarea"} and attributes.get("type") not in {"hidden", "submit"}:
            self.controls.append(attributes)
        if tag == "div" and "error-summary" in attributes.get("class", ""):
            self.in_summary += 1
        if tag == "a" and self.in_summary and attributes.get("href", "").startswith("#"):
            self.summary_links.append(attributes["href"][1:])


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


@pytest.fixture
async def target(db, central):
    return await make_use_case(central)


async def signed_in(client, make_person, *roles, username="viewer", department=DEFAULT_DEPARTMENT):
    await make_person(*roles, username=username, department=department)
    await sign_in(client, username)
    return client


# Each page for each role -------------------------------------------------------------------------------


def page_routes(app):
    return [
        (path, handler)
        for method, path, handler in route_handlers(app)
        if method == "GET"
        and not path.startswith(("/api/", "/static/", "/schema"))
        and not handler.opt.get("public")
    ]


@pytest.mark.parametrize("role", sorted(Role, key=lambda role: role.value))
async def test_pages_for_role(app, client, make_person, target, role):
    await signed_in(client, make_person, role)
    problems = []
    for path, handler in page_routes(app):
        response = await client.get(fill_path(path, target.reference), follow_redirects=False)
        allowed = role in handler.opt["roles"]
        if allowed and response.status_code in (401, 403, 500):
            problems.append(f"GET {path}: {response.status_code} for an allowed role")
        if not allowed and response.status_code != 403:
            problems.append(f"GET {path}: {response.status_code}, expected 403")
    assert problems == []


@pytest.mark.parametrize(
    "path", ["/", "/use-cases", "/use-cases/UC-001", "/use-cases/UC-001/history", "/programme"]
)
@pytest.mark.parametrize("role", sorted(Role, key=lambda role: role.value))
async def test_core_page_renders(client, make_person, target, role, path):
    await signed_in(client, make_person, role)
    response = await client.get(path)
    assert response.status_code == 200


async def test_admin_pages_render(client, make_person, target):
    await signed_in(client, make_person, Role.ADMINISTRATOR)
    statuses = [(await client.get(path)).status_code for path in ("/admin/audit", "/admin/accounts")]
    assert statuses == [200, 200]


@pytest.mark.parametrize("role", sorted(ALL_ROLES - {Role.ADMINISTRATOR}, key=lambda role: role.value))
async def test_audit_nav_hidden(client, make_person, target, role):
    await signed_in(client, make_person, role)
    response = await client.get("/use-cases")
    assert 'href="/admin/audit"' not in response.text


async def test_audit_nav_shown_to_admin(client, make_person, target):
    await signed_in(client, make_person, Role.ADMINISTRATOR)
    response = await client.get("/use-cases")
    assert 'href="/admin/audit"' in response.text


async def test_move_form_only_for_central(client, make_person, target):
    await signed_in(client, make_person, Role.BUSINESS_OWNER)
    response = await client.get("/use-cases/UC-001")
    assert "Change stage" not in response.text


async def test_move_form_for_central(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await client.get("/use-cases/UC-001")
    assert "Change stage" in response.text


async def test_edit_link_for_own_department(client, make_person, target):
    await signed_in(client, make_person, Role.BUSINESS_OWNER)
    response = await client.get("/use-cases/UC-001")
    assert 'href="/use-cases/UC-001/edit"' in response.text


async def test_no_edit_link_other_department(client, make_person, target):
    await signed_in(client, make_person, Role.BUSINESS_OWNER, department="Finance")
    response = await client.get("/use-cases/UC-001")
    assert 'href="/use-cases/UC-001/edit"' not in response.text


async def test_edit_form_refused_other_department(client, make_person, target):
    await signed_in(client, make_person, Role.BUSINESS_OWNER, department="Finance")
    response = await client.get("/use-cases/UC-001/edit")
    assert response.status_code == 403


async def test_owner_form_offers_own_department(client, make_person, target, central):
    await make_use_case(central, department="Finance", bot_identifiers=[])
    await signed_in(client, make_person, Role.BUSINESS_OWNER)
    response = await client.get("/use-cases/new")
    options = re.findall(r'<option value="([^"]+)"', response.text.split('id="department"')[1].split("</select>")[0])
    assert options == [DEFAULT_DEPARTMENT]


# The use-case form -------------------------------------------------------------------------------------


def form_fields(**overrides):
    fields = {
        "title": "Online crime reports",
        "department": DEFAULT_DEPARTMENT,
        "business_owner": "Dan Okafor",
        "description": "",
        "systems": "Niche RMS\nSingle Online Home",
        "data_categories": "Criminal offence data",
        "purpose_0": "Recording crime",
        "regime_0": "dpa_2018_part_3",
        "purpose_1": "",
        "regime_1": "",
        "rpa_platform": "uipath",
        "bot_identifiers": "OCR-Crime",
    }
    fields.update(overrides)
    return fields


async def test_form_creates_use_case(client, make_person, department):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await post_form(client, "/use-cases/new", form_fields())
    assert response.headers["location"] == "/use-cases/UC-001?created=1"


async def test_form_stores_lists(client, make_person, department):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    await post_form(client, "/use-cases/new", form_fields())
    view = await register.get_use_case("UC-001")
    assert view.systems == ["Niche RMS", "Single Online Home"]
    assert view.purposes == [{"purpose": "Recording crime", "regime": "dpa_2018_part_3"}]


@pytest.fixture
async def invalid_form(client, make_person, department):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    return await post_form(client, "/use-cases/new", form_fields(title="", regime_0="gdpr", rpa_platform=""))


async def test_form_errors_422(invalid_form):
    assert invalid_form.status_code == 422


async def test_form_errors_stored_nothing(invalid_form):
    assert await register.list_use_cases() == []


async def test_error_summary_names_fields(invalid_form):
    summary = invalid_form.text.split('class="error-summary"')[1].split("</div>")[0]
    assert "Title:" in summary
    assert "Regime for purpose 1:" in summary
    assert "RPA platform:" in summary


async def test_error_summary_links_to_fields(invalid_form):
    page = parse(invalid_form.text)
    assert set(page.summary_links) == {"title", "purposes-0-regime", "rpa_platform"}


async def test_error_summary_links_resolve(invalid_form):
    page = parse(invalid_form.text)
    assert [link for link in page.summary_links if link not in page.ids] == []


async def test_error_summary_takes_focus(invalid_form):
    page = parse(invalid_form.text)
    summary = [attributes for tag, attributes in page.tags if "error-summary" in attributes.get("class", "")]
    assert "autofocus" in summary[0]
    assert summary[0].get("role") == "alert"
    assert summary[0].get("tabindex") == "-1"


async def test_error_shown_at_field(invalid_form):
    assert 'id="title-error"' in invalid_form.text


async def test_page_title_says_error(invalid_form):
    assert "<title>Error: " in invalid_form.text


async def test_form_keeps_entered_values(invalid_form):
    assert "Niche RMS\nSingle Online Home" in invalid_form.text


async def test_every_control_labelled(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    for path in ("/use-cases/new", "/use-cases/UC-001/edit", "/use-cases/UC-001", "/use-cases"):
        page = parse((await client.get(path)).text)
        unlabelled = [control.get("name") for control in page.controls if control.get("id") not in page.label_targets]
        assert unlabelled == [], path


async def test_move_radios_in_fieldset(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    html = (await client.get("/use-cases/UC-001")).text
    fieldset = html.split("<fieldset")[1].split("</fieldset>")[0]
    assert "<legend" in fieldset
    assert 'type="radio"' in fieldset


async def test_owner_other_department_form_403(client, make_person, department):
    from governance import accounts
    from governance.audit import SYSTEM

    await accounts.ensure_department(SYSTEM, "Finance")
    await signed_in(client, make_person, Role.BUSINESS_OWNER)
    before = await audit_head()
    response = await post_form(client, "/use-cases/new", form_fields(department="Finance"))
    assert response.status_code == 403
    assert 'href="#department"' in response.text
    assert await audit_head() == before


async def test_edit_stale_version_409(client, make_person, target, central):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    await register.update_use_case(central, "UC-001", 1, {"title": "Changed elsewhere"})
    response = await post_form(client, "/use-cases/UC-001/edit", form_fields(version="1", bot_identifiers=""))
    assert response.status_code == 409
    assert "Someone else changed this use case" in response.text


async def test_edit_stale_version_unchanged(client, make_person, target, central):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    await register.update_use_case(central, "UC-001", 1, {"title": "Changed elsewhere"})
    await post_form(client, "/use-cases/UC-001/edit", form_fields(version="1", title="Mine"))
    assert (await register.get_use_case("UC-001")).title == "Changed elsewhere"


async def test_move_through_page(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await post_form(client, "/use-cases/UC-001/move", {"to": "assessment", "version": "1"})
    assert response.headers["location"] == "/use-cases/UC-001?moved=assessment"


async def test_move_refused_page_lists_moves(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await post_form(client, "/use-cases/UC-001/move", {"to": "live", "version": "1"})
    assert response.status_code == 409
    assert "Assessment, On hold, Rejected" in response.text


async def test_move_refused_lists_moves_once(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await post_form(client, "/use-cases/UC-001/move", {"to": "live", "version": "1"})
    assert response.text.count("Assessment, On hold, Rejected") == 1


async def test_move_refused_uses_stage_labels(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await post_form(client, "/use-cases/UC-001/move", {"to": "live", "version": "1"})
    assert "A use case cannot move from Idea to Live." in response.text
    assert "on_hold" not in response.text


async def test_move_without_choice_lists_moves(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await post_form(client, "/use-cases/UC-001/move", {"version": "1"})
    assert "it can move to: Assessment, On hold, Rejected." in response.text


async def test_move_without_choice_explains(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await post_form(client, "/use-cases/UC-001/move", {"version": "1"})
    assert response.status_code == 422
    assert "Choose the stage to move to." in response.text


# History and the audit log ------------------------------------------------------------------------------


async def test_history_shows_london_time(client, make_person, target):
    from governance import audit

    await signed_in(client, make_person, Role.PROGRAMME_BOARD)
    entry = (await audit.history_for_use_case("UC-001"))[0]
    response = await client.get("/use-cases/UC-001/history")
    assert format_datetime(entry["occurred_at"]) in response.text


async def test_history_shows_changed_values(client, make_person, target, central):
    await register.update_use_case(central, "UC-001", 1, {"title": "A clearer title"})
    await signed_in(client, make_person, Role.PROGRAMME_BOARD)
    response = await client.get("/use-cases/UC-001/history")
    assert "A clearer title" in response.text


async def test_history_shows_stage_labels(client, make_person, target, central):
    await register.move_use_case(central, "UC-001", "assessment")
    await signed_in(client, make_person, Role.PROGRAMME_BOARD)
    response = await client.get("/use-cases/UC-001/history")
    assert '<th scope="row">Stage</th><td>Idea</td><td>Assessment</td>' in response.text


async def test_history_shows_times_in_words(client, make_person, target, central):
    from benefits import baselines

    values = {"volume_per_month": 10, "manual_minutes_per_item": 5, "residual_minutes_per_item": 1, "source_note": "Sample"}
    first = await baselines.record_baseline(central, "UC-001", values)
    second = await baselines.record_baseline(central, "UC-001", {**values, "volume_per_month": 20}, expected_version=1)
    await signed_in(client, make_person, Role.PROGRAMME_BOARD)
    response = await client.get("/use-cases/UC-001/history")
    assert f"<td>{format_datetime(first.recorded_at)}</td><td>{format_datetime(second.recorded_at)}</td>" in response.text
    assert first.recorded_at.isoformat() not in response.text


async def test_audit_page_filters_by_use_case(client, make_person, target, central):
    await make_use_case(central, title="Another", bot_identifiers=[])
    await signed_in(client, make_person, Role.ADMINISTRATOR)
    response = await client.get("/admin/audit", params={"use_case": "uc-002"})
    assert "UC-002" in response.text
    assert "use_case UC-001" not in response.text


async def test_audit_page_bad_date(client, make_person, target):
    await signed_in(client, make_person, Role.ADMINISTRATOR)
    response = await client.get("/admin/audit", params={"since": "yesterday"})
    assert 'href="#since"' in response.text


async def test_audit_page_bad_date_lists_nothing(client, make_person, target):
    """Entries under the error would look like the filtered result, so none are shown."""
    await signed_in(client, make_person, Role.ADMINISTRATOR)
    response = await client.get("/admin/audit", params={"until": "2026-02-30"})
    assert response.status_code == 422
    assert "use_case UC-001" not in response.text
    assert "<table" not in response.text


async def test_audit_page_bad_date_at_field(client, make_person, target):
    await signed_in(client, make_person, Role.ADMINISTRATOR)
    page = parse((await client.get("/admin/audit", params={"until": "soon"})).text)
    field = next(attributes for tag, attributes in page.tags if attributes.get("id") == "until")
    assert field.get("aria-describedby") == "until-error"
    assert "until-error" in page.ids


async def test_audit_page_good_date_lists(client, make_person, target):
    await signed_in(client, make_person, Role.ADMINISTRATOR)
    response = await client.get("/admin/audit", params={"since": "2000-01-01"})
    assert "use_case UC-001" in response.text


# Demo programme on screen -------------------------------------------------------------------------------


@pytest.fixture
async def demo(app, db):
    from governance.demo import load_demo

    return await load_demo(app.state.contributions)


async def test_demo_illustrative_labelled(client, make_person, demo):
    await signed_in(client, make_person, Role.PROGRAMME_BOARD, username="board.viewer")
    rows = {
        reference: row
        for reference, row in re.findall(r'href="/use-cases/(UC-\d+)">.*?</a></td>(.*?)</tr>', (await client.get("/use-cases")).text, re.S)
    }
    assert "Illustrative" in rows["UC-006"]
    assert "Illustrative" not in rows["UC-001"]


async def test_demo_detail_labelled(client, make_person, demo):
    await signed_in(client, make_person, Role.PROGRAMME_BOARD, username="board.viewer")
    response = await client.get("/use-cases/UC-010")
    assert "Illustrative demo record" in response.text


async def test_demo_backlog_size(client, make_person, demo):
    await signed_in(client, make_person, Role.PROGRAMME_BOARD, username="board.viewer")
    response = await client.get("/use-cases")
    assert len(set(re.findall(r'href="/use-cases/(UC-\d+)"', response.text))) >= 20


async def test_programme_shows_mismatch(client, make_person, demo):
    await signed_in(client, make_person, Role.PROGRAMME_BOARD, username="board.viewer")
    response = await client.get("/programme")
    warning = (
        "The stated revenue total (£3.915m) is £45,000.00 more than the yearly revenue lines add up "
        "to (£3.87m)"
    )
    assert warning in response.text


async def test_programme_shows_capital_lines(client, make_person, demo):
    await signed_in(client, make_person, Role.PROGRAMME_BOARD, username="board.viewer")
    response = await client.get("/programme")
    assert "£1.54m" in response.text
    assert "£1.49m" in response.text
    assert "£3.03m" in response.text


async def test_programme_warning_not_colour_only(client, make_person, demo):
    await signed_in(client, make_person, Role.PROGRAMME_BOARD, username="board.viewer")
    response = await client.get("/programme")
    assert '<span class="visually-hidden">Warning: </span>' in response.text


async def test_business_case_api_reports_mismatch(client, api_headers, demo):
    headers = await api_headers(Role.PROGRAMME_BOARD, scopes=("api:read",))
    totals = (await client.get("/api/v1/business-case", headers=headers)).json()["totals"]
    revenue = next(total for total in totals if total["kind"] == "revenue")
    assert revenue["stated_pence"] == 391_500_000
    assert revenue["summed_pence"] == 387_000_000
    assert revenue["difference_pence"] == 4_500_000


async def test_pages_have_language_and_skip_link(client):
    response = await client.get("/sign-in")
    assert '<html lang="en-GB">' in response.text
    assert 'href="#main-content"' in response.text


async def test_history_lists_readable(client, make_person, target, central):
    await register.update_use_case(central, "UC-001", 1, {"systems": ["Niche RMS", "Storm"]})
    await signed_in(client, make_person, Role.PROGRAMME_BOARD)
    response = await client.get("/use-cases/UC-001/history")
    assert "Niche RMS; Storm" in response.text


@pytest.fixture
def broken_package(app):
    """A package whose use-case panel and work queue both raise."""
    from governance.packages import Contribution

    async def fail(*args):
        raise RuntimeError("package bug")

    app.state.contributions.append(Contribution(name="broken", panels=[fail], queues=[fail]))


async def test_failed_panel_shown_not_hidden(client, make_person, target, broken_package):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await client.get("/use-cases/UC-001")
    assert response.status_code == 200
    assert "BROKEN section unavailable" in response.text


async def test_failed_queue_warns(client, make_person, target, broken_package):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await client.get("/")
    assert response.status_code == 200
    assert "may be incomplete" in response.text


async def test_edit_form_warns_for_live_use_case(client, make_person, target):
    from governance.stages import Stage
    from tests.gate_support import place_at

    await place_at("UC-001", Stage.LIVE)
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await client.get("/use-cases/UC-001/edit")
    assert "stops being ready for live until a new DPIA version assesses the change" in response.text


async def test_edit_form_no_warning_before_go_live(client, make_person, target):
    await signed_in(client, make_person, Role.CENTRAL_TEAM)
    response = await client.get("/use-cases/UC-001/edit")
    assert "stops being ready for live" not in response.text
