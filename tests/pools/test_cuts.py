"""Immutable pool cuts, corrections, loan tapes and projections from a cut."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from greenfin.dates import today as business_today
from greenfin.core.models import AuditEvent
from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db
from greenfin.pools import cuts, projections, services
from greenfin.pools.models import PoolCut, PoolCutLoan
from greenfin.pools.tape import read_loan_tape


@pytest.fixture
def pooled(create_pool, create_loan, pay_through):
    pool = create_pool()
    secured = create_loan(amount="200000", rate="0.05", term=36, disbursed_on=date(2026, 1, 5),
                          collateral_value="400000", collateral_gep="850000", product="T-LINEAR")
    plain = create_loan(amount="50000", rate="0.045", term=12, disbursed_on=date(2026, 1, 5))
    for loan in (secured, plain):
        pay_through(loan, business_today())
    services.add_loans(pool, [secured.id, plain.id], added_on=date(2026, 3, 1))
    db.session.commit()
    return pool, secured, plain


def test_take_cut_publishes_only_when_asked(pooled):
    pool, _secured, _plain = pooled
    draft = cuts.take_cut(pool, date(2026, 6, 30))
    assert draft.status == "draft" and draft.published_at is None
    published = cuts.take_cut(pool, date(2026, 7, 31), publish=True)
    assert published.status == "published" and published.published_at is not None
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "pool_cut",
                                                                      AuditEvent.entity_id == str(published.id))))
    assert "pool_cut.publish" in actions


def test_cut_snapshots_every_loan(pooled):
    pool, secured, plain = pooled
    cut = cuts.create_cut(pool, date(2026, 6, 30))
    db.session.commit()
    assert cut.status == "draft" and cut.seq == 1 and cut.loan_count == 2
    line = next(l for l in cut.lines if l.loan_id == secured.id)
    expected = services.loan_facts([secured.id], date(2026, 6, 30))[secured.id].balance
    assert line.balance == expected < Decimal("200000")
    assert line.ltv == (expected / Decimal("400000")).quantize(Decimal("0.000001"))
    assert line.collateral_gep == Decimal("850000.00") and line.colour is None
    assert line.remaining_term == 31 and line.days_past_due == 0 and line.eligible
    assert cut.total_balance == sum(l.balance for l in cut.lines)
    assert cut.statistics["headline"]["count"] == 2
    assert {r["key"] for r in cut.statistics["strata"]["product"]} == {"T-LINEAR", "T-ANNUITY"}


def test_published_cut_refuses_every_change(pooled):
    pool, *_ = pooled
    cut = cuts.publish_cut(cuts.create_cut(pool, date(2026, 6, 30)))
    db.session.commit()
    with pytest.raises(Conflict):
        cuts.publish_cut(cut)
    with pytest.raises(Conflict):
        cuts.discard_cut(cut)
    cut.note = "edited"
    with pytest.raises(Conflict):
        db.session.flush()
    db.session.rollback()
    line = cut.lines[0]
    line.balance = Decimal("1")
    with pytest.raises(Conflict):
        db.session.flush()
    db.session.rollback()


def test_database_triggers_guard_published_cuts(pooled):
    pool, *_ = pooled
    cut = cuts.publish_cut(cuts.create_cut(pool, date(2026, 6, 30)))
    db.session.commit()
    for statement in (f"UPDATE pool_cut_loans SET balance = 1 WHERE cut_id = {cut.id}",
                      f"DELETE FROM pool_cut_loans WHERE cut_id = {cut.id}",
                      f"UPDATE pool_cuts SET note = 'x' WHERE id = {cut.id}",
                      f"DELETE FROM pool_cuts WHERE id = {cut.id}"):
        with pytest.raises(DatabaseError):
            with db.session.begin_nested():
                db.session.execute(text(statement))
    db.session.expire_all()
    assert db.session.get(PoolCut, cut.id).note is None
    assert db.session.scalar(select(func.count()).where(PoolCutLoan.cut_id == cut.id)) == 2


def test_correction_is_a_new_cut_referencing_the_old(pooled):
    pool, *_ = pooled
    first = cuts.publish_cut(cuts.create_cut(pool, date(2026, 6, 30)))
    db.session.commit()
    with pytest.raises(ValidationFailed):
        cuts.create_cut(pool, date(2026, 6, 30), corrects_id=first.id)  # no note
    correction = cuts.publish_cut(cuts.create_cut(pool, date(2026, 6, 30), corrects_id=first.id,
                                                          note="collateral value corrected"))
    db.session.commit()
    assert correction.corrects_id == first.id and correction.seq == 2
    assert cuts.superseded_by(first).id == correction.id


def test_discard_draft_cut(pooled):
    pool, *_ = pooled
    cut = cuts.create_cut(pool, date(2026, 6, 30))
    db.session.commit()
    cut_id = cut.id
    cuts.discard_cut(cut)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(PoolCut)) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pool_cut.discard"))
    assert event.entity_id == str(cut_id) and event.before["status"] == "draft"


def test_cut_of_an_empty_pool_or_future_date_is_refused(create_pool):
    pool = create_pool()
    with pytest.raises(ValidationFailed):
        cuts.create_cut(pool, date(2026, 6, 30))
    with pytest.raises(ValidationFailed):
        cuts.create_cut(pool, business_today() + timedelta(days=1))


def test_tape_from_cut_writes_no_data_codes(pooled):
    pool, secured, plain = pooled
    cut = cuts.publish_cut(cuts.create_cut(pool, date(2026, 6, 30)))
    rows = {r["Original Underlying Exposure Identifier"]: r for r in read_loan_tape(cuts.tape_csv(cut))}
    assert set(rows) == {secured.number, plain.number}
    unsecured = rows[plain.number]
    assert unsecured["Current Valuation Amount"] == "ND5" and unsecured["Current Loan-To-Value"] == "ND5"
    assert unsecured["Eco-Credit Rating Colour"] == "ND1"
    assert rows[secured.number]["Collateral GEP"] == "850000.00"
    assert rows[secured.number]["Data Cut-Off Date"] == "2026-06-30"
    assert rows[secured.number]["Pool Addition Date"] == "2026-03-01"
    assert rows[secured.number]["Original Obligor Identifier"].startswith("GF-O")


def test_projection_from_the_cut_returns_all_principal(pooled):
    pool, *_ = pooled
    cut = cuts.publish_cut(cuts.create_cut(pool, date(2026, 6, 30)))
    db.session.commit()
    result = projections.project(pool, {"cpr": 0, "cdr": 0, "severity": 0})
    assert result.source == "cut" and result.cut.id == cut.id
    proj = result.projection
    assert proj.scheduled_principal.sum() == pytest.approx(float(cut.total_balance), rel=1e-9)
    csv_text = projections.projection_csv(result)
    assert csv_text.splitlines()[0].startswith("month,balance_start,interest")


@pytest.mark.parametrize("data, field", [({"cpr": -0.1}, "cpr"), ({"cdr": 1.2}, "cdr"), ({"severity": "x"}, "severity"),
                                         ({"months": 0}, "months")])
def test_projection_refuses_bad_rates(pooled, data, field):
    pool, *_ = pooled
    with pytest.raises(ValidationFailed) as info:
        projections.project(pool, data)
    assert field in info.value.errors
