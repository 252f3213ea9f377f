"""The programme's business case: yearly capital and revenue lines and the totals the document states.

Lines are stored as entered and the stated totals are kept beside them. Where the lines do not add
up to a stated total, the difference is reported as a warning; neither figure is silently chosen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from governance import audit
from governance.audit import Actor
from governance.clock import format_pence, utcnow
from governance.database import write_transaction
from governance.errors import ErrorCollector
from governance.tables import BusinessCase, BusinessCaseLine

logger = logging.getLogger(__name__)

LINE_KINDS = ("capital", "revenue")


@dataclass(frozen=True)
class TotalCheck:
    """A stated total compared with the sum of its lines; ``difference`` is stated minus summed."""

    kind: str
    stated_pence: int | None
    summed_pence: int

    @property
    def difference_pence(self) -> int | None:
        return None if self.stated_pence is None else self.stated_pence - self.summed_pence

    @property
    def warning(self) -> str | None:
        difference = self.difference_pence
        if difference in (None, 0):
            return None
        direction = "more" if difference > 0 else "less"
        return (
            f"The stated {self.kind} total ({format_pence(self.stated_pence, short=True)}) is "
            f"{format_pence(abs(difference), short=True)} {direction} than the yearly {self.kind} "
            f"lines add up to ({format_pence(self.summed_pence, short=True)}). Both figures are "
            "kept as entered; check the business case to resolve the difference."
        )


def check_totals(lines: list[dict[str, Any]], stated: dict[str, int | None]) -> list[TotalCheck]:
    """Compare each kind's stated total with the sum of its lines (pure)."""
    checks = []
    for kind in LINE_KINDS:
        summed = sum(line["amount_pence"] for line in lines if line["kind"] == kind)
        checks.append(TotalCheck(kind, stated.get(kind), summed))
    return checks


def validate_line(errors: ErrorCollector, index: int, line: dict[str, Any]) -> None:
    """Check one line: a known kind, a financial year like 2024/25 and whole pence."""
    name = f"lines[{index}]"
    if line.get("kind") not in LINE_KINDS:
        errors.add(f"{name}.kind", f"must be one of: {', '.join(LINE_KINDS)}")
    year = str(line.get("financial_year", ""))
    start, _, end = year.partition("/")
    if not (start.isdigit() and end.isdigit() and len(start) == 4 and len(end) == 2 and (int(start) + 1) % 100 == int(end)):
        errors.add(f"{name}.financial_year", "must be a UK financial year such as 2024/25")
    amount = line.get("amount_pence")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        errors.add(f"{name}.amount_pence", "must be a whole, non-negative number of pence")


async def load_business_case(actor: Actor, data: dict[str, Any]) -> int:
    """Store a business case and its lines (used by the demo loader and set-up scripts)."""
    errors = ErrorCollector()
    lines = data.get("lines", [])
    for index, line in enumerate(lines):
        validate_line(errors, index, line)
    errors.raise_if_any()

    async with write_transaction():
        case = BusinessCase(
            title=data["title"],
            stated_capital_total_pence=data.get("stated_capital_total_pence"),
            stated_revenue_total_pence=data.get("stated_revenue_total_pence"),
            supplier_contract_pence=data.get("supplier_contract_pence"),
            supplier_contract_terms=data.get("supplier_contract_terms", ""),
            benefits_note=data.get("benefits_note", ""),
            source=data.get("source", ""),
            illustrative=bool(data.get("illustrative", False)),
            created_at=utcnow(),
        )
        await case.save().run()
        for line in lines:
            await BusinessCaseLine.insert(
                BusinessCaseLine(
                    business_case=case.id,
                    kind=line["kind"],
                    financial_year=line["financial_year"],
                    amount_pence=line["amount_pence"],
                    note=line.get("note", ""),
                )
            ).run()
        await audit.record(actor, "business_case.loaded", "business_case", str(case.id), after=data)
    return case.id


async def business_case_summary() -> dict[str, Any]:
    """Return the latest business case with its lines, computed totals and mismatch warnings."""
    case = await BusinessCase.select().order_by(BusinessCase.id, ascending=False).first().run()
    if case is None:
        return {"business_case": None, "lines": [], "totals": [], "warnings": []}

    lines = (
        await BusinessCaseLine.select()
        .where(BusinessCaseLine.business_case == case["id"])
        .order_by(BusinessCaseLine.kind)
        .order_by(BusinessCaseLine.financial_year)
        .run()
    )
    checks = check_totals(
        lines,
        {"capital": case["stated_capital_total_pence"], "revenue": case["stated_revenue_total_pence"]},
    )
    return {
        "business_case": {
            "title": case["title"],
            "supplier_contract_pence": case["supplier_contract_pence"],
            "supplier_contract_terms": case["supplier_contract_terms"],
            "benefits_note": case["benefits_note"],
            "source": case["source"],
            "illustrative": case["illustrative"],
        },
        "lines": [
            {
                "kind": line["kind"],
                "financial_year": line["financial_year"],
                "amount_pence": line["amount_pence"],
                "note": line["note"],
            }
            for line in lines
        ],
        "totals": [
            {
                "kind": check.kind,
                "stated_pence": check.stated_pence,
                "summed_pence": check.summed_pence,
                "difference_pence": check.difference_pence,
            }
            for check in checks
        ],
        "warnings": [check.warning for check in checks if check.warning],
    }
