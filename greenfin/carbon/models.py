"""Forest carbon-sink registry (林业碳票): projects, monitoring reports, accounts, unit blocks, the ledger.

- ``carbon_projects``: a project on one or more forest parcels (``carbon_project_parcels``; a parcel
  belongs to at most one project, so the same forest is never credited twice). The project row
  also holds the head of its ledger chain (``entry_count``, ``last_hash``).
- ``carbon_monitoring_reports``: one per project and vintage year: the GEP engine's estimate beside
  the verified tonnes; a regulator approves (maker-checker) before units are issued.
- ``carbon_accounts``: a holder's account (one per party), the district buffer account and the
  lender's account (units pass there when a pledged loan defaults).
- ``carbon_blocks``: who holds which serials now and in what state (available, pledged, retired,
  buffer). Live blocks never overlap. A block changes only together with a ledger entry that
  names it, and the database checks that (migration carbon_0001, triggers).
- ``carbon_entries``: the unit ledger. Insert-only (triggers refuse UPDATE and DELETE), one chain
  per project (``seq``, ``prev_hash``, ``hash``), and an entry may only move units whose state
  allows it: pledged, retired and buffer units cannot be transferred or retired, even by a
  statement issued behind the application's back.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from greenfin.core.models import Parcel, Party
from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db

GENESIS_HASH = "0" * 64
Money = Numeric(18, 2)
Tonnes = Numeric(14, 4)

METHODS = ("CCER-14-001-V01", "GF-COUNTY-FOREST-V1", "VM0047")
REPORT_STATUSES = ("submitted", "approved", "rejected", "issued")
ACCOUNT_KINDS = ("holder", "buffer", "lender")
STATES = ("available", "pledged", "retired", "buffer")
# operation -> the state the units are in afterwards
OP_STATES = {"issue": "available", "buffer": "buffer", "transfer": "available", "pledge": "pledged",
             "release": "available", "enforce": "available", "retire": "retired"}
OPS = tuple(OP_STATES)
# operation -> the state the units must be in before it (issue and buffer create units)
OP_SOURCES = {"transfer": "available", "pledge": "available", "retire": "available",
              "release": "pledged", "enforce": "pledged"}


def _in(column: str, values) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class CarbonProject(db.Model):
    __tablename__ = "carbon_projects"
    __table_args__ = (
        CheckConstraint(_in("method", METHODS), name="method"),
        CheckConstraint("crediting_end > crediting_start", name="period"),
        CheckConstraint("buffer_share >= 0 and buffer_share < 1", name="buffer_share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    crediting_start: Mapped[date] = mapped_column(Date)
    crediting_end: Mapped[date] = mapped_column(Date)
    buffer_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    description: Mapped[Optional[str]] = mapped_column(Text)
    # [{"title": ..., "ref": ...}] design document, validation report, rights certificates
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    entry_count: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[Party] = relationship(lazy="joined")
    parcels: Mapped[list["CarbonProjectParcel"]] = relationship(order_by="CarbonProjectParcel.id",
                                                                back_populates="project")


class CarbonProjectParcel(db.Model):
    __tablename__ = "carbon_project_parcels"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("carbon_projects.id"), index=True)
    # One project per parcel: the same trees are never credited twice.
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), unique=True)

    project: Mapped[CarbonProject] = relationship(back_populates="parcels")
    parcel: Mapped[Parcel] = relationship(lazy="joined")


class CarbonMonitoringReport(db.Model):
    __tablename__ = "carbon_monitoring_reports"
    __table_args__ = (
        CheckConstraint(_in("status", REPORT_STATUSES), name="status"),
        CheckConstraint("verified_tonnes > 0", name="verified_positive"),
        Index("uq_carbon_monitoring_reports_live_vintage", "project_id", "vintage", unique=True,
              sqlite_where=db.text("status != 'rejected'"), postgresql_where=db.text("status != 'rejected'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("carbon_projects.id"), index=True)
    vintage: Mapped[int]
    estimated_tonnes: Mapped[Optional[Decimal]] = mapped_column(Tonnes)  # GEP engine, for those parcels and year
    estimate_source: Mapped[Optional[str]] = mapped_column(String(255))
    verified_tonnes: Mapped[Decimal] = mapped_column(Tonnes)
    verifier: Mapped[str] = mapped_column(String(128))
    document: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    submitted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    decision_note: Mapped[Optional[str]] = mapped_column(Text)
    issued_units: Mapped[Optional[int]]
    buffer_units: Mapped[Optional[int]]

    project: Mapped[CarbonProject] = relationship(lazy="joined")


class CarbonAccount(db.Model):
    __tablename__ = "carbon_accounts"
    __table_args__ = (
        CheckConstraint(_in("kind", ACCOUNT_KINDS), name="kind"),
        CheckConstraint("(kind = 'holder') = (party_id is not null)", name="holder_party"),
        Index("uq_carbon_accounts_one_pool_account", "kind", unique=True,
              sqlite_where=db.text("kind != 'holder'"), postgresql_where=db.text("kind != 'holder'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="holder")
    party_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    party: Mapped[Optional[Party]] = relationship(lazy="joined")


class CarbonBlock(db.Model):
    """A run of serials ``serial_start..serial_end`` (one tonne CO₂e each) of a project's vintage."""

    __tablename__ = "carbon_blocks"
    __table_args__ = (
        CheckConstraint("serial_end >= serial_start and serial_start >= 1", name="range"),
        CheckConstraint(_in("state", STATES), name="state"),
        CheckConstraint("(state = 'pledged') = (application_id is not null)", name="pledge_ref"),
        UniqueConstraint("project_id", "vintage", "serial_start", name="uq_carbon_blocks_start"),
        Index("ix_carbon_blocks_account_state", "account_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("carbon_projects.id"))
    vintage: Mapped[int]
    serial_start: Mapped[int]
    serial_end: Mapped[int]
    account_id: Mapped[int] = mapped_column(ForeignKey("carbon_accounts.id"))
    state: Mapped[str] = mapped_column(String(16))
    application_id: Mapped[Optional[int]] = mapped_column(index=True)  # the loan application it is pledged to
    entry_id: Mapped[int] = mapped_column(index=True)  # the ledger entry that last shaped this block

    project: Mapped[CarbonProject] = relationship(lazy="joined")
    account: Mapped[CarbonAccount] = relationship(lazy="joined")

    @property
    def quantity(self) -> int:
        return self.serial_end - self.serial_start + 1


class CarbonEntry(db.Model):
    """One ledger entry: ``quantity`` serials moved by ``op`` (see ``greenfin.carbon.ledger``)."""

    __tablename__ = "carbon_entries"
    __table_args__ = (
        CheckConstraint(_in("op", OPS), name="op"),
        CheckConstraint(" or ".join(f"(op = '{op}' and to_state = '{state}')" for op, state in OP_STATES.items()),
                        name="op_state"),
        CheckConstraint("(op in ('issue', 'buffer')) = (source_block_id is null)", name="source"),
        CheckConstraint("quantity = serial_end - serial_start + 1 and serial_start >= 1", name="quantity"),
        CheckConstraint("op in ('pledge', 'release', 'enforce') or application_id is null", name="pledge_ref"),
        CheckConstraint("op != 'pledge' or application_id is not null", name="pledge_app"),
        CheckConstraint("unit_price is null or unit_price >= 0", name="price"),
        UniqueConstraint("project_id", "seq", name="uq_carbon_entries_seq"),
        Index("ix_carbon_entries_project_vintage", "project_id", "vintage", "serial_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("carbon_projects.id"))
    seq: Mapped[int]
    op: Mapped[str] = mapped_column(String(16))
    vintage: Mapped[int]
    serial_start: Mapped[int]
    serial_end: Mapped[int]
    quantity: Mapped[int]
    source_block_id: Mapped[Optional[int]] = mapped_column(ForeignKey("carbon_blocks.id"), index=True)
    from_account_id: Mapped[Optional[int]] = mapped_column(ForeignKey("carbon_accounts.id"))
    to_account_id: Mapped[int] = mapped_column(ForeignKey("carbon_accounts.id"), index=True)
    to_state: Mapped[str] = mapped_column(String(16))
    report_id: Mapped[Optional[int]] = mapped_column(ForeignKey("carbon_monitoring_reports.id"))
    unit_price: Mapped[Optional[Decimal]] = mapped_column(Money)  # CNY a tonne (transfers)
    amount: Mapped[Optional[Decimal]] = mapped_column(Money)  # unit_price x quantity
    counterparty: Mapped[Optional[str]] = mapped_column(String(128))
    application_id: Mapped[Optional[int]] = mapped_column(index=True)
    loan_id: Mapped[Optional[int]]
    # pledges: the reference price, where it came from and on which day, and the haircut
    reference_price: Mapped[Optional[Decimal]] = mapped_column(Money)
    price_source: Mapped[Optional[str]] = mapped_column(String(255))
    price_date: Mapped[Optional[date]] = mapped_column(Date)
    haircut: Mapped[Optional[Decimal]] = mapped_column(Numeric(5, 4))
    # retirements: on whose behalf and what for (offsetting an organisation's or an event's emissions)
    beneficiary: Mapped[Optional[str]] = mapped_column(String(128))
    beneficiary_party_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"))
    purpose: Mapped[Optional[str]] = mapped_column(String(255))
    note: Mapped[Optional[str]] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    idempotency_key: Mapped[Optional[str]] = mapped_column(String(200), unique=True)
    request_hash: Mapped[Optional[str]] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    project: Mapped[CarbonProject] = relationship(lazy="joined")
    to_account: Mapped[CarbonAccount] = relationship(foreign_keys=[to_account_id], lazy="joined")
    from_account: Mapped[Optional[CarbonAccount]] = relationship(foreign_keys=[from_account_id], lazy="joined")
