"""Index-insurance evaluation: 100,000 policies against a season of readings, vectorised against a
per-policy loop, in the same run.

Prints JSON. The district's policies are spread over ``--stations`` stations and two frost products
(tiers and linear); each station has a season (1 December - 28 February) of SYNTHETIC readings
(``greenfin/insurance/synthetic.py``, colder than Guangfeng so that spells trigger).

- ``vectorised``: what ``services.evaluate_policies`` does: policies grouped by product and station,
  the index found once per group (``rules.find_spells``, numpy), each event's payouts for the whole
  group in integer cents (``rules.payout_cents``) within each policy's remaining season limit;
- ``loop``: the baseline, policy by policy: the season's readings walked day by day
  (``rules.find_spells_loop``) and each event paid with ``rules.payout_amount`` (Decimal).
The two must agree to the cent on every policy.

    .venv/bin/python bench/insurance.py [--policies 100000] [--stations 40]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from greenfin.insurance import rules, synthetic  # noqa: E402

D = Decimal
PRODUCTS = (
    rules.Terms("frost", D("-3"), D("-7"), "tiers", ((D("-3"), D("0.30")), (D("-5"), D("0.60")), (D("-7"), D("1")))),
    rules.Terms("frost", D("-2"), D("-6"), "linear"),
)
START, DAYS = date(2025, 12, 1), 90


def season(stations: int) -> tuple[np.ndarray, np.ndarray]:
    """(tmin, precip) arrays [station, day], with a few missing days."""
    tmin = np.full((stations, DAYS), math.nan)
    precip = np.full((stations, DAYS), math.nan)
    for s in range(stations):
        for k, (_c, _d, t, _x, p) in enumerate(synthetic.series(f"S{s}", START, START + timedelta(days=DAYS - 1),
                                                                seed=100 + s, offset=-1.0 - (s % 5))):
            if (s * 7 + k) % 53 != 0:  # a gap now and then
                tmin[s, k], precip[s, k] = t, p
    return tmin, precip


def policies(n: int, stations: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    station = rng.integers(0, stations, n)
    product = rng.integers(0, len(PRODUCTS), n)
    area = np.round(rng.lognormal(0.8, 0.9, n), 4) + 0.1
    sum_insured_cents = np.round(area * 30000 * 100).astype(np.int64)
    return station, product, sum_insured_cents


def vectorised(tmin, precip, station, product, sums) -> np.ndarray:
    paid = np.zeros(len(sums), dtype=np.int64)
    order = np.lexsort((station, product))
    keys = np.stack([product[order], station[order]], axis=1)
    bounds = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
    for group in np.split(order, bounds):
        p, s = int(product[group[0]]), int(station[group[0]])
        terms = PRODUCTS[p]
        for spell in rules.find_spells(terms, tmin[s], precip[s], season_over=True):
            share = rules.payout_share(terms, spell.index)
            if share > 0:
                paid[group] += rules.payout_cents(share, sums[group], paid[group])
    return paid


def loop(tmin, precip, station, product, sums) -> np.ndarray:
    out = np.zeros(len(sums), dtype=np.int64)
    series = [(list(tmin[s]), list(precip[s])) for s in range(tmin.shape[0])]
    for i in range(len(sums)):
        terms = PRODUCTS[int(product[i])]
        t, p = series[int(station[i])]
        sum_insured = D(int(sums[i])) / 100
        paid = D("0")
        for spell in rules.find_spells_loop(terms, t, p, season_over=True):
            paid += rules.payout_amount(rules.payout_share(terms, spell.index), sum_insured, paid)
        out[i] = int(paid * 100)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--policies", type=int, default=100_000)
    parser.add_argument("--stations", type=int, default=40)
    args = parser.parse_args()
    tmin, precip = season(args.stations)
    station, product, sums = policies(args.policies, args.stations)
    t0 = time.perf_counter()
    fast = vectorised(tmin, precip, station, product, sums)
    t1 = time.perf_counter()
    slow = loop(tmin, precip, station, product, sums)
    t2 = time.perf_counter()
    mismatches = int(np.count_nonzero(fast != slow))
    print(json.dumps({
        "policies": args.policies, "stations": args.stations, "days": DAYS,
        "policies_paid": int(np.count_nonzero(fast)), "total_paid_cny": str(D(int(fast.sum())) / 100),
        "vectorised": {"seconds": round(t1 - t0, 4), "policies_per_s": round(args.policies / (t1 - t0))},
        "loop": {"seconds": round(t2 - t1, 4), "policies_per_s": round(args.policies / (t2 - t1))},
        "speedup": round((t2 - t1) / (t1 - t0), 1),
        "identical_to_the_cent": mismatches == 0, "mismatches": mismatches,
        "never_above_sum_insured": bool(np.all(fast <= sums)),
    }, indent=2))
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
