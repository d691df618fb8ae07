"""Weather-index insurance tables.

- ``WeatherStation`` and ``WeatherObservation``: the station list and its daily readings
  (tmin, tmax, precipitation), one row per station and day, insert-only.
- ``ParcelStation``: the station each parcel is read against (the nearest-station rule,
  ``rules.nearest_station``), with the distance.
- ``IndexProduct``: one version of an index product (peril, season window, trigger and exit,
  tiers or linear payout, sum insured per hectare, premium rate, subsidy shares). A version is
  never edited once a policy uses it; a change is the next version of the same code.
- ``InsurancePolicy``: a parcel insured for one season; the lender of a pledged parcel is the
  first loss payee (read through lending's contract when the claim is paid).
- ``PayoutEvent``: one triggered event at a station for a product version (a frost spell, a dry
  spell), with the readings behind it: what the public payout page shows.
- ``InsuranceClaim``: exactly one per policy and event (unique constraint), maker-checker approval.
- ``FundEntry``: the insurance fund's ledger, insert-only: premiums in, paid claims out.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db

Money = Numeric(18, 2)
Share = Numeric(7, 6)
Reading = Numeric(6, 1)

PERILS = ("frost", "drought", "excess_rain")
PAYOUT_MODES = ("tiers", "linear")
COVERS = ("orchard", "forest")
POLICY_STATUSES = ("active", "cancelled")
CLAIM_STATUSES = ("pending", "proposed", "paid", "rejected")
SUBSIDY_PAYERS = ("central", "provincial", "county", "farmer")


class WeatherStation(db.Model):
    __tablename__ = "ins_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    lat: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    lon: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    elevation_m: Mapped[Optional[int]] = mapped_column()
    synthetic: Mapped[bool] = mapped_column(default=False)  # a demo series, never real data
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, locale: str = "zh") -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class WeatherObservation(db.Model):
    """One station's day. Insert-only: a later import of the same day is reported as a duplicate."""

    __tablename__ = "ins_observations"
    __table_args__ = (UniqueConstraint("station_id", "observed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("ins_stations.id"))
    observed_on: Mapped[date] = mapped_column(Date)
    tmin: Mapped[Decimal] = mapped_column(Reading)
    tmax: Mapped[Decimal] = mapped_column(Reading)
    precip_mm: Mapped[Decimal] = mapped_column(Reading)
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ParcelStation(db.Model):
    __tablename__ = "ins_parcel_stations"

    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("ins_stations.id"), index=True)
    distance_km: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    station: Mapped[WeatherStation] = relationship(lazy="joined")


class IndexProduct(db.Model):
    __tablename__ = "ins_products"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("peril in ('frost', 'drought', 'excess_rain')", name="peril"),
        CheckConstraint("payout_mode in ('tiers', 'linear')", name="payout_mode"),
        CheckConstraint("land_cover in ('orchard', 'forest')", name="land_cover"),
        CheckConstraint("sum_insured_per_ha > 0", name="sum_insured_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=1)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    peril: Mapped[str] = mapped_column(String(16))
    land_cover: Mapped[str] = mapped_column(String(16))
    season_start: Mapped[str] = mapped_column(String(5))  # "MM-DD"
    season_end: Mapped[str] = mapped_column(String(5))  # "MM-DD"; before the start: the season crosses new year
    trigger: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    exit: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    payout_mode: Mapped[str] = mapped_column(String(8))
    # [{"level": "-1.0", "share": "0.30"}, ...]: the share paid once the index reaches the level
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    dry_day_mm: Mapped[Optional[Decimal]] = mapped_column(Numeric(6, 1))  # drought: a day below this is dry
    sum_insured_per_ha: Mapped[Decimal] = mapped_column(Money)
    premium_rate: Mapped[Decimal] = mapped_column(Share)
    loading: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("1.5"))
    subsidy: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {"central": "0.35", ..., "farmer": "0.15"}
    notes: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, locale: str = "zh") -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class InsurancePolicy(db.Model):
    __tablename__ = "ins_policies"
    __table_args__ = (
        UniqueConstraint("parcel_id", "product_id", "season"),
        CheckConstraint("status in ('active', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ins_products.id"), index=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("ins_stations.id"), index=True)
    season: Mapped[int] = mapped_column()  # the year the season starts
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    area_ha: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    sum_insured: Mapped[Decimal] = mapped_column(Money)
    premium: Mapped[Decimal] = mapped_column(Money)
    premium_central: Mapped[Decimal] = mapped_column(Money)
    premium_provincial: Mapped[Decimal] = mapped_column(Money)
    premium_county: Mapped[Decimal] = mapped_column(Money)
    premium_farmer: Mapped[Decimal] = mapped_column(Money)
    loss_payee_loan_id: Mapped[Optional[int]] = mapped_column()  # lending's loan when issued; checked again at payout
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[IndexProduct] = relationship(lazy="joined")
    station: Mapped[WeatherStation] = relationship()


class PayoutEvent(db.Model):
    __tablename__ = "ins_events"
    __table_args__ = (UniqueConstraint("product_id", "station_id", "started_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ins_products.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("ins_stations.id"), index=True)
    season: Mapped[int] = mapped_column()
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date] = mapped_column(Date)
    index_value: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    payout_share: Mapped[Decimal] = mapped_column(Share)
    # [{"date": "2026-11-24", "tmin": "-3.4", "tmax": "6.0", "precip_mm": "0.0"}, ...]
    readings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[IndexProduct] = relationship(lazy="joined")
    station: Mapped[WeatherStation] = relationship(lazy="joined")


class InsuranceClaim(db.Model):
    __tablename__ = "ins_claims"
    __table_args__ = (
        UniqueConstraint("policy_id", "event_id"),
        CheckConstraint("status in ('pending', 'proposed', 'paid', 'rejected')", name="status"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("ins_policies.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ins_events.id"), index=True)
    payout_share: Mapped[Decimal] = mapped_column(Share)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    proposed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    note: Mapped[Optional[str]] = mapped_column(Text)
    paid_on: Mapped[Optional[date]] = mapped_column(Date)
    loan_id: Mapped[Optional[int]] = mapped_column()  # the loss payee's loan paid, if any
    to_lender: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    to_holder: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    policy: Mapped[InsurancePolicy] = relationship(lazy="joined")
    event: Mapped[PayoutEvent] = relationship(lazy="joined")


class FundEntry(db.Model):
    """The fund's ledger: a premium (positive) or a paid claim (negative). Insert-only."""

    __tablename__ = "ins_fund_entries"
    __table_args__ = (
        CheckConstraint("kind in ('premium', 'claim')", name="kind"),
        Index("ix_ins_fund_entries_kind", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    entry_on: Mapped[date] = mapped_column(Date)
    policy_id: Mapped[int] = mapped_column(ForeignKey("ins_policies.id"), index=True)
    claim_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ins_claims.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
