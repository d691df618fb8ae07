"""Demo insurance: three SYNTHETIC stations with 32 years of daily weather, a frost index product for
Majia pomelo orchards and a drought index product for forests, policies for the 2026/27 season,
and a frost spell on 24-26 November 2026 that pays three orchard policies. One of them is pledged to
an orchard loan in arrears: its payout (to the lender, as first loss payee) clears the arrears and
shows as a recovery in the asset pool's November servicer report (pools is seeded after this).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import g
from sqlalchemy import select

from greenfin.core.models import Parcel, User
from greenfin.extensions import db
from greenfin.insurance import rules, services, synthetic
from greenfin.registry import contract

SERIES_START = date(1995, 1, 1)
SERIES_END = date(2026, 11, 30)
SEASON = 2026
FROST_DAYS = {date(2026, 11, 24): -3.2, date(2026, 11, 25): -5.4, date(2026, 11, 26): -4.1}
EVALUATED_ON = date(2026, 11, 28)
PAID_ON = date(2026, 11, 30)
STATIONS = (
    {"code": "GF-SYN-N", "name_zh": "广丰北部站（合成数据）", "name_en": "Guangfeng North (synthetic)",
     "lat": Decimal("28.5200"), "lon": Decimal("118.2500"), "elevation_m": 120, "seed": 11, "offset": 0.0},
    {"code": "GF-SYN-C", "name_zh": "广丰城区站（合成数据）", "name_en": "Guangfeng Town (synthetic)",
     "lat": Decimal("28.4300"), "lon": Decimal("118.2000"), "elevation_m": 95, "seed": 12, "offset": 0.4},
    {"code": "GF-SYN-S", "name_zh": "广丰南部站（合成数据）", "name_en": "Guangfeng South (synthetic)",
     "lat": Decimal("28.3000"), "lon": Decimal("118.3000"), "elevation_m": 180, "seed": 13, "offset": -0.5},
)
SUBSIDY = {"central": "0.35", "provincial": "0.25", "county": "0.25", "farmer": "0.15"}  # 85 % subsidised
FROST = {"code": "MJY-FROST", "name_zh": "马家柚霜冻气象指数保险", "name_en": "Majia pomelo frost index insurance",
         "peril": "frost", "land_cover": "orchard", "season_start": "11-15", "season_end": "03-15",
         "trigger": "-3", "exit": "-7", "payout_mode": "tiers",
         "tiers": [{"level": "-3", "share": "0.30"}, {"level": "-5", "share": "0.60"}, {"level": "-7", "share": "1"}],
         "sum_insured_per_ha": "30000", "premium_rate": "0.0750", "loading": "1.5", "subsidy": SUBSIDY,
         "notes": "Pays at the parcel's nearest station when the daily minimum reaches -3 °C (30 %), -5 °C (60 %), -7 °C (100 %)."}
DROUGHT = {"code": "FOREST-DROUGHT", "name_zh": "公益林干旱气象指数保险", "name_en": "Forest drought index insurance",
           "peril": "drought", "land_cover": "forest", "season_start": "07-01", "season_end": "10-31",
           "trigger": "25", "exit": "45", "payout_mode": "linear", "dry_day_mm": "1.0",
           "sum_insured_per_ha": "6000", "premium_rate": "0.0150", "loading": "1.5", "subsidy": SUBSIDY}


def _series(station: dict, frost: bool) -> str:
    rows = []
    for code, day, tmin, tmax, precip in synthetic.series(station["code"], SERIES_START, SERIES_END,
                                                         seed=station["seed"], offset=station["offset"]):
        if frost and day in FROST_DAYS:
            tmin, tmax, precip = FROST_DAYS[day], FROST_DAYS[day] + 7.5, 0.0
        rows.append((code, day, tmin, tmax, precip))
    return synthetic.to_csv(rows)


def _arrears_loan(lending, pledged: dict[int, int]) -> tuple[int, int] | None:
    """(parcel id, loan id) of the pledged orchard parcel whose loan is most behind when the frost ends."""
    facts = lending.loan_facts(set(pledged.values()), EVALUATED_ON)
    late = [(f.days_past_due, -f.loan_id, parcel_id) for parcel_id, loan_id in pledged.items()
            if (f := facts.get(loan_id)) is not None and f.product_code == "ORCHARD" and f.days_past_due > 0]
    if not late:
        return None
    _dpd, loan_id, parcel_id = max(late)
    return parcel_id, -loan_id


def seed_demo(rng, context: dict) -> dict:
    lending = contract("greenfin.lending")
    stations = [services.create_station({k: v for k, v in s.items() if k not in ("seed", "offset")} | {"synthetic": True})
                for s in STATIONS]
    services.link_parcels()
    orchards = list(db.session.scalars(select(Parcel).where(Parcel.land_cover == "orchard").order_by(Parcel.id)))
    pledged = lending.pledged_loans([p.id for p in orchards]) if lending is not None else {}
    chosen = _arrears_loan(lending, pledged) if lending is not None else None
    frost_station = (services.parcel_station(chosen[0]).station_id if chosen
                     else stations[0].id)
    for spec, station in zip(STATIONS, stations):
        services.import_observations(_series(spec, station.id == frost_station), source="synthetic demo series")
    frost, drought = services.create_product(FROST), services.create_product(DROUGHT)
    # Three orchard policies at the frost station (one pledged, in arrears), two at another station.
    at_frost = [p for p in orchards if services.parcel_station(p.id) and services.parcel_station(p.id).station_id == frost_station]
    insured = ([next(p for p in orchards if p.id == chosen[0])] if chosen else []) + \
        [p for p in at_frost if p.id not in pledged][: 3 - (1 if chosen else 0)]
    elsewhere = [p for p in orchards if p.id not in pledged and p not in insured
                 and (link := services.parcel_station(p.id)) is not None and link.station_id != frost_station][:2]
    policies = [services.issue_policy({"product_id": frost.id, "parcel_id": p.id, "season": SEASON})
                for p in insured + elsewhere]
    forests = list(db.session.scalars(select(Parcel).where(Parcel.land_cover == "forest").order_by(Parcel.id).limit(3)))
    policies += [services.issue_policy({"product_id": drought.id, "parcel_id": p.id, "season": SEASON + 1})
                 for p in forests]
    created = services.evaluate_policies(EVALUATED_ON)
    maker, checker = (list(db.session.scalars(select(User).where(User.role == "insurer").order_by(User.id))) + [None, None])[:2]
    claims = list(db.session.scalars(services.claim_query(status="pending")))
    if maker is not None and checker is not None:
        g.user = maker
        for claim in claims:
            services.propose_claim(claim, "站点实测最低气温连续三日低于触发值，赔付比例按档位计算")
        g.user = checker
        for claim in claims:
            services.approve_claim(claim, paid_on=PAID_ON)
        g.pop("user", None)
    return {"stations": stations, "products": [frost, drought], "policies": policies, "claims": claims,
            "claims_created": created, "pledged_parcel": chosen, "max_station_km": rules.MAX_STATION_KM}
