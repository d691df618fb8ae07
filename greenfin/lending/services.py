"""Lending business functions: products, applications, collateral and decisions.

They add and flush, never commit. The loan price (cut-offs, bands, discounts, the product
catalogue's defaults) is in ``pricing``; scoring and the registry in ``modelling``; booking,
repayments and delinquency in ``servicing`` (re-exported here: other packages use only
``greenfin.lending.services``).
"""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from greenfin import dates
from greenfin.core.models import Parcel, Party
from greenfin.core.services import record_audit, snapshot
from greenfin.core.types import utcnow
from greenfin.numbers import parse_decimal
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.lending import links
from greenfin.lending.models import (
    AMORTISATIONS, LIVE_APPLICATION_STATUSES, LIVE_PLEDGE_STATUSES, Application, CollateralPledge, Decision, Loan,
    LoanProduct,
)
from greenfin.lending.scoring.modelling import latest_score, score_application  # noqa: F401
from greenfin.lending.pricing import (  # noqa: F401  (re-exported: decisions and tests price here)
    APPROVE_AT, DTI_REFER, INSURED_DISCOUNT, MAX_PARTY_EXPOSURE, PRODUCTS, RATE_CAP, REFER_AT, price,
)
from greenfin.lending.facts import (  # noqa: F401  (the contract other packages read loans through)
    InstalmentFact, LoanFacts, RepaymentFact, active_loan_ids, loan_facts, party_loan_ids, pledged_loans, product_names,
)
from greenfin.lending.servicing import (  # noqa: F401  (re-exported for other packages)
    book_loan, get_loan, loan_query, portfolio_summary, post_insurance_payout, record_repayment, refresh_delinquency,
    start_delinquency_refresh, write_off_loan,
)
from greenfin.security import current_actor

DEFAULT_HAIRCUT = {"forest": Decimal("0.30"), "orchard": Decimal("0.25"), "tea": Decimal("0.25")}
CENT = Decimal("0.01")

PRODUCT_FIELDS = ("code", "kind", "name_zh", "name_en", "secured", "min_amount", "max_amount", "min_term_months",
                  "max_term_months", "base_rate", "min_rate", "max_rate", "amortisation", "max_ltv", "gep_share",
                  "limits_by_colour", "harvest_months", "collateral_covers", "arrangement_fee", "green_category",
                  "environmental_benefit", "active")

# ---------------------------------------------------------------- products


def seed_products() -> list[LoanProduct]:
    """Insert the product catalogue where missing (idempotent)."""
    out = []
    for spec in PRODUCTS:
        product = db.session.scalar(select(LoanProduct).where(LoanProduct.code == spec["code"]))
        if product is None:
            product = LoanProduct(**spec)
            db.session.add(product)
            db.session.flush()
            record_audit("lending.product.create", "loan_product", product.id, after=snapshot(product, PRODUCT_FIELDS))
        out.append(product)
    return out


def list_products(active_only: bool = False) -> list[LoanProduct]:
    stmt = select(LoanProduct).order_by(LoanProduct.id)
    if active_only:
        stmt = stmt.where(LoanProduct.active.is_(True))
    return list(db.session.scalars(stmt))


def get_product(product_id: int) -> LoanProduct:
    product = db.session.get(LoanProduct, product_id)
    if product is None:
        raise NotFound(f"loan product {product_id} not found")
    return product


