"""Servicer reports from real servicing data, checked against the repayments themselves."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from greenfin.dates import today as business_today
from greenfin import dates
from greenfin.errors import ValidationFailed
from greenfin.extensions import db
from greenfin.lending.servicing import record_repayment
from greenfin.pools import cuts, reporting, services
from greenfin.pools.models import ServicerReport
from greenfin.pools.pdf import servicer_report_pdf

START, END = date(2026, 8, 1), date(2026, 8, 31)


@pytest.fixture
def book(create_pool, create_loan, pay_through):
    pool = create_pool(structure={"cumulative_default_trigger": "0.05", "delinquency_trigger": "0.01"})
    on_time = create_loan(amount="120000", rate="0.06", term=24, disbursed_on=date(2026, 1, 10))
    prepayer = create_loan(amount="60000", rate="0.05", term=24, disbursed_on=date(2026, 1, 10))
    stopper = create_loan(amount="80000", rate="0.055", term=24, disbursed_on=date(2026, 1, 10))
    pay_through(on_time, date(2026, 10, 31))
    pay_through(prepayer, date(2026, 7, 31))
    aug = next(i for i in prepayer.instalments if i.due_date == date(2026, 8, 10))
    record_repayment(prepayer, aug.amount_unpaid + Decimal("10000"), aug.due_date)
    pay_through(stopper, date(2026, 6, 30))
    services.add_loans(pool, [on_time.id, prepayer.id, stopper.id], added_on=date(2026, 6, 30), as_of=date(2026, 6, 30))
    cut = cuts.publish_cut(cuts.create_cut(pool, date(2026, 6, 30)))
    db.session.commit()
    return pool, cut, on_time, prepayer, stopper


def test_report_collections_match_the_repayments(book):
    pool, cut, on_time, prepayer, stopper = book
    report = reporting.generate_servicer_report(pool, "2026-08")
    db.session.commit()
    f = report.figures
    august = [r for loan in (on_time, prepayer, stopper) for r in loan.repayments if START <= r.received_on <= END]
    assert f["collections"]["interest"] == pytest.approx(float(sum(r.interest_part for r in august)))
    principal = float(sum(r.principal_part for r in august))
    assert f["collections"]["scheduled_principal"] + f["collections"]["prepayment"] == pytest.approx(principal)
    aug_due = next(i for i in prepayer.instalments if i.due_date == date(2026, 8, 10)).principal_due
    prepaid = sum(r.principal_part for r in prepayer.repayments if START <= r.received_on <= END) - aug_due
    assert f["collections"]["prepayment"] == pytest.approx(float(prepaid)) and prepaid > Decimal("9000")
    assert f["cpr"] > 0 and f["cdr"] == 0


def test_report_balances_pool_factor_and_delinquency(book):
    pool, cut, on_time, prepayer, stopper = book
    f = reporting.generate_servicer_report(pool, "2026-08").figures
    facts = services.loan_facts([l.id for l in (on_time, prepayer, stopper)], END)
    closing = sum(f.balance for f in facts.values())
    assert f["closing_balance"] == pytest.approx(float(closing))
    assert f["pool_factor"] == pytest.approx(float(closing / cut.total_balance))
    buckets = {b["bucket"]: b for b in f["delinquency"]}
    # The stopper's July instalment (due 10 July) is unpaid at 31 August: 52 days past due.
    assert buckets["31-60"]["count"] == 1
    assert buckets["31-60"]["balance"] == pytest.approx(float(facts[stopper.id].balance))
    assert buckets["current"]["count"] == 2
    assert f["loan_count_end"] == 3
    triggers = {t["code"]: t for t in f["triggers"]}
    assert triggers["delinquency_60"]["breached"] is False  # 52 days is not 60+
    september = reporting.generate_servicer_report(pool, "2026-09").figures
    assert {t["code"]: t for t in september["triggers"]}["delinquency_60"]["breached"] is True


def test_report_green_figures(book):
    pool, *_ = book
    g = reporting.generate_servicer_report(pool, "2026-08").figures["green"]
    assert g["green_share"] == pytest.approx(1.0)
    assert g["categories"][0]["category"] == "sustainable agriculture" and g["categories"][0]["count"] == 3


def test_report_twice_updates_one_row(book):
    pool, *_ = book
    first = reporting.generate_servicer_report(pool, "2026-08")
    db.session.commit()
    again = reporting.generate_servicer_report(pool, "2026-08")
    db.session.commit()
    assert first.id == again.id
    assert db.session.scalar(select(func.count()).select_from(ServicerReport)) == 1


@pytest.mark.parametrize("month", ["2026-13", "26-08", "", business_today().strftime("%Y-%m")])
def test_report_refuses_bad_months(book, month):
    pool, *_ = book
    with pytest.raises(ValidationFailed):
        reporting.generate_servicer_report(pool, month)


def test_start_servicer_report_queues_one_job_or_refuses_now(book):
    from greenfin.job_model import Job
    from greenfin.jobs import discard_pending

    pool, *_ = book
    with pytest.raises(ValidationFailed):
        reporting.start_servicer_report(pool, dates.today().strftime("%Y-%m"))  # not ended: no job
    assert db.session.scalar(select(func.count(Job.id))) == 0
    job = reporting.start_servicer_report(pool, "2026-08")
    discard_pending()  # the test only looks at what was queued
    assert (job.func, job.kwargs, job.status) == ("greenfin.pools.jobs.generate_report",
                                                  {"pool_id": pool.id, "month": "2026-08"}, "queued")
    assert pool.code in job.title and "2026-08" in job.title


def test_report_needs_a_published_cut(create_pool):
    pool = create_pool()
    with pytest.raises(ValidationFailed, match="Publish a pool cut first"):
        reporting.generate_servicer_report(pool, "2026-08")


def test_report_pdf_has_pages(book):
    pool, *_ = book
    report = reporting.generate_servicer_report(pool, "2026-08")
    pdf = servicer_report_pdf(pool, report, [report])
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
