"""Compensation runs: started by one verb, computed by a job, approved by a second person.

A run applies one scheme version to one period (a year). Starting the same scheme for the same
period again gives the existing run (idempotent). The job computes the allocation rows, each
citing what produced it; approval freezes the run (the database refuses any later change).
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Optional

from sqlalchemy import Select, delete, select

from greenfin.compensation import rules as R
from greenfin.compensation.models import CompensationAllocation, CompensationRun, MonitoringReading
from greenfin.compensation.services.change import gep_change
from greenfin.compensation.services.schemes import get_scheme, lock_scheme
from greenfin.core import services as core
from greenfin.core.types import utcnow
from greenfin.downloads import writer
from greenfin.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.jobs import enqueue
from greenfin.job_model import Job
from greenfin.registry import contract, require
from greenfin.security import current_actor

CREDIT_RULES = {"ranger": "GREEN_TREE_PLANTING", "river_patrol": "GREEN_RIVER_PATROL"}


def _check_period(period) -> str:
    text = str(period or "").strip()
    if not (text.isdigit() and 1990 <= int(text) <= 2100):
        raise ValidationFailed.field("period", N_("must be a year between 1990 and 2100"))
    return text


def start_run(scheme_id: int, period) -> tuple[CompensationRun, Optional[Job]]:
    """The run of a scheme for a period, and the job computing it (None when the run existed).

    The one verb behind the page, the API and ``flask compensation run``."""
    scheme = get_scheme(scheme_id)
    period = _check_period(period)
    run = db.session.scalar(select(CompensationRun).where(CompensationRun.scheme_id == scheme.id,
                                                          CompensationRun.period == period))
    if run is not None:
        return run, None
    actor = current_actor()
    lock_scheme(scheme)
    run = CompensationRun(scheme_id=scheme.id, period=period, status="draft", total=Decimal("0.00"), figures={},
                          created_by_id=actor.id if actor else None)
    db.session.add(run)
    db.session.flush()
    job = enqueue("greenfin.compensation.jobs.compute_run", {"run_id": run.id},
                  title=f"Compensation {scheme.code} v{scheme.version} {period}")
    run.job_id = job.id
    core.record_audit("compensation.run.start", "compensation_run", run.id,
                      after={"scheme": scheme.label, "period": period, "job_id": job.id})
    return run, job


def get_run(run_id: int) -> CompensationRun:
    run = db.session.get(CompensationRun, run_id)
    if run is None:
        raise NotFound(f"compensation run {run_id} not found")
    return run


def run_query(scheme_id: Optional[int] = None) -> Select:
    stmt = select(CompensationRun).order_by(CompensationRun.id.desc())
    if scheme_id:
        stmt = stmt.where(CompensationRun.scheme_id == scheme_id)
    return stmt


def compute_run(run: CompensationRun, progress: Optional[Callable[[int, str], None]] = None) -> CompensationRun:
    """(Re)compute a draft run's allocation rows. Safe to run twice; an approved run answers 409."""
    if run.approved:
        raise Conflict("An approved compensation run never changes", code="run_approved")
    progress = progress or (lambda *_: None)
    db.session.execute(delete(CompensationAllocation).where(CompensationAllocation.run_id == run.id))
    year = int(run.period)
    kind = run.scheme.kind
    rows, figures = {"budget_split": _budget_split, "water_bet": _water_bet, "per_hectare": _per_hectare,
                     "eco_jobs": _eco_jobs}[kind](run.scheme.rules, year, progress)
    progress(90, "storing", len(rows))
    for line, row in enumerate(rows, start=1):
        db.session.add(CompensationAllocation(run_id=run.id, line=line, **row))
    run.total = sum((r["amount"] for r in rows), Decimal("0.00"))
    run.figures = figures
    run.computed_at = utcnow()
    db.session.flush()
    core.record_audit("compensation.run.compute", "compensation_run", run.id,
                      after={"rows": len(rows), "total": run.total})
    return run


def _jsonable(d: dict) -> dict:
    return {k: str(v) for k, v in d.items()}


