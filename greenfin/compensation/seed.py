"""Demo eco-compensation: a budget split (approved), a river pair with a year of monitoring (draft,
awaiting its checker), a ranger scheme (approved, eco-credit points posted) and protected-area
payments per hectare. The runs cite the demo's 2024 and 2025 GEP accounts."""
from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from flask import g
from sqlalchemy import select

from greenfin.compensation import services
from greenfin.core import services as core
from greenfin.core.models import User
from greenfin.extensions import db

BASELINES = {"codmn": Decimal("3.20"), "nh3n": Decimal("0.42"), "tp": Decimal("0.085")}


def _user(username: str):
    return db.session.scalar(select(User).where(User.username == username))


def _run(scheme, maker, checker=None):
    g.user = maker
    run, _job = services.start_run(scheme.id, "2025")
    services.compute_run(run)
    if checker is not None:
        g.user = checker
        services.approve_run(run)
    return run


def seed_demo(rng: random.Random, context: dict) -> dict:
    maker, checker = _user("regulator"), _user("regulator2")
    if maker is None or checker is None or not context.get("greenfin.gep"):
        return {}
    previous = g.get("user")
    try:
        g.user = maker
        budget = services.create_scheme({
            "code": "GF-TP-2025", "kind": "budget_split", "title": "2025年度生态补偿转移支付（按GEP分配）",
            "rules": {"budget": "50000000.00", "weights": {"regulating": "0.6", "quantity": "0.4"}},
            "notes": "60% 按调节服务GEP存量，40% 按不变价GEP实物量增量（演示）"})
        river = services.create_scheme({
            "code": "GF-FENGXI", "kind": "water_bet", "title": "丰溪河上下游横向生态补偿（铜钹山镇—永丰街道）",
            "rules": {"upstream": "tongboshan", "downstream": "yongfeng", "amount": "3000000.00", "k0": "0.85",
                      "threshold": "1", "stations": ["FX-01"],
                      "indicators": {c: {"baseline": str(b), "weight": w} for (c, b), w in
                                     zip(BASELINES.items(), ("0.4", "0.3", "0.3"))}}})
        lines = ["station,date,indicator,value"]
        for month in range(1, 13):
            for code, base in BASELINES.items():
                value = (base * Decimal(str(rng.uniform(0.95, 1.25)))).quantize(Decimal("0.001"))
                lines.append(f"FX-01,{date(2025, month, 10).isoformat()},{code},{value}")
        services.import_monitoring("\n".join(lines) + "\n")
        rangers = list(db.session.scalars(core.party_query(kind="individual").limit(3)))
        runs = [_run(budget, maker, checker), _run(river, maker)]
        if rangers:
            jobs = services.create_scheme({
                "code": "GF-RANGERS", "kind": "eco_jobs", "title": "2025年度生态护林员、巡河员补助",
                "rules": {"monthly_pay": "800.00", "jobs": [
                    {"party_id": p.id, "role": ("ranger", "river_patrol")[i % 2], "months": 12,
                     "township_code": p.township_code or "tongboshan"} for i, p in enumerate(rangers)]}})
            runs.append(_run(jobs, maker, checker))
        hectare = services.create_scheme({
            "code": "GF-PROTECT", "kind": "per_hectare", "title": "公益林与湿地保护补偿（按公顷）",
            "rules": {"rates": {"forest": "240.00", "wetland": "450.00"}}})
        runs.append(_run(hectare, maker, checker))
        _seed_assessment(rng)
        _seed_damage()
    finally:
        g.user = previous
    return {"runs": [r.id for r in runs]}


TREE = [
    ("ECO", None, "生态系统质量", "Ecosystem quality", "0", "higher", "entered", "0", "1", "-", "区发改委"),
    ("ECO-1", "ECO", "GEP实物量增长率（不变价）", "GEP quantity growth (constant prices)", "300", "higher",
     "gep_quantity_growth", "-2", "3", "%", "区统计局"),
    ("ECO-2", "ECO", "单位面积调节服务价值", "Regulating GEP per hectare", "250", "higher", "gep_regulating_per_ha",
     "20000", "120000", "CNY/ha", "区统计局"),
    ("ENV", None, "环境质量", "Environmental quality", "0", "higher", "entered", "0", "1", "-", "市生态环境局广丰分局"),
    ("ENV-1", "ENV", "地表水III类以上断面比例", "Surface water sections class III or better", "200", "higher", "entered",
     "80", "100", "%", "市生态环境局广丰分局"),
    ("ENV-2", "ENV", "森林覆盖率", "Forest cover", "150", "higher", "entered", "50", "75", "%", "区林业局"),
    ("GOV", None, "生态治理", "Ecological governance", "0", "higher", "entered", "0", "1", "-", "区委组织部"),
    ("GOV-1", "GOV", "生态环境信访件办结率", "Environmental complaints resolved", "100", "higher", "entered", "70", "100",
     "%", "区信访局"),
]


def _seed_assessment(rng: random.Random) -> None:
    from greenfin.gep import services as gep

    for code, parent, zh, en, weight, direction, rule, floor, target, unit, dept in TREE:
        services.create_indicator({"code": code, "parent_code": parent, "name_zh": zh, "name_en": en, "weight": weight,
                                   "direction": direction, "rule": rule, "floor": floor, "target": target,
                                   "unit": unit, "department": dept})
    townships = sorted({a.township_code for a in gep.year_accounts(2025, with_services=False)})
    for year in (2024, 2025):
        for t in townships:
            for code, lo, hi in (("ENV-1", 85, 100), ("ENV-2", 55, 80), ("GOV-1", 80, 100)):
                services.enter_value(code, t, year, f"{rng.uniform(lo, hi):.2f}", f"{year}年度{code}统计报表（演示）")
    services.score_year(2025)


def _seed_damage() -> None:
    from greenfin.core.models import Parcel

    parcel = db.session.scalar(select(Parcel).where(Parcel.land_cover == "forest").order_by(Parcel.id).limit(1))
    if parcel is None:
        return
    services.value_damage({
        "reference": "GF-2025-STH-001", "party_id": parcel.holder_id, "occurred_on": "2025-09-12",
        "parcel_ids": [parcel.id], "area_ha": str(min(parcel.area_ha, Decimal("2"))), "restoration_years": "5",
        "services": ["carbon_sequestration", "soil_retention", "water_conservation"]})
