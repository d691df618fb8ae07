"""Booking, repayments, delinquency and write-off of loans."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Optional

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from greenfin import dates, signals
from greenfin.job_model import Job
from greenfin.core.services import record_audit
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.lending.models import Application, Instalment, Loan, Repayment
from greenfin.lending.schedule import Due, add_months, allocate, bucket_for, build_schedule, cents
from greenfin.security import current_actor

DEFAULT_DPD = 90  # days past due at which a loan counts as defaulted (announces loan_defaulted)
ZERO = Decimal("0.00")


def book_loan(app: Application, disbursed_on: Optional[date] = None) -> Loan:
    """Disburse an approved application: the loan, its schedule, collateral pledged to it."""
    from greenfin.lending.services import collateral_summary, current_decision, set_pledge_status

    if app.status != "approved":
        raise Conflict(f"application {app.number} is {app.status}; only approved applications are booked")
    decision = current_decision(app)
    disbursed_on = disbursed_on or dates.today()
    amount = decision.approved_amount or app.amount
    product = app.product
    lines = build_schedule(amount, decision.rate, app.term_months, product.amortisation, disbursed_on,
                           harvest_months=product.harvest_months, fee=product.arrangement_fee)
    summary = collateral_summary(app)
    score = decision.score_id and next((s for s in app.scores if s.id == decision.score_id), None)
    loan = Loan(
        number=app.number.replace("LA", "LN", 1), application_id=app.id, party_id=app.party_id, product_id=product.id,
        principal=amount, annual_rate=decision.rate, term_months=app.term_months, amortisation=product.amortisation,
        disbursed_on=disbursed_on, maturity_date=add_months(disbursed_on, app.term_months), status="active",
        outstanding_principal=amount, green_category=product.green_category, eco_colour=app.eco_colour,
        score=score.score if score else None, collateral_value=summary["lendable"], collateral_gep=summary["gep"],
        days_past_due=0, max_days_past_due=0, bucket="current", dpd_as_of=disbursed_on,
    )
    try:
        with db.session.begin_nested():  # one loan per application, even when two officers click at once
            db.session.add(loan)
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"application {app.number} is already booked")
    for line in lines:
        db.session.add(Instalment(loan_id=loan.id, seq=line.seq, due_date=line.due_date,
                                  opening_balance=line.opening_balance, principal_due=line.principal,
                                  interest_due=line.interest, fee_due=line.fee, total_due=line.total,
                                  closing_balance=line.closing_balance))
    for pledge in app.collateral:
        if pledge.status == "proposed":
            set_pledge_status(pledge, "pledged", app.party_id, loan_id=loan.id)
    app.status = "booked"
    db.session.flush()
    record_audit("lending.loan.book", "loan", loan.id,
                 after={"number": loan.number, "principal": loan.principal, "rate": loan.annual_rate,
                        "term_months": loan.term_months, "instalments": len(lines), "disbursed_on": disbursed_on},
                 party_id=loan.party_id)
    return loan


def get_loan(loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None:
        raise NotFound(f"loan {loan_id} not found")
    return loan


def loan_query(*, party_id: Optional[int] = None, status: Optional[str] = None, bucket: Optional[str] = None) -> Select:
    stmt = select(Loan).order_by(Loan.id.desc())
    if party_id is not None:
        stmt = stmt.where(Loan.party_id == party_id)
    if status:
        stmt = stmt.where(Loan.status == status)
    if bucket:
        stmt = stmt.where(Loan.bucket == bucket)
    return stmt


def record_repayment(loan: Loan, amount: Decimal, received_on: date, reference: Optional[str] = None,
                     source: str = "borrower") -> Repayment:
    """Allocate a receipt to fees, then interest, then principal (due instalments first)."""
    from greenfin.lending.services import set_pledge_status
    if loan.status != "active":
        raise Conflict(f"loan {loan.number} is {loan.status}; no repayments can be recorded")
    try:
        amount = cents(Decimal(str(amount)))
    except Exception:
        raise ValidationFailed.field("amount", "must be a number")
    if amount <= 0:
        raise ValidationFailed.field("amount", "must be positive")
    if received_on < loan.disbursed_on:
        raise ValidationFailed.field("received_on", "is before the disbursement")
    open_lines = [i for i in loan.instalments if not i.settled]
    dues = [Due(i.seq, i.due_date, i.fee_due - i.fee_paid, i.interest_due - i.interest_paid,
                i.principal_due - i.principal_paid) for i in open_lines]
    try:
        split = allocate(amount, dues, received_on)
    except ValueError as exc:
        raise ValidationFailed.field("amount", str(exc))
    by_seq = {i.seq: i for i in open_lines}
    late_before = loan.max_days_past_due
    for seq, parts in split.lines.items():
        line = by_seq[seq]
        line.fee_paid += parts["fee"]
        line.interest_paid += parts["interest"]
        line.principal_paid += parts["principal"]
        if line.settled:
            line.paid_on = received_on
    repayment = Repayment(loan=loan, received_on=received_on, amount=amount, fee_part=split.fee,
                          interest_part=split.interest, principal_part=split.principal, reference=reference,
                          source=source,
                          allocation=[{"seq": s, **{k: str(v) for k, v in p.items()}} for s, p in sorted(split.lines.items())],
                          recorded_by_id=current_actor().id if current_actor() else None)
    db.session.add(repayment)
    loan.outstanding_principal -= split.principal
    db.session.flush()
    record_audit("lending.loan.repayment", "loan", loan.id,
                 after={"repayment": repayment.amount, "fee": split.fee, "interest": split.interest,
                        "principal": split.principal, "received_on": received_on, "source": source,
                        "outstanding": loan.outstanding_principal}, party_id=loan.party_id)
    update_delinquency(loan, received_on)
    if all(i.settled for i in loan.instalments):
        loan.status, loan.closed_on = "repaid", received_on
        for pledge in loan.collateral:
            if pledge.status == "pledged":
                set_pledge_status(pledge, "released", loan.party_id)
        record_audit("lending.loan.repaid", "loan", loan.id, before={"status": "active"}, after={"status": "repaid"},
                     party_id=loan.party_id)
        late = late_before > 0 or any(i.paid_on and i.paid_on > i.due_date for i in loan.instalments)
        signals.announce(signals.loan_repaid, entity_type="loan", entity_id=loan.id, party_id=loan.party_id,
                         loan_id=loan.id, repaid_on=received_on, on_time=not late and loan.defaulted_on is None,
                         evidence={"loan": loan.number, "principal": str(loan.principal)})
    db.session.flush()
    return repayment


def post_insurance_payout(loan_id: int, amount: Decimal, received_on: date, reference: str) -> Decimal:
    """The contract verb for an index-insurance payout to the lender as first loss payee: a repayment
    of at most what the loan still owes (its unpaid instalments), marked ``source="insurance"``, so
    it clears arrears first and shows in the pools' servicer reports. Returns the amount applied
    (0 when the loan is no longer active); the rest is the policy holder's."""
    loan = db.session.get(Loan, loan_id)
    if loan is None or loan.status != "active":
        return ZERO
    owed = sum((i.amount_unpaid for i in loan.instalments), ZERO)
    applied = min(cents(Decimal(str(amount))), owed)
    if applied <= 0:
        return ZERO
    record_repayment(loan, applied, received_on, reference=reference, source="insurance")
    return applied


