"""Monthly servicer reports from the loans' real servicing data.

For a month (``YYYY-MM``) the report covers the loans that were in the pool at some
time in the month and reads their repayments, instalments, defaults and write-offs:

- collections: interest, scheduled principal and prepayments received in the month
  (principal above what had fallen due and was unpaid at the start of the month is a
  prepayment), and fees. Money received on a loan after its default date is a recovery, and so
  is an index-insurance payout to the lender as loss payee (``insurance_recoveries``: of which);
- defaults (loans whose default date falls in the month, at their balance then) and
  write-offs; cumulative defaults since the baseline cut;
- delinquency at the month end by bucket (days past due by lending's one rule, read through
  its published ``loan_facts``: the first instalment not settled at the month end), pool factor (balance at the month end / balance at the baseline cut),
  the month's CPR and CDR (annualised single-month rates);
- trigger status: the cumulative default ratio and the 60+ days delinquency ratio
  against the structure's thresholds;
- green reporting: green-tagged share of the balance, the use-of-proceeds categories,
  and the total GEP of the collateral.

The baseline is the latest published cut on or before the month's end. A report is
stored (one per pool and month); generating it again recomputes it.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import select

from greenfin import dates
from greenfin.job_model import Job
from greenfin.core.services import record_audit
from greenfin.errors import N_, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.lending.services import LoanFacts
from greenfin.pools import cuts, services
from greenfin.pools.models import Pool, PoolMembership, ServicerReport
from greenfin.pools.stats import DPD_BUCKETS, dpd_bucket
from greenfin.security import current_actor

ZERO = Decimal("0")
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(value: str) -> tuple[date, date]:
    match = MONTH_RE.match((value or "").strip())
    if not match:
        raise ValidationFailed(N_("Invalid month"), {"month": [N_("write the month as YYYY-MM")]})
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _principal_paid_before(loan: LoanFacts, start: date) -> dict[int, Decimal]:
    """Principal allocated to each instalment (by seq) by repayments received before ``start``."""
    paid: dict[int, Decimal] = {}
    for rep in loan.repayments:
        if rep.received_on >= start:
            continue
        for seq, _amount, principal in rep.allocation:
            paid[seq] = paid.get(seq, ZERO) + principal
    return paid


def loan_month(loan: LoanFacts, start: date, end: date) -> dict[str, Any]:
    """One loan's servicing figures for the month from ``start`` to ``end`` (``loan`` as of ``end``)."""
    opening = loan.on(start - timedelta(days=1)).balance
    closing = loan.on(end).balance
    defaulted = loan.defaulted_on
    interest = scheduled = prepayment = fees = recoveries = insured = ZERO
    principal_in_month = ZERO
    for rep in loan.repayments:
        if not start <= rep.received_on <= end:
            continue
        if rep.source == "insurance":
            recoveries += rep.amount
            insured += rep.amount
            continue
        if defaulted is not None and rep.received_on >= defaulted:
            recoveries += rep.amount
            continue
        interest += rep.interest_part
        fees += rep.fee_part
        principal_in_month += rep.principal_part
    if principal_in_month > 0:
        paid_before = _principal_paid_before(loan, start)
        due = sum((max(ZERO, inst.principal_due - paid_before.get(inst.seq, ZERO))
                   for inst in loan.instalments if inst.due_date <= end), ZERO)
        scheduled = min(principal_in_month, due)
        prepayment = principal_in_month - scheduled
    default_amount = ZERO
    if defaulted is not None and start <= defaulted <= end:
        default_amount = loan.on(defaulted).balance
    write_off = ZERO
    if loan.loan_status == "written_off" and loan.closed_on is not None and start <= loan.closed_on <= end:
        write_off = loan.written_off_amount or ZERO
    dpd = loan.on(end).days_past_due if closing > 0 else 0
    return {
        "opening": opening, "closing": closing, "interest": interest, "scheduled_principal": scheduled,
        "prepayment": prepayment, "fees": fees, "recoveries": recoveries, "insurance_recoveries": insured,
        "default": default_amount,
        "write_off": write_off, "dpd": dpd,
        "repaid": loan.loan_status == "repaid" and loan.closed_on is not None and start <= loan.closed_on <= end,
        "scheduled_due": sum((inst.principal_due for inst in loan.instalments if start <= inst.due_date <= end), ZERO),
    }