def update_product(product: LoanProduct, data: dict) -> LoanProduct:
    """Admins edit limits, rates, terms and green-loan fields; ranges are checked together."""
    errors: dict[str, list[str]] = {}
    merged = snapshot(product, PRODUCT_FIELDS) | {k: v for k, v in data.items() if k in PRODUCT_FIELDS}
    for key in ("min_amount", "max_amount", "base_rate", "min_rate", "max_rate", "arrangement_fee"):
        merged[key] = parse_decimal(merged[key], key, errors)
    if not errors:
        if merged["min_amount"] <= 0 or merged["max_amount"] < merged["min_amount"]:
            errors["max_amount"] = ["must be at least the minimum amount, which must be positive"]
        if int(merged["min_term_months"]) < 1 or int(merged["max_term_months"]) < int(merged["min_term_months"]):
            errors["max_term_months"] = ["must be at least the minimum term, which must be at least 1"]
        if not (0 <= merged["min_rate"] <= merged["base_rate"] <= merged["max_rate"] <= RATE_CAP):
            errors["base_rate"] = ["rates must satisfy 0 <= minimum <= base <= maximum <= 36%"]
    if merged["amortisation"] not in AMORTISATIONS:
        errors["amortisation"] = ["must be one of " + ", ".join(AMORTISATIONS)]
    for key in ("max_ltv", "gep_share"):
        if merged.get(key) not in (None, ""):
            value = parse_decimal(merged[key], key, errors)
            if value is not None and not (0 < value <= 1):
                errors[key] = ["must be a share between 0 and 1"]
            merged[key] = value
    if errors:
        raise ValidationFailed("Invalid product", errors)
    before = snapshot(product, PRODUCT_FIELDS)
    for key in PRODUCT_FIELDS:
        if key in data and key != "code":
            setattr(product, key, merged[key])
    db.session.flush()
    record_audit("lending.product.update", "loan_product", product.id, before=before,
                 after=snapshot(product, PRODUCT_FIELDS))
    return product


# ---------------------------------------------------------------- applications

APPLICATION_FIELDS = ("number", "party_id", "product_id", "amount", "term_months", "purpose", "annual_income",
                      "total_assets", "total_debts", "years_in_business", "guarantors", "documents", "status",
                      "applied_on")


def create_application(data: dict) -> Application:
    """Validate and file an application. Amount and term must fit the product."""
    errors: dict[str, list[str]] = {}
    party = db.session.get(Party, data.get("party_id") or 0)
    if party is None:
        errors["party_id"] = [N_("unknown party %(id)s", id=data.get("party_id"))]
    product = db.session.get(LoanProduct, data.get("product_id") or 0)
    if product is None:
        errors["product_id"] = [N_("unknown loan product %(id)s", id=data.get("product_id"))]
    elif not product.active:
        errors["product_id"] = [N_("this product is not offered at present")]
    amount = parse_decimal(data.get("amount"), "amount", errors)
    try:
        term = int(data.get("term_months"))
    except (TypeError, ValueError):
        errors["term_months"] = [N_("must be a whole number of months")]
        term = None
    if product is not None and amount is not None and not (product.min_amount <= amount <= product.max_amount):
        errors["amount"] = [N_("must be between %(lo)s and %(hi)s yuan for %(product)s", lo=f"{product.min_amount:,.2f}",
                               hi=f"{product.max_amount:,.2f}", product=(product.name_zh, product.name_en))]
    elif amount is not None and amount != amount.quantize(CENT):
        errors["amount"] = [N_("must be in whole cents")]
    if product is not None and term is not None and not (product.min_term_months <= term <= product.max_term_months):
        errors["term_months"] = [N_("must be between %(lo)s and %(hi)s months for %(product)s", lo=product.min_term_months,
                                    hi=product.max_term_months, product=(product.name_zh, product.name_en))]
    if not (data.get("purpose") or "").strip():
        errors["purpose"] = [N_("is required")]
    financial = {}
    for key in ("annual_income", "total_assets", "total_debts"):
        value = parse_decimal(data.get(key, 0) if data.get(key) is not None else 0, key, errors)
        if value is not None and value < 0:
            errors[key] = [N_("must not be negative")]
        financial[key] = value
    years = data.get("years_in_business") or 0
    if not isinstance(years, int) or years < 0 or years > 200:
        errors["years_in_business"] = [N_("must be a whole number of years")]
    guarantors = data.get("guarantors") or []
    for i, g in enumerate(guarantors):
        if not (g.get("name") or "").strip():
            errors[f"guarantors.{i}.name"] = [N_("is required")]
        if g.get("party_id") is not None and db.session.get(Party, g["party_id"]) is None:
            errors[f"guarantors.{i}.party_id"] = [N_("unknown party %(id)s", id=g["party_id"])]
        if party is not None and g.get("party_id") == party.id:
            errors[f"guarantors.{i}.party_id"] = [N_("an applicant cannot guarantee itself")]
    if errors:
        raise ValidationFailed("Invalid application", errors)
    pending = pending_applications(party.id, product.id)
    if pending and not data.get("confirm_duplicate"):
        numbers = ", ".join(a.number for a in pending)
        error = ValidationFailed(f"The applicant already has a pending application for this product: {numbers}",
                                 {"confirm_duplicate": [DUPLICATE_PENDING]}, code="duplicate_pending")
        error.pending = [a.number for a in pending]
        raise error
    applied_on = data.get("applied_on") or dates.today()
    user = current_actor()
    app = Application(
        number=f"LA-{uuid.uuid4().hex[:16]}", party_id=party.id, product_id=product.id,
        amount=amount.quantize(CENT), term_months=term, purpose=data["purpose"].strip(),
        years_in_business=years, guarantors=[{k: g.get(k) for k in ("name", "party_id", "relation")} for g in guarantors],
        documents=[{k: d.get(k) for k in ("kind", "reference")} for d in (data.get("documents") or [])],
        status="submitted", applied_on=applied_on, created_by_id=user.id if user else None, **financial,
    )
    db.session.add(app)
    db.session.flush()
    app.number = f"LA{applied_on.year}-{app.id:05d}"  # from the id: concurrent filings never collide
    db.session.flush()
    after = snapshot(app, APPLICATION_FIELDS)
    if pending:  # filed knowingly beside a pending one: the trail says so
        after["duplicate_of"] = [a.number for a in pending]
    record_audit("lending.application.create", "loan_application", app.id, after=after, party_id=party.id)
    return app