def _budget_split(rules: dict, year: int, progress) -> tuple[list[dict], dict]:
    progress(10, "reading")
    report = gep_change(year - 1, year, base_prices=rules.get("base_prices"))
    accounts = report.accounts
    progress(50, "computing", len(accounts))
    regulating: dict[str, Decimal] = defaultdict(Decimal)
    ids: dict[str, list[int]] = defaultdict(list)
    for a in accounts:
        regulating[a.township_code] += a.regulating
        ids[a.township_code].append(a.account_id)
    base_ids: dict[str, list[int]] = defaultdict(list)
    for p in report.parcels:
        if p.base_account_id:
            base_ids[p.township_code].append(p.base_account_id)
    quantity = {t: c.quantity for t, c in report.by_township().items()}
    weights = rules["weights"]
    scores = R.budget_scores(regulating, quantity, Decimal(weights["regulating"]), Decimal(weights["quantity"]))
    if not scores or sum(scores.values()) == 0:
        raise ValidationFailed.field("period", N_("no township has regulating GEP or a positive quantity effect"))
    amounts = R.allocate(Decimal(rules["budget"]), scores)
    rows = []
    for t in scores:
        rows.append({"township_code": t, "payer": "budget", "payee": t, "amount": amounts[t], "basis": {
            "regulating": str(regulating.get(t, Decimal(0))), "quantity_effect": str(quantity.get(t, Decimal(0))),
            "score": f"{scores[t].numerator}/{scores[t].denominator}", "score_decimal": str(round(float(scores[t]), 8))},
            "sources": {"accounts": ids.get(t, []), "base_accounts": base_ids.get(t, []),
                        "price_versions": report.prices, "base_prices": report.base_prices,
                        "base_year": year - 1, "year": year}})
    total = report.total
    return rows, {"base_year": year - 1, "year": year, "base_prices": report.base_prices, "prices": report.prices,
                  "regulating_total": str(sum(regulating.values(), Decimal(0))),
                  "change": _jsonable(total.as_dict()), "weights": weights, "budget": rules["budget"]}


def water_means(stations: list[str], year: int, indicators) -> tuple[dict[str, Decimal], list[int]]:
    readings = db.session.execute(select(MonitoringReading.id, MonitoringReading.indicator, MonitoringReading.value).where(
        MonitoringReading.station.in_(stations), MonitoringReading.indicator.in_(list(indicators)),
        MonitoringReading.sampled_on >= date(year, 1, 1), MonitoringReading.sampled_on <= date(year, 12, 31))
        .order_by(MonitoringReading.id)).all()
    sums: dict[str, list] = {}
    for _id, code, value in readings:
        s = sums.setdefault(code, [Decimal(0), 0])
        s[0] += value
        s[1] += 1
    return {c: s / n for c, (s, n) in sums.items()}, [r.id for r in readings]


def _water_bet(rules: dict, year: int, progress) -> tuple[list[dict], dict]:
    progress(10, "reading")
    indicators = rules["indicators"]
    means, ids = water_means(rules["stations"], year, indicators)
    index = R.water_index(means, {c: Decimal(s["baseline"]) for c, s in indicators.items()},
                          {c: Decimal(s["weight"]) for c, s in indicators.items()}, Decimal(rules["k0"]))
    direction = R.water_bet_direction(index, Decimal(rules["threshold"]))
    up, down = rules["upstream"], rules["downstream"]
    payer, payee = (down, up) if direction == "downstream_pays" else (up, down)
    p = str(round(Decimal(index.numerator) / Decimal(index.denominator), 6))
    basis = {"index": p, "threshold": rules["threshold"], "k0": rules["k0"], "direction": direction,
             "means": {c: str(round(m, 6)) for c, m in means.items()}}
    row = {"township_code": payee, "payer": payer, "payee": payee, "amount": Decimal(rules["amount"]),
           "basis": basis, "sources": {"monitoring": ids, "stations": rules["stations"], "year": year}}
    return [row], {"year": year, "index": p, "direction": direction, "readings": len(ids)}


def _per_hectare(rules: dict, year: int, progress) -> tuple[list[dict], dict]:
    gep = require("greenfin.gep")
    progress(10, "reading")
    rates = {c: Decimal(r) for c, r in rules["rates"].items()}
    area: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    ids: dict[str, list[int]] = defaultdict(list)
    versions = set()
    for a in gep.year_accounts(year, with_services=False):
        if a.land_cover in rates:
            area[a.township_code][a.land_cover] += a.area_ha
            ids[a.township_code].append(a.account_id)
            versions.add(a.version)
    rows = []
    for t in sorted(area):
        amount = sum((ha * rates[c] for c, ha in area[t].items()), Decimal(0)).quantize(R.CENT, ROUND_HALF_UP)
        rows.append({"township_code": t, "payer": "budget", "payee": t, "amount": amount,
                     "basis": {"area_ha": _jsonable(area[t]), "rates": rules["rates"]},
                     "sources": {"accounts": ids[t], "price_versions": sorted(versions), "year": year}})
    return rows, {"year": year, "rates": rules["rates"]}