def _f(value: Decimal) -> float:
    return float(Decimal(value).quantize(Decimal("0.01")))


def _annualised(monthly: float) -> float:
    monthly = min(max(monthly, 0.0), 1.0)
    return 1.0 - (1.0 - monthly) ** 12


def check_report_month(pool: Pool, month: str):
    """The month's bounds and baseline cut, or ValidationFailed (bad format, not ended, no baseline)."""
    start, end = parse_month(month)
    if end >= dates.today():
        raise ValidationFailed(N_("Invalid month"), {"month": [N_("only a month that has ended can be reported")]})
    baseline = cuts.latest_published_cut(pool, on_or_before=end)
    if baseline is None:
        raise ValidationFailed(N_("Publish a pool cut first: it is the report's baseline"),
                               {"month": [N_("no published pool cut on or before this month")]})
    return start, end, baseline


def start_servicer_report(pool: Pool, month: str) -> Job:
    """Queue the job that generates the month's report; a bad month is refused now, not in the job."""
    from greenfin.jobs import enqueue
    from greenfin.i18n import requester_gettext as _

    check_report_month(pool, month)
    return enqueue("greenfin.pools.jobs.generate_report", {"pool_id": pool.id, "month": month},
                   title=_("Servicer report %(code)s %(month)s", code=pool.code, month=month),
                   subject=("pools.report_detail", {"pool_id": pool.id, "month": month}))


def compute_report(pool: Pool, month: str) -> tuple[dict[str, Any], Any]:
    start, end, baseline = check_report_month(pool, month)
    memberships = list(db.session.scalars(
        select(PoolMembership).where(PoolMembership.pool_id == pool.id, PoolMembership.added_on <= end,
                                     (PoolMembership.removed_on.is_(None)) | (PoolMembership.removed_on > start))))
    loans = services.loan_facts({m.loan_id for m in memberships}, end)
    per_loan = {loan_id: loan_month(loan, start, end) for loan_id, loan in loans.items()}

    def total(key: str) -> Decimal:
        return sum((row[key] for row in per_loan.values()), ZERO)

    opening, closing = total("opening"), total("closing")
    baseline_balance = baseline.total_balance or ZERO
    # Cumulative defaults since the baseline cut, of the loans in the pool now.
    cumulative = ZERO
    for loan in loans.values():
        if loan.defaulted_on is not None and baseline.as_of < loan.defaulted_on <= end:
            cumulative += loan.on(loan.defaulted_on).balance
    buckets = {label: {"bucket": label, "count": 0, "balance": ZERO} for label, _lo, _hi in DPD_BUCKETS}
    live = [(loan, per_loan[i]) for i, loan in loans.items() if per_loan[i]["closing"] > 0]
    for _loan, row in live:
        b = buckets[dpd_bucket(row["dpd"])]
        b["count"] += 1
        b["balance"] += row["closing"]
    delinquency = [{"bucket": b["bucket"], "count": b["count"], "balance": _f(b["balance"]),
                    "share": float(b["balance"] / closing) if closing else 0.0} for b in buckets.values()]
    sixty_plus = sum((b["balance"] for k, b in buckets.items() if k in ("61-90", "90+")), ZERO)
    structure = pool.structure or {}
    cdr_ratio = float(cumulative / baseline_balance) if baseline_balance else 0.0
    dq_ratio = float(sixty_plus / closing) if closing else 0.0
    triggers = []
    for code, value, key in (("cumulative_default", cdr_ratio, "cumulative_default_trigger"),
                             ("delinquency_60", dq_ratio, "delinquency_trigger")):
        threshold = structure.get(key)
        threshold = float(threshold) if threshold is not None else None
        triggers.append({"code": code, "value": value, "threshold": threshold,
                         "breached": threshold is not None and value > threshold})
    # Green reporting at the month end.
    green_balance = sum((row["closing"] for loan, row in live if loan.green_category), ZERO)
    categories: dict[str, dict] = {}
    gep_total = ZERO
    for loan, row in live:
        name = loan.green_category
        c = categories.setdefault(name or "", {"category": name, "count": 0, "balance": ZERO})
        c["count"] += 1
        c["balance"] += row["closing"]
        gep = loan.collateral_gep
        if gep is not None:
            gep_total += gep
    scheduled = total("scheduled_principal")
    prepaid = total("prepayment")
    defaults = total("default")
    smm = float(prepaid / (opening - scheduled - defaults)) if opening - scheduled - defaults > 0 else 0.0
    mdr = float(defaults / opening) if opening > 0 else 0.0
    wa_rate = (sum((Decimal(loan.annual_rate) * row["closing"] for loan, row in live), ZERO) / closing) if closing else None
    collections = {"interest": _f(total("interest")), "scheduled_principal": _f(scheduled),
                   "prepayment": _f(prepaid), "fees": _f(total("fees"))}
    collections["total"] = round(sum(collections.values()), 2)
    figures = {
        "month": month, "period_start": start.isoformat(), "period_end": end.isoformat(),
        "baseline_cut": {"id": baseline.id, "seq": baseline.seq, "as_of": baseline.as_of.isoformat(),
                         "total_balance": _f(baseline_balance)},
        "loan_count_start": sum(1 for r in per_loan.values() if r["opening"] > 0),
        "loan_count_end": len(live),
        "opening_balance": _f(opening), "closing_balance": _f(closing),
        "pool_factor": float(closing / baseline_balance) if baseline_balance else None,
        "scheduled_due": _f(total("scheduled_due")),
        "collections": collections,
        "recoveries": _f(total("recoveries")),
        "insurance_recoveries": _f(total("insurance_recoveries")),
        "defaults": {"count": sum(1 for r in per_loan.values() if r["default"] > 0), "balance": _f(defaults)},
        "write_offs": _f(total("write_off")),
        "repaid_count": sum(1 for r in per_loan.values() if r["repaid"]),
        "cumulative_defaults": _f(cumulative), "cumulative_default_ratio": cdr_ratio,
        "cpr": _annualised(smm), "cdr": _annualised(mdr),
        "wa_rate": float(wa_rate) if wa_rate is not None else None,
        "delinquency": delinquency,
        "triggers": triggers,
        "green": {
            "green_balance": _f(green_balance),
            "green_share": float(green_balance / closing) if closing else None,
            "categories": sorted(({"category": c["category"], "count": c["count"], "balance": _f(c["balance"]),
                                   "share": float(c["balance"] / closing) if closing else 0.0}
                                  for c in categories.values()), key=lambda c: -c["balance"]),
            "collateral_gep": _f(gep_total),
        },
    }
    return figures, baseline


