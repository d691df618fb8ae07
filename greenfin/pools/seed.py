"""Demo pool: the demo district's performing green loans, a published cut and monthly servicer reports.

Runs after the lending seed and reads its loans from the database. The cut-off date is
the month end (of a few candidates) at which most loans qualify within the concentration
limits; the servicer reports cover every month that has ended since.
"""
from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import select

from greenfin import dates
from greenfin.core.models import Party
from greenfin.errors import DomainError
from greenfin.extensions import db
from greenfin.pools import cuts, reporting, services

CUT_OFF_CANDIDATES = (date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 31))
POOL_CODE = "GF-GREEN-2026-1"


def _month_ends(after: date, before: date) -> list[str]:
    out = []
    year, month = after.year, after.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        end = date(year, month, calendar.monthrange(year, month)[1])
        if end >= before:
            return out
        out.append(f"{year:04d}-{month:02d}")


def _eligible_ids(pool, ids: list[int], as_of: date) -> list[int]:
    """Loans that qualify on ``as_of`` and together keep the pool within its concentration limits.

    Three ways of picking, the one that keeps more loans (then more balance) wins: all
    qualifying loans, dropping the largest loan that breaks a limit until none does; and
    loans added one by one while each keeps the pool within the limits, largest first or
    smallest first.
    """
    records = services.evaluate(pool, ids, as_of)
    qualified = [i for i, e in records.items() if not services.loan_reasons(pool.criteria, e["record"])]

    def breaking(picked: list[int]) -> dict:
        trial = [records[i]["record"] for i in picked]
        return services.concentration_reasons(pool.criteria, trial, trial)

    def size(picked: list[int]):
        return len(picked), sum(records[i]["record"]["balance"] for i in picked)

    trimmed = list(qualified)
    while trimmed and (over := breaking(trimmed)):
        trimmed.remove(max(over, key=lambda i: (records[i]["record"]["balance"], i)))
    best = trimmed
    for descending in (True, False):
        chosen: list[int] = []
        for loan_id in sorted(qualified, key=lambda i: records[i]["record"]["balance"], reverse=descending):
            if not breaking(chosen + [loan_id]):
                chosen.append(loan_id)
        if size(chosen) > size(best):
            best = chosen
    return best


def seed_demo(rng, context: dict) -> dict:
    bank = db.session.scalar(select(Party).where(Party.sector == "banking").order_by(Party.id))
    if bank is None:
        return {}
    pool = services.create_pool({
        "code": POOL_CODE, "name": "广丰区绿色信贷资产支持证券2026年第一期",
        "originator_id": bank.id, "green_designation": "green",
        "description": "以广丰区生态信用贷、林权抵押贷、GEP质押贷和马家柚果园贷为基础资产的绿色信贷资产支持证券（演示）。",
        "criteria": {"performing": True, "zero_dpd": True, "green_tagged": True, "min_remaining_term": 3,
                     "max_remaining_term": 120, "max_obligor_share": "0.25", "max_township_share": "0.40",
                     "min_colour": None},
    })
    ids = list(db.session.scalars(services.lending().active_loan_ids()))
    best, chosen = None, []
    for cut_off in CUT_OFF_CANDIDATES:
        picked = _eligible_ids(pool, ids, cut_off) if ids else []
        if len(picked) > len(chosen):
            best, chosen = cut_off, picked
    if not chosen:
        return {"pool": pool, "cut": None, "reports": []}
    services.add_loans(pool, chosen, "首期入池：符合合格标准的绿色贷款", added_on=best, as_of=best)
    cut = cuts.create_cut(pool, best, note="首期资产池封包（基准日）")
    cuts.publish_cut(cut)
    reports = []
    for month in _month_ends(best, dates.today()):
        try:
            reports.append(reporting.generate_servicer_report(pool, month))
        except DomainError:
            break
    return {"pool": pool, "cut": cut, "reports": reports}
