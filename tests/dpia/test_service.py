"""DPIA service: versions and hashes, the review workflow, separation of duties, conditions, ICO."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json

import pytest

from governance import assessments
from governance.clock import format_date, london_today
from governance.errors import Conflict, Forbidden, InvalidInput, StaleVersion
from governance.roles import Role
from governance.tables import Account, AuditEntry, SignOff

from dpia import rules, service
from dpia.tables import Condition
from tests.support import make_use_case
from tests.dpia.helpers import advised, approved, complete_content, not_required_content, submitted


async def _decision_sign_offs(view) -> list:
    return [item for item in await assessments.list_sign_offs(view.id) if item.decision in ("approved", "approved_with_conditions", "rejected")]


# Versions and hashing -------------------------------------------------------------------------------


async def test_first_version_prefills_regime(author, use_case):
    view = await service.start_version(author, use_case.reference)
    assert view.content["screening"]["regimes"][0]["regime"] == "dpa_2018_part_3"
    assert view.content["matrix"] == {"name": "ico-3x3", "version": 1}


async def test_submit_freezes_and_hashes(author, use_case):
    view = await submitted(author, use_case.reference)
    assert view.status == "submitted"
    assert len(view.content_hash) == 64
    assert view.hash_matches()


async def test_submitted_content_cannot_change(author, use_case):
    view = await submitted(author, use_case.reference)
    with pytest.raises(Conflict):
        await service.save_draft(author, use_case.reference, view.number, view.version, complete_content())


async def test_incomplete_submit_names_fields(author, use_case):
    view = await service.start_version(author, use_case.reference)
    with pytest.raises(InvalidInput) as raised:
        await service.submit(author, use_case.reference, view.number, view.version)
    fields = [error.field for error in raised.value.errors]
    assert "screening.outcome" in fields
    latest = await assessments.latest_version(use_case.id, rules.KIND)
    assert latest.status == "draft"


async def test_change_after_approval_starts_new_version(author, ia, dpo, use_case):
    first = await approved(author, ia, dpo, use_case.reference)
    second = await service.start_version(author, use_case.reference)
    assert second.number == 2
    assert second.content == {key: value for key, value in first.content.items() if key != rules.SCOPE_KEY}
    old = await assessments.get_version(use_case.id, rules.KIND, 1)
    assert old.status == "approved"
    assert old.content_hash == first.content_hash


async def test_new_version_supersedes_one_under_review(author, ia, dpo, use_case):
    await advised(author, ia, dpo, use_case.reference)
    await service.start_version(author, use_case.reference)
    old = await assessments.get_version(use_case.id, rules.KIND, 1)
    assert old.status == "superseded"


async def test_old_hash_stays_after_resubmission(author, ia, dpo, use_case):
    first = await approved(author, ia, dpo, use_case.reference)
    draft = await service.start_version(author, use_case.reference)
    content = copy.deepcopy(draft.content)
    content["risks"][0]["likelihood"] = "probable"
    draft = await service.save_draft(author, use_case.reference, 2, draft.version, content)
    second = await service.submit(author, use_case.reference, 2, draft.version)
    assert second.content_hash != first.content_hash
    sign_offs = await assessments.list_sign_offs(first.id)
    assert {item.content_hash for item in sign_offs} == {first.content_hash}


async def test_diff_between_versions(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    draft = await service.start_version(author, use_case.reference)
    content = copy.deepcopy(draft.content)
    content["risks"][0]["severity"] = "significant"
    await service.save_draft(author, use_case.reference, 2, draft.version, content)
    _, _, changes = await service.diff_versions(use_case.reference, 1, 2)
    assert [change.path for change in changes] == ["risks[0].severity"]


async def test_stale_draft_save_conflicts(author, use_case):
    view = await service.start_version(author, use_case.reference)
    await service.save_draft(author, use_case.reference, 1, view.version, {"screening": {"reasons": "first"}})
    with pytest.raises(StaleVersion):
        await service.save_draft(author, use_case.reference, 1, view.version, {"screening": {"reasons": "second"}})


async def test_other_department_owner_cannot_author(make_person, use_case):
    outsider = await make_person(Role.BUSINESS_OWNER, department="Vetting Unit")
    with pytest.raises(Forbidden):
        await service.start_version(outsider, use_case.reference)


# Workflow and separation of duties ------------------------------------------------------------------


async def test_approval_sets_review_date(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference, complete_content(residual="medium"))
    assert view.review_date == rules.add_months(london_today(), 12)


async def test_approval_records_sign_offs(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    meanings = [item.meaning for item in await assessments.list_sign_offs(view.id)]
    assert meanings == [
        "DPO advice given",
        "DPO advice accepted",
        "Consultation responses reviewed",
        "Measures and residual risks approved",
    ]


async def test_author_cannot_approve(make_person, ia, dpo, use_case):
    author_and_ia = await make_person(Role.BUSINESS_OWNER, Role.INFORMATION_ASSURANCE, department="Force Contact Centre")
    view = await advised(author_and_ia, ia, dpo, use_case.reference)
    with pytest.raises(Forbidden):
        await service.decide(author_and_ia, use_case.reference, 1, view.version, action="approve")


async def test_submitter_cannot_start_review(make_person, author, use_case):
    submitter = await make_person(Role.CENTRAL_TEAM, Role.INFORMATION_ASSURANCE)
    view = await service.start_version(author, use_case.reference)
    view = await service.save_draft(author, use_case.reference, 1, view.version, complete_content())
    view = await service.submit(submitter, use_case.reference, 1, view.version)
    with pytest.raises(Forbidden):
        await service.start_review(submitter, use_case.reference, 1, view.version)


async def test_adviser_cannot_also_approve(make_person, author, ia, use_case):
    both = await make_person(Role.DATA_PROTECTION_OFFICER, Role.INFORMATION_ASSURANCE)
    view = await advised(author, ia, both, use_case.reference)
    with pytest.raises(Forbidden):
        await service.decide(both, use_case.reference, 1, view.version, action="approve")


async def test_approval_needs_role(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    with pytest.raises(Forbidden):
        await service.decide(dpo, use_case.reference, 1, view.version, action="approve")


async def test_decision_needs_dpo_advice(author, ia, use_case):
    view = await submitted(author, use_case.reference)
    view = await service.start_review(ia, use_case.reference, 1, view.version)
    with pytest.raises(Conflict):
        await service.decide(ia, use_case.reference, 1, view.version, action="approve")


async def test_overruling_advice_needs_reasons(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference, advises_approval=False)
    with pytest.raises(InvalidInput) as raised:
        await service.decide(ia, use_case.reference, 1, view.version, action="approve")
    assert raised.value.errors[0].field == "reasons"


async def test_overruling_advice_recorded(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference, advises_approval=False)
    view = await service.decide(ia, use_case.reference, 1, view.version, action="approve", reasons="Risk accepted by the chief officer.")
    overruled = [item for item in await assessments.list_sign_offs(view.id) if item.meaning == "DPO advice overruled"]
    assert overruled[0].reasons == "Risk accepted by the chief officer."


async def test_conditions_required_for_conditional_approval(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput) as raised:
        await service.decide(ia, use_case.reference, 1, view.version, action="approve_with_conditions")
    assert raised.value.errors[0].field == "conditions"


async def test_decision_on_older_version_conflicts(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    await service.start_version(author, use_case.reference)
    with pytest.raises(Conflict) as raised:
        await service.decide(ia, use_case.reference, 1, view.version, action="approve")
    assert raised.value.extra["latest_version"] == 2


async def test_second_decision_conflicts(author, ia, ia2, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    await service.decide(ia, use_case.reference, 1, view.version, action="approve")
    with pytest.raises(Conflict):
        await service.decide(ia2, use_case.reference, 1, view.version + 1, action="reject", reasons="Late")


async def test_concurrent_decisions_record_one(author, ia, ia2, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    results = await asyncio.gather(
        service.decide(ia, use_case.reference, 1, view.version, action="approve"),
        service.decide(ia2, use_case.reference, 1, view.version, action="reject", reasons="Not proportionate."),
        return_exceptions=True,
    )
    failures = [result for result in results if isinstance(result, Exception)]
    assert len(failures) == 1
    assert isinstance(failures[0], Conflict)
    final = await assessments.get_version(use_case.id, rules.KIND, 1)
    assert len(await _decision_sign_offs(final)) == 1
    decided = await AuditEntry.count().where(AuditEntry.action.is_in(["dpia.approve", "dpia.reject"])).run()
    assert decided == 1


async def test_request_changes_then_next_version(author, ia, use_case):
    view = await submitted(author, use_case.reference)
    view = await service.request_changes(ia, use_case.reference, 1, view.version, "Add the retention period.")
    assert view.status == "changes_requested"
    second = await service.start_version(author, use_case.reference)
    assert second.number == 2
    assert second.status == "draft"


async def test_request_changes_after_advice_allowed(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    view = await service.request_changes(ia, use_case.reference, 1, view.version, "Reflect the DPO's point on logging.")
    assert view.status == "changes_requested"


async def test_not_required_screening_needs_approval(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference, not_required_content())
    signatures = [item.meaning for item in await assessments.list_sign_offs(view.id)]
    assert "Screening outcome approved: no DPIA needed" in signatures
    findings = await service.readiness_findings(use_case.id)
    assert findings[0].passed


async def test_not_required_unapproved_blocks(author, use_case):
    await submitted(author, use_case.reference, not_required_content())
    findings = await service.readiness_findings(use_case.id)
    assert not findings[0].passed


async def test_sign_offs_cannot_be_edited(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    with pytest.raises(Exception, match="append-only"):
        await SignOff.update({SignOff.meaning: "forged"}).where(SignOff.id > 0).run()


async def test_sign_offs_cannot_be_deleted(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    with pytest.raises(Exception, match="append-only"):
        await SignOff.delete().where(SignOff.id > 0).run()


# After approval -------------------------------------------------------------------------------------


async def test_readiness_passes_after_approval(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    findings = await service.readiness_findings(use_case.id)
    assert findings[0].passed
    assert findings[0].evidence["content_hash"] == view.content_hash


async def test_revocation_blocks(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    await service.revoke(ia, use_case.reference, 1, view.version, "The bot now reads a new system.")
    findings = await service.readiness_findings(use_case.id)
    assert "revoked" in findings[0].detail


async def test_revocation_needs_reason(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput):
        await service.revoke(ia, use_case.reference, 1, view.version, " ")


async def test_revocation_needs_role(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    with pytest.raises(Forbidden):
        await service.revoke(author, use_case.reference, 1, view.version, "Mine")


async def test_review_date_change_needs_reason(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput):
        await service.change_review_date(ia, use_case.reference, 1, view.version, london_today() + dt.timedelta(days=90), "")


async def test_past_review_date_blocks(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    tomorrow = london_today() + dt.timedelta(days=1)
    await service.change_review_date(ia, use_case.reference, 1, view.version, tomorrow, "Brought forward after an incident.")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    findings = await service.readiness_findings(use_case.id, later)
    assert "lapsed" in findings[0].detail


@pytest.mark.parametrize(
    "review_date",
    [
        dt.date(2099, 1, 1),
        assessments.add_months(london_today(), 36) + dt.timedelta(days=1),
        london_today(),
        london_today() - dt.timedelta(days=1),
        "2027-02-30",
        "",
    ],
)
async def test_review_date_outside_limits_is_422(author, ia, dpo, use_case, review_date):
    view = await approved(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput) as raised:
        await service.change_review_date(ia, use_case.reference, 1, view.version, review_date, "Align with the review cycle.")
    assert [error.field for error in raised.value.errors] == ["review_date"]


async def test_review_date_rejection_stores_nothing(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput):
        await service.change_review_date(ia, use_case.reference, 1, view.version, dt.date(2099, 1, 1), "Far ahead.")
    after = await assessments.get_version(use_case.id, "dpia", 1)
    assert after.review_date == view.review_date


async def test_review_date_at_limit_accepted(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    limit = assessments.add_months(london_today(), 36)
    moved = await service.change_review_date(ia, use_case.reference, 1, view.version, limit, "Low risk, reviewed with the contract.")
    assert moved.review_date == limit


async def test_pre_go_live_condition_blocks_until_met(author, ia, dpo, use_case):
    condition = service.NewCondition("Brief the crime recorders.", "Training lead", None, True)
    await approved(author, ia, dpo, use_case.reference, action="approve_with_conditions", conditions=[condition])
    findings = await service.readiness_findings(use_case.id)
    assert "Brief the crime recorders." in findings[0].detail
    recorded = (await service.list_conditions(use_case.id))[0]
    await service.mark_condition_met(author, use_case.reference, recorded.id, recorded.version, "Briefed on 1 December.")
    assert (await service.readiness_findings(use_case.id))[0].passed


async def test_later_condition_does_not_block(author, ia, dpo, use_case):
    condition = service.NewCondition("Report link errors after three months.", "Dan Okafor", None, False)
    await approved(author, ia, dpo, use_case.reference, action="approve_with_conditions", conditions=[condition])
    assert (await service.readiness_findings(use_case.id))[0].passed


async def test_condition_added_after_approval_blocks(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    await service.add_condition(ia, use_case.reference, service.NewCondition("Pen test the bot account.", "Security", None, True))
    assert not (await service.readiness_findings(use_case.id))[0].passed


async def test_withdrawn_condition_stops_blocking(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    condition = await service.add_condition(ia, use_case.reference, service.NewCondition("Pen test.", "Security", None, True))
    await service.withdraw_condition(ia, use_case.reference, condition.id, condition.version, "Covered by the platform test.")
    assert (await service.readiness_findings(use_case.id))[0].passed
    assert await Condition.count().run() == 1


async def test_condition_changes_audited(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    condition = await service.add_condition(ia, use_case.reference, service.NewCondition("Pen test.", "Security", None, True))
    await service.update_condition(ia, use_case.reference, condition.id, condition.version, {"owner": "Cyber team"})
    actions = [row["action"] for row in await AuditEntry.select(AuditEntry.action).where(AuditEntry.entity_type == "dpia_condition").run()]
    assert actions == ["dpia.condition_added", "dpia.condition_updated"]


async def test_ico_consultation_lifecycle(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference, complete_content(residual="high"))
    assert "no consultation" in (await service.readiness_findings(use_case.id))[0].detail

    ico = await service.record_ico_consultation(dpo, use_case.reference, submitted_on=london_today())
    assert "pending" in (await service.readiness_findings(use_case.id))[0].detail

    ico = await service.record_ico_response(
        dpo, use_case.reference, ico.version, response="No objection.", response_received_on=london_today(), outcome="no_objection"
    )
    assert (await service.readiness_findings(use_case.id))[0].passed

    await service.reopen_ico_consultation(ia, use_case.reference, ico.version, "The ICO asked for the logging design.")
    assert not (await service.readiness_findings(use_case.id))[0].passed


async def test_ico_not_needed_without_high_risk(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    with pytest.raises(Conflict):
        await service.record_ico_consultation(dpo, use_case.reference, submitted_on=london_today())


async def test_ico_outcome_outside_list_rejected(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference, complete_content(residual="high"))
    ico = await service.record_ico_consultation(dpo, use_case.reference, submitted_on=london_today())
    with pytest.raises(InvalidInput) as raised:
        await service.record_ico_response(dpo, use_case.reference, ico.version, response="x", response_received_on=london_today(), outcome="maybe")
    assert raised.value.errors[0].field == "outcome"


async def test_readiness_changes_reported(author, ia, dpo, use_case, monkeypatch):
    calls = []

    async def spy(actor, use_case_id, reason):
        calls.append(reason)

    monkeypatch.setattr("governance.golive.readiness_may_have_changed", spy)
    await approved(author, ia, dpo, use_case.reference, complete_content(residual="high"))
    ico = await service.record_ico_consultation(dpo, use_case.reference, submitted_on=london_today())
    ico = await service.record_ico_response(dpo, use_case.reference, ico.version, response="Fine.", response_received_on=london_today(), outcome="no_objection")
    await service.reopen_ico_consultation(dpo, use_case.reference, ico.version, "More questions.")
    condition = await service.add_condition(ia, use_case.reference, service.NewCondition("Pen test.", "Security", None, True))
    await service.update_condition(ia, use_case.reference, condition.id, condition.version, {"text": "Pen test before go-live."})
    assert any("reopened" in reason for reason in calls)
    assert any("condition" in reason and "added" in reason for reason in calls)
    assert any("condition" in reason and "updated" in reason for reason in calls)


# ICO step 7: sign-off and outcomes -----------------------------------------------------------------


async def test_screening_outcome_records_no_consultation_review(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference, not_required_content())
    meanings = [item.meaning for item in await assessments.list_sign_offs(view.id)]
    assert "Consultation responses reviewed" not in meanings


async def test_consultation_reasons_recorded(author, ia, dpo, use_case):
    view = await approved(
        author, ia, dpo, use_case.reference, consultation_reasons="Victims' groups asked for no automation; the human check answers this."
    )
    reviewed = [item for item in await assessments.list_sign_offs(view.id) if item.meaning == "Consultation responses reviewed"]
    assert reviewed[0].reasons == "Victims' groups asked for no automation; the human check answers this."


async def test_consultation_review_bound_to_hash(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    reviewed = [item for item in await assessments.list_sign_offs(view.id) if item.meaning == "Consultation responses reviewed"]
    assert reviewed[0].content_hash == view.content_hash


async def test_consultation_reasons_rejected_for_screening_outcome(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference, not_required_content())
    with pytest.raises(InvalidInput) as raised:
        await service.decide(ia, use_case.reference, 1, view.version, action="approve", consultation_reasons="Not needed.")
    assert [error.field for error in raised.value.errors] == ["consultation_reasons"]


async def test_review_owner_defaults_to_decider(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    owner = await service.get_review_owner(view.id)
    assert owner.username == ia.username


async def test_review_owner_named_at_decision(author, ia, dpo, use_case, make_person):
    await make_person(Role.BUSINESS_OWNER, username="sam.owner", department="Force Contact Centre")
    view = await approved(author, ia, dpo, use_case.reference, review_owner="sam.owner")
    owner = await service.get_review_owner(view.id)
    assert (owner.username, owner.name, owner.named_by) == ("sam.owner", "Sam.Owner", ia.username)


async def test_review_owner_audited(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    entries = await AuditEntry.select(AuditEntry.after).where(AuditEntry.action == "dpia.review_owner_named").run()
    assert json.loads(entries[0]["after"])["review_owner"] == "ia.one"


async def test_unknown_review_owner_is_422(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput) as raised:
        await service.decide(ia, use_case.reference, 1, view.version, action="approve", review_owner="nobody")
    assert [error.field for error in raised.value.errors] == ["review_owner"]


async def test_unknown_review_owner_stores_nothing(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput):
        await service.decide(ia, use_case.reference, 1, view.version, action="approve", review_owner="nobody")
    latest = await assessments.get_version(use_case.id, "dpia", 1)
    assert latest.status == "dpo_advice_recorded"


async def test_disabled_review_owner_is_422(author, ia, dpo, use_case, make_person):
    leaver = await make_person(Role.INFORMATION_ASSURANCE, username="leaver")
    await Account.update({Account.active: False}).where(Account.id == leaver.account_id).run()
    view = await advised(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput):
        await service.decide(ia, use_case.reference, 1, view.version, action="approve", review_owner="leaver")


async def test_review_owner_refused_on_rejection(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput) as raised:
        await service.decide(
            ia, use_case.reference, 1, view.version, action="reject", reasons="Too risky.", review_owner="ia.one"
        )
    assert [error.field for error in raised.value.errors] == ["review_owner"]


async def test_rejection_names_no_review_owner(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference, advises_approval=False)
    view = await service.decide(ia, use_case.reference, 1, view.version, action="reject")
    assert await service.get_review_owner(view.id) is None


async def _outcome_rows(reference: str, number: int = 1):
    state = await service.overview(reference)
    return await service.sign_off_and_outcomes(state, state.version(number))


ICO_STEP_7 = [
    "Measures approved by",
    "Residual risks approved by",
    "DPO advice provided",
    "DPO advice accepted or overruled by",
    "Consultation responses reviewed by",
    "This DPIA will be kept under review by",
]


async def test_outcome_rows_in_ico_order(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    rows = await _outcome_rows(use_case.reference)
    assert [row.item for row in rows] == ICO_STEP_7


async def test_outcome_rows_name_signers(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    rows = await _outcome_rows(use_case.reference)
    signers = [row.signed_by.split(",")[0] for row in rows]
    assert signers == [ia.display_name, ia.display_name, dpo.display_name, ia.display_name, ia.display_name, ia.display_name]


async def test_outcome_rows_dpo_summary(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["DPO advice provided"].notes == "Advises approval. Summary: Measures are proportionate."


async def test_outcome_rows_overrule_reasons(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference, advises_approval=False)
    await service.decide(ia, use_case.reference, 1, view.version, action="approve", reasons="The human check answers the DPO's concern.")
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["DPO advice accepted or overruled by"].notes == "Overruled. Reasons: The human check answers the DPO's concern."


async def test_outcome_rows_review_date(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["This DPIA will be kept under review by"].notes == f"Review due by {format_date(view.review_date)}."


async def test_outcome_rows_residual_risk(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference, complete_content(residual="medium"))
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["Residual risks approved by"].notes.startswith("Highest residual risk: Medium.")


async def test_outcome_rows_undecided(author, ia, dpo, use_case):
    await advised(author, ia, dpo, use_case.reference)
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["Measures approved by"].signed_by.startswith("Not yet")


async def test_outcome_rows_rejected_not_kept_under_review(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference, advises_approval=False)
    await service.decide(ia, use_case.reference, 1, view.version, action="reject")
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["This DPIA will be kept under review by"].signed_by.startswith("Not applicable")


async def test_outcome_rows_screening_outcome(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference, not_required_content())
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["Consultation responses reviewed by"].signed_by.startswith("Not applicable")


# Messages and collected errors ----------------------------------------------------------------------


async def test_conditions_numbered_per_version(author, ia, dpo, use_case):
    conditions = [
        service.NewCondition("Brief the crime recorders.", "Training lead", None, True),
        service.NewCondition("Report link errors monthly.", "Dan Okafor", None, False),
    ]
    await approved(author, ia, dpo, use_case.reference, action="approve_with_conditions", conditions=conditions)
    numbers = [item.number for item in await service.list_conditions(use_case.id)]
    assert numbers == [1, 2]


async def test_blocker_names_condition_number(author, ia, dpo, use_case, central):
    other = await make_use_case(central, title="Firearms licence renewals")
    first = service.NewCondition("Brief the licensing team.", "Licensing lead", None, True)
    await approved(author, ia, dpo, other.reference, action="approve_with_conditions", conditions=[first])
    second = service.NewCondition("Brief the crime recorders.", "Training lead", None, True)
    await approved(author, ia, dpo, use_case.reference, action="approve_with_conditions", conditions=[second])
    [recorded] = await service.list_conditions(use_case.id)
    assert recorded.id == 2
    [finding] = await service.readiness_findings(use_case.id)
    assert finding.detail.startswith("Condition 1 of DPIA version 1 must be met before go-live")


async def test_decision_rejects_past_due_date(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    yesterday = london_today() - dt.timedelta(days=1)
    condition = service.NewCondition("Brief the crime recorders.", "Training lead", yesterday.isoformat(), True)
    with pytest.raises(InvalidInput) as raised:
        await service.decide(ia, use_case.reference, 1, view.version, action="approve_with_conditions", conditions=[condition])
    assert [error.field for error in raised.value.errors] == ["conditions[0].due_date"]
    assert raised.value.errors[0].message == f"must be today ({format_date(london_today())}) or later"
    assert (await assessments.latest_version(use_case.id, rules.KIND)).status == "dpo_advice_recorded"


async def test_decision_accepts_due_today(author, ia, dpo, use_case):
    condition = service.NewCondition("Brief the crime recorders.", "Training lead", london_today(), True)
    await approved(author, ia, dpo, use_case.reference, action="approve_with_conditions", conditions=[condition])
    [recorded] = await service.list_conditions(use_case.id)
    assert recorded.due_date == london_today()


async def test_added_condition_rejects_past_due_date(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    condition = service.NewCondition("Pen test.", "Security", "2019-01-01", True)
    with pytest.raises(InvalidInput) as raised:
        await service.add_condition(ia, use_case.reference, condition)
    assert [error.field for error in raised.value.errors] == ["due_date"]
    assert await service.list_conditions(use_case.id) == []


async def test_condition_update_rejects_past_due_date(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    condition = await service.add_condition(ia, use_case.reference, service.NewCondition("Pen test.", "Security", None, True))
    with pytest.raises(InvalidInput) as raised:
        await service.update_condition(ia, use_case.reference, condition.id, condition.version, {"due_date": "2019-01-01"})
    assert [error.field for error in raised.value.errors] == ["due_date"]


async def test_condition_update_keeps_passed_due_date(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    condition = await service.add_condition(ia, use_case.reference, service.NewCondition("Pen test.", "Security", london_today(), True))
    passed = london_today() - dt.timedelta(days=10)
    await Condition.update({Condition.due_date: passed}).where(Condition.id == condition.id).run()
    changed = await service.update_condition(
        ia, use_case.reference, condition.id, condition.version, {"owner": "Cyber team", "due_date": passed}
    )
    assert changed.owner == "Cyber team"
    assert changed.due_date == passed


async def test_condition_due_date_text_parsed(author, ia, dpo, use_case):
    condition = service.NewCondition("Brief the crime recorders.", "Training lead", "2027-06-30", True)
    await approved(author, ia, dpo, use_case.reference, action="approve_with_conditions", conditions=[condition])
    recorded = (await service.list_conditions(use_case.id))[0]
    assert recorded.due_date == dt.date(2027, 6, 30)


async def test_dpo_advice_reports_all_missing_fields(author, ia, dpo, use_case):
    view = await submitted(author, use_case.reference)
    view = await service.start_review(ia, use_case.reference, 1, view.version)
    with pytest.raises(InvalidInput) as raised:
        await service.record_dpo_advice(dpo, use_case.reference, 1, view.version, advises_approval=None, summary=" ")
    assert [error.field for error in raised.value.errors] == ["advises_approval", "summary"]


async def test_decision_reports_all_errors(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    bad = service.NewCondition("", "Training lead", "30/06/2027", True)
    with pytest.raises(InvalidInput) as raised:
        await service.decide(ia, use_case.reference, 1, view.version, action="", conditions=[bad])
    assert [error.field for error in raised.value.errors] == [
        "decision",
        "conditions[0].text",
        "conditions[0].due_date",
        "conditions",
    ]


async def test_missing_decision_message_is_readable(author, ia, dpo, use_case):
    view = await advised(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput) as raised:
        await service.decide(ia, use_case.reference, 1, view.version, action="")
    assert raised.value.errors[0].message == "is missing; choose approve, approve with conditions or reject"


async def test_review_date_reports_date_and_reason(author, ia, dpo, use_case):
    view = await approved(author, ia, dpo, use_case.reference)
    with pytest.raises(InvalidInput) as raised:
        await service.change_review_date(ia, use_case.reference, 1, view.version, "2099-01-01", "")
    assert [error.field for error in raised.value.errors] == ["review_date", "reason"]


async def test_ico_response_reports_all_errors(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference, complete_content(residual="high"))
    ico = await service.record_ico_consultation(dpo, use_case.reference, submitted_on=london_today())
    with pytest.raises(InvalidInput) as raised:
        await service.record_ico_response(
            dpo, use_case.reference, ico.version, response="", response_received_on="tomorrow", outcome=""
        )
    assert [error.field for error in raised.value.errors] == ["response", "response_received_on", "outcome"]


async def test_ico_consultation_date_text_checked(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference, complete_content(residual="high"))
    with pytest.raises(InvalidInput) as raised:
        await service.record_ico_consultation(dpo, use_case.reference, submitted_on="2 December")
    assert [error.field for error in raised.value.errors] == ["submitted_on"]


async def test_wrong_decider_message_names_dpia(author, make_person, ia, dpo, use_case):
    author_and_ia = await make_person(Role.BUSINESS_OWNER, Role.INFORMATION_ASSURANCE, department="Force Contact Centre")
    view = await advised(author_and_ia, ia, dpo, use_case.reference)
    with pytest.raises(Forbidden) as raised:
        await service.decide(author_and_ia, use_case.reference, 1, view.version, action="approve")
    assert str(raised.value).startswith("You wrote or submitted DPIA version 1, so you cannot decide on it.")


async def test_step_7_before_decision_low_residual(author, ia, use_case):
    view = await submitted(author, use_case.reference)
    await service.start_review(ia, use_case.reference, 1, view.version)
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["Residual risks approved by"].notes == (
        "As assessed in this version, the highest residual risk is low. Prior consultation with the ICO "
        "would not be required, because no risk stays high after the measures."
    )


async def test_step_7_before_decision_high_residual(author, use_case):
    await submitted(author, use_case.reference, complete_content(residual="high"))
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["Residual risks approved by"].notes.endswith(
        "Prior consultation with the ICO will be required if the version is approved."
    )


async def test_step_7_before_decision_screening_outcome(author, use_case):
    await submitted(author, use_case.reference, not_required_content())
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert rows["Residual risks approved by"].notes == ""


async def test_step_7_after_approval_names_ico(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference)
    rows = {row.item: row for row in await _outcome_rows(use_case.reference)}
    assert "Prior consultation with the ICO: not required" in rows["Residual risks approved by"].notes


async def test_unknown_advice_answer_rejected(author, ia, dpo, use_case):
    view = await submitted(author, use_case.reference)
    view = await service.start_review(ia, use_case.reference, 1, view.version)
    with pytest.raises(InvalidInput) as raised:
        await service.record_dpo_advice(dpo, use_case.reference, 1, view.version, advises_approval="maybe", summary="Fine.")
    assert raised.value.errors[0].message.startswith("'maybe' is not an answer; choose yes")


async def test_form_answer_accepted(author, ia, dpo, use_case):
    view = await submitted(author, use_case.reference)
    view = await service.start_review(ia, use_case.reference, 1, view.version)
    view = await service.record_dpo_advice(dpo, use_case.reference, 1, view.version, advises_approval="no", summary="Too risky.")
    advice = service.dpo_advice_of(await assessments.list_sign_offs(view.id))
    assert advice.decision == "advises_against"


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("start_review", "You wrote or submitted DPIA version 1, so you cannot review it."),
        ("request_changes", "You wrote or submitted DPIA version 1, so you cannot review it."),
    ],
)
async def test_rejections_start_with_capital(make_person, use_case, step, expected):
    writer = await make_person(Role.CENTRAL_TEAM, Role.INFORMATION_ASSURANCE)
    view = await submitted(writer, use_case.reference)
    with pytest.raises(Forbidden) as raised:
        if step == "start_review":
            await service.start_review(writer, use_case.reference, 1, view.version)
        else:
            await service.request_changes(writer, use_case.reference, 1, view.version, "More detail.")
    assert str(raised.value).startswith(expected)


async def test_condition_messages_use_number(author, ia, dpo, use_case, central):
    other = await make_use_case(central, title="Firearms licence renewals")
    await approved(author, ia, dpo, other.reference, action="approve_with_conditions", conditions=[service.NewCondition("First.", "Lead", None, True)])
    await approved(author, ia, dpo, use_case.reference, action="approve_with_conditions", conditions=[service.NewCondition("Second.", "Lead", None, True)])
    [recorded] = await service.list_conditions(use_case.id)
    await service.withdraw_condition(ia, use_case.reference, recorded.id, recorded.version, "Not needed.")
    with pytest.raises(Conflict) as raised:
        await service.withdraw_condition(ia, use_case.reference, recorded.id, recorded.version + 1, "Again.")
    assert str(raised.value) == "Condition 1 of DPIA version 1 was withdrawn and can no longer change."


async def test_condition_of_replaced_version_cannot_change(author, ia, dpo, use_case):
    await approved(author, ia, dpo, use_case.reference, action="approve_with_conditions", conditions=[service.NewCondition("Brief.", "Lead", None, True)])
    await service.start_version(author, use_case.reference)
    [recorded] = await service.list_conditions(use_case.id)
    with pytest.raises(Conflict):
        await service.mark_condition_met(author, use_case.reference, recorded.id, recorded.version, "Done.")