def generate_servicer_report(pool: Pool, month: str) -> ServicerReport:
    """Compute and store the month's report (again, if it exists: safe to run twice)."""
    figures, baseline = compute_report(pool, month)
    actor = current_actor()
    report = db.session.scalar(select(ServicerReport).where(ServicerReport.pool_id == pool.id,
                                                            ServicerReport.month == month))
    before = None
    if report is None:
        report = ServicerReport(pool_id=pool.id, month=month, baseline_cut_id=baseline.id, figures=figures)
        db.session.add(report)
    else:
        before = {"baseline_cut_id": report.baseline_cut_id, "closing_balance": report.figures.get("closing_balance")}
        report.figures, report.baseline_cut_id = figures, baseline.id
    from greenfin.core.types import utcnow

    report.generated_at, report.generated_by_id = utcnow(), actor.id if actor else None
    db.session.flush()
    record_audit("servicer_report.generate", "servicer_report", report.id, before=before,
                 after={"pool_id": pool.id, "month": month, "baseline_cut_id": baseline.id,
                        "closing_balance": figures["closing_balance"], "pool_factor": figures["pool_factor"]})
    return report


def get_report(pool: Pool, month: str) -> ServicerReport:
    report = db.session.scalar(select(ServicerReport).where(ServicerReport.pool_id == pool.id,
                                                            ServicerReport.month == month))
    if report is None:
        raise NotFound(N_("servicer report not found"), {"month": [f"no report for {month}"]})
    return report


def report_query(pool: Pool):
    return select(ServicerReport).where(ServicerReport.pool_id == pool.id).order_by(ServicerReport.month.desc())


def history(pool: Pool, up_to: Optional[str] = None) -> list[ServicerReport]:
    stmt = select(ServicerReport).where(ServicerReport.pool_id == pool.id).order_by(ServicerReport.month)
    if up_to:
        stmt = stmt.where(ServicerReport.month <= up_to)
    return list(db.session.scalars(stmt))