def days_past_due_of(lines: Iterable[tuple[date, Decimal]], as_of: date) -> int:
    """Days past due, the platform's one rule: days since the due date of the first instalment
    that fell due before ``as_of`` and is not settled. ``lines`` are (due date, amount unpaid
    at ``as_of``) in schedule order. Servicing uses it on the instalments as they stand; the
    published ``loan_facts`` on the instalments as they stood on any day."""
    for due_date, unpaid in lines:
        if due_date < as_of and unpaid > 0:
            return (as_of - due_date).days
    return 0


def days_past_due(loan: Loan, as_of: date) -> int:
    return days_past_due_of(((i.due_date, i.amount_unpaid) for i in loan.instalments), as_of)


def update_delinquency(loan: Loan, as_of: date) -> Loan:
    """Recompute days past due and the bucket; crossing 90 days marks the default once."""
    if loan.status != "active":
        return loan
    dpd = days_past_due(loan, as_of)
    before = {"days_past_due": loan.days_past_due, "bucket": loan.bucket}
    loan.days_past_due, loan.bucket, loan.dpd_as_of = dpd, bucket_for(dpd), as_of
    loan.max_days_past_due = max(loan.max_days_past_due, dpd)
    if before["bucket"] != loan.bucket:
        record_audit("lending.loan.delinquency", "loan", loan.id, before=before,
                     after={"days_past_due": dpd, "bucket": loan.bucket, "as_of": as_of}, party_id=loan.party_id)
    if dpd > DEFAULT_DPD and loan.defaulted_on is None:
        _mark_default(loan, as_of)
    return loan


