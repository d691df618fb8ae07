"""Public investor disclosure (信息披露): what anyone may see of a pool, without an account.

Green ABS disclosure is public in China. A pool is disclosed once it has a published cut;
what is shown is published data only: the published cuts' pool statistics and strata (never
a draft cut, never today's live pool), the servicer reports and their PDFs. Nothing is
loan-level: no loan numbers, no obligor names or identifiers, no loan tape.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import Select, exists, select

from greenfin.errors import N_, NotFound
from greenfin.extensions import db
from greenfin.pools import cuts
from greenfin.pools.models import Pool, PoolCut, ServicerReport

_published = exists().where(PoolCut.pool_id == Pool.id, PoolCut.status == "published")


def disclosed_pool_query() -> Select:
    """Pools with at least one published cut, by code."""
    return select(Pool).where(_published).order_by(Pool.code)


def get_disclosed_pool(pool_id: int) -> Pool:
    """The pool, or NotFound when it does not exist or has no published cut (not disclosed)."""
    pool = db.session.scalar(select(Pool).where(Pool.id == pool_id, _published))
    if pool is None:
        raise NotFound(N_("pool not found"), {"pool_id": [f"no disclosed pool with id {pool_id}"]})
    return pool


def published_cuts(pool: Pool) -> list[PoolCut]:
    """The pool's published cuts, newest cut-off date first."""
    return list(db.session.scalars(select(PoolCut).where(PoolCut.pool_id == pool.id, PoolCut.status == "published")
                                   .order_by(PoolCut.as_of.desc(), PoolCut.seq.desc())))


def get_published_cut(pool: Pool, cut_id: Optional[int] = None) -> PoolCut:
    """A published cut of the pool (the latest without ``cut_id``); a draft is NotFound."""
    cut = cuts.latest_published_cut(pool) if cut_id is None else db.session.get(PoolCut, cut_id)
    if cut is None or cut.pool_id != pool.id or not cut.published:
        raise NotFound(N_("pool cut not found"), {"cut_id": [f"no published cut with id {cut_id}"]})
    return cut


def superseded_by(cut: PoolCut) -> Optional[PoolCut]:
    """The published correction of ``cut``, if any."""
    return cuts.superseded_by(cut)


def _published_report_query(pool: Pool) -> Select:
    return (select(ServicerReport).join(PoolCut, PoolCut.id == ServicerReport.baseline_cut_id)
            .where(ServicerReport.pool_id == pool.id, PoolCut.status == "published"))


def disclosed_reports(pool: Pool) -> list[ServicerReport]:
    """The pool's servicer reports (each on a published baseline cut), oldest month first."""
    return list(db.session.scalars(_published_report_query(pool).order_by(ServicerReport.month)))


def get_disclosed_report(pool: Pool, month: str) -> ServicerReport:
    report = db.session.scalar(_published_report_query(pool).where(ServicerReport.month == month))
    if report is None:
        raise NotFound(N_("servicer report not found"), {"month": [f"no report for {month}"]})
    return report


def report_history(pool: Pool, month: str) -> list[ServicerReport]:
    """The disclosed reports up to ``month``, oldest first (the pool-factor chart)."""
    return [r for r in disclosed_reports(pool) if r.month <= month]

