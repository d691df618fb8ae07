"""Demo registry, after Sanming's first 林业碳票: the 古村 village collective's 3,197 mu of public-welfare
forest, vintage 2024 verified and issued (12,723 t to the village, the buffer share held back), a sale of
2,723 t at ¥15/t (¥40,845) to a firm, 10,000 t bought by the district reserve at ¥10/t; vintage 2025
pledged to a CARBON-SINK loan that joins the demo pool; and one retirement certificate.

Runs after the lending and pools seeds and reaches them only through their contracts.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import g
from sqlalchemy import select

from greenfin.carbon import services
from greenfin.core import services as core
from greenfin.core.identifiers import USCC_ALPHABET, uscc_check_char
from greenfin.core.models import Parcel, Party, User
from greenfin.errors import DomainError
from greenfin.extensions import db
from greenfin.registry import contract

VILLAGE = "广丰区大南镇古村村民委员会"
BUYER = "江西广丰马家柚食品有限公司"
RESERVE = "广丰区生态产品储备中心"
FOREST_HA = Decimal("213.1333")  # 3,197 mu
VINTAGE_2024 = Decimal("14137")  # 12,723 t to the village after the 10 % buffer (1,414 t)
VINTAGE_2025 = Decimal("9200")
PLEDGED = 8000
LOAN_AMOUNT = Decimal("300000")


def _uscc(rng) -> str:
    body = "12361122" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


def _party(name: str) -> Party:
    return db.session.scalar(select(Party).where(Party.name == name))


def _first_user(role: str):
    return db.session.scalar(select(User).where(User.role == role).order_by(User.id))


def seed_demo(rng, context) -> dict:
    village, buyer = _party(VILLAGE), _party(BUYER)
    if village is None or buyer is None:
        return {}
    g.actor_label = "seed"
    reserve = core.create_party({"kind": "organisation", "name": RESERVE, "uscc": _uscc(rng), "township_code": "yongfeng",
                                 "village": "永丰社区", "sector": "public", "contact_name": "办公室"})
    forest = core.create_parcel({
        "code": "GF-DN-GC-F01", "name": "古村集体生态公益林", "holder_id": village.id, "township_code": "danan",
        "village": "古村村", "area_ha": FOREST_HA, "land_cover": "forest", "lat": Decimal("28.352100"),
        "lon": Decimal("118.241700"), "cert_type": "forest_rights", "cert_no": "赣(2019)广丰区林权第0003197号"})
    gep = contract("greenfin.gep")
    if gep is not None:
        for year in (2024, 2025):
            gep.compute_accounts(year, parcel_ids=[forest.id])
    project = services.create_project({
        "code": "GCF01", "name": "古村集体林业碳汇项目", "method": "CCER-14-001-V01", "owner_id": village.id,
        "parcel_ids": [forest.id], "crediting_start": date(2019, 1, 1), "crediting_end": date(2038, 12, 31),
        "buffer_share": "0.10", "description": "大南镇古村村 3,197 亩集体生态公益林，参照三明林业碳票首批项目。",
        "documents": [{"title": "项目设计文件 (Project design document)", "ref": "GCF01-PDD-2024"}, {"title": "林权证复印件 (Copy of the forest rights certificate)", "ref": forest.cert_no}]})
    registrar, regulator = _first_user("admin"), _first_user("regulator")
    for vintage, tonnes in ((2024, VINTAGE_2024), (2025, VINTAGE_2025)):
        g.user = registrar
        report = services.submit_report(project, {"vintage": vintage, "verified_tonnes": tonnes,
                                                  "verifier": "中环联合（北京）认证中心",
                                                  "document": f"CEC-VR-GCF01-{vintage}"})
        g.user = regulator
        services.decide_report(report, True, "核证报告与GEP核算估计一致")
        g.user = registrar
        services.issue_report(report)
    blocks = {b.vintage: b for b in db.session.scalars(services.block_query(project_id=project.id, state="available"))}
    sale = services.transfer_units({"block_id": blocks[2024].id, "quantity": 2723, "to_party_id": buyer.id,
                                    "unit_price": "15", "note": "首笔林业碳票交易"})
    reserve_buy = services.transfer_units({"block_id": blocks[2024].id, "quantity": 10000, "to_party_id": reserve.id,
                                           "unit_price": "10", "note": "区生态产品储备收储"})
    bought = db.session.scalars(services.block_query(account_id=sale.to_account_id, project_id=project.id)).one()
    retirement = services.retire_units({"block_id": bought.id, "quantity": 500, "beneficiary": BUYER,
                                        "beneficiary_party_id": buyer.id, "purpose": "抵消2025年度厂区用能排放"})
    loan = _carbon_loan(village, blocks[2025], context)
    g.pop("user", None)
    return {"project": project, "sale": sale, "reserve": reserve_buy, "retirement": retirement, "loan": loan}


def _carbon_loan(village: Party, block, context) -> object:
    """A CARBON-SINK loan to the village secured by 8,000 t of vintage 2025, added to the demo pool."""
    lending = contract("greenfin.lending")
    if lending is None:
        return None
    product = next(p for p in lending.list_products() if p.kind == "carbon_pledge")
    g.user = _first_user("loan_officer")
    app = lending.create_application({
        "party_id": village.id, "product_id": product.id, "amount": LOAN_AMOUNT, "term_months": 36,
        "purpose": "集体林抚育、防火与碳汇监测", "annual_income": Decimal("1800000"),
        "total_assets": Decimal("5200000"), "total_debts": Decimal("120000"), "years_in_business": 12,
        "guarantors": [], "documents": [{"kind": "林业碳票质押登记", "reference": "GCF01-2025-PLEDGE"}],
        "applied_on": date(2026, 10, 28)})
    services.pledge_units({"block_id": block.id, "quantity": PLEDGED, "application_id": app.id})
    try:
        lending.score_application(app)
        lending.decide_application(app)
        if app.status in ("referred", "declined"):
            lending.officer_decision(app, "approve", "碳票质押足额覆盖，村集体经营稳定")
        if app.status != "approved":
            return None
        loan = lending.book_loan(app, date(2026, 11, 10))
    except DomainError:
        return None
    pools = contract("greenfin.pools")
    pool = (context.get("greenfin.pools") or {}).get("pool")
    if pools is not None and pool is not None:
        try:
            with db.session.begin_nested():
                pools.add_loans(pool, [loan.id], "林业碳票质押贷款入池", date(2026, 11, 30))
        except DomainError:
            pass  # the pool's criteria refuse it: the loan stays outside, the pledge stands
    return loan