def _mark_default(loan: Loan, on: date) -> None:
    loan.defaulted_on = on
    record_audit("lending.loan.default", "loan", loan.id, after={"defaulted_on": on, "days_past_due": loan.days_past_due},
                 party_id=loan.party_id)
    signals.announce(signals.loan_defaulted, entity_type="loan", entity_id=loan.id, party_id=loan.party_id,
                     loan_id=loan.id, defaulted_on=on,
                     evidence={"loan": loan.number, "days_past_due": loan.days_past_due})


def refresh_delinquency(as_of: Optional[date] = None) -> int:
    """Refresh days past due of every active loan (daily). Returns how many changed bucket."""
    as_of = as_of or dates.today()
    changed = 0
    for loan in db.session.scalars(select(Loan).where(Loan.status == "active")):
        old = loan.bucket
        update_delinquency(loan, as_of)
        changed += old != loan.bucket
    db.session.flush()
    return changed


def start_delinquency_refresh(as_of: Optional[date] = None) -> Job:
    """Queue ``refresh_delinquency`` as a job (the page's button); returns the job to follow."""
    from greenfin.jobs import enqueue
    from greenfin.i18n import requester_gettext as _

    return enqueue("greenfin.lending.jobs.refresh_delinquency", {"as_of": as_of.isoformat()} if as_of else {},
                   title=_("Refresh days past due"), subject=("lending.portfolio", {}))


def write_off_loan(loan: Loan, reason: str, on: Optional[date] = None) -> Loan:
    """Write off the outstanding principal; collateral goes to enforcement."""
    from greenfin.lending.services import set_pledge_status
    if loan.status != "active":
        raise Conflict(f"loan {loan.number} is {loan.status}; only active loans are written off")
    if not (reason or "").strip():
        raise ValidationFailed.field("reason", "a reason is required")
    on = on or dates.today()
    before = {"status": loan.status, "outstanding_principal": loan.outstanding_principal}
    loan.written_off_amount = loan.outstanding_principal
    loan.outstanding_principal = ZERO
    loan.status, loan.closed_on, loan.write_off_reason = "written_off", on, reason.strip()
    for pledge in loan.collateral:
        if pledge.status == "pledged":
            set_pledge_status(pledge, "enforced", loan.party_id)
    record_audit("lending.loan.write_off", "loan", loan.id, before=before,
                 after={"status": "written_off", "written_off_amount": loan.written_off_amount, "reason": reason.strip()},
                 party_id=loan.party_id)
    if loan.defaulted_on is None:
        _mark_default(loan, on)
    db.session.flush()
    return loan


def portfolio_summary(party_id: Optional[int] = None) -> dict[str, Any]:
    """Totals for the dashboard: by bucket, colour, product and disbursement month."""
    loans = list(db.session.scalars(loan_query(party_id=party_id)))
    active = [l for l in loans if l.status == "active"]
    by_bucket = defaultdict(lambda: ZERO)
    for l in active:
        by_bucket[l.bucket] += l.outstanding_principal
    by_colour = defaultdict(lambda: ZERO)
    for l in active:
        by_colour[l.eco_colour or "unrated"] += l.outstanding_principal
    by_product = defaultdict(lambda: ZERO)
    for l in active:
        by_product[l.product.kind] += l.outstanding_principal
    by_month = Counter()
    for l in loans:
        by_month[l.disbursed_on.strftime("%Y-%m")] += int(l.principal)
    outstanding = sum((l.outstanding_principal for l in active), ZERO)
    overdue = sum((l.outstanding_principal for l in active if l.days_past_due > 30), ZERO)
    return {
        "loans": len(loans), "active": len(active), "outstanding": outstanding,
        "disbursed": sum((l.principal for l in loans), ZERO),
        "written_off": sum((l.written_off_amount or ZERO for l in loans), ZERO),
        "par30": (overdue / outstanding).quantize(Decimal("0.0001")) if outstanding else Decimal("0"),
        "gep": sum((l.collateral_gep for l in active), ZERO),
        "by_bucket": {b: by_bucket.get(b, ZERO) for b in ("current", "1-30", "31-60", "61-90", "90+")},
        "by_colour": dict(by_colour), "by_product": dict(by_product),
        "by_month": dict(sorted(by_month.items())),
    }
