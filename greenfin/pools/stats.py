"""Pool statistics and stratification tables over plain arrays and records.

The figures a Chinese credit-ABS disclosure (信贷资产支持证券 发行说明书 / 受托机构报告)
shows for an asset pool: loan count, total, maximum and average balance,
balance-weighted average rate, original and remaining term, WAL, and the
distribution of the pool by product, township, eco-credit colour, LTV band,
days-past-due bucket and remaining term (count and balance, each with its share).
Nothing here touches the database.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from credit.policy import COLOURS
from greenfin.pools.cashflow import loan_arrays, project_pool

# (key, lower bound inclusive, upper bound exclusive) in fractions.
LTV_BANDS = (("≤ 40%", 0.0, 0.40), ("40–50%", 0.40, 0.50), ("50–60%", 0.50, 0.60),
             ("60–70%", 0.60, 0.70), ("70–80%", 0.70, 0.80), ("> 80%", 0.80, math.inf))
# Days past due, inclusive ranges (the lending package's buckets).
DPD_BUCKETS = (("current", 0, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, math.inf))
# Remaining term in months, inclusive ranges.
TERM_BANDS = (("≤ 12", 1, 12), ("13–24", 13, 24), ("25–36", 25, 36), ("37–60", 37, 60),
              ("61–120", 61, 120), ("> 120", 121, math.inf))
UNKNOWN = None  # the stratum of records whose value is missing


def _arr(values: Iterable, dtype=np.float64) -> np.ndarray:
    return np.asarray([float(v) if v is not None else np.nan for v in values], dtype=dtype)


def weighted_average(values: np.ndarray, weights: np.ndarray) -> Optional[float]:
    ok = ~np.isnan(values)
    w = weights[ok]
    if w.sum() <= 0:
        return None
    return float((values[ok] * w).sum() / w.sum())


def pool_statistics(balance: Sequence, rate: Sequence, original_term: Sequence, remaining_term: Sequence,
                    amortisation: Optional[Sequence] = None, obligor: Optional[Sequence] = None) -> dict[str, Any]:
    """Headline figures of a pool. Rates are annual fractions, terms are months.

    WAL is the weighted average life in years of the contractual principal
    schedule (no prepayments or defaults), projected loan by loan.
    """
    bal = _arr(balance)
    n = int(bal.size)
    if n == 0:
        return {"count": 0, "total_balance": 0.0, "max_balance": None, "average_balance": None, "wa_rate": None,
                "wa_original_term": None, "wa_remaining_term": None, "wa_seasoning": None, "wal_years": None,
                "obligors": 0, "largest_obligor_share": None}
    rt, orig, rem = _arr(rate), _arr(original_term), _arr(remaining_term)
    total = float(bal.sum())
    stats = {
        "count": n,
        "total_balance": total,
        "max_balance": float(bal.max()),
        "average_balance": total / n,
        "wa_rate": weighted_average(rt, bal),
        "wa_original_term": weighted_average(orig, bal),
        "wa_remaining_term": weighted_average(rem, bal),
        "wa_seasoning": weighted_average(orig - rem, bal),
        "wal_years": None,
        "obligors": None,
        "largest_obligor_share": None,
    }
    usable = ~(np.isnan(rt) | np.isnan(rem)) & (bal > 0) & (rem >= 1)
    if usable.any():
        amort = "annuity" if amortisation is None else [a for a, ok in zip(amortisation, usable) if ok]
        loans = loan_arrays(bal[usable], rt[usable], rem[usable], amort)
        stats["wal_years"] = project_pool(loans).wal_years()
    if obligor is not None:
        shares = concentration(obligor, bal)
        stats["obligors"] = len(shares)
        stats["largest_obligor_share"] = max(shares.values()) if shares else None
    return stats


def concentration(keys: Sequence, balance: Sequence) -> dict[Any, float]:
    """Each key's share of the total balance."""
    bal = _arr(balance)
    total = bal.sum()
    out: dict[Any, float] = {}
    for key, value in zip(keys, bal):
        out[key] = out.get(key, 0.0) + float(value)
    return {k: (v / total if total > 0 else 0.0) for k, v in out.items()}


def band_of(value: Optional[float], bands: Sequence[tuple], *, inclusive_upper: bool = False) -> Optional[str]:
    """The band label of ``value`` (None when the value is unknown)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNKNOWN
    for label, lo, hi in bands:
        if inclusive_upper:
            if lo <= value <= hi:
                return label
        elif lo <= value < hi:
            return label
    return UNKNOWN


def ltv_band(ltv: Optional[float]) -> Optional[str]:
    return band_of(ltv, LTV_BANDS)


def dpd_bucket(dpd: Optional[float]) -> Optional[str]:
    return band_of(dpd, DPD_BUCKETS, inclusive_upper=True)


def term_band(months: Optional[float]) -> Optional[str]:
    return band_of(months, TERM_BANDS, inclusive_upper=True)


def stratify(keys: Sequence, balance: Sequence, rate: Optional[Sequence] = None,
             remaining_term: Optional[Sequence] = None, order: Optional[Sequence] = None) -> list[dict[str, Any]]:
    """One row per stratum: count and balance with their shares, WA rate and WA remaining term.

    ``order`` lists the strata in display order (strata not in it follow by
    balance, the unknown stratum last); strata without loans are left out.
    """
    bal = _arr(balance)
    rt = _arr(rate) if rate is not None else np.full(bal.size, np.nan)
    rem = _arr(remaining_term) if remaining_term is not None else np.full(bal.size, np.nan)
    keys = list(keys)
    n, total = len(keys), float(bal.sum())
    groups: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    rows = []
    for key, idx in groups.items():
        ix = np.asarray(idx)
        b = bal[ix]
        rows.append({
            "key": key,
            "count": len(idx),
            "count_share": len(idx) / n if n else 0.0,
            "balance": float(b.sum()),
            "balance_share": float(b.sum()) / total if total > 0 else 0.0,
            "wa_rate": weighted_average(rt[ix], b),
            "wa_remaining_term": weighted_average(rem[ix], b),
        })
    position = {k: i for i, k in enumerate(order or ())}

    def sort_key(row):
        if row["key"] is UNKNOWN:
            return (2, 0, "")
        if row["key"] in position:
            return (0, position[row["key"]], "")
        return (1, -row["balance"], str(row["key"]))

    rows.sort(key=sort_key)
    return rows


STRATA: dict[str, tuple[Callable[[dict], Any], Optional[Sequence]]] = {
    "product": (lambda r: r.get("product"), None),
    "township": (lambda r: r.get("township"), None),
    "colour": (lambda r: r.get("colour"), COLOURS),
    "ltv": (lambda r: ltv_band(r.get("ltv")), [b[0] for b in LTV_BANDS]),
    "dpd": (lambda r: dpd_bucket(r.get("dpd")), [b[0] for b in DPD_BUCKETS]),
    "remaining_term": (lambda r: term_band(r.get("remaining_term")), [b[0] for b in TERM_BANDS]),
}


def stratification_tables(records: Sequence[dict]) -> dict[str, list[dict]]:
    """Every stratification table of a pool from loan records.

    A record has ``balance``, ``rate``, ``remaining_term`` and the stratifying
    fields ``product``, ``township``, ``colour``, ``ltv`` (fraction), ``dpd``.
    """
    balance = [r["balance"] for r in records]
    rate = [r.get("rate") for r in records]
    remaining = [r.get("remaining_term") for r in records]
    return {name: stratify([key(r) for r in records], balance, rate, remaining, order)
            for name, (key, order) in STRATA.items()}
