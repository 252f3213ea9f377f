"""Manual go-live checks: administrators define them; holders of the signing role sign them."""

import pytest

from governance import golive, manual_checks, register
from governance.errors import Conflict, Forbidden, InvalidInput, StaleVersion
from governance.roles import Role
from governance.stages import Stage
from tests.gate_support import browser_sign_in, place_at, submit_form
from tests.support import audit_head, make_use_case, token_headers

SECURITY = {"key": "security", "title": "Security sign-off", "signing_role": "information_assurance"}
UAT = {"key": "uat", "title": "User acceptance testing", "signing_role": "business_owner"}


@pytest.fixture
async def admin(make_person):
    return await make_person(Role.ADMINISTRATOR, username="admin")


async def test_definition_needs_administrator(checks, central):
    with pytest.raises(Forbidden):
        await manual_checks.create_definition(central, SECURITY)


async def test_definition_key_unique(checks, admin):
    await manual_checks.create_definition(admin, SECURITY)
    with pytest.raises(InvalidInput):
        await manual_checks.create_definition(admin, SECURITY)


async def test_definition_stale_version_rejected(checks, admin):
    await manual_checks.create_definition(admin, SECURITY)
    with pytest.raises(StaleVersion):
        await manual_checks.update_definition(admin, "security", 7, {"title": "Security accreditation"})


async def test_definition_changes_audited(checks, admin):
    from governance import audit

    created = await manual_checks.create_definition(admin, SECURITY)
    await manual_checks.update_definition(admin, "security", created.version, {"signing_role": "central_team"})
    entries = await audit.list_entries(audit.AuditFilter(entity_type="manual_check"))
    assert [entry["action"] for entry in entries] == ["manual_check.updated", "manual_check.created"]


async def test_sign_needs_signing_role(checks, admin, central):
    await manual_checks.create_definition(admin, SECURITY)
    view = await make_use_case(central)
    with pytest.raises(Forbidden):
        await manual_checks.sign(central, view.reference, "security")


async def test_business_owner_signs_own_department(checks, admin, central, make_person):
    await manual_checks.create_definition(admin, UAT)
    view = await make_use_case(central)
    owner = await make_person(Role.BUSINESS_OWNER, department=view.department)
    signed = await manual_checks.sign(owner, view.reference, "uat", "passed UAT")
    assert signed.signer_role is Role.BUSINESS_OWNER


async def test_business_owner_other_department_rejected(checks, admin, central, make_person):
    await manual_checks.create_definition(admin, UAT)
    view = await make_use_case(central)
    owner = await make_person(Role.BUSINESS_OWNER, department="Vetting Unit")
    with pytest.raises(Forbidden):
        await manual_checks.sign(owner, view.reference, "uat")


async def test_second_signature_rejected(checks, admin, central, make_person):
    await manual_checks.create_definition(admin, SECURITY)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await make_use_case(central)
    await manual_checks.sign(ia, view.reference, "security")
    with pytest.raises(Conflict):
        await manual_checks.sign(ia, view.reference, "security")


async def test_revoke_needs_reason(checks, admin, central, make_person):
    await manual_checks.create_definition(admin, SECURITY)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await make_use_case(central)
    signed = await manual_checks.sign(ia, view.reference, "security")
    with pytest.raises(InvalidInput):
        await manual_checks.revoke_sign_off(ia, signed.id, " ")


async def test_revoke_by_unrelated_role_rejected(checks, admin, central, make_person):
    await manual_checks.create_definition(admin, SECURITY)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    dpo = await make_person(Role.DATA_PROTECTION_OFFICER)
    view = await make_use_case(central)
    signed = await manual_checks.sign(ia, view.reference, "security")
    with pytest.raises(Forbidden):
        await manual_checks.revoke_sign_off(dpo, signed.id, "not mine to revoke")


async def test_revoked_sign_off_kept_with_reason(checks, admin, central, make_person):
    await manual_checks.create_definition(admin, SECURITY)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await make_use_case(central)
    signed = await manual_checks.sign(ia, view.reference, "security")
    await manual_checks.revoke_sign_off(central, signed.id, "wrong environment tested")
    stored = await manual_checks.get_sign_off(signed.id)
    assert (stored.revoked_by, stored.revocation_reason) == ("central", "wrong environment tested")


# API and pages -------------------------------------------------------------------------------------


async def test_api_admin_creates_definition(client, web_checks, admin):
    headers = await token_headers("admin", "api:write")
    response = await client.post("/api/v1/manual-checks", json=SECURITY, headers=headers)
    assert response.status_code == 201
    assert response.json()["check_name"] == "manual:security"


