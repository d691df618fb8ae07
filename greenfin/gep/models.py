"""GEP accounting tables: versioned parameters and prices, parcel attributes, accounts.

- A ``GepVersion`` is one complete parameter and price table. Once an account used it,
  it is locked and immutable; a change is a new version copied from it.
- ``GepParcelAttribute`` holds what the formulas need beyond the core parcel row
  (measured K and LS factors, NPP, yield, the polygon); a missing value means the
  land-cover default of the version.
- A ``GepAccount`` is insert-only: parcel, year, version, the inputs it used, the
  totals; ``GepServiceValue`` rows hold each service's quantity and value.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from greenfin.core.models import Parcel
from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db


class GepVersion(db.Model):
    __tablename__ = "gep_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    year: Mapped[int] = mapped_column()  # price base year
    based_on_id: Mapped[Optional[int]] = mapped_column(ForeignKey("gep_versions.id"))
    notes: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    parameters: Mapped[list["GepParameter"]] = relationship(
        back_populates="version", order_by="GepParameter.key", cascade="all, delete-orphan")
    based_on: Mapped[Optional["GepVersion"]] = relationship(remote_side=[id])

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    def values(self) -> dict[str, float]:
        return {p.key: float(p.value) for p in self.parameters}


class GepParameter(db.Model):
    __tablename__ = "gep_parameters"
    __table_args__ = (
        UniqueConstraint("version_id", "key"),
        CheckConstraint("kind in ('parameter', 'price')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("gep_versions.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Numeric(24, 8))
    unit: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(255))
    year: Mapped[int] = mapped_column()

    version: Mapped[GepVersion] = relationship(back_populates="parameters")


class GepParcelAttribute(db.Model):
    __tablename__ = "gep_parcel_attributes"
    __table_args__ = (
        CheckConstraint("k_factor is null or k_factor >= 0", name="k_nonneg"),
        CheckConstraint("ls_factor is null or ls_factor >= 0", name="ls_nonneg"),
        CheckConstraint("npp is null or npp >= 0", name="npp_nonneg"),
        CheckConstraint("yield_t_ha is null or yield_t_ha >= 0", name="yield_nonneg"),
    )

    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), primary_key=True)
    k_factor: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 6))  # t·ha·h/(ha·MJ·mm)
    ls_factor: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 4))
    npp: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 2))  # gC/(m²·a)
    yield_t_ha: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 3))  # t/ha (forest: m³/ha)
    slope_deg: Mapped[Optional[Decimal]] = mapped_column(Numeric(5, 2))
    geometry: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)  # GeoJSON polygon, WGS84
    area_m2_ellipsoid: Mapped[Optional[Decimal]] = mapped_column(Numeric(16, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    parcel: Mapped[Parcel] = relationship()


class GepAccount(db.Model):
    """One parcel's GEP for one year under one version. Insert-only."""

    __tablename__ = "gep_accounts"
    __table_args__ = (
        UniqueConstraint("parcel_id", "year", "version_id", "inputs_hash"),
        Index("ix_gep_accounts_year_township", "year", "township_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    year: Mapped[int] = mapped_column()
    version_id: Mapped[int] = mapped_column(ForeignKey("gep_versions.id"), index=True)
    township_code: Mapped[str] = mapped_column(String(32))
    village: Mapped[Optional[str]] = mapped_column(String(64))
    area_ha: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    land_cover: Mapped[str] = mapped_column(String(16))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    provisioning: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    regulating: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    cultural: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    job_id: Mapped[Optional[str]] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parcel: Mapped[Parcel] = relationship()
    version: Mapped[GepVersion] = relationship(lazy="joined")
    services: Mapped[list["GepServiceValue"]] = relationship(back_populates="account", order_by="GepServiceValue.id")


class GepServiceValue(db.Model):
    __tablename__ = "gep_service_values"
    __table_args__ = (UniqueConstraint("account_id", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("gep_accounts.id"))
    service: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    unit: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2))

    account: Mapped[GepAccount] = relationship(back_populates="services")
