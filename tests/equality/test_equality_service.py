"""The equality service on a real database: workflow, separation of duties, locking and readiness."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from equality import characteristics, service
from equality.check import run as run_check
from equality.permissions import AlreadyRecorded
from equality.rules import ASSESSMENT, SCREENING, add_months
from governance import assessments, audit
from governance.clock import london_today, records_dated, utcnow
from governance.errors import Conflict, DomainError, Forbidden, InvalidInput, StaleVersion
from governance.roles import Role
from governance.tables import AssessmentVersion, SignOff
from tests.equality.helpers import (
    approved_assessment,
    approved_screening,
    assessment_data,
    screening_data,
    submitted_assessment,
    submitted_screening,
)
from tests.support import make_use_case


async def sign_off_count() -> int:
    return await SignOff.count().run()


async def readiness(use_case):
    return await run_check(use_case.ref, utcnow())


# Authoring -----------------------------------------------------------------------------------------


async def test_start_records_characteristics_screened(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    keys = [item["key"] for item in view.content["characteristics_screened"]]
    assert keys[0] == "age"
    assert len(keys) == 9


async def test_start_by_lead_forbidden(lead, use_case):
    with pytest.raises(Forbidden):
        await service.start_version(lead, use_case.reference, SCREENING)


async def test_start_other_department_forbidden(make_person, use_case):
    outsider = await make_person(Role.BUSINESS_OWNER, department="Vetting Unit")
    with pytest.raises(Forbidden):
        await service.start_version(outsider, use_case.reference, SCREENING)


async def test_central_team_may_author(central, use_case):
    view = await service.start_version(central, use_case.reference, SCREENING)
    assert view.status == "draft"


async def test_second_draft_conflicts(owner, use_case):
    await service.start_version(owner, use_case.reference, SCREENING)
    with pytest.raises(Conflict):
        await service.start_version(owner, use_case.reference, SCREENING)


async def test_save_invalid_impact_stores_nothing(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    data = screening_data({"race": "terrible"})
    with pytest.raises(InvalidInput) as caught:
        await service.save_draft(owner, use_case.reference, SCREENING, 1, view.version, data)
    assert caught.value.errors[0].field == "characteristics.race.impact"
    current = await service.get_version(use_case.reference, SCREENING, 1)
    assert current.version == view.version


async def test_save_stale_version_conflicts(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    await service.save_draft(
        owner, use_case.reference, SCREENING, 1, view.version, screening_data()
    )
    with pytest.raises(StaleVersion):
        await service.save_draft(
            owner,
            use_case.reference,
            SCREENING,
            1,
            view.version,
            screening_data({"age": "positive"}),
        )


async def test_submit_incomplete_names_field(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    data = screening_data()
    data["characteristics"]["race"]["impact"] = ""
    view = await service.save_draft(owner, use_case.reference, SCREENING, 1, view.version, data)
    with pytest.raises(InvalidInput) as caught:
        await service.submit(owner, use_case.reference, SCREENING, 1, view.version)
    assert [error.field for error in caught.value.errors] == ["characteristics.race.impact"]
    current = await service.get_version(use_case.reference, SCREENING, 1)
    assert current.status == "draft"


async def test_submit_freezes_and_hashes(owner, use_case):
    view = await submitted_screening(owner, use_case.reference)
    assert view.status == "submitted"
    assert view.content_hash is not None
    assert view.hash_matches()


async def test_frozen_version_rejects_save(owner, use_case):
    view = await submitted_screening(owner, use_case.reference)
    with pytest.raises(Conflict):
        await service.save_draft(
            owner, use_case.reference, SCREENING, 1, view.version, screening_data()
        )


# Decisions -----------------------------------------------------------------------------------------


async def test_approve_signs_on_hash(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    [sign_off] = await service.sign_offs(view)
    assert sign_off.content_hash == view.content_hash
    assert sign_off.meaning == "Equality screening approved: due regard shown"
    assert sign_off.signer_role == Role.EQUALITY_LEAD.value


async def test_approve_sets_review_twelve_months(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    assert view.review_date == add_months(london_today(), 12)


async def test_approve_flagged_screening_review_six_months(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    assert view.review_date is not None
    assert 180 <= (view.review_date - london_today()).days <= 184


async def test_self_approval_forbidden(make_person, use_case):
    both = await make_person(
        Role.BUSINESS_OWNER, Role.EQUALITY_LEAD, department="Force Contact Centre"
    )
    view = await submitted_screening(both, use_case.reference)
    with pytest.raises(Forbidden):
        await service.decide(both, use_case.reference, SCREENING, 1, view.version, "approve")
    assert await sign_off_count() == 0


async def test_self_approval_message_names_screening(make_person, use_case):
    both = await make_person(
        Role.BUSINESS_OWNER, Role.EQUALITY_LEAD, department="Force Contact Centre"
    )
    view = await submitted_screening(both, use_case.reference)
    with pytest.raises(Forbidden) as raised:
        await service.decide(both, use_case.reference, SCREENING, 1, view.version, "approve")
    assert "You wrote, edited or submitted equality screening version 1" in str(raised.value)


async def test_self_approval_message_names_full_assessment(make_person, lead, use_case):
    both = await make_person(
        Role.BUSINESS_OWNER, Role.EQUALITY_LEAD, department="Force Contact Centre"
    )
    await approved_screening(both, lead, use_case.reference, {"disability": "negative"})
    view = await submitted_assessment(both, use_case.reference, ["disability"])
    with pytest.raises(Forbidden) as raised:
        await service.decide(both, use_case.reference, ASSESSMENT, 1, view.version, "approve")
    assert "full equality impact assessment version 1" in str(raised.value)


async def test_business_owner_cannot_approve(owner, use_case):
    view = await submitted_screening(owner, use_case.reference)
    with pytest.raises(Forbidden):
        await service.decide(owner, use_case.reference, SCREENING, 1, view.version, "approve")


async def test_approve_stale_version_conflicts(owner, lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    with pytest.raises(StaleVersion):
        await service.decide(lead, use_case.reference, SCREENING, 1, view.version - 1, "approve")
    assert await sign_off_count() == 0


async def test_approve_not_latest_conflicts(owner, lead, use_case):
    first = await submitted_screening(owner, use_case.reference)
    await service.start_version(owner, use_case.reference, SCREENING)
    with pytest.raises(Conflict) as caught:
        await service.decide(lead, use_case.reference, SCREENING, 1, first.version, "approve")
    assert caught.value.extra["latest_version"] == 2


async def test_approve_twice_conflicts(owner, lead, second_lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    await service.decide(lead, use_case.reference, SCREENING, 1, view.version, "approve")
    with pytest.raises(Conflict):
        await service.decide(second_lead, use_case.reference, SCREENING, 1, view.version, "approve")
    assert await sign_off_count() == 1


async def test_concurrent_approvals_record_one(owner, lead, second_lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    results = await asyncio.gather(
        service.decide(lead, use_case.reference, SCREENING, 1, view.version, "approve"),
        service.decide(second_lead, use_case.reference, SCREENING, 1, view.version, "approve"),
        return_exceptions=True,
    )
    successes = [item for item in results if not isinstance(item, BaseException)]
    failures = [item for item in results if isinstance(item, BaseException)]
    assert len(successes) == 1
    assert len(failures) == 1
    assert isinstance(failures[0], Conflict)
    assert "your decision was not recorded" in failures[0].message
    assert await sign_off_count() == 1
    entries = await audit.list_entries(audit.AuditFilter(action="equality_screening.approve"))
    assert len(entries) == 1


async def test_concurrent_approve_and_reject_record_one(owner, lead, second_lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    results = await asyncio.gather(
        service.decide(lead, use_case.reference, SCREENING, 1, view.version, "approve"),
        service.decide(
            second_lead,
            use_case.reference,
            SCREENING,
            1,
            view.version,
            "reject",
            reasons="No evidence",
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(item, BaseException) for item in results) == 1
    assert await sign_off_count() == 1


async def test_request_changes_needs_reasons(owner, lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    with pytest.raises(InvalidInput) as caught:
        await service.decide(
            lead, use_case.reference, SCREENING, 1, view.version, "request_changes"
        )
    assert caught.value.errors[0].field == "reasons"


async def test_unknown_decision_rejected(owner, lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    with pytest.raises(InvalidInput) as caught:
        await service.decide(lead, use_case.reference, SCREENING, 1, view.version, "rubber_stamp")
    assert caught.value.errors[0].field == "action"


async def test_changes_requested_then_next_version_copies(owner, lead, use_case):
    view = await submitted_screening(owner, use_case.reference, {"age": "negative"})
    await service.decide(
        lead,
        use_case.reference,
        SCREENING,
        1,
        view.version,
        "request_changes",
        reasons="Evidence is thin",
    )
    second = await service.start_version(owner, use_case.reference, SCREENING)
    assert second.number == 2
    assert second.content["characteristics"]["age"]["impact"] == "negative"


async def test_decision_leaves_audit_entry(owner, lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    await service.decide(
        lead, use_case.reference, SCREENING, 1, view.version, "reject", reasons="Wrong use case"
    )
    entries = await audit.list_entries(audit.AuditFilter(action="equality_screening.reject"))
    assert entries[0]["note"] == "Wrong use case"


# Revocation and review dates -----------------------------------------------------------------------


async def test_revoke_blocks_readiness(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    await service.revoke(lead, use_case.reference, SCREENING, 1, view.version, "Process changed")
    [result] = await readiness(use_case)
    assert "revoked on" in result.detail
    assert "Process changed" in result.detail


async def test_revoke_signed_on_hash(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    await service.revoke(lead, use_case.reference, SCREENING, 1, view.version, "Process changed")
    decisions = [item.decision for item in await service.sign_offs(view)]
    assert decisions == ["approved", "revoked"]


async def test_revoke_needs_reason(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    with pytest.raises(InvalidInput) as caught:
        await service.revoke(lead, use_case.reference, SCREENING, 1, view.version, "  ")
    assert caught.value.errors[0].field == "reason"


async def test_revoke_submitted_conflicts(owner, lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    with pytest.raises(Conflict):
        await service.revoke(lead, use_case.reference, SCREENING, 1, view.version, "Changed")


async def test_revoke_by_author_forbidden(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    with pytest.raises(Forbidden):
        await service.revoke(owner, use_case.reference, SCREENING, 1, view.version, "Changed")


async def test_change_review_date(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    new_date = london_today() + dt.timedelta(days=30)
    after = await service.change_review_date(
        lead,
        use_case.reference,
        SCREENING,
        1,
        view.version,
        new_date.isoformat(),
        "Process changes in January",
    )
    assert after.review_date == new_date


async def test_change_review_date_past_rejected(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    with pytest.raises(InvalidInput) as caught:
        await service.change_review_date(
            lead, use_case.reference, SCREENING, 1, view.version, "2020-01-01", "Why"
        )
    assert caught.value.errors[0].field == "review_date"


async def test_change_review_date_invalid_rejected(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    with pytest.raises(InvalidInput) as caught:
        await service.change_review_date(
            lead, use_case.reference, SCREENING, 1, view.version, "next spring", "Why"
        )
    assert caught.value.errors[0].field == "review_date"


async def test_past_review_blocks_readiness(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    await AssessmentVersion.update({AssessmentVersion.review_date: dt.date(2020, 1, 1)}).where(
        AssessmentVersion.id == view.id
    ).run()
    [result] = await readiness(use_case)
    assert "passed its review date on 1 January 2020" in result.detail


async def test_tampered_content_blocks_readiness(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    tampered = view.content | {"proposal": "Something else"}
    await AssessmentVersion.update({AssessmentVersion.content: json.dumps(tampered)}).where(
        AssessmentVersion.id == view.id
    ).run()
    [result] = await readiness(use_case)
    assert "no longer matches the content hash" in result.detail


# Full assessment -----------------------------------------------------------------------------------


async def test_assessment_needs_submitted_screening(owner, use_case):
    await service.start_version(owner, use_case.reference, SCREENING)
    with pytest.raises(Conflict) as caught:
        await service.start_version(owner, use_case.reference, ASSESSMENT)
    assert "is draft" in caught.value.message


async def test_assessment_not_needed_conflicts(owner, lead, use_case):
    await approved_screening(owner, lead, use_case.reference)
    with pytest.raises(Conflict) as caught:
        await service.start_version(owner, use_case.reference, ASSESSMENT)
    assert "no full equality impact assessment is needed" in caught.value.message


async def test_assessment_prefilled_from_screening(owner, use_case):
    screening = await submitted_screening(
        owner, use_case.reference, {"disability": "negative", "age": "not_known"}
    )
    view = await service.start_version(owner, use_case.reference, ASSESSMENT)
    assert list(view.content["impacts"]) == ["age", "disability"]
    assert view.content["screening"] == {"version": 1, "content_hash": screening.content_hash}


async def test_required_assessment_blocks_until_approved(owner, lead, use_case):
    await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    [result] = await readiness(use_case)
    assert "none has been started" in result.detail


async def test_assessment_approval_needs_approved_screening(owner, lead, use_case):
    await submitted_screening(owner, use_case.reference, {"disability": "negative"})
    view = await submitted_assessment(owner, use_case.reference, ["disability"])
    with pytest.raises(Conflict) as caught:
        await service.decide(lead, use_case.reference, ASSESSMENT, 1, view.version, "approve")
    assert "Approve the screening before the full assessment" in caught.value.message


async def test_full_journey_passes_readiness(owner, lead, use_case):
    screening = await approved_screening(
        owner, lead, use_case.reference, {"disability": "negative"}
    )
    assessment = await approved_assessment(owner, lead, use_case.reference, ["disability"])
    [result] = await readiness(use_case)
    assert result.passed
    assert result.evidence["screening"]["content_hash"] == screening.content_hash
    assert result.evidence["full_assessment"]["content_hash"] == assessment.content_hash


async def test_new_screening_impact_uncovered_blocks(owner, lead, use_case):
    await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    await approved_assessment(owner, lead, use_case.reference, ["disability"])
    second = await service.start_version(owner, use_case.reference, SCREENING)
    data = screening_data({"disability": "negative", "sex": "not_known"})
    second = await service.save_draft(owner, use_case.reference, SCREENING, 2, second.version, data)
    second = await service.submit(owner, use_case.reference, SCREENING, 2, second.version)
    await service.decide(lead, use_case.reference, SCREENING, 2, second.version, "approve")
    [result] = await readiness(use_case)
    assert (
        "does not cover the impacts that equality screening version 2 found: Sex" in result.detail
    )


async def test_next_assessment_version_picks_up_new_impact(owner, lead, use_case):
    await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    await approved_assessment(owner, lead, use_case.reference, ["disability"])
    second = await service.start_version(owner, use_case.reference, SCREENING)
    data = screening_data({"disability": "negative", "sex": "not_known"})
    second = await service.save_draft(owner, use_case.reference, SCREENING, 2, second.version, data)
    await service.submit(owner, use_case.reference, SCREENING, 2, second.version)
    view = await service.start_version(owner, use_case.reference, ASSESSMENT)
    assert list(view.content["impacts"]) == ["disability", "sex"]
    assert view.content["impacts"]["disability"]["mitigation"] == "Mitigation for disability."


async def test_assessment_unflagged_impact_rejected(owner, use_case):
    await submitted_screening(owner, use_case.reference, {"disability": "negative"})
    view = await service.start_version(owner, use_case.reference, ASSESSMENT)
    with pytest.raises(InvalidInput) as caught:
        await service.save_draft(
            owner,
            use_case.reference,
            ASSESSMENT,
            1,
            view.version,
            assessment_data(["disability", "race"]),
        )
    assert caught.value.errors[0].field == "impacts.race"


async def test_assessment_remaining_impact_short_review(owner, lead, use_case):
    await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    view = await approved_assessment(owner, lead, use_case.reference, ["disability"], remains=True)
    assert view.review_date is not None
    assert 180 <= (view.review_date - london_today()).days <= 184


# Local characteristics -----------------------------------------------------------------------------


async def test_local_characteristic_needs_administrator(owner):
    with pytest.raises(Forbidden):
        await characteristics.create_local(owner, label="Socio-economic status")


async def test_local_characteristic_key_from_label(make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    view = await characteristics.create_local(admin, label="Socio-economic status")
    assert view.key == "socio_economic_status"


async def test_local_characteristic_duplicate_rejected(make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    await characteristics.create_local(admin, label="Socio-economic status")
    with pytest.raises(InvalidInput) as caught:
        await characteristics.create_local(admin, label="Socio-economic status")
    assert [error.field for error in caught.value.errors] == ["label", "key"]


async def test_local_characteristic_protected_label_rejected(make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    with pytest.raises(InvalidInput) as caught:
        await characteristics.create_local(admin, label="Race", key="local_race")
    assert caught.value.errors[0].field == "label"


async def test_local_characteristic_stale_update_conflicts(make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    view = await characteristics.create_local(admin, label="Care experience")
    await characteristics.update_local(
        admin, view.key, view.version, description="Looked after as a child"
    )
    with pytest.raises(StaleVersion):
        await characteristics.update_local(admin, view.key, view.version, active=False)


async def test_local_characteristic_change_audited(make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    view = await characteristics.create_local(admin, label="Care experience")
    await characteristics.update_local(admin, view.key, view.version, active=False)
    entries = await audit.list_entries(
        audit.AuditFilter(entity_type="equality_local_characteristic")
    )
    assert [entry["action"] for entry in entries] == [
        "equality.local_characteristic_changed",
        "equality.local_characteristic_added",
    ]


async def test_local_characteristic_in_new_screening(make_person, owner, use_case):
    admin = await make_person(Role.ADMINISTRATOR)
    await characteristics.create_local(admin, label="Socio-economic status")
    view = await service.start_version(owner, use_case.reference, SCREENING)
    assert view.content["characteristics_screened"][-1]["key"] == "socio_economic_status"


async def test_deactivating_keeps_frozen_version(make_person, owner, use_case):
    admin = await make_person(Role.ADMINISTRATOR)
    local = await characteristics.create_local(admin, label="Socio-economic status")
    view = await service.start_version(owner, use_case.reference, SCREENING)
    keys = [item["key"] for item in view.content["characteristics_screened"]]
    data = screening_data(keys=keys)
    view = await service.save_draft(owner, use_case.reference, SCREENING, 1, view.version, data)
    frozen = await service.submit(owner, use_case.reference, SCREENING, 1, view.version)
    await characteristics.update_local(admin, local.key, local.version, active=False)
    again = await service.get_version(use_case.reference, SCREENING, 1)
    assert again.content_hash == frozen.content_hash
    assert again.content["characteristics_screened"][-1]["key"] == "socio_economic_status"
    assert again.hash_matches()


async def test_added_while_drafting_required_at_submit(make_person, owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    view = await service.save_draft(
        owner, use_case.reference, SCREENING, 1, view.version, screening_data()
    )
    admin = await make_person(Role.ADMINISTRATOR)
    await characteristics.create_local(admin, label="Socio-economic status")
    with pytest.raises(InvalidInput) as caught:
        await service.submit(owner, use_case.reference, SCREENING, 1, view.version)
    assert "characteristics.socio_economic_status.impact" in [
        error.field for error in caught.value.errors
    ]


async def test_other_use_case_unaffected(owner, lead, central, use_case):
    other = await make_use_case(central, title="Second bot")
    await approved_screening(owner, lead, use_case.reference)
    [result] = await readiness(other)
    assert not result.passed
    assert await assessments.latest_version(other.id, SCREENING) is None


# Due dates -----------------------------------------------------------------------------------------


async def test_past_mitigation_due_date_not_saved(owner, lead, use_case):
    await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    view = await service.start_version(owner, use_case.reference, ASSESSMENT)
    data = assessment_data(["disability"])
    data["impacts"]["disability"]["due_date"] = "2020-02-03"
    with pytest.raises(InvalidInput) as caught:
        await service.save_draft(owner, use_case.reference, ASSESSMENT, 1, view.version, data)
    assert [error.field for error in caught.value.errors] == ["impacts.disability.due_date"]
    current = await service.get_version(use_case.reference, ASSESSMENT, 1)
    assert current.version == view.version


async def test_due_date_passed_since_saving_blocks_submit(owner, lead, use_case):
    await approved_screening(owner, lead, use_case.reference, {"disability": "negative"})
    view = await service.start_version(owner, use_case.reference, ASSESSMENT)
    data = assessment_data(["disability"])
    data["action_plan"][0]["due_date"] = london_today().isoformat()
    view = await service.save_draft(owner, use_case.reference, ASSESSMENT, 1, view.version, data)
    with records_dated(utcnow() + dt.timedelta(days=2)):
        with pytest.raises(InvalidInput) as caught:
            await service.submit(owner, use_case.reference, ASSESSMENT, 1, view.version)
    assert [error.field for error in caught.value.errors] == ["action_plan[0].due_date"]


# Every problem at once -----------------------------------------------------------------------------


async def test_save_and_submit_reports_value_and_missing(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    data = screening_data({"age": "terrible"})
    del data["characteristics"]["race"]
    with pytest.raises(InvalidInput) as caught:
        await service.save_and_submit(owner, use_case.reference, SCREENING, 1, view.version, data)
    fields = [error.field for error in caught.value.errors]
    assert fields == [
        "characteristics.age.impact",
        "characteristics.race.impact",
        "characteristics.race.affected",
        "characteristics.race.evidence",
    ]
    current = await service.get_version(use_case.reference, SCREENING, 1)
    assert current.version == view.version


async def test_save_and_submit_keeps_incomplete_draft(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    data = screening_data()
    data["characteristics"]["race"]["evidence"] = ""
    attempt = await service.save_and_submit(
        owner, use_case.reference, SCREENING, 1, view.version, data
    )
    assert attempt.problems is not None
    assert [error.field for error in attempt.problems.errors] == ["characteristics.race.evidence"]
    assert attempt.view.status == "draft"
    assert attempt.view.version == view.version + 1
    assert attempt.view.content["characteristics"]["age"]["impact"] == "neutral"


async def test_save_and_submit_complete_submits(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    attempt = await service.save_and_submit(
        owner, use_case.reference, SCREENING, 1, view.version, screening_data()
    )
    assert attempt.problems is None
    assert attempt.view.status == "submitted"
    assert attempt.view.hash_matches()


async def test_review_date_problems_reported_together(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    with pytest.raises(InvalidInput) as caught:
        await service.change_review_date(
            lead, use_case.reference, SCREENING, 1, view.version, "2001-01-01", ""
        )
    assert [error.field for error in caught.value.errors] == ["review_date", "reason"]


async def test_decision_missing_lock_and_reasons_together(owner, lead, use_case):
    await submitted_screening(owner, use_case.reference)
    with pytest.raises(InvalidInput) as caught:
        await service.decide(lead, use_case.reference, SCREENING, 1, None, "reject")
    assert [error.field for error in caught.value.errors] == ["version", "reasons"]


async def test_local_change_problems_together(make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    view = await characteristics.create_local(admin, label="Care experience")
    with pytest.raises(InvalidInput) as caught:
        await characteristics.update_local(
            admin, view.key, view.version, label="Race", description="x" * 8_001, active="maybe"
        )
    assert [error.field for error in caught.value.errors] == ["label", "description", "active"]


async def test_local_new_problems_together(make_person):
    admin = await make_person(Role.ADMINISTRATOR)
    with pytest.raises(InvalidInput) as caught:
        await characteristics.create_local(admin, label="", key="Not A Key")
    assert [error.field for error in caught.value.errors] == ["label", "key"]


# Repeats and conflicts -----------------------------------------------------------------------------


async def test_repeat_save_same_content_accepted(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    first = await service.save_draft(
        owner, use_case.reference, SCREENING, 1, view.version, screening_data()
    )
    again = await service.save_draft(
        owner, use_case.reference, SCREENING, 1, view.version, screening_data()
    )
    assert again.version == first.version


async def test_repeat_approval_by_same_lead_recorded_once(owner, lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    await service.decide(lead, use_case.reference, SCREENING, 1, view.version, "approve")
    with pytest.raises(AlreadyRecorded) as caught:
        await service.decide(lead, use_case.reference, SCREENING, 1, view.version, "approve")
    assert caught.value.by_you
    assert caught.value.message.startswith("You already approved equality screening version 1 on ")
    assert await sign_off_count() == 1


async def test_other_decision_after_approval_conflicts(owner, lead, use_case):
    view = await submitted_screening(owner, use_case.reference)
    await service.decide(lead, use_case.reference, SCREENING, 1, view.version, "approve")
    with pytest.raises(Conflict) as caught:
        await service.decide(
            lead, use_case.reference, SCREENING, 1, view.version, "reject", reasons="No"
        )
    assert not isinstance(caught.value, AlreadyRecorded)
    assert caught.value.message == (
        "Equality screening version 1 is approved, not waiting for a decision."
    )


async def test_repeat_submit_recorded_once(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    view = await service.save_draft(
        owner, use_case.reference, SCREENING, 1, view.version, screening_data()
    )
    await service.submit(owner, use_case.reference, SCREENING, 1, view.version)
    with pytest.raises(AlreadyRecorded) as caught:
        await service.submit(owner, use_case.reference, SCREENING, 1, view.version)
    assert caught.value.by_you


async def test_repeat_save_and_submit_recorded_once(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    data = screening_data()
    await service.save_and_submit(owner, use_case.reference, SCREENING, 1, view.version, data)
    with pytest.raises(AlreadyRecorded) as caught:
        await service.save_and_submit(owner, use_case.reference, SCREENING, 1, view.version, data)
    assert caught.value.outcome == "submitted"


async def test_changed_content_after_submit_conflicts(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    await service.save_and_submit(
        owner, use_case.reference, SCREENING, 1, view.version, screening_data()
    )
    changed = screening_data({"age": "positive"})
    with pytest.raises(Conflict) as caught:
        await service.save_and_submit(
            owner, use_case.reference, SCREENING, 1, view.version, changed
        )
    assert not isinstance(caught.value, AlreadyRecorded)


async def test_repeat_revocation_recorded_once(owner, lead, use_case):
    view = await approved_screening(owner, lead, use_case.reference)
    await service.revoke(lead, use_case.reference, SCREENING, 1, view.version, "New evidence")
    with pytest.raises(AlreadyRecorded):
        await service.revoke(lead, use_case.reference, SCREENING, 1, view.version, "New evidence")
    assert await sign_off_count() == 2


async def test_stale_message_keeps_numbers_apart(owner, use_case):
    view = await service.start_version(owner, use_case.reference, SCREENING)
    reference = use_case.reference
    await service.save_draft(owner, reference, SCREENING, 1, view.version, screening_data())
    changed = screening_data({"age": "positive"})
    with pytest.raises(StaleVersion) as caught:
        await service.save_draft(owner, reference, SCREENING, 1, view.version, changed)
    message = caught.value.message
    assert message.startswith("Someone else changed equality screening version 1 after you read it")
    assert '"version": 2 (you sent 1)' in message
    assert caught.value.extra == {"current_version": 2}


async def test_refusal_messages_are_sentences(owner, lead, use_case):
    await submitted_screening(owner, use_case.reference)
    assessment_needed = service.start_version(owner, use_case.reference, ASSESSMENT)
    revoke_unapproved = service.revoke(lead, use_case.reference, SCREENING, 1, 3, "Reason")
    missing_version = service.get_version(use_case.reference, SCREENING, 9)
    for call in (assessment_needed, revoke_unapproved, missing_version):
        with pytest.raises(DomainError) as caught:
            await call
        assert caught.value.message[0].isupper(), caught.value.message
        assert caught.value.message.endswith("."), caught.value.message
