"""Eco-compensation tables: versioned schemes, runs with their allocation rows, monitoring data.

- A ``CompensationScheme`` (code + version) holds the rules of one of four kinds. Once a run
  used it, it is locked; a change is a new version copied from it (as GEP price versions).
- A ``CompensationRun`` is one scheme applied to one period. It is computed by a job as a draft,
  then approved by a second person (maker-checker). An approved run and its allocation rows never
  change: the ORM guard below refuses and the migration's database triggers refuse too.
- A ``CompensationAllocation`` row says who gets how much and cites what produced the figure
  (GEP account ids, price versions, monitoring row ids) in ``sources``.
- ``MonitoringReading`` rows are imported water-quality measurements (station, date, indicator).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db

KINDS = ("budget_split", "water_bet", "per_hectare", "eco_jobs")
RUN_STATUSES = ("draft", "approved")


class CompensationScheme(db.Model):
    __tablename__ = "compensation_schemes"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("kind in ('budget_split', 'water_bet', 'per_hectare', 'eco_jobs')", name="kind"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(255))
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType)
    notes: Mapped[Optional[str]] = mapped_column(Text)
    based_on_id: Mapped[Optional[int]] = mapped_column(ForeignKey("compensation_schemes.id"))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"


class CompensationRun(db.Model):
    __tablename__ = "compensation_runs"
    __table_args__ = (
        UniqueConstraint("scheme_id", "period"),
        CheckConstraint("status in ('draft', 'approved')", name="status"),
        CheckConstraint("status = 'draft' or approved_by_id is not null", name="approved_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("compensation_schemes.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    total: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0.00"))
    figures: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    job_id: Mapped[Optional[str]] = mapped_column(String(36))
    computed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    scheme: Mapped[CompensationScheme] = relationship(lazy="joined")
    allocations: Mapped[list["CompensationAllocation"]] = relationship(
        back_populates="run", order_by="CompensationAllocation.line")

    @property
    def approved(self) -> bool:
        return self.status == "approved"


class CompensationAllocation(db.Model):
    __tablename__ = "compensation_allocations"
    __table_args__ = (UniqueConstraint("run_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("compensation_runs.id"), index=True)
    line: Mapped[int] = mapped_column()
    township_code: Mapped[Optional[str]] = mapped_column(String(32))
    payer: Mapped[Optional[str]] = mapped_column(String(64))  # township code, party id or "budget"
    payee: Mapped[str] = mapped_column(String(64))
    payee_party_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    basis: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the figures the amount was computed from
    sources: Mapped[dict[str, Any]] = mapped_column(JSONType)  # account ids, price versions, monitoring ids

    run: Mapped[CompensationRun] = relationship(back_populates="allocations")


class MonitoringReading(db.Model):
    __tablename__ = "compensation_monitoring"
    __table_args__ = (UniqueConstraint("station", "sampled_on", "indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station: Mapped[str] = mapped_column(String(32), index=True)
    sampled_on: Mapped[date] = mapped_column()
    indicator: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_approved_runs(session, _flush_context, _instances):
    """An approved run and its rows never change (the database triggers say so too)."""
    from greenfin.errors import Conflict

    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, CompensationRun):
            old = inspect(obj).committed_state.get("status", obj.status)
            if old == "approved" and (obj in session.deleted or session.is_modified(obj)):
                raise Conflict("An approved compensation run never changes", code="run_approved")
        elif isinstance(obj, CompensationAllocation):
            run = obj.run
            if run is not None and inspect(run).committed_state.get("status", run.status) == "approved" \
                    and (obj in session.deleted or session.is_modified(obj)):
                raise Conflict("An approved compensation run never changes", code="run_approved")


# ---------------------------------------------------------------- assessment (考核) and damage

DIRECTIONS = ("higher", "lower")
INDICATOR_RULES = ("gep_quantity_growth", "gep_regulating_per_ha", "entered")


class AssessmentIndicator(db.Model):
    """One indicator of the township assessment tree; ``weight`` is its points out of the total."""

    __tablename__ = "assessment_indicators"
    __table_args__ = (
        CheckConstraint("direction in ('higher', 'lower')", name="direction"),
        CheckConstraint("rule in ('gep_quantity_growth', 'gep_regulating_per_ha', 'entered')", name="rule"),
        CheckConstraint("weight >= 0", name="weight_nonneg"),
        CheckConstraint("target <> floor", name="target_differs"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    parent_code: Mapped[Optional[str]] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    weight: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    direction: Mapped[str] = mapped_column(String(8))
    rule: Mapped[str] = mapped_column(String(32))
    floor: Mapped[Decimal] = mapped_column(Numeric(18, 4))  # value scoring 0 points
    target: Mapped[Decimal] = mapped_column(Numeric(18, 4))  # value scoring full points
    unit: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(128))  # source department
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AssessmentValue(db.Model):
    """A value a department entered for an indicator, township and year, with its evidence."""

    __tablename__ = "assessment_values"
    __table_args__ = (UniqueConstraint("indicator_id", "township_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("assessment_indicators.id"), index=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("townships.code"))
    year: Mapped[int] = mapped_column()
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    evidence: Mapped[str] = mapped_column(Text)
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    indicator: Mapped[AssessmentIndicator] = relationship()


class AssessmentScore(db.Model):
    """A township's score of a year, with rank, change on the year before and every indicator's points."""

    __tablename__ = "assessment_scores"
    __table_args__ = (UniqueConstraint("year", "township_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("townships.code"))
    score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    rank: Mapped[int] = mapped_column()
    change: Mapped[Optional[Decimal]] = mapped_column(Numeric(8, 2))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AssessmentAlert(db.Model):
    """Raised when a township's quantity-effect GEP (constant prices) falls. Insert-only."""

    __tablename__ = "assessment_alerts"
    __table_args__ = (UniqueConstraint("year", "township_code", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("townships.code"))
    kind: Mapped[str] = mapped_column(String(32))
    figure: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DamageIncident(db.Model):
    """Ecological damage valued as lost GEP at the locked prices of the parcels' accounts."""

    __tablename__ = "damage_incidents"
    __table_args__ = (
        CheckConstraint("restoration_years > 0", name="restoration_positive"),
        CheckConstraint("area_ha > 0", name="area_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    party_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"))
    occurred_on: Mapped[date] = mapped_column()
    area_ha: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    restoration_years: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    services: Mapped[list[str]] = mapped_column(JSONType)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    basis: Mapped[dict[str, Any]] = mapped_column(JSONType)  # per parcel: account, version, service values used
    posting_id: Mapped[Optional[int]] = mapped_column()  # the penalty notice's eco-credit posting
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
