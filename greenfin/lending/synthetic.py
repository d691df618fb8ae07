"""A synthetic historical loan book for Guangfeng, so the demo has a trained champion.

Deterministic from the seed. Each row is a loan booked between 2019 and 2025 with its
outcome over the following 12 months (``defaulted`` = 90+ days past due or written off).
The relationships are stated here and are what the scorecard should rediscover:

- eco-credit colour: green borrowers default least, red most (logit effects
  green -0.9, blue -0.2, unrated +0.2, yellow +0.6, red +1.5), following the district's aim
  that the eco-credit rating carries real information about conduct;
- collateral coverage (lendable collateral / loan): each unit of cover up to 2x lowers the
  logit by 0.55; unsecured eco-credit loans have none;
- debt-to-income: risk rises steeply above 0.5 (+1.6 per unit of DTI above 0.5);
- loan-to-income: +0.35 per unit;
- sector: pomelo orchards carry weather and price risk (+0.25), eco-tourism is cyclical
  (+0.45), forestry and tea are steadier (-0.2), food processing +0.1;
- township: remote mountain towns (Tongboshan, Dongyang, Shatian, Maocun) +0.3, the four
  urban subdistricts -0.3;
- years in business (-0.05 a year, up to 10) and guarantors (-0.25 each, up to 2);
- about 3% of years-in-business and 2% of incomes are missing, as in a real book.

The base rate comes out at about 8% defaults.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from credit.policy import COLOURS as SCALE
from greenfin.core.geography import TOWNSHIPS

COLOURS = [*SCALE, "unrated"]  # the eco-credit scale (credit/policy.py) and borrowers not yet rated
COLOUR_P = [0.24, 0.44, 0.20, 0.07, 0.05]
COLOUR_EFFECT = {"green": -0.9, "blue": -0.2, "yellow": 0.6, "red": 1.5, "unrated": 0.2}
SECTORS = ["pomelo", "tea", "forestry", "eco_tourism", "fishery", "vegetables", "food_processing"]
SECTOR_P = [0.42, 0.12, 0.10, 0.08, 0.08, 0.12, 0.08]
SECTOR_EFFECT = {"pomelo": 0.25, "tea": -0.2, "forestry": -0.2, "eco_tourism": 0.45, "fishery": 0.0,
                 "vegetables": 0.0, "food_processing": 0.1}
REMOTE = {"tongboshan", "dongyang", "shatian", "maocun"}
URBAN = {"yongfeng", "lulin", "fengxi", "xiaxi"}
PRODUCT_BY_SECTOR = {
    "pomelo": ["orchard", "eco_credit", "gep_pledge"],
    "tea": ["eco_credit", "gep_pledge", "forest_mortgage"],
    "forestry": ["forest_mortgage", "carbon_pledge", "gep_pledge"],
    "eco_tourism": ["gep_pledge", "eco_credit", "forest_mortgage"],
    "fishery": ["eco_credit", "gep_pledge"],
    "vegetables": ["eco_credit", "orchard"],
    "food_processing": ["eco_credit", "forest_mortgage"],
}


def generate_book(n: int = 6000, seed: int = 2026) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    townships = [t[0] for t in TOWNSHIPS]
    township = rng.choice(townships, size=n)
    kind = rng.choice(["individual", "firm", "organisation"], size=n, p=[0.62, 0.2, 0.18])
    sector = rng.choice(SECTORS, size=n, p=SECTOR_P)
    colour = rng.choice(COLOURS, size=n, p=COLOUR_P)
    product = np.array([rng.choice(PRODUCT_BY_SECTOR[s]) for s in sector])
    income_mu = np.select([kind == "individual", kind == "firm"], [np.log(120_000), np.log(2_500_000)], np.log(700_000))
    income = np.exp(rng.normal(income_mu, 0.45))
    dti = np.exp(rng.normal(np.log(0.35), 0.6, size=n))
    debts = income * dti
    lti = rng.uniform(0.2, 1.6, size=n)
    amount = np.round(income * lti / 1000) * 1000 + 10_000
    coverage = np.where(product == "eco_credit", 0.0, np.exp(rng.normal(np.log(1.5), 0.35)))
    years = np.minimum(rng.gamma(2.0, 3.0, size=n), 30).round()
    guarantors = rng.choice([0, 1, 2, 3], size=n, p=[0.35, 0.4, 0.2, 0.05])
    assets = income * np.exp(rng.normal(np.log(2.5), 0.5, size=n))
    term = rng.choice([12, 24, 36, 60], size=n, p=[0.35, 0.3, 0.25, 0.1])
    month_index = rng.integers(0, 84, size=n)
    applied = [f"{2019 + m // 12}-{m % 12 + 1:02d}" for m in month_index]

    logit = (-3.05 + np.vectorize(COLOUR_EFFECT.get)(colour) - 0.55 * np.minimum(coverage, 2.0)
             + 1.6 * np.maximum(debts / income - 0.5, 0) + 0.35 * (amount / income)
             + np.vectorize(SECTOR_EFFECT.get)(sector)
             + np.where(np.isin(township, list(REMOTE)), 0.3, np.where(np.isin(township, list(URBAN)), -0.3, 0.0))
             - 0.05 * np.minimum(years, 10) - 0.25 * np.minimum(guarantors, 2)
             + np.where(product == "eco_credit", 0.4, 0.0)
             + rng.normal(0, 0.35, size=n))
    defaulted = rng.random(n) < 1 / (1 + np.exp(-logit))

    frame = pd.DataFrame({
        "loan_id": [f"GF{2019 + m // 12}-{i:06d}" for i, m in enumerate(month_index, start=1)],
        "applied_month": applied,
        "township": township,
        "party_kind": kind,
        "sector": sector,
        "product": product,
        "eco_colour": colour,
        "annual_income": income.round(2),
        "total_assets": assets.round(2),
        "total_debts": debts.round(2),
        "debt_to_income": (debts / income).round(4),
        "amount": amount,
        "loan_to_income": (amount / income).round(4),
        "term_months": term,
        "collateral_coverage": coverage.round(4),
        "years_in_business": years,
        "guarantor_count": guarantors,
        "asset_to_debt": (assets / np.maximum(debts, 1)).round(4),
        "defaulted": defaulted.astype(int),
    })
    missing_years = rng.random(n) < 0.03
    frame["years_in_business"] = frame["years_in_business"].astype(object).where(~missing_years, None)
    missing_income = rng.random(n) < 0.02
    for col in ("annual_income", "loan_to_income", "debt_to_income"):
        frame[col] = frame[col].astype(object).where(~missing_income, None)
    return frame