# A fixed text (forms translate it); the pending applications' numbers come with the error.
DUPLICATE_PENDING = ("the applicant already has a pending application for this loan product: "
                     "confirm to file another one")


def pending_applications(party_id: int, product_id: int) -> list[Application]:
    """The applicant's live (not yet booked, declined or withdrawn) applications for a product."""
    return list(db.session.scalars(select(Application).where(
        Application.party_id == party_id, Application.product_id == product_id,
        Application.status.in_(LIVE_APPLICATION_STATUSES)).order_by(Application.id)))


def get_application(application_id: int) -> Application:
    app = db.session.get(Application, application_id)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    return app


def application_query(*, status: Optional[str] = None, party_id: Optional[int] = None,
                      product_id: Optional[int] = None) -> Select:
    stmt = select(Application).order_by(Application.id.desc())
    if status:
        stmt = stmt.where(Application.status == status)
    if party_id is not None:
        stmt = stmt.where(Application.party_id == party_id)
    if product_id is not None:
        stmt = stmt.where(Application.product_id == product_id)
    return stmt


def withdraw_application(app: Application, reason: str) -> Application:
    if not (reason or "").strip():
        raise ValidationFailed.field("reason", "a reason is required")
    if app.status not in LIVE_APPLICATION_STATUSES:
        raise Conflict(f"application {app.number} is {app.status}; it cannot be withdrawn")
    before = app.status
    app.status = "withdrawn"
    for pledge in app.collateral:
        if pledge.status == "proposed":
            set_pledge_status(pledge, "released", app.party_id)
    record_audit("lending.application.withdraw", "loan_application", app.id, before={"status": before},
                 after={"status": "withdrawn", "reason": reason}, party_id=app.party_id)
    return app


# ---------------------------------------------------------------- collateral


