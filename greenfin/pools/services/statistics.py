"""Pool statistics: the headline figures and stratification tables of loan records, live or at a date."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any, Optional

from greenfin import dates
from greenfin.pools import stats
from greenfin.pools.models import Pool
from greenfin.pools.services.loans import loan_facts, loan_record
from greenfin.pools.services.membership import members_on

# The lending package's amortisation methods as the projection's types. Seasonal loans
# (instalments at the harvest) are projected as equal-principal loans: an approximation.
AMORTISATION_MAP = {"annuity": "annuity", "equal_principal": "linear", "interest_only": "bullet", "seasonal": "linear"}


def _float(v) -> Optional[float]:
    return float(v) if v is not None else None


def statistics_of(records: list[dict]) -> dict[str, Any]:
    """Pool statistics and the stratification tables, JSON-ready."""
    live = [r for r in records if r["balance"] > 0]
    headline = stats.pool_statistics(
        [r["balance"] for r in live], [r["rate"] for r in live], [r["original_term"] for r in live],
        [r["remaining_term"] for r in live], [AMORTISATION_MAP.get(r["amortisation"], "annuity") for r in live],
        obligor=[r["party_id"] for r in live])
    strata_records = [{"balance": r["balance"], "rate": r["rate"], "remaining_term": r["remaining_term"],
                       "product": r["product_code"], "township": r["township_code"], "colour": r["colour"],
                       "ltv": _float(r["ltv"]), "dpd": r["days_past_due"]} for r in live]
    green = [r for r in live if r.get("green_category")]
    total = sum((r["balance"] for r in live), Decimal("0"))
    categories = stats.stratify([r.get("green_category") for r in live], [r["balance"] for r in live])
    gep = sum((r["collateral_gep"] for r in live if r.get("collateral_gep") is not None), Decimal("0"))
    return {
        "headline": headline,
        "strata": stats.stratification_tables(strata_records) if live else {k: [] for k in stats.STRATA},
        "green": {
            "green_balance": float(sum((r["balance"] for r in green), Decimal("0"))),
            "green_share": float(sum((r["balance"] for r in green), Decimal("0")) / total) if total else None,
            "categories": categories,
            "collateral_gep": float(gep),
        },
    }


def live_records(pool: Pool, as_of: Optional[date] = None) -> list[dict]:
    """The record of every loan in the pool on ``as_of`` (default: today), with its addition date."""
    as_of = as_of or dates.today()
    members = members_on(pool, as_of)
    facts = loan_facts({m.loan_id for m in members}, as_of)
    out = []
    for m in members:
        record = loan_record(facts[m.loan_id])
        record["added_on"] = m.added_on
        out.append(record)
    return out


def live_statistics(pool: Pool, as_of: Optional[date] = None) -> dict[str, Any]:
    return statistics_of(live_records(pool, as_of))


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k) if k is not None else "": jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
