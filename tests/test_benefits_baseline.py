"""Benefits baselines: service, API, form, and the gate check they feed."""

import pytest

from benefits import baselines
from governance import golive
from governance.errors import Forbidden, InvalidInput, StaleVersion
from governance.roles import Role
from tests.gate_support import browser_sign_in, submit_form
from tests.support import make_use_case, token_headers

VALUES = {
    "volume_per_month": 2400,
    "manual_minutes_per_item": 18,
    "residual_minutes_per_item": 3,
    "source_note": "time-and-motion sample, October",
}


async def test_record_and_read_back(checks, central):
    view = await make_use_case(central)
    await baselines.record_baseline(central, view.reference, VALUES)
    stored = await baselines.get_baseline(view.id)
    assert (stored.volume_per_month, stored.manual_seconds_per_item, stored.residual_seconds_per_item) == (2400, 1080, 180)


async def test_record_needs_central_team(checks, central, make_person):
    owner = await make_person(Role.BUSINESS_OWNER, department="Force Contact Centre")
    view = await make_use_case(central)
    with pytest.raises(Forbidden):
        await baselines.record_baseline(owner, view.reference, VALUES)


async def test_replace_needs_version(checks, central):
    view = await make_use_case(central)
    await baselines.record_baseline(central, view.reference, VALUES)
    with pytest.raises(InvalidInput):
        await baselines.record_baseline(central, view.reference, VALUES)


async def test_replace_with_stale_version_rejected(checks, central):
    view = await make_use_case(central)
    await baselines.record_baseline(central, view.reference, VALUES)
    await baselines.record_baseline(central, view.reference, VALUES, expected_version=1)
    with pytest.raises(StaleVersion):
        await baselines.record_baseline(central, view.reference, VALUES, expected_version=1)


async def test_check_passes_with_baseline(checks, central):
    checks.use(baselines.CHECK)
    view = await make_use_case(central)
    await baselines.record_baseline(central, view.reference, VALUES)
    readiness = await golive.evaluate(view.reference)
    assert readiness.ready


async def test_check_evidence_hashes_values(checks, central):
    checks.use(baselines.CHECK)
    view = await make_use_case(central)
    await baselines.record_baseline(central, view.reference, VALUES)
    readiness = await golive.evaluate(view.reference)
    assert len(readiness.checks[0].evidence["values_hash"]) == 64


async def test_api_put_then_get(client, web_checks, central):
    view = await make_use_case(central)
    headers = await token_headers("central", "api:write")
    put = await client.put(f"/api/v1/use-cases/{view.reference}/baseline", json=VALUES, headers=headers)
    assert put.status_code == 200, put.text
    got = await client.get(f"/api/v1/use-cases/{view.reference}/baseline", headers=headers)
    assert got.json()["hours_released_per_month"] == 600.0


async def test_api_get_missing_404(client, web_checks, central):
    view = await make_use_case(central)
    headers = await token_headers("central", "api:read")
    response = await client.get(f"/api/v1/use-cases/{view.reference}/baseline", headers=headers)
    assert response.status_code == 404


async def test_api_residual_above_manual_422(client, web_checks, central):
    view = await make_use_case(central)
    headers = await token_headers("central", "api:write")
    response = await client.put(
        f"/api/v1/use-cases/{view.reference}/baseline",
        json={**VALUES, "residual_minutes_per_item": 20},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "residual_minutes_per_item"


async def test_form_records_baseline(client, web_checks, central):
    view = await make_use_case(central)
    await browser_sign_in(client, "central")
    response = await submit_form(client, f"/use-cases/{view.reference}/baseline", VALUES)
    assert response.status_code == 303
    assert await baselines.get_baseline(view.id) is not None


async def test_form_shows_field_errors(client, web_checks, central):
    view = await make_use_case(central)
    await browser_sign_in(client, "central")
    response = await submit_form(
        client, f"/use-cases/{view.reference}/baseline", {**VALUES, "manual_minutes_per_item": "ten"}
    )
    assert response.status_code == 422
    assert 'href="#manual_minutes_per_item"' in response.text


async def test_panel_on_use_case_page(client, web_checks, central):
    view = await make_use_case(central)
    await baselines.record_baseline(central, view.reference, VALUES)
    await browser_sign_in(client, "central")
    text = (await client.get(f"/use-cases/{view.reference}")).text
    assert "600.0" in text