def add_collateral(app: Application, data: dict) -> CollateralPledge:
    """Pledge a parcel: its certificate, appraised value, GEP (read from GEP accounting), haircut.

    Refused when the parcel already carries a live pledge (for any application or loan).
    """
    if app.status not in ("submitted", "scored", "referred"):
        raise Conflict(f"application {app.number} is {app.status}; collateral can no longer change")
    errors: dict[str, list[str]] = {}
    parcel = db.session.get(Parcel, data.get("parcel_id") or 0)
    if parcel is None:
        raise ValidationFailed("Invalid collateral", {"parcel_id": [N_("unknown parcel %(id)s", id=data.get("parcel_id"))]})
    appraised = parse_decimal(data.get("appraised_value"), "appraised_value", errors)
    if appraised is not None and appraised <= 0:
        errors["appraised_value"] = ["must be positive"]
    haircut = data.get("haircut")
    haircut = DEFAULT_HAIRCUT.get(parcel.land_cover, Decimal("0.30")) if haircut in (None, "") else parse_decimal(haircut, "haircut", errors)
    if haircut is not None and not (0 <= haircut < 1):
        errors["haircut"] = ["must be at least 0 and below 1"]
    if app.product.kind == "carbon_pledge" and links.carbon_registry_installed():
        errors["parcel_id"] = ["a carbon-sink loan is secured by carbon units pledged in the carbon registry, not by land"]
    elif links.parcel_carbon_pledged(parcel.id):
        errors["parcel_id"] = [f"the carbon of parcel {parcel.code} is pledged to a carbon-sink loan: "
                               "the same forest cannot secure a second loan"]
    covers = app.product.collateral_covers
    if covers and parcel.land_cover not in covers:
        errors["parcel_id"] = [f"{app.product.name_en} takes {', '.join(covers)} parcels; {parcel.code} is {parcel.land_cover}"]
    if parcel.holder_id != app.party_id and not any(g.get("party_id") == parcel.holder_id for g in app.guarantors or []):
        errors.setdefault("parcel_id", []).append("the parcel's rights holder is neither the applicant nor a guarantor")
    if errors:
        raise ValidationFailed("Invalid collateral", errors)
    live = db.session.scalar(select(CollateralPledge).where(CollateralPledge.parcel_id == parcel.id,
                                                            CollateralPledge.status.in_(LIVE_PLEDGE_STATUSES)))
    if live is not None:
        raise Conflict(f"parcel {parcel.code} is already pledged (application {live.application.number})",
                       {"parcel_id": [N_("already pledged to a live application or loan")]})
    gep = links.parcel_gep(parcel.id)
    pledge = CollateralPledge(application_id=app.id, parcel_id=parcel.id, cert_no=parcel.cert_no,
                              appraised_value=appraised.quantize(CENT), appraiser=data.get("appraiser"),
                              gep_value=gep.value.quantize(CENT) if gep else None, gep_year=gep.year if gep else None,
                              gep_account_id=gep.account_id if gep else None, haircut=haircut, status="proposed")
    try:
        with db.session.begin_nested():  # the partial unique index settles a race between two requests
            db.session.add(pledge)
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"parcel {parcel.code} is already pledged", {"parcel_id": [N_("already pledged to a live application or loan")]})
    if pledge not in app.collateral:
        app.collateral.append(pledge)
    record_audit("lending.collateral.add", "collateral_pledge", pledge.id,
                 after=snapshot(pledge, ("application_id", "parcel_id", "cert_no", "appraised_value", "gep_value",
                                         "haircut", "status")), party_id=app.party_id)
    return pledge


def collateral_summary(app: Application) -> dict[str, Any]:
    """Computed, never typed in: appraised, lendable (after haircuts), GEP, coverage and LTV.

    A CARBON-SINK (``carbon_pledge``) loan is secured by carbon units pledged in the carbon
    registry when it is installed: its lendable value is pledged tonnes x reference price x
    (1 - haircut), read now through the registry's contract, so coverage follows the tonnes."""
    pledges = [p for p in app.collateral if p.status in LIVE_PLEDGE_STATUSES]
    appraised = sum((p.appraised_value for p in pledges), Decimal("0"))
    lendable = sum((p.lendable_value for p in pledges), Decimal("0"))
    gep = sum((p.gep_value or Decimal("0") for p in pledges), Decimal("0"))
    share = app.product.gep_share
    gep_lendable = (gep * share).quantize(CENT) if share else Decimal("0")
    carbon = links.carbon_collateral(app.id) if app.product.kind == "carbon_pledge" else None
    count = len(pledges)
    if carbon is not None:
        appraised, lendable, count = carbon["value"], carbon["lendable"], (1 if carbon["tonnes"] else 0)
    cover_value = max(lendable, gep_lendable) if app.product.kind == "gep_pledge" else lendable
    amount = app.amount
    return {
        "count": count, "appraised": appraised, "lendable": lendable, "gep": gep, "gep_lendable": gep_lendable,
        "coverage": (cover_value / amount).quantize(Decimal("0.0001")) if amount else None,
        "ltv": (amount / appraised).quantize(Decimal("0.0001")) if appraised else None,
        "carbon_tonnes": carbon["tonnes"] if carbon is not None else None,
        "carbon_price": carbon["price"] if carbon is not None else None,
        "carbon_price_source": carbon["price_source"] if carbon is not None else None,
        "carbon_price_date": carbon["price_date"] if carbon is not None else None,
    }