async def test_api_non_admin_cannot_create(client, web_checks, central):
    headers = await token_headers("central", "api:write")
    response = await client.post("/api/v1/manual-checks", json=SECURITY, headers=headers)
    assert response.status_code == 403


async def test_api_bad_role_names_field(client, web_checks, admin):
    headers = await token_headers("admin", "api:write")
    response = await client.post(
        "/api/v1/manual-checks", json={**SECURITY, "signing_role": "programme_board"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "signing_role"


async def test_api_patch_deactivates(client, web_checks, admin):
    headers = await token_headers("admin", "api:write")
    created = (await client.post("/api/v1/manual-checks", json=SECURITY, headers=headers)).json()
    response = await client.patch(
        "/api/v1/manual-checks/security", json={"version": created["version"], "active": False}, headers=headers
    )
    assert response.json()["active"] is False


async def test_api_sign_and_revoke(client, web_checks, admin, central, make_person):
    await manual_checks.create_definition(admin, SECURITY)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await make_use_case(central)
    headers = await token_headers(ia.username, "api:write")
    signed = await client.post(
        f"/api/v1/use-cases/{view.reference}/manual-checks/security/sign-offs", json={"note": "ok"}, headers=headers
    )
    assert signed.status_code == 201, signed.text
    revoked = await client.post(
        f"/api/v1/manual-check-sign-offs/{signed.json()['id']}/revocation", json={"reason": "retest"}, headers=headers
    )
    assert revoked.json()["revocation_reason"] == "retest"


async def test_page_admin_adds_check(client, web_checks, admin):
    await browser_sign_in(client, "admin")
    response = await submit_form(
        client,
        "/admin/manual-checks/",
        {"key": "security", "title": "Security sign-off", "signing_role": "information_assurance", "active": "yes"},
    )
    assert response.status_code == 303
    assert (await manual_checks.get_definition("security")).active


async def test_page_add_check_errors_listed(client, web_checks, admin):
    await browser_sign_in(client, "admin")
    response = await submit_form(client, "/admin/manual-checks/", {"key": "", "title": "", "signing_role": ""})
    assert response.status_code == 422
    for field in ("key", "title", "signing_role"):
        assert f'href="#{field}"' in response.text


async def test_page_sign_from_use_case(client, web_checks, admin, central, make_person):
    await manual_checks.create_definition(admin, SECURITY)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    view = await make_use_case(central)
    await browser_sign_in(client, ia.username)
    page = await client.get(f"/use-cases/{view.reference}")
    assert "Sign security sign-off" in page.text
    response = await submit_form(client, f"/use-cases/{view.reference}/manual-checks/security/sign", {"note": "ok"})
    assert response.status_code == 303
    assert len(await manual_checks.sign_offs_for(view.id)) == 1


# Revoking across departments -----------------------------------------------------------------------


async def signed_uat(admin, central, make_person, *, live: bool = False):
    """Return (use case, sign-off) for a Force Contact Centre use case whose UAT its owner signed."""
    await manual_checks.create_definition(admin, UAT)
    view = await make_use_case(central)
    owner = await make_person(Role.BUSINESS_OWNER, department=view.department)
    signed = await manual_checks.sign(owner, view.reference, "uat", "passed UAT")
    if live:
        await place_at(view.reference, Stage.READY_FOR_LIVE)
        await register.move_use_case(central, view.reference, "live")
    return view, signed


async def test_revoke_other_department_owner_rejected(checks, admin, central, make_person):
    view, signed = await signed_uat(admin, central, make_person)
    finance = await make_person(Role.BUSINESS_OWNER, department="Finance")
    with pytest.raises(Forbidden) as refused:
        await manual_checks.revoke_sign_off(finance, signed.id, "not my department")
    assert "own department" in refused.value.message


async def test_revoke_other_department_changes_nothing(checks, admin, central, make_person):
    view, signed = await signed_uat(admin, central, make_person)
    finance = await make_person(Role.BUSINESS_OWNER, department="Finance")
    head = await audit_head()
    with pytest.raises(Forbidden):
        await manual_checks.revoke_sign_off(finance, signed.id, "not my department")
    assert not (await manual_checks.get_sign_off(signed.id)).revoked
    assert await audit_head() == head


async def test_revoke_own_department_owner_allowed(checks, admin, central, make_person):
    view, signed = await signed_uat(admin, central, make_person)
    colleague = await make_person(Role.BUSINESS_OWNER, department=view.department)
    revoked = await manual_checks.revoke_sign_off(colleague, signed.id, "retest after the fix")
    assert revoked.revoked_by == colleague.username


async def test_revoke_owner_sign_off_by_central_team(checks, admin, central, make_person):
    view, signed = await signed_uat(admin, central, make_person)
    revoked = await manual_checks.revoke_sign_off(central, signed.id, "signer has left")
    assert revoked.revoked


async def test_revoke_owner_sign_off_by_ia_rejected(checks, admin, central, make_person):
    view, signed = await signed_uat(admin, central, make_person)
    ia = await make_person(Role.INFORMATION_ASSURANCE)
    with pytest.raises(Forbidden):
        await manual_checks.revoke_sign_off(ia, signed.id, "not signed under my role")


async def test_api_revoke_other_department_403(client, web_checks, admin, central, make_person):
    view, signed = await signed_uat(admin, central, make_person, live=True)
    await make_person(Role.BUSINESS_OWNER, username="vet.owner", department="Vetting Unit")
    headers = await token_headers("vet.owner", "api:write")
    head = await audit_head()
    response = await client.post(
        f"/api/v1/manual-check-sign-offs/{signed.id}/revocation", json={"reason": "not mine"}, headers=headers
    )
    assert response.status_code == 403
    assert "own department" in response.text
    assert not (await manual_checks.get_sign_off(signed.id)).revoked
    assert await audit_head() == head


async def test_api_revoke_other_department_keeps_ready(client, web_checks, admin, central, make_person):
    view, signed = await signed_uat(admin, central, make_person, live=True)
    await make_person(Role.BUSINESS_OWNER, username="vet.owner", department="Vetting Unit")
    headers = await token_headers("vet.owner", "api:write")
    await client.post(
        f"/api/v1/manual-check-sign-offs/{signed.id}/revocation", json={"reason": "not mine"}, headers=headers
    )
    readiness = await client.get(
        f"/api/v1/use-cases/{view.reference}/readiness", headers=await token_headers("central", "readiness:read")
    )
    assert readiness.json()["ready"] is True
    assert await golive.open_lapse(view.id) is None


async def test_page_revoke_other_department_403(client, web_checks, admin, central, make_person):
    view, signed = await signed_uat(admin, central, make_person, live=True)
    await make_person(Role.BUSINESS_OWNER, username="fin.owner", department="Finance")
    await browser_sign_in(client, "fin.owner")
    head = await audit_head()
    response = await submit_form(client, f"/manual-check-sign-offs/{signed.id}/revoke", {"reason": "not mine"})
    assert response.status_code == 403
    assert not (await manual_checks.get_sign_off(signed.id)).revoked
    assert await audit_head() == head


async def test_page_revoke_own_department(client, web_checks, admin, central, make_person):
    view, signed = await signed_uat(admin, central, make_person)
    await make_person(Role.BUSINESS_OWNER, username="fcc.owner", department=view.department)
    await browser_sign_in(client, "fcc.owner")
    response = await submit_form(client, f"/manual-check-sign-offs/{signed.id}/revoke", {"reason": "retest"})
    assert response.status_code == 303
    assert (await manual_checks.get_sign_off(signed.id)).revoked


async def _signed_then_moved(admin, central, make_person, definition):
    from governance import accounts
    from governance.audit import SYSTEM

    await manual_checks.create_definition(admin, definition)
    view = await make_use_case(central)
    role = Role(definition["signing_role"])
    signer = await make_person(role, department=view.department if role is Role.BUSINESS_OWNER else None)
    await manual_checks.sign(signer, view.reference, definition["key"])
    await accounts.ensure_department(SYSTEM, "Vetting Unit")
    await register.update_use_case(central, view.reference, view.version, {"department": "Vetting Unit"})
    return view


async def test_department_move_revokes_owner_sign_off(checks, admin, central, make_person):
    view = await _signed_then_moved(admin, central, make_person, UAT)
    [sign_off] = await manual_checks.sign_offs_for(view.id)
    assert "business owner of Vetting Unit must sign again" in sign_off.revocation_reason


async def test_department_move_fails_owner_check(checks, admin, central, make_person):
    view = await _signed_then_moved(admin, central, make_person, UAT)
    report = await golive.readiness_report(view.reference)
    [result] = [item for item in report["checks"] if item["name"] == "manual:uat"]
    assert result["passed"] is False


async def test_department_move_keeps_other_sign_offs(checks, admin, central, make_person):
    view = await _signed_then_moved(admin, central, make_person, SECURITY)
    [sign_off] = await manual_checks.sign_offs_for(view.id)
    assert sign_off.revoked is False
