"""Demo lending: products, a champion trained on the synthetic book (and a cross-validated challenger
of the same book), applications in every state and booked loans with months of repayments (some
late), so pools can be cut from them."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from flask import g

from greenfin.core.models import User
from greenfin.extensions import db
from greenfin.lending import links, services
from greenfin.lending.scoring import modelling
from greenfin.lending.scoring.scorecard import train
from greenfin.lending.synthetic import generate_book

AS_OF = date(2026, 11, 20)
# A county branch lends a firm or co-operative up to this against collateral, so no single
# borrower dominates the book (or the demo asset pool cut from it).
SECURED_FIRM_CAP = Decimal("600000")
MAX_LOANS = 16  # booked; approved applications beyond this wait for disbursement
# Monitoring: this many small eco-credit applications a month, scored and decided, for the months
# before AS_OF, so the stability page judges every month; the last one drifts (heavier debts,
# younger businesses, no guarantors).
MONITORING_MONTHS, MONITORING_PER_MONTH = 6, 24


def seed_demo(rng: random.Random, context: dict) -> dict:
    parties = list(context["greenfin.core"]["parties"].values())
    services.seed_products()
    products = {p.kind: p for p in services.list_products()}
    # Without the out-of-fold steps (C chosen on folds, recalibration): the demo book the pool, insurance
    # and carbon demos are built on stays the same; a card trained on the models page shows them all.
    result = train(generate_book(6000, seed=2026), "defaulted", uncertainty=False)
    champion = modelling.register_model(result, name="Guangfeng synthetic loan book 2019-2025", target="defaulted",
                                        bad_value=None, source="synthetic.generate_book(6000, seed=2026)",
                                        role="champion")
    # The same book with the out-of-fold steps, as a reviewer would see a newly trained card: folds,
    # bootstrap intervals and calibration. A challenger, so nothing the demo books depends on it.
    modelling.register_model(train(generate_book(6000, seed=2026), "defaulted"),
                             name="Guangfeng synthetic loan book 2019-2025 (cross-validated)", target="defaulted",
                             bad_value=None, source="synthetic.generate_book(6000, seed=2026)", role="challenger")
    officers = list(db.session.scalars(db.select(User).where(User.role == "loan_officer").order_by(User.id)))
    borrowers = [p for p in parties if p.sector not in ("banking", "association")]
    apps, loans = [], []
    for i in range(26):
        party = borrowers[i % len(borrowers)]
        if party.kind == "individual" or party.sector == "pomelo":
            kind = "orchard" if i % 3 else "eco_credit"
        elif party.sector in ("forestry", "eco_tourism", "village", "tea"):
            kind = ["forest_mortgage", "gep_pledge", "carbon_pledge"][i % 3]
            if kind == "carbon_pledge" and links.carbon_registry_installed():
                kind = "forest_mortgage"  # carbon-sink loans pledge tonnes: the carbon registry's demo books them
        else:
            kind = "eco_credit"
        product = products[kind]
        income = Decimal(rng.randint(80, 400) * 1000 if party.kind == "individual" else rng.randint(600, 6000) * 1000)
        amount = min(product.max_amount, max(product.min_amount, (income * Decimal(rng.uniform(0.3, 0.9))).quantize(Decimal("1000"))))
        if kind == "eco_credit":
            amount = min(amount, Decimal("45000"))
        elif party.kind != "individual":
            amount = min(amount, SECURED_FIRM_CAP)
        applied_on = AS_OF - timedelta(days=rng.randint(30, 420))
        if i >= 20:
            applied_on = AS_OF - timedelta(days=rng.randint(1, 25))
        g.user = officers[i % len(officers)] if officers else None
        app = services.create_application({
            "party_id": party.id, "product_id": product.id, "amount": amount,
            "term_months": max(product.min_term_months, min(product.max_term_months, rng.choice([12, 24, 36]))),
            "purpose": {"orchard": "马家柚果园施肥、修剪与绿色食品认证", "eco_credit": "生产经营周转",
                        "forest_mortgage": "林地抚育与防火道建设", "gep_pledge": "生态旅游步道与污水处理设施",
                        "carbon_pledge": "碳汇林经营与监测"}[kind],
            "annual_income": income, "total_assets": income * Decimal(rng.uniform(1.5, 4)).quantize(Decimal("0.01")),
            "total_debts": (income * Decimal(rng.uniform(0.05, 0.7) if i != 21 else 0.9)).quantize(Decimal("0.01")),
            "years_in_business": rng.randint(1, 20),
            "guarantors": [{"name": "广丰区融资担保有限公司", "party_id": None, "relation": "担保公司"}] if i % 2 else [],
            "documents": [{"kind": "营业执照/身份证", "reference": f"DOC-{i:03d}"}, {"kind": "银行流水", "reference": f"BS-{i:03d}"}],
            "applied_on": applied_on,
        })
        apps.append(app)
        if product.secured:
            free = [p for p in party.parcels if (not product.collateral_covers or p.land_cover in product.collateral_covers)
                    and not any(c.status in ("proposed", "pledged") for c in db.session.scalars(
                        db.select(services.CollateralPledge).where(services.CollateralPledge.parcel_id == p.id)))]
            if free:
                parcel = free[0]
                # 1.8-2.8 times the amount: within the secured products' LTV caps (60-70 %)
                appraised = (amount * Decimal(rng.uniform(1.8, 2.8))).quantize(Decimal("1000"))
                services.add_collateral(app, {"parcel_id": parcel.id, "appraised_value": appraised,
                                              "appraiser": "上饶市林业资产评估中心" if parcel.land_cover == "forest" else "广丰区农业资产评估所"})
        if i in (24, 25):
            continue  # left submitted
        modelling.score_application(app)
        if i == 23:
            continue  # scored, awaiting the decision
        if i == 19:
            services.withdraw_application(app, "申请人改用合作社统一授信")
            continue
        services.decide_application(app)
        if i == 21 and app.status == "referred":
            continue  # waits for an officer
        if i == 22:
            g.user = officers[0] if officers else None
            if app.status in ("referred", "declined"):
                if app.status == "referred":
                    services.officer_decision(app, "approve", "合作社订单稳定，担保充分")
            if app.status in ("approved", "declined"):
                g.user = officers[-1] if officers else None
                services.officer_decision(app, "decline" if app.status == "approved" else "approve",
                                          "抵押林地存在权属争议线索，需补充材料" if app.status == "approved"
                                          else "新签马家柚收购订单覆盖还款")
            continue  # override waits for a second officer
        if app.status == "referred":
            g.user = officers[0] if officers else None
            services.officer_decision(app, "approve" if i % 2 == 0 else "decline",
                                      "经实地走访，果园管护良好，同意" if i % 2 == 0 else "现金流不足以覆盖还款")
        if app.status == "approved" and len(loans) < MAX_LOANS and i < 21:
            disbursed = applied_on + timedelta(days=rng.randint(5, 20))
            loans.append(services.book_loan(app, disbursed))
    # Repayments up to AS_OF: most pay on time, some late, one stops paying.
    for n, loan in enumerate(loans):
        behaviour = "stop" if n == 3 else ("late" if n % 4 == 1 else "on_time")
        for inst in loan.instalments:
            if inst.due_date > AS_OF:
                break
            if behaviour == "stop" and inst.seq > 2:
                break
            paid_on = inst.due_date + timedelta(days=rng.randint(15, 40) if behaviour == "late" and inst.seq % 2 else 0)
            if paid_on > AS_OF:
                break
            services.record_repayment(loan, inst.amount_unpaid, paid_on, reference=f"RCPT-{loan.id}-{inst.seq}")
    services.refresh_delinquency(AS_OF)
    # its own generator: the monitoring months leave the rest of the demo (pools, carbon...) as it was
    monitored = _seed_monitoring(random.Random(202611), borrowers, products["eco_credit"], officers)
    batch = seed_score_batch(officers)
    g.pop("user", None)
    return {"products": products, "champion": champion, "applications": apps, "loans": loans, "score_batch": batch,
            "monitored": monitored}


def seed_score_batch(officers: list) -> "modelling.ScoreBatch":
    """A batch of 12 applicants to score, three of them with what the intake rejects (an unknown
    colour, an amount in words, a township outside the district): the models page lists it with
    its rejected rows and their report."""
    frame = generate_book(12, seed=99).drop(columns=["defaulted"]).astype(object)
    frame.loc[2, "eco_colour"] = "紫色"
    frame.loc[5, "amount"] = "五万"
    frame.loc[9, "township"] = "北京"
    g.user = officers[0] if officers else None
    return modelling.start_score_batch(frame.to_csv(index=False).encode(), "demo-applicants.csv")


def _seed_monitoring(rng: random.Random, borrowers: list, product, officers: list) -> list:
    """``MONITORING_PER_MONTH`` scored and decided eco-credit applications in each of the
    ``MONITORING_MONTHS`` months before AS_OF; the most recent month's applicants drift."""
    apps = []
    first = AS_OF.replace(day=1)
    for back in range(MONITORING_MONTHS, 0, -1):
        month = (first - timedelta(days=28 * back)).replace(day=1)
        drifting = back == 1
        for k in range(MONITORING_PER_MONTH):
            party = borrowers[(back * MONITORING_PER_MONTH + k) % len(borrowers)]
            income = Decimal(rng.randint(60, 300) * 1000)
            g.user = officers[k % len(officers)] if officers else None
            app = services.create_application({
                "party_id": party.id, "product_id": product.id,
                "amount": min(Decimal("45000"), max(product.min_amount, Decimal(rng.randint(10, 45) * 1000))),
                "term_months": max(product.min_term_months, min(product.max_term_months, 12)),
                "purpose": "生产经营周转", "annual_income": income,
                "total_assets": (income * Decimal(rng.uniform(0.8, 1.5) if drifting else rng.uniform(1.5, 4))).quantize(Decimal("0.01")),
                "total_debts": (income * Decimal(rng.uniform(0.5, 1.1) if drifting else rng.uniform(0.05, 0.6))).quantize(Decimal("0.01")),
                "years_in_business": rng.randint(1, 3) if drifting else rng.randint(2, 20),
                "guarantors": [] if drifting or k % 2 else [{"name": "广丰区融资担保有限公司", "party_id": None, "relation": "担保公司"}],
                "documents": [{"kind": "营业执照/身份证", "reference": f"MON-{month:%Y%m}-{k:02d}"}],
                "applied_on": month + timedelta(days=rng.randint(0, 27)),
                # a borrower may come back while an earlier offer is open: the officer files it knowingly
                "confirm_duplicate": True,
            })
            modelling.score_application(app)
            services.decide_application(app)
            if app.status == "referred":
                services.officer_decision(app, "decline", "现金流不足以覆盖还款")
            apps.append(app)
    return apps
