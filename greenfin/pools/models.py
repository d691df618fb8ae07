"""Asset pools: pools with eligibility criteria, audited membership, immutable cuts, servicer reports.

- ``asset_pools``: a pool of green loans to be securitised; its eligibility criteria and
  its tranche structure are data (JSON), see ``eligibility.DEFAULT_CRITERIA`` and
  ``validation.DEFAULT_STRUCTURE``. ``loan_id`` names a lending loan; pools read it only
  through lending's published ``loan_facts``.
- ``pool_memberships``: a loan's stay in a pool, from ``added_on`` to ``removed_on``.
  A loan is in at most one pool at a time: the partial unique index refuses a second
  live membership even under concurrent requests. A substitution ends one membership
  and starts another, linked by ``substituted_by_id``.
- ``pool_cuts`` / ``pool_cut_loans``: an as-of snapshot of every loan in the pool. A
  published cut never changes (the migration installs database triggers refusing
  UPDATE and DELETE); a correction is a new cut whose ``corrects_id`` names the old one.
- ``servicer_reports``: the monthly report computed from the loans' servicing data.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from greenfin.core.models import Party
from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db

Money = Numeric(18, 2)
Rate = Numeric(8, 6)

DESIGNATIONS = ("green", "transition", "none")
CUT_STATUSES = ("draft", "published")


class Pool(db.Model):
    __tablename__ = "asset_pools"
    __table_args__ = (CheckConstraint("green_designation in ('green', 'transition', 'none')", name="designation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    originator_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    green_designation: Mapped[str] = mapped_column(String(16), default="green")
    description: Mapped[Optional[str]] = mapped_column(Text)
    # {"performing": true, "zero_dpd": true, "green_tagged": true, "min_remaining_term": 6,
    #  "max_remaining_term": 120, "max_obligor_share": "0.25", "max_township_share": "0.5", "min_colour": "blue"}
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # {"tranches": [{"name", "kind", "share", "coupon"}], "servicer_fee", "principal_mode", "oc_trigger", ...}
    structure: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    originator: Mapped[Party] = relationship(lazy="joined")


class PoolMembership(db.Model):
    __tablename__ = "pool_memberships"
    __table_args__ = (
        Index("uq_pool_memberships_live_loan", "loan_id", unique=True,
              sqlite_where=db.text("removed_on is null"), postgresql_where=db.text("removed_on is null")),
        CheckConstraint("removed_on is null or removed_on >= added_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("asset_pools.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    added_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[Optional[str]] = mapped_column(Text)
    added_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    removed_on: Mapped[Optional[date]] = mapped_column(Date)
    removal_reason: Mapped[Optional[str]] = mapped_column(Text)
    removed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    substituted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("pool_memberships.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    pool: Mapped[Pool] = relationship()
    # The loan's number, set by ``services.label_memberships`` from lending's contract (not stored).
    loan_number = None


class PoolCut(db.Model):
    __tablename__ = "pool_cuts"
    __table_args__ = (
        UniqueConstraint("pool_id", "seq"),
        CheckConstraint("status in ('draft', 'published')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("asset_pools.id"), index=True)
    seq: Mapped[int]
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    corrects_id: Mapped[Optional[int]] = mapped_column(ForeignKey("pool_cuts.id"))
    note: Mapped[Optional[str]] = mapped_column(Text)
    loan_count: Mapped[int] = mapped_column(default=0)
    total_balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # pool statistics and stratification tables at the cut (see stats.py)
    statistics: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    published_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    pool: Mapped[Pool] = relationship()
    corrects: Mapped[Optional["PoolCut"]] = relationship(remote_side=[id])
    lines: Mapped[list["PoolCutLoan"]] = relationship(back_populates="cut", order_by="PoolCutLoan.id")

    @property
    def published(self) -> bool:
        return self.status == "published"


class PoolCutLoan(db.Model):
    """One loan as it stood at the cut."""

    __tablename__ = "pool_cut_loans"
    __table_args__ = (UniqueConstraint("cut_id", "loan_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cut_id: Mapped[int] = mapped_column(ForeignKey("pool_cuts.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    loan_number: Mapped[str] = mapped_column(String(32))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    product_code: Mapped[str] = mapped_column(String(32))
    township_code: Mapped[Optional[str]] = mapped_column(String(32))
    sector: Mapped[Optional[str]] = mapped_column(String(64))
    amortisation: Mapped[str] = mapped_column(String(16))
    disbursed_on: Mapped[date] = mapped_column(Date)
    maturity_date: Mapped[date] = mapped_column(Date)
    added_on: Mapped[Optional[date]] = mapped_column(Date)
    original_principal: Mapped[Decimal] = mapped_column(Money)
    original_term: Mapped[int]
    balance: Mapped[Decimal] = mapped_column(Money)
    rate: Mapped[Decimal] = mapped_column(Rate)
    remaining_term: Mapped[int]
    days_past_due: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    collateral_value: Mapped[Optional[Decimal]] = mapped_column(Money)
    ltv: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 6))
    colour: Mapped[Optional[str]] = mapped_column(String(8))
    collateral_gep: Mapped[Optional[Decimal]] = mapped_column(Money)
    green_category: Mapped[Optional[str]] = mapped_column(String(128))
    # carbon units pledged to the loan at the cut (the carbon registry's contract), and their value
    carbon_tonnes: Mapped[Optional[int]]
    carbon_value: Mapped[Optional[Decimal]] = mapped_column(Money)
    eligible: Mapped[bool] = mapped_column(default=True)
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)

    cut: Mapped[PoolCut] = relationship(back_populates="lines")


class ServicerReport(db.Model):
    __tablename__ = "servicer_reports"
    __table_args__ = (UniqueConstraint("pool_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("asset_pools.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    baseline_cut_id: Mapped[int] = mapped_column(ForeignKey("pool_cuts.id"))
    figures: Mapped[dict[str, Any]] = mapped_column(JSONType)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    generated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    pool: Mapped[Pool] = relationship()
    baseline_cut: Mapped[PoolCut] = relationship()


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published_cuts(session, _flush_context, _instances):
    """A published cut and its lines never change (the database triggers say so too)."""
    from greenfin.errors import Conflict

    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, PoolCut):
            state = inspect(obj)
            old = state.committed_state.get("status", obj.status)
            if old == "published" and (obj in session.deleted or session.is_modified(obj)):
                raise Conflict("A published cut never changes; issue a correction instead", code="cut_published")
        elif isinstance(obj, PoolCutLoan):
            if obj.cut is not None and inspect(obj.cut).committed_state.get("status", obj.cut.status) == "published" \
                    and (obj in session.deleted or session.is_modified(obj)):
                raise Conflict("A published cut never changes; issue a correction instead", code="cut_published")