# ---------------------------------------------------------------- policy, cut-offs and price


def _rule(code: str, outcome: str, zh: str, en: str) -> dict[str, str]:
    return {"code": code, "outcome": outcome, "zh": zh, "en": en}


def policy_rules(app: Application, colour: Optional[str]) -> list[dict[str, str]]:
    """Hard rules before the score: each hit declines (or refers) whatever the score."""
    hits = []
    product, amount = app.product, app.amount
    summary = collateral_summary(app)
    if colour == "red":
        hits.append(_rule("P01_RED_RATING", "decline", "生态信用等级为红色（不良），不予授信",
                          "Eco-credit rating is red (poor): no credit is extended"))
    exposure = db.session.scalar(select(func.coalesce(func.sum(Loan.outstanding_principal), 0))
                                 .where(Loan.party_id == app.party_id, Loan.status == "active")) or Decimal("0")
    if Decimal(exposure) + amount > MAX_PARTY_EXPOSURE:
        hits.append(_rule("P02_CONCENTRATION", "decline",
                          f"单一客户授信集中度超限（现有余额 {Decimal(exposure):,.2f} 元）",
                          f"Single-borrower concentration limit exceeded (outstanding {Decimal(exposure):,.2f} yuan)"))
    if product.limits_by_colour:
        limit = Decimal(str(product.limits_by_colour.get(colour or "unrated", "0")))
        if amount > limit:
            hits.append(_rule("P03_COLOUR_LIMIT", "decline",
                              f"申请金额超过该生态信用等级的额度（{limit:,.0f} 元）",
                              f"Amount exceeds the limit for this eco-credit rating ({limit:,.0f} yuan)"))
    if product.secured:
        if summary["count"] == 0:
            hits.append(_rule("P04_NO_COLLATERAL", "decline", "未提供抵质押物", "No collateral pledged for a secured product"))
        elif summary["carbon_tonnes"] is not None:
            if amount > summary["lendable"]:
                hits.append(_rule("P08_CARBON_COVER", "decline",
                                  f"质押碳汇 {summary['carbon_tonnes']:,} 吨折价 {summary['lendable']:,.2f} 元，不足以覆盖申请金额",
                                  f"Pledged carbon ({summary['carbon_tonnes']:,} t) is worth {summary['lendable']:,.2f} yuan "
                                  "after the haircut: less than the amount"))
        elif product.kind == "gep_pledge":
            if amount > summary["gep_lendable"]:
                hits.append(_rule("P05_GEP_SHARE", "decline",
                                  f"超过质押地块GEP的{product.gep_share:.0%}（{summary['gep_lendable']:,.2f} 元）",
                                  f"Exceeds {product.gep_share:.0%} of the pledged parcels' GEP "
                                  f"({summary['gep_lendable']:,.2f} yuan)"))
        elif product.max_ltv is not None and summary["ltv"] is not None and summary["ltv"] > product.max_ltv:
            hits.append(_rule("P06_LTV_CAP", "decline", f"抵押率 {summary['ltv']:.0%} 超过上限 {product.max_ltv:.0%}",
                              f"Loan-to-value {summary['ltv']:.0%} is above the {product.max_ltv:.0%} cap"))
    if app.annual_income and app.total_debts / app.annual_income > DTI_REFER:
        hits.append(_rule("P07_HIGH_DTI", "refer", "负债收入比超过80%，需人工审查",
                          "Debt-to-income above 80%: needs an officer's review"))
    return hits


def _pledged_parcels(app: Application) -> list[int]:
    """The parcels of the application's live pledges (the insured-discount question)."""
    return [p.parcel_id for p in app.collateral if p.status in LIVE_PLEDGE_STATUSES]


def current_decision(app: Application) -> Optional[Decision]:
    """The decision in force: the latest that is not a pending or rejected override."""
    for decision in reversed(_decisions(app)):
        if decision.kind != "override" or decision.override_status == "approved":
            return decision
    return None


def _decisions(app: Application) -> list[Decision]:
    db.session.flush()
    return list(db.session.scalars(select(Decision).where(Decision.application_id == app.id).order_by(Decision.id)))


def pending_override(app: Application) -> Optional[Decision]:
    return next((d for d in reversed(_decisions(app)) if d.override_status == "pending"), None)