def _eco_jobs(rules: dict, year: int, progress) -> tuple[list[dict], dict]:
    pay = Decimal(rules["monthly_pay"])
    rows = [{"township_code": j["township_code"], "payer": "budget", "payee": f"party:{j['party_id']}",
             "payee_party_id": int(j["party_id"]), "amount": (pay * j["months"]).quantize(R.CENT),
             "basis": {"role": j["role"], "months": j["months"], "monthly_pay": rules["monthly_pay"],
                       "credit_rule": CREDIT_RULES[j["role"]]},
             "sources": {"scheme_job": i, "year": year}} for i, j in enumerate(rules["jobs"])]
    return rows, {"year": year, "jobs": len(rows)}


def approve_run(run: CompensationRun) -> CompensationRun:
    """Approve a computed draft run (maker-checker: not by the person who started it).

    Eco-job rows post eco-credit points through the credit contract when credit is loaded."""
    actor = current_actor()
    if run.approved:
        raise Conflict("An approved compensation run never changes", code="run_approved")
    if run.computed_at is None:
        raise Conflict("The run has not been computed yet", code="run_not_computed")
    if actor is None:
        raise Forbidden("An approval needs a named user")
    if run.created_by_id is not None and run.created_by_id == actor.id:
        raise Forbidden("Maker-checker: the run must be approved by someone other than who started it")
    credit = contract("credit")
    if run.scheme.kind == "eco_jobs" and credit is not None:
        for row in run.allocations:
            credit.post_event_points(row.payee_party_id, row.basis["credit_rule"], source="compensation",
                                     source_id=f"{run.id}:{row.line}", evidence={
                                         "run": str(run.id), "line": str(row.line), "role": row.basis["role"],
                                         "amount": str(row.amount)})
    run.status, run.approved_by_id, run.approved_at = "approved", actor.id, utcnow()
    db.session.flush()
    core.record_audit("compensation.run.approve", "compensation_run", run.id,
                      after={"total": run.total, "rows": len(run.allocations)})
    return run


def payment_csv(run: CompensationRun) -> str:
    """The payment file of an approved run: one line per allocation row."""
    if not run.approved:
        raise Conflict("Only an approved run has a payment file", code="run_not_approved")
    out = io.StringIO()
    w = writer(out)
    w.writerow(["run", "scheme", "period", "line", "payer", "payee", "township", "amount_cny"])
    for row in run.allocations:
        w.writerow([run.id, run.scheme.label, run.period, row.line, row.payer or "", row.payee,
                    row.township_code or "", f"{row.amount:.2f}"])
    return out.getvalue()


def import_monitoring(text: str) -> dict:
    """Monitoring rows from CSV (station, date, indicator, value). All rows or none: a bad row is
    reported as ``line N: field: reason`` and nothing is stored. A row already held is skipped."""
    reader = csv.DictReader(io.StringIO(text))
    need = {"station", "date", "indicator", "value"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise ValidationFailed.field("file", N_("needs the columns station, date, indicator, value"))
    errors: dict[str, list[str]] = {}
    rows = []
    for n, rec in enumerate(reader, start=2):
        station, indicator = (rec.get("station") or "").strip(), (rec.get("indicator") or "").strip()
        if not station or len(station) > 32:
            errors.setdefault(f"line {n}", []).append("station: must be 1 to 32 characters")
        if not indicator or len(indicator) > 16:
            errors.setdefault(f"line {n}", []).append("indicator: must be 1 to 16 characters")
        try:
            day = date.fromisoformat((rec.get("date") or "").strip())
        except ValueError:
            errors.setdefault(f"line {n}", []).append("date: must be YYYY-MM-DD")
            day = None
        value_errors: dict = {}
        from greenfin.numbers import parse_decimal

        value = parse_decimal(rec.get("value"), "value", value_errors)
        if value is not None and value < 0:
            value_errors.setdefault("value", []).append("must not be negative")
        for msg in value_errors.get("value", []):
            errors.setdefault(f"line {n}", []).append(f"value: {msg}")
        rows.append((station, day, indicator, value))
    if errors:
        raise ValidationFailed("The monitoring file has bad rows; nothing was stored", errors)
    existing = set(db.session.execute(select(MonitoringReading.station, MonitoringReading.sampled_on,
                                             MonitoringReading.indicator)).all())
    added = 0
    for station, day, indicator, value in rows:
        if (station, day, indicator) in existing:
            continue
        existing.add((station, day, indicator))
        db.session.add(MonitoringReading(station=station, sampled_on=day, indicator=indicator, value=value))
        added += 1
    db.session.flush()
    core.record_audit("compensation.monitoring.import", "compensation_monitoring", "import",
                      after={"rows": len(rows), "added": added})
    return {"rows": len(rows), "added": added, "skipped": len(rows) - added}
