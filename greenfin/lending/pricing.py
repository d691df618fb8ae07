"""The one home of the loan price: score cut-offs, score bands and their risk premium, the
green discount by eco-credit colour, the lending limits, the product catalogue's defaults and
``price()``.

Rate = the product's base rate + the risk premium of the score band - the green discount of
the borrower's colour, kept within the product's minimum and maximum rate. The product's rates
and limits are read from the ``loan_products`` table (admins edit them there); ``PRODUCTS`` below
only declares the catalogue the table is seeded with (``services.seed_products``), once.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

# Score cut-offs: approve at or above APPROVE_AT (odds about 30:1, PD about 3%), refer between,
# decline below REFER_AT (odds about 6:1, PD about 13%).
APPROVE_AT = 585
REFER_AT = 540
# Score bands (floor of the score) and their risk premium (annual rate points).
BANDS = (("A", 620, Decimal("0.0000")), ("B", 600, Decimal("0.0050")), ("C", 585, Decimal("0.0100")),
         ("D", 560, Decimal("0.0180")), ("E", -10**9, Decimal("0.0280")))
# Green discount on the annual rate by eco-credit colour (the plan's link from ratings to finance);
# one figure per colour of credit's scale (credit/policy.py COLOURS, checked by the tests); unrated: none.
GREEN_DISCOUNT = {"green": Decimal("0.0050"), "blue": Decimal("0.0025"), "yellow": Decimal("0"), "red": Decimal("0")}
# Underwriting mitigant: a secured loan whose every pledged orchard or forest parcel carries live
# weather-index cover (greenfin/insurance: frost or drought pays the lender first) is priced this
# much lower; the index payout replaces the harvest a frost or drought would take.
INSURED_DISCOUNT = Decimal("0.0030")
# Single-borrower concentration: live exposure (outstanding + this request) may not exceed this.
MAX_PARTY_EXPOSURE = Decimal("5000000")
# Debt-to-income above this refers the application to an officer.
DTI_REFER = Decimal("0.80")
# Every product's rate range lies within [0, RATE_CAP]; the seeded products' floor is RATE_FLOOR
# (the one-year LPR at the time of writing).
RATE_CAP = Decimal("0.36")
RATE_FLOOR = Decimal("0.0345")
RATE_PLACES = Decimal("0.000001")

# The seeded catalogue. Rates are annual; the LPR-linked base rates are illustrative.
PRODUCTS = [
    {"code": "ECO-CREDIT", "kind": "eco_credit", "name_zh": "生态信用贷", "name_en": "Eco-credit loan", "secured": False,
     "min_amount": Decimal("10000"), "max_amount": Decimal("500000"), "min_term_months": 6, "max_term_months": 36,
     "base_rate": Decimal("0.0450"), "min_rate": RATE_FLOOR, "max_rate": Decimal("0.0800"),
     "amortisation": "annuity", "limits_by_colour": {"green": "500000", "blue": "300000", "yellow": "100000",
                                                     "red": "0", "unrated": "50000"},
     "green_category": "environmentally sustainable management of living natural resources and land use",
     "environmental_benefit": "Rewards eco-credit: better-rated producers borrow more, cheaper (生态信贷通)."},
    {"code": "FOREST-MORTGAGE", "kind": "forest_mortgage", "name_zh": "林权抵押贷", "name_en": "Forest-rights mortgage",
     "secured": True, "min_amount": Decimal("50000"), "max_amount": Decimal("5000000"), "min_term_months": 12,
     "max_term_months": 60, "base_rate": Decimal("0.0420"), "min_rate": RATE_FLOOR, "max_rate": Decimal("0.0700"),
     "amortisation": "equal_principal", "max_ltv": Decimal("0.6000"), "collateral_covers": ["forest"],
     "green_category": "sustainable forestry, afforestation and forest conservation",
     "environmental_benefit": "Finances managed forest under 林权证; keeps stands and carbon sinks intact."},
    {"code": "GEP-PLEDGE", "kind": "gep_pledge", "name_zh": "GEP质押贷", "name_en": "GEP pledge loan", "secured": True,
     "min_amount": Decimal("50000"), "max_amount": Decimal("3000000"), "min_term_months": 12, "max_term_months": 36,
     "base_rate": Decimal("0.0430"), "min_rate": RATE_FLOOR, "max_rate": Decimal("0.0700"),
     "amortisation": "annuity", "gep_share": Decimal("0.3000"), "max_ltv": Decimal("0.7000"),
     "green_category": "biodiversity conservation and ecosystem services",
     "environmental_benefit": "Lends against accounted gross ecosystem product (GEP) of pledged parcels."},
    {"code": "ORCHARD", "kind": "orchard", "name_zh": "马家柚果园贷", "name_en": "Majia pomelo orchard loan",
     "secured": True, "min_amount": Decimal("20000"), "max_amount": Decimal("1000000"), "min_term_months": 12,
     "max_term_months": 36, "base_rate": Decimal("0.0440"), "min_rate": RATE_FLOOR, "max_rate": Decimal("0.0750"),
     "amortisation": "seasonal", "harvest_months": [10, 11], "max_ltv": Decimal("0.7000"),
     "collateral_covers": ["orchard"],
     "green_category": "environmentally sustainable agriculture (green food / organic certified orchards)",
     "environmental_benefit": "Seasonal repayments at the pomelo harvest (Oct-Nov) for certified orchards."},
    {"code": "CARBON-SINK", "kind": "carbon_pledge", "name_zh": "林业碳汇收益权质押贷",
     "name_en": "Carbon-sink income-right pledge", "secured": True, "min_amount": Decimal("100000"),
     "max_amount": Decimal("3000000"), "min_term_months": 12, "max_term_months": 60, "base_rate": Decimal("0.0410"),
     "min_rate": RATE_FLOOR, "max_rate": Decimal("0.0650"), "amortisation": "interest_only",
     "max_ltv": Decimal("0.6000"), "collateral_covers": ["forest"],
     "green_category": "climate change mitigation: forest carbon sinks",
     "environmental_benefit": "Pledges the income right of forest carbon-sink credits; principal repaid from sales."},
]



def band_for(score: int) -> str:
    """The band of a score (A best)."""
    return next(name for name, floor, _p in BANDS if score >= floor)


def premium_for(band: str) -> Decimal:
    return next(p for name, _f, p in BANDS if name == band)


def price(app, band: str, colour: Optional[str], insured: bool = False) -> dict[str, Decimal]:
    """Rate = base + risk premium by score band - green discount by colour - the insured discount
    (index cover on the pledged parcels), within the product's range."""
    product = app.product
    premium = premium_for(band)
    discount = GREEN_DISCOUNT.get(colour or "", Decimal("0"))
    insurance = INSURED_DISCOUNT if insured else Decimal("0")
    rate = min(max(product.base_rate + premium - discount - insurance, product.min_rate), product.max_rate)
    return {"base_rate": product.base_rate, "risk_premium": premium, "green_discount": discount,
            "insurance_discount": insurance, "rate": rate.quantize(RATE_PLACES)}