def decide_application(app: Application) -> Decision:
    """The system decision: policy rules, then score cut-offs, then the price."""
    if app.status not in ("scored", "submitted"):
        raise Conflict(f"application {app.number} is {app.status}; the system decides scored applications")
    score = latest_score(app) or score_application(app)
    colour = app.eco_colour
    hits = policy_rules(app, colour)
    if any(h["outcome"] == "decline" for h in hits):
        outcome = "decline"
    elif score.score < REFER_AT:
        outcome = "decline"
    elif score.score < APPROVE_AT or any(h["outcome"] == "refer" for h in hits):
        outcome = "refer"
    else:
        outcome = "approve"
    # The specific reasons: the policy rules that decided, then (when the score itself declined or
    # referred the application) the four factors that lowered the score most.
    reasons = [h for h in hits if h["outcome"] == "decline"] if outcome == "decline" else list(hits)
    if score.score < APPROVE_AT and outcome != "approve":
        reasons += [{"code": r["code"], "outcome": "score", "zh": r["zh"], "en": r["en"]} for r in score.reasons]
    terms = price(app, score.band, colour, links.insured(_pledged_parcels(app))) if outcome != "decline" else {}
    decision = Decision(application_id=app.id, score_id=score.id, outcome=outcome, system_outcome=outcome,
                        policy_hits=hits, reasons=reasons, kind="system",
                        approved_amount=app.amount if outcome != "decline" else None, **terms)
    db.session.add(decision)
    before = app.status
    app.status = {"approve": "approved", "refer": "referred", "decline": "declined"}[outcome]
    if outcome == "decline":
        _release_proposed(app)
    db.session.flush()
    record_audit("lending.application.decide", "loan_application", app.id, before={"status": before},
                 after={"status": app.status, "outcome": outcome, "score": score.score, "rate": terms.get("rate"),
                        "policy": [h["code"] for h in hits]}, party_id=app.party_id)
    return decision


def officer_decision(app: Application, outcome: str, note: str, *, amount: Optional[Decimal] = None) -> Decision:
    """An officer's decision. Resolving a referral is final; reversing the system's approve
    or decline is an override that waits for a second officer's approval."""
    if outcome not in ("approve", "decline"):
        raise ValidationFailed.field("outcome", "must be approve or decline")
    if not (note or "").strip():
        raise ValidationFailed.field("note", "a reason is required")
    if app.status not in ("approved", "referred", "declined"):
        raise Conflict(f"application {app.number} is {app.status}; decide it by the system first")
    system = current_decision(app)
    score = latest_score(app)
    is_override = app.status in ("approved", "declined")
    if is_override and system.outcome == outcome:
        raise Conflict(f"the application is already {app.status}")
    if amount is not None and (amount <= 0 or amount > app.amount):
        raise ValidationFailed.field("amount", "must be positive and at most the amount applied for")
    terms = (price(app, score.band if score else "E", app.eco_colour, links.insured(_pledged_parcels(app)))
             if outcome == "approve" else {})
    reasons = [] if outcome == "approve" else ([{"code": "OFFICER", "outcome": "officer", "zh": note.strip(),
                                                "en": note.strip()}] + [r for r in system.reasons if r.get("outcome") != "officer"])
    user = current_actor()
    decision = Decision(application_id=app.id, score_id=score.id if score else None, outcome=outcome,
                        system_outcome=system.system_outcome, policy_hits=system.policy_hits, reasons=reasons,
                        kind="override" if is_override else "officer", note=note.strip(),
                        override_status="pending" if is_override else None,
                        approved_amount=(amount or app.amount) if outcome == "approve" else None,
                        decided_by_id=user.id if user else None, **terms)
    db.session.add(decision)
    before = app.status
    if is_override:
        app.status = "override_pending"
    else:
        app.status = "approved" if outcome == "approve" else "declined"
        if outcome == "decline":
            _release_proposed(app)
    db.session.flush()
    record_audit("lending.application.override" if is_override else "lending.application.officer_decision",
                 "loan_application", app.id, before={"status": before},
                 after={"status": app.status, "outcome": outcome, "note": note.strip(), "decision_id": decision.id},
                 party_id=app.party_id)
    return decision


