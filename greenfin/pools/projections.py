"""Cash-flow projections of a pool: its cut's loans through the cash-flow engine and the
pool's tranche structure (``cashflow.py`` and ``waterfall.py`` do the numbers)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Optional

from greenfin import downloads
from greenfin.errors import N_, ValidationFailed
from greenfin.pools import cashflow, waterfall
from greenfin.pools.cuts import latest_published_cut
from greenfin.pools.models import Pool, PoolCut
from greenfin.pools.services import AMORTISATION_MAP, jsonable, live_records
from greenfin.pools.validation import fraction, whole_number

# The assumptions a projection starts from when none are given (page, API and CLI read them here).
DEFAULT_ASSUMPTIONS = {"cpr": 0.06, "cdr": 0.02, "severity": 0.4, "recovery_lag": 6}

@dataclass
class Projection:
    pool: Pool
    source: str          # "cut" or "live"
    cut: Optional[PoolCut]
    assumptions: dict
    projection: cashflow.PoolProjection
    waterfall: waterfall.WaterfallResult


def structure_for(pool: Pool, collateral: float) -> waterfall.Structure:
    s = pool.structure
    tranches = tuple(waterfall.Tranche(t["name"], t["kind"], round(collateral * float(t["share"]), 2), float(t["coupon"]))
                     for t in s["tranches"] if round(collateral * float(t["share"]), 2) > 0)
    opt = lambda key: float(s[key]) if s.get(key) is not None else None  # noqa: E731
    return waterfall.Structure(
        tranches, servicer_fee=float(s["servicer_fee"]), fixed_fees=float(s.get("fixed_fees") or 0),
        principal_mode=s["principal_mode"], oc_trigger=opt("oc_trigger"), ic_trigger=opt("ic_trigger"),
        reserve_initial=float(s["reserve_target"]) * sum(t.balance for t in tranches if t.rated),
        reserve_target=float(s["reserve_target"]), cleanup_call=float(s["cleanup_call"]))


def validate_assumptions(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    out = {}
    for key in ("cpr", "cdr", "severity"):
        out[key] = fraction(data.get(key, DEFAULT_ASSUMPTIONS[key]), key, errors)
    lag = data.get("recovery_lag")
    out["recovery_lag"] = whole_number(lag if lag is not None else DEFAULT_ASSUMPTIONS["recovery_lag"],
                                       "recovery_lag", errors, 0, 120)
    months = data.get("months")
    out["months"] = whole_number(months, "months", errors, 1) if months not in (None, "") else None
    if errors:
        raise ValidationFailed(N_("Invalid assumptions"), errors)
    return {k: (float(v) if k in ("cpr", "cdr", "severity") else v) for k, v in out.items()}


def project(pool: Pool, data: dict, cut: Optional[PoolCut] = None) -> Projection:
    """Project the pool from a cut (the latest published one by default, else today's loans)."""
    assumptions = validate_assumptions(data)
    cut = cut or latest_published_cut(pool)
    if cut is not None:
        rows = [{"balance": line.balance, "rate": line.rate, "remaining_term": line.remaining_term,
                 "amortisation": line.amortisation} for line in cut.lines]
        source = "cut"
    else:
        rows = live_records(pool)
        source = "live"
    rows = [r for r in rows if r["balance"] > 0]
    if not rows:
        raise ValidationFailed(N_("The pool holds no loans to project"), {"pool_id": [N_("no loans in the pool")]})
    try:
        loans = cashflow.loan_arrays([float(r["balance"]) for r in rows], [float(r["rate"]) for r in rows],
                                     [int(r["remaining_term"]) for r in rows],
                                     [AMORTISATION_MAP.get(r["amortisation"], "annuity") for r in rows])
        proj = cashflow.project_pool(loans, assumptions["months"], cpr=assumptions["cpr"], cdr=assumptions["cdr"],
                                     severity=assumptions["severity"], recovery_lag=assumptions["recovery_lag"])
        result = waterfall.run_waterfall(proj, structure_for(pool, proj.opening_balance))
    except cashflow.AssumptionError as exc:
        raise ValidationFailed(N_("Invalid assumptions"), {exc.field: [exc.message]}) from None
    assumptions["months"] = proj.months
    return Projection(pool=pool, source=source, cut=cut, assumptions=assumptions, projection=proj, waterfall=result)


def projection_rows(p: Projection) -> list[dict]:
    rows = p.projection.rows()
    wf = {r["month"]: r for r in p.waterfall.rows()}
    out = []
    for row in rows:
        merged = dict(row)
        extra = wf.get(row["month"])
        if extra:
            merged.update({k: v for k, v in extra.items() if k != "month"})
        out.append(merged)
    return out


def projection_csv(p: Projection) -> str:
    rows = projection_rows(p)
    keys: list[str] = []
    for row in rows:
        for k in row:
            if k not in keys:
                keys.append(k)
    buf = io.StringIO()
    writer = downloads.DictWriter(buf, fieldnames=keys, lineterminator="\r\n", restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in row.items()})
    return buf.getvalue()


def projection_summary(p: Projection) -> dict:
    proj = p.projection
    return {
        "pool_id": p.pool.id, "source": p.source, "cut_id": p.cut.id if p.cut else None,
        "assumptions": p.assumptions, "opening_balance": proj.opening_balance,
        "wal_years": proj.wal_years(), "total_interest": float(proj.interest.sum()),
        "total_prepayment": float(proj.prepayment.sum()), "total_default": float(proj.default.sum()),
        "total_loss": float(proj.loss.sum()), "call_month": p.waterfall.call_month,
        "months_to_end": p.waterfall.months,
        "trigger_breached_month": (int(p.waterfall.trigger_breached.argmax()) + 1
                                   if p.waterfall.trigger_breached.any() else None),
        "tranches": [jsonable(t.summary()) for t in p.waterfall.tranches],
    }
