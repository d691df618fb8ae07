"""Pool cuts: immutable as-of snapshots of every loan in a pool, corrections, and the loan tape.

A cut is a draft until published; a published cut never changes (services refuse, an ORM
guard in ``models.py`` refuses, and database triggers refuse). A correction is a new cut
whose ``corrects_id`` names the published cut it corrects.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Optional

from sqlalchemy import Select, func, select

from greenfin.core import geography
from greenfin.core.services import record_audit
from greenfin.core.types import utcnow
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.pools import tape
from greenfin.pools.models import Pool, PoolCut, PoolCutLoan
from greenfin.pools.eligibility import concentration_reasons, loan_reasons
from greenfin.pools.services import check_date, jsonable, live_records, statistics_of
from greenfin.registry import contract
from greenfin.security import current_actor

LINE_FIELDS = ("loan_id", "loan_number", "party_id", "township_code", "sector", "product_code", "amortisation",
               "disbursed_on", "maturity_date", "original_principal", "original_term", "balance", "rate",
               "remaining_term", "days_past_due", "status", "collateral_value", "ltv", "colour", "collateral_gep",
               "green_category")


def get_cut(cut_id: int, pool: Optional[Pool] = None) -> PoolCut:
    cut = db.session.get(PoolCut, cut_id)
    if cut is None or (pool is not None and cut.pool_id != pool.id):
        raise NotFound(N_("pool cut not found"), {"cut_id": [f"no cut with id {cut_id}"]})
    return cut


def cut_query(pool: Pool) -> Select:
    return select(PoolCut).where(PoolCut.pool_id == pool.id).order_by(PoolCut.seq.desc())


def latest_published_cut(pool: Pool, on_or_before: Optional[date] = None) -> Optional[PoolCut]:
    stmt = select(PoolCut).where(PoolCut.pool_id == pool.id, PoolCut.status == "published")
    if on_or_before is not None:
        stmt = stmt.where(PoolCut.as_of <= on_or_before)
    return db.session.scalar(stmt.order_by(PoolCut.as_of.desc(), PoolCut.seq.desc()).limit(1))


def superseded_by(cut: PoolCut) -> Optional[PoolCut]:
    return db.session.scalar(select(PoolCut).where(PoolCut.corrects_id == cut.id, PoolCut.status == "published")
                             .order_by(PoolCut.id).limit(1))


def _cut_snapshot(cut: PoolCut) -> dict:
    return {"pool_id": cut.pool_id, "seq": cut.seq, "as_of": cut.as_of, "status": cut.status,
            "corrects_id": cut.corrects_id, "note": cut.note, "loan_count": cut.loan_count,
            "total_balance": cut.total_balance}


def create_cut(pool: Pool, as_of: Optional[date] = None, corrects_id: Optional[int] = None,
               note: Optional[str] = None) -> PoolCut:
    """Snapshot every loan in the pool at ``as_of`` (a draft until published)."""
    as_of = check_date(as_of, "as_of")
    corrects = None
    if corrects_id is not None:
        corrects = get_cut(corrects_id, pool)
        if not corrects.published:
            raise ValidationFailed(N_("Invalid input"), {"corrects_id": [N_("only a published cut is corrected")]})
        if not (note or "").strip():
            raise ValidationFailed(N_("Invalid input"), {"note": [N_("say what the correction corrects")]})
    records = live_records(pool, as_of)
    if not records:
        raise ValidationFailed(N_("The pool holds no loans at that date"), {"as_of": [N_("no loans in the pool")]})
    seq = (db.session.scalar(select(func.max(PoolCut.seq)).where(PoolCut.pool_id == pool.id)) or 0) + 1
    actor = current_actor()
    statistics = statistics_of(records)
    everyone = [r for r in records if r["balance"] > 0]
    cut = PoolCut(pool_id=pool.id, seq=seq, as_of=as_of, status="draft", corrects_id=corrects.id if corrects else None,
                  note=(note or "").strip() or None, loan_count=len(records),
                  total_balance=sum((r["balance"] for r in records), Decimal("0")),
                  statistics=jsonable(statistics), created_by_id=actor.id if actor else None)
    db.session.add(cut)
    db.session.flush()
    extra = concentration_reasons(pool.criteria, everyone, everyone)
    carbon = contract("greenfin.carbon")
    pledged = carbon.collateral_of_loans([r["loan_id"] for r in records]) if carbon is not None else {}
    for r in records:
        reasons = loan_reasons(pool.criteria, r) + extra.get(r["loan_id"], [])
        units = pledged.get(r["loan_id"])
        line = PoolCutLoan(cut_id=cut.id, added_on=r.get("added_on"), eligible=not reasons, reasons=reasons,
                           carbon_tonnes=units["tonnes"] if units else None,
                           carbon_value=units["value"] if units else None,
                           **{k: r[k] for k in LINE_FIELDS})
        db.session.add(line)
    db.session.flush()
    record_audit("pool_cut.create", "pool_cut", cut.id, after=_cut_snapshot(cut))
    return cut


def take_cut(pool: Pool, as_of: Optional[date] = None, corrects_id: Optional[int] = None,
             note: Optional[str] = None, *, publish: bool = False) -> PoolCut:
    """Snapshot the pool (``create_cut``) and, with ``publish``, publish it at once."""
    cut = create_cut(pool, as_of, corrects_id, note)
    return publish_cut(cut) if publish else cut


def publish_cut(cut: PoolCut) -> PoolCut:
    if cut.published:
        raise Conflict(N_("A published cut never changes"), code="cut_published")
    before = _cut_snapshot(cut)
    actor = current_actor()
    cut.status = "published"
    cut.published_at, cut.published_by_id = utcnow(), actor.id if actor else None
    db.session.flush()
    record_audit("pool_cut.publish", "pool_cut", cut.id, before=before, after=_cut_snapshot(cut))
    return cut


def discard_cut(cut: PoolCut) -> None:
    if cut.published:
        raise Conflict(N_("A published cut never changes; issue a correction instead"), code="cut_published")
    before, cut_id = _cut_snapshot(cut), cut.id
    for line in list(cut.lines):
        db.session.delete(line)
    db.session.delete(cut)
    db.session.flush()
    record_audit("pool_cut.discard", "pool_cut", cut_id, before=before)



# ---------------------------------------------------------------- tape


def tape_records(cut: PoolCut) -> list[dict]:
    pool = cut.pool
    out = []
    for line in cut.lines:
        out.append({
            "pool_code": pool.code, "loan_ref": line.loan_number, "obligor_ref": f"GF-O{line.party_id:06d}",
            "cut_off_date": cut.as_of, "pool_addition_date": line.added_on,
            "township": f"CN-{geography.DISTRICT_CODE}-{line.township_code}" if line.township_code else None,
            "sector": line.sector, "product": line.product_code, "origination_date": line.disbursed_on,
            "maturity_date": line.maturity_date, "original_term": line.original_term,
            "remaining_term": line.remaining_term, "currency": "CNY", "original_balance": line.original_principal,
            "balance": line.balance, "amortisation": line.amortisation, "rate": line.rate,
            "dpd": line.days_past_due, "status": line.status,
            "collateral_type": "carbon_units" if line.carbon_tonnes else (
                "land_use_rights" if line.collateral_value else None),
            "collateral_value": line.collateral_value, "ltv": line.ltv, "green_category": line.green_category,
            "colour": line.colour,
            # No GEP for pledged land: not required by the product (ND1); no collateral at all: ND5.
            "collateral_gep": line.collateral_gep if line.collateral_gep is not None else (
                "ND1" if line.collateral_value else None),
            "carbon_tonnes": line.carbon_tonnes, "carbon_value": line.carbon_value,
        })
    return out


def tape_csv(cut: PoolCut) -> str:
    return tape.loan_tape_csv(tape_records(cut))
