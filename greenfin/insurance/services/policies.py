"""Policies on parcels for a season; the premium, its subsidy split and the fund's premium entry."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Optional

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from greenfin import dates
from greenfin.core.models import Parcel
from greenfin.core.services import record_audit, snapshot
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.insurance import rules
from greenfin.insurance.models import FundEntry, IndexProduct, InsurancePolicy
from greenfin.insurance.services.weather import parcel_station
from greenfin.registry import contract
from greenfin.security import current_actor

POLICY_FIELDS = ("number", "product_id", "parcel_id", "holder_id", "station_id", "season", "starts_on", "ends_on",
                 "area_ha", "sum_insured", "premium", "premium_central", "premium_provincial", "premium_county",
                 "premium_farmer", "loss_payee_loan_id", "status")


def loss_payee_loans(parcel_ids: Iterable[int]) -> dict[int, int]:
    """{parcel id: loan id} of parcels pledged to an active loan, read through lending's contract
    (empty when lending is not loaded: the holder is then the only payee)."""
    lending = contract("greenfin.lending")
    return lending.pledged_loans(list(parcel_ids)) if lending is not None else {}


def issue_policy(data: dict) -> InsurancePolicy:
    """Insure a parcel for a season under a product version: the parcel's cover must match the
    product's, the parcel must have a station within reach, and one parcel takes a product once a season."""
    errors: dict[str, list[str]] = {}
    product = db.session.get(IndexProduct, data.get("product_id") or 0)
    if product is None:
        errors["product_id"] = [f"unknown index product {data.get('product_id')}"]
    parcel = db.session.get(Parcel, data.get("parcel_id") or 0)
    if parcel is None:
        errors["parcel_id"] = [f"unknown parcel {data.get('parcel_id')}"]
    season = data.get("season")
    if not isinstance(season, int) or isinstance(season, bool) or not 2000 <= season <= 2100:
        errors["season"] = ["must be the year the season starts (2000-2100)"]
    if product is not None and parcel is not None and parcel.land_cover != product.land_cover:
        errors["parcel_id"] = [f"{product.name_en} insures {product.land_cover} parcels; {parcel.code} is {parcel.land_cover}"]
    link = parcel_station(parcel.id) if parcel is not None and "parcel_id" not in errors else None
    if parcel is not None and "parcel_id" not in errors and link is None:
        errors["parcel_id"] = [f"no weather station within {rules.MAX_STATION_KM} km of parcel {parcel.code}"]
    if errors:
        raise ValidationFailed(N_("Invalid policy"), errors)
    starts_on, ends_on = rules.season_bounds(product.season_start, product.season_end, season)
    if ends_on < dates.today() and not data.get("backdated"):
        raise ValidationFailed(N_("Invalid policy"), {"season": ["this season has ended"]})
    area = Decimal(parcel.area_ha)
    sum_insured = (area * product.sum_insured_per_ha).quantize(rules.CENT, ROUND_HALF_UP)
    premium = (sum_insured * product.premium_rate).quantize(rules.CENT, ROUND_HALF_UP)
    parts = rules.split_premium(premium, {k: Decimal(v) for k, v in product.subsidy.items()})
    user = current_actor()
    policy = InsurancePolicy(
        number=f"IP-{season}-{parcel.id}-{product.id}", product_id=product.id, parcel_id=parcel.id,
        holder_id=parcel.holder_id, station_id=link.station_id, season=season, starts_on=starts_on, ends_on=ends_on,
        area_ha=area, sum_insured=sum_insured, premium=premium, premium_central=parts["central"],
        premium_provincial=parts["provincial"], premium_county=parts["county"], premium_farmer=parts["farmer"],
        loss_payee_loan_id=loss_payee_loans([parcel.id]).get(parcel.id), status="active",
        created_by_id=user.id if user else None)
    try:
        with db.session.begin_nested():
            db.session.add(policy)
            db.session.flush()
    except IntegrityError:
        raise Conflict(N_("The parcel is already insured under this product for the season"),
                       {"parcel_id": [f"parcel {parcel.code} already has a {product.code} policy for {season}"]})
    policy.number = f"IP{season}-{policy.id:06d}"
    db.session.add(FundEntry(kind="premium", amount=premium, entry_on=dates.today(),
                             policy_id=policy.id))
    db.session.flush()
    record_audit("insurance.policy.issue", "ins_policy", policy.id, after=snapshot(policy, POLICY_FIELDS),
                 party_id=policy.holder_id)
    return policy


def get_policy(policy_id: int) -> InsurancePolicy:
    policy = db.session.get(InsurancePolicy, policy_id)
    if policy is None:
        raise NotFound(N_("policy not found"), {"policy_id": [f"unknown policy {policy_id}"]})
    return policy


def policy_query(*, holder_id: Optional[int] = None, season: Optional[int] = None,
                 product_id: Optional[int] = None, status: Optional[str] = None) -> Select:
    stmt = select(InsurancePolicy).order_by(InsurancePolicy.id.desc())
    if holder_id is not None:
        stmt = stmt.where(InsurancePolicy.holder_id == holder_id)
    if season is not None:
        stmt = stmt.where(InsurancePolicy.season == season)
    if product_id is not None:
        stmt = stmt.where(InsurancePolicy.product_id == product_id)
    if status:
        stmt = stmt.where(InsurancePolicy.status == status)
    return stmt


def cancel_policy(policy: InsurancePolicy, reason: str) -> InsurancePolicy:
    """Cancel a policy before its season starts (the premium stays in the fund's history; a
    refund is a new, negative premium entry)."""
    if not (reason or "").strip():
        raise ValidationFailed.field("reason", "a reason is required")
    if policy.status != "active":
        raise Conflict(N_("The policy is not active"))
    if policy.starts_on <= dates.today():
        raise Conflict(N_("A policy whose season has started cannot be cancelled"),
                       {"policy_id": [f"the season started on {policy.starts_on}"]})
    policy.status = "cancelled"
    db.session.add(FundEntry(kind="premium", amount=-policy.premium, entry_on=dates.today(), policy_id=policy.id))
    db.session.flush()
    record_audit("insurance.policy.cancel", "ins_policy", policy.id, before={"status": "active"},
                 after={"status": "cancelled", "reason": reason.strip()}, party_id=policy.holder_id)
    return policy


def insured_parcel_ids(parcel_ids: Iterable[int], on: Optional[date] = None) -> list[int]:
    """The contract reader for lending's pricing: which of these parcels carry an active policy
    whose season has not ended on ``on`` (default: the business date)."""
    ids = [i for i in parcel_ids if isinstance(i, int)]
    if not ids:
        return []
    on = on or dates.today()
    return sorted(set(db.session.scalars(select(InsurancePolicy.parcel_id).where(
        InsurancePolicy.parcel_id.in_(ids), InsurancePolicy.status == "active", InsurancePolicy.ends_on >= on))))


def fund_summary() -> dict[str, Decimal]:
    """Premiums in, claims paid out, and the balance: the sum of the fund's ledger."""
    rows = dict(db.session.execute(select(FundEntry.kind, db.func.coalesce(db.func.sum(FundEntry.amount), 0))
                                   .group_by(FundEntry.kind)).all())
    premiums = Decimal(rows.get("premium", 0) or 0)
    claims = Decimal(rows.get("claim", 0) or 0)
    return {"premiums": premiums, "claims": -claims, "balance": premiums + claims}
