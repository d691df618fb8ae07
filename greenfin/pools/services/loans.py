"""Loans as pools see them: lending's published ``loan_facts`` turned into pool records.

Pools read loans only through lending's published contract, reached with
``greenfin.registry.require("greenfin.lending")`` (``loan_facts``, ``active_loan_ids``,
``party_loan_ids``, ``product_names``; the ``LoanFacts`` type from ``greenfin.lending.services``);
balance, days past due and status as of a date are lending's, computed by its one rule.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Optional

from sqlalchemy import Select, select

from greenfin import dates
from greenfin.errors import N_, NotFound
from greenfin.extensions import db
from greenfin.lending.services import LoanFacts
from greenfin.pools.models import PoolMembership
from greenfin.registry import require


def lending():
    """Lending's services façade: pools cannot work without it (a RuntimeError says so)."""
    return require("greenfin.lending")


def loan_facts(loan_ids: Iterable[int], as_of: Optional[date] = None) -> dict[int, LoanFacts]:
    return lending().loan_facts(loan_ids, as_of or dates.today())


def get_loans(loan_ids: Iterable[Any], as_of: Optional[date] = None) -> dict[int, LoanFacts]:
    """Every named loan's facts, or NotFound naming the first unknown id."""
    loan_ids = list(loan_ids)
    found = loan_facts(loan_ids, as_of)
    for loan_id in loan_ids:
        if loan_id not in found:
            raise NotFound(N_("loan not found"), {"loan_id": [f"no loan with id {loan_id}"]})
    return found


def loan_record(facts: LoanFacts) -> dict[str, Any]:
    """Everything pools need of one loan at its facts' date: the fields of a cut line."""
    balance, collateral = facts.balance, facts.collateral_value
    return {
        "loan_id": facts.loan_id, "loan_number": facts.number, "party_id": facts.party_id,
        "party_name": facts.party_name, "township_code": facts.township_code, "sector": facts.sector,
        "product_code": facts.product_code, "amortisation": facts.amortisation,
        "disbursed_on": facts.disbursed_on, "maturity_date": facts.maturity_date,
        "original_principal": facts.principal, "original_term": facts.term_months,
        "balance": balance, "rate": facts.annual_rate,
        "remaining_term": facts.remaining_term, "days_past_due": facts.days_past_due, "status": facts.status,
        "collateral_value": collateral,
        "ltv": (balance / collateral).quantize(Decimal("0.000001")) if collateral else None,
        "colour": facts.colour, "collateral_gep": facts.collateral_gep, "green_category": facts.green_category,
        "defaulted_on": facts.defaulted_on, "as_of": facts.as_of,
    }


def candidate_query() -> Select:
    """Ids of the active loans in no pool, by id (a page of them for ``candidates``)."""
    pooled = select(PoolMembership.loan_id).where(PoolMembership.removed_on.is_(None))
    return lending().active_loan_ids(excluding=pooled)


def label_memberships(memberships: list[PoolMembership]) -> list[PoolMembership]:
    """Set each membership's ``loan_number`` (for the API schema and pages)."""
    numbers = {i: f.number for i, f in loan_facts({m.loan_id for m in memberships}).items()}
    for m in memberships:
        m.loan_number = numbers.get(m.loan_id)
    return memberships


def party_pool_loans(party_id: int) -> list[PoolMembership]:
    """The party's loans now in asset pools, numbered (for the party page, staff only)."""
    ids = lending().party_loan_ids(party_id)
    if not ids:
        return []
    return label_memberships(list(db.session.scalars(
        select(PoolMembership).where(PoolMembership.loan_id.in_(ids), PoolMembership.removed_on.is_(None))
        .order_by(PoolMembership.id))))


def product_names(locale: str = "zh") -> dict[str, str]:
    return lending().product_names(locale)
