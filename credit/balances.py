"""Balances and scores read from the points ledger (cached balances, replayed balances, the score a
rating counts, standing vetoes). Reads only; the postings themselves are written in ``credit.ledger``."""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import Select, func, select

from credit.common import today
from credit.models import CreditAccount, CreditPosting, CreditRule
from greenfin.extensions import db


def posting_query(*, party_id: Optional[int] = None, rule_code: Optional[str] = None) -> Select:
    stmt = select(CreditPosting).order_by(CreditPosting.effective_date.desc(), CreditPosting.id.desc())
    if party_id is not None:
        stmt = stmt.where(CreditPosting.party_id == party_id)
    if rule_code:
        stmt = stmt.where(CreditPosting.rule_code == rule_code.upper())
    return stmt


def get_account(party_id: int) -> Optional[CreditAccount]:
    return db.session.scalar(select(CreditAccount).where(CreditAccount.party_id == party_id))


def balance(party_id: int, as_of: Optional[date] = None) -> int:
    """Points balance: the cached one now, or a sum of postings effective on or before ``as_of``."""
    if as_of is None:
        account = get_account(party_id)
        return account.balance if account else 0
    return int(db.session.scalar(select(func.coalesce(func.sum(CreditPosting.points), 0)).where(
        CreditPosting.party_id == party_id, CreditPosting.effective_date <= as_of)) or 0)


def replayed_balance(party_id: int) -> int:
    """The balance recomputed from every posting (what the cached balance must equal)."""
    return int(db.session.scalar(select(func.coalesce(func.sum(CreditPosting.points), 0)).where(
        CreditPosting.party_id == party_id)) or 0)


def score(party_id: int, on: Optional[date] = None) -> int:
    """Points that count on ``on``: effective by then and still inside their display period."""
    day = on or today()
    return int(db.session.scalar(select(func.coalesce(func.sum(CreditPosting.points), 0)).where(
        CreditPosting.party_id == party_id, CreditPosting.effective_date <= day,
        CreditPosting.expires_on > day)) or 0)


def scores(on: date) -> dict[int, int]:
    """Every party's score on ``on`` in one query."""
    rows = db.session.execute(select(CreditPosting.party_id, func.sum(CreditPosting.points)).where(
        CreditPosting.effective_date <= on, CreditPosting.expires_on > on).group_by(CreditPosting.party_id))
    return {party_id: int(total) for party_id, total in rows}


def active_vetoes(on: date) -> dict[int, str]:
    """Parties with a veto posting that counts on ``on`` and has not been reversed."""
    reversed_ids = select(CreditPosting.reverses_id).where(CreditPosting.reverses_id.is_not(None))
    rows = db.session.execute(
        select(CreditPosting.party_id, CreditPosting.rule_code).join(CreditRule, CreditRule.id == CreditPosting.rule_id)
        .where(CreditRule.veto.is_(True), CreditPosting.points < 0, CreditPosting.reverses_id.is_(None),
               CreditPosting.effective_date <= on, CreditPosting.expires_on > on,
               CreditPosting.id.not_in(reversed_ids))
        .order_by(CreditPosting.id))
    vetoes: dict[int, str] = {}
    for party_id, code in rows:
        vetoes.setdefault(party_id, code)
    return vetoes
