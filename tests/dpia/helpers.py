"""Content builders and workflow shortcuts for the DPIA tests."""

from __future__ import annotations

import copy
from typing import Any

from governance.audit import Actor

from dpia import rules, service

MATRIX_REFERENCE = {"name": "ico-3x3", "version": 1}


def screening(outcome: str = "required") -> dict[str, Any]:
    answers = {key: {"answer": "no", "note": ""} for key in rules.MANDATORY_TRIGGERS}
    high_risk = {key: {"answer": "no", "note": ""} for key in rules.HIGH_RISK_TYPES}
    if outcome == "required":
        answers["large_scale_special_or_criminal"] = {"answer": "yes", "note": "Criminal offence data on every report"}
        high_risk["data_matching"] = {"answer": "yes", "note": "Copies data between two police systems"}
    return {
        "triggers": answers,
        "high_risk": high_risk,
        "regimes": [{"purpose": "Recording reported crime", "regime": "dpa_2018_part_3"}],
        "outcome": outcome,
        "reasons": "The bot processes criminal offence data at scale." if outcome == "required" else "No personal data is processed beyond staff names.",
    }


def complete_content(*, residual: str = "low") -> dict[str, Any]:
    """A complete "required" DPIA whose single risk ends at ``residual`` (low, medium or high)."""
    residual_scores = {
        "low": ("remote", "significant"),
        "medium": ("possible", "significant"),
        "high": ("probable", "severe"),
    }[residual]
    return {
        "matrix": dict(MATRIX_REFERENCE),
        "screening": screening("required"),
        "processing": {key: f"{key} of the processing" for key in rules.PROCESSING_FIELDS},
        "consultation": {key: f"{key} consulted" for key in rules.CONSULTATION_FIELDS},
        "necessity": {key: f"{key} explained" for key in rules.NECESSITY_FIELDS},
        "sensitive_processing": {"applies": "yes", "condition": "Schedule 8 para 1", "policy_document": "Force APD v3"},
        "logging": {key: f"{key} logged in Niche audit" for key in rules.LOGGING_FIELDS},
        "data_subjects": {"categories": ["victims", "witnesses", "suspects"], "other": ""},
        "human_involvement": {"solely_automated": "no", "description": "A crime recorder checks each record"},
        "risks": [
            {
                "description": "Wrong person linked to a crime",
                "source": "Matching on name and date of birth",
                "harm": "Innocent person recorded as suspect",
                "likelihood": "possible",
                "severity": "severe",
                "residual_likelihood": residual_scores[0],
                "residual_severity": residual_scores[1],
            }
        ],
        "measures": [
            {"risk": 1, "description": "Human check of every match", "effect": "reduce", "approved": "yes"}
        ],
    }


def not_required_content() -> dict[str, Any]:
    return {"matrix": dict(MATRIX_REFERENCE), "screening": screening("not_required")}


async def submitted(author: Actor, reference: str, content: dict[str, Any] | None = None):
    """Start a version, fill it and submit it; return the submitted version."""
    view = await service.start_version(author, reference)
    view = await service.save_draft(author, reference, view.number, view.version, copy.deepcopy(content or complete_content()))
    return await service.submit(author, reference, view.number, view.version)


async def advised(author: Actor, ia: Actor, dpo: Actor, reference: str, content=None, *, advises_approval: bool = True):
    """Take a new version to "DPO advice recorded"."""
    view = await submitted(author, reference, content)
    view = await service.start_review(ia, reference, view.number, view.version)
    return await service.record_dpo_advice(
        dpo, reference, view.number, view.version, advises_approval=advises_approval, summary="Measures are proportionate."
    )


async def approved(author: Actor, ia: Actor, dpo: Actor, reference: str, content=None, **decision: Any):
    view = await advised(author, ia, dpo, reference, content)
    return await service.decide(ia, reference, view.number, view.version, action=decision.pop("action", "approve"), **decision)