def review_override(decision: Decision, approve: bool, note: str = "") -> Decision:
    """A second officer approves or rejects a pending override (never its author)."""
    if decision.override_status != "pending":
        raise Conflict("this decision has no pending override")
    user = current_actor()
    if user is None or user.id == decision.decided_by_id:
        raise Conflict("a second officer must review the override, not its author")
    app = decision.application
    decision.override_status = "approved" if approve else "rejected"
    decision.approved_by_id, decision.approved_at = user.id, utcnow()
    before = app.status
    in_force = current_decision(app)
    app.status = {"approve": "approved", "decline": "declined", "refer": "referred"}[in_force.outcome]
    if app.status == "declined":
        _release_proposed(app)
    elif app.status == "approved":
        _repropose(app)
    db.session.flush()
    record_audit("lending.override." + ("approve" if approve else "reject"), "loan_decision", decision.id,
                 before={"status": before}, after={"status": app.status, "note": note}, party_id=app.party_id)
    return decision


def get_decision(decision_id: int) -> Decision:
    decision = db.session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"decision {decision_id} not found")
    return decision


def set_pledge_status(pledge: CollateralPledge, status: str, party_id: int, loan_id: Optional[int] = None) -> None:
    """Move a pledge to a new status (audited): pledged at booking, released, enforced at write-off."""
    before = {"status": pledge.status, "loan_id": pledge.loan_id}
    pledge.status = status
    if loan_id is not None:
        pledge.loan_id = loan_id
    record_audit(f"lending.collateral.{status}", "collateral_pledge", pledge.id, before=before,
                 after={"status": status, "loan_id": pledge.loan_id, "parcel_id": pledge.parcel_id}, party_id=party_id)


def _release_proposed(app: Application) -> None:
    for pledge in app.collateral:
        if pledge.status == "proposed":
            set_pledge_status(pledge, "released", app.party_id)


def _repropose(app: Application) -> None:
    """An override that approves a declined application takes its released collateral back,
    unless another application pledged the parcel meanwhile."""
    for pledge in app.collateral:
        if pledge.status != "released":
            continue
        other = db.session.scalar(select(CollateralPledge.id).where(
            CollateralPledge.parcel_id == pledge.parcel_id, CollateralPledge.status.in_(LIVE_PLEDGE_STATUSES)))
        if other is not None:
            raise Conflict(f"parcel {pledge.parcel.code} has been pledged elsewhere since the decline")
        set_pledge_status(pledge, "proposed", app.party_id)


# ---------------------------------------------------------------- readers for the carbon registry


def application_brief(application_id: int) -> Optional[dict[str, Any]]:
    """An application as other packages see it (the carbon registry pledges units to it), or None."""
    app = db.session.get(Application, application_id) if isinstance(application_id, int) else None
    if app is None:
        return None
    return {"id": app.id, "number": app.number, "party_id": app.party_id, "product_code": app.product.code,
            "product_kind": app.product.kind, "status": app.status, "amount": app.amount,
            "loan_id": app.loan.id if app.loan is not None else None,
            "loan_number": app.loan.number if app.loan is not None else None}


def loan_application_id(loan_id: int) -> Optional[int]:
    """The application a booked loan came from, or None."""
    return db.session.scalar(select(Loan.application_id).where(Loan.id == loan_id)) if isinstance(loan_id, int) else None


def live_parcel_pledges(parcel_ids: list[int]) -> list[dict[str, Any]]:
    """Live (proposed or pledged) parcel pledges on these parcels, with the product kind they secure."""
    if not parcel_ids:
        return []
    rows = db.session.execute(
        select(CollateralPledge.parcel_id, Application.id, Application.number, LoanProduct.kind)
        .join(Application, Application.id == CollateralPledge.application_id)
        .join(LoanProduct, LoanProduct.id == Application.product_id)
        .where(CollateralPledge.parcel_id.in_(parcel_ids), CollateralPledge.status.in_(LIVE_PLEDGE_STATUSES)))
    return [{"parcel_id": r[0], "application_id": r[1], "application_number": r[2], "product_kind": r[3]}
            for r in rows]


def party_application_ids(party_id: int) -> list[int]:
    """The party's loan applications, newest first (the carbon registry's pledge form lists them)."""
    return list(db.session.scalars(select(Application.id).where(Application.party_id == party_id)
                                   .order_by(Application.id.desc()).limit(100)))
