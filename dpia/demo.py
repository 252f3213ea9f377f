"""Demo DPIAs from ``dpia/demo.toml``, created through the service so that the audit trail is real."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from governance import register
from governance.clock import london_today
from governance.stages import GATED
from governance.packages import DemoContext

from dpia import rules, service

logger = logging.getLogger(__name__)

ASSESSMENT_SECTIONS = (
    "processing",
    "consultation",
    "necessity",
    "sensitive_processing",
    "logging",
    "data_subjects",
    "human_involvement",
    "risks",
    "measures",
)
STATES = ("screening", "draft", "submitted", "in_review", "advised", "decided")


def build_content(base: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """Return the draft content for one demo entry, on top of the first version's blank content."""
    screening = dict(base["screening"])
    source = item.get("screening", {})
    yes = source.get("yes", {})
    answer_rest = "" if item.get("unanswered") else "no"
    for group, questions in (("triggers", rules.MANDATORY_TRIGGERS), ("high_risk", rules.HIGH_RISK_TYPES)):
        screening[group] = {
            key: {"answer": "yes", "note": yes[key]} if key in yes else {"answer": answer_rest, "note": ""}
            for key in questions
        }
    screening["outcome"] = source.get("outcome", "")
    screening["reasons"] = source.get("reasons", "")

    content = {**base, "screening": screening}
    if item["state"] != "screening":
        for section in ASSESSMENT_SECTIONS:
            if section in item:
                content[section] = item[section]
    return content


async def _load_one(context: DemoContext, item: dict[str, Any]) -> None:
    reference = item["use_case"]
    state = item["state"]
    if state not in STATES:
        raise ValueError(f"demo DPIA for {reference}: unknown state {state!r}; use one of {', '.join(STATES)}")
    author = context.accounts[item["author"]]
    reviewer = context.accounts["info.assurance"]
    adviser = context.accounts["dpo"]

    view = await service.start_version(author, reference)
    view = await service.save_draft(author, reference, view.number, view.version, build_content(view.content, item))
    if state in ("screening", "draft"):
        return

    view = await service.submit(author, reference, view.number, view.version)
    if state == "submitted":
        return
    view = await service.start_review(reviewer, reference, view.number, view.version)
    if state == "in_review":
        return
    view = await service.record_dpo_advice(
        adviser, reference, view.number, view.version, advises_approval=True, summary=item["dpo_advice"]
    )
    if state == "advised":
        return

    today = london_today()
    conditions = [
        service.NewCondition(
            text=condition["text"],
            owner=condition["owner"],
            due_date=today + dt.timedelta(days=condition["due_in_days"]) if "due_in_days" in condition else None,
            before_go_live=condition.get("before_go_live", True),
        )
        for condition in item.get("conditions", [])
    ]
    await service.decide(
        reviewer,
        reference,
        view.number,
        view.version,
        action=item["decision"],
        reasons=item.get("decision_reasons", ""),
        conditions=conditions,
    )

    overview = await service.overview(reference)
    for condition, recorded in zip(item.get("conditions", []), overview.conditions_of(view.number), strict=True):
        if "met_note" in condition:
            await service.mark_condition_met(author, reference, recorded.id, recorded.version, condition["met_note"])

    if "ico_submitted_days_ago" in item:
        await service.record_ico_consultation(
            adviser,
            reference,
            submitted_on=today - dt.timedelta(days=item["ico_submitted_days_ago"]),
            ico_reference=item.get("ico_reference", ""),
        )


async def load(context: DemoContext) -> None:
    """Create each demo DPIA and take it to the state its entry names.

    Logs the DPIA check of each demo use case placed at ready for live or live, so that demo data
    which would block its own bot shows up at start-up.
    """
    for item in context.data.get("dpias", []):
        await _load_one(context, item)
        logger.debug("demo DPIA for %s loaded at state %s", item["use_case"], item["state"])

    for use_case in await register.list_use_cases():
        if use_case.stage not in GATED:
            continue
        findings = await service.readiness_findings(use_case.id)
        if all(finding.passed for finding in findings):
            evidence = findings[0].evidence
            logger.info(
                "demo use case %s: dpia check passes (version %s, content hash %s, review date %s)",
                use_case.reference,
                evidence.get("version"),
                evidence.get("content_hash"),
                evidence.get("review_date"),
            )
        else:
            logger.warning(
                "demo use case %s: dpia check fails: %s",
                use_case.reference,
                " ".join(finding.detail for finding in findings if not finding.passed),
            )
