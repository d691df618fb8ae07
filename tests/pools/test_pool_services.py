"""Pools, eligibility and audited membership: clear refusals, nothing stored on bad input."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from greenfin.dates import today as business_today
from greenfin.core.models import AuditEvent
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.pools import services
from greenfin.pools.services import membership
from greenfin.pools.models import Pool, PoolMembership


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_pool_stores_defaults_and_audits(create_pool):
    pool = create_pool()
    assert pool.criteria["performing"] is True and pool.structure["tranches"][0]["kind"] == "senior"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pool.create"))
    assert event.entity_id == str(pool.id)


@pytest.mark.parametrize("criteria, structure, field", [
    ({"max_obligor_share": "-0.1"}, None, "criteria.max_obligor_share"),
    ({"max_township_share": "1.5"}, None, "criteria.max_township_share"),
    ({"min_colour": "purple"}, None, "criteria.min_colour"),
    ({"min_remaining_term": 50, "max_remaining_term": 10}, None, "criteria.max_remaining_term"),
    (None, {"servicer_fee": "-0.01"}, "structure.servicer_fee"),
    (None, {"tranches": [{"name": "A", "kind": "senior", "share": "0.9", "coupon": "1.2"}]}, "structure.tranches.0.coupon"),
    (None, {"tranches": [{"name": "A", "kind": "senior", "share": "0.9", "coupon": "0.03"},
                         {"name": "B", "kind": "mezzanine", "share": "0.2", "coupon": "0.04"}]}, "structure.tranches"),
])
def test_create_pool_refuses_bad_numbers(create_party, criteria, structure, field):
    bank = create_party()
    with pytest.raises(ValidationFailed) as info:
        services.create_pool({"code": "BAD", "name": "x", "originator_id": bank.id, "criteria": criteria,
                              "structure": structure})
    assert field in info.value.errors
    db.session.rollback()
    assert count(Pool) == 0


def test_add_loans_adds_eligible_loans_and_audits(create_pool, create_loan, pay_through):
    pool = create_pool()
    loans = [create_loan(disbursed_on=date(2026, 1, 5)) for _ in range(3)]
    for loan in loans:
        pay_through(loan, business_today())
    created = services.add_loans(pool, [l.id for l in loans], "first batch")
    db.session.commit()
    assert [m.loan_id for m in created] == [l.id for l in loans]
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "pool.add_loan")) == 3


def test_add_unknown_loan_is_not_found_and_stores_nothing(create_pool, create_loan):
    pool = create_pool()
    good = create_loan(disbursed_on=business_today() - timedelta(days=10))
    with pytest.raises(NotFound):
        services.add_loans(pool, [good.id, 999999])
    db.session.rollback()
    assert count(PoolMembership) == 0


def test_loan_in_two_pools_is_refused(create_pool, create_loan):
    first, second = create_pool(), create_pool()
    loan = create_loan(disbursed_on=business_today() - timedelta(days=10))
    services.add_loans(first, [loan.id])
    db.session.commit()
    with pytest.raises(Conflict) as info:
        services.add_loans(second, [loan.id])
    assert f"already in pool {first.code}" in str(info.value.errors)
    db.session.rollback()
    assert count(PoolMembership) == 1


def test_database_refuses_a_second_live_membership(create_pool, create_loan):
    first, second = create_pool(), create_pool()
    loan = create_loan(disbursed_on=business_today() - timedelta(days=10))
    services.add_loans(first, [loan.id])
    db.session.commit()
    db.session.add(PoolMembership(pool_id=second.id, loan_id=loan.id, added_on=business_today()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_ineligible_loan_forced_in_is_refused_with_reasons(create_pool, create_loan):
    pool = create_pool()
    good = create_loan(disbursed_on=business_today() - timedelta(days=10))
    late = create_loan(disbursed_on=date(2025, 6, 1))          # nothing ever paid: days past due
    brown = create_loan(disbursed_on=business_today() - timedelta(days=10), green_category="")
    with pytest.raises(ValidationFailed) as info:
        services.add_loans(pool, [good.id, late.id, brown.id])
    errors = info.value.errors
    assert set(errors) == {f"loan {late.number}", f"loan {brown.number}"}
    assert any("days past due" in m for m in errors[f"loan {late.number}"])
    assert errors[f"loan {brown.number}"] == ["use of proceeds is not green-tagged"]
    db.session.rollback()
    assert count(PoolMembership) == 0  # all or nothing: the good loan is not added either


def test_remaining_term_and_colour_criteria(create_pool, create_loan):
    pool = create_pool(criteria={"min_remaining_term": 30, "min_colour": "blue", "max_obligor_share": None,
                                 "max_township_share": None})
    loan = create_loan(term=24, disbursed_on=business_today() - timedelta(days=5))
    result = services.evaluate(pool, [loan.id])[loan.id]
    codes = [r["code"] for r in result["reasons"]]
    assert "term_short" in codes and "unrated" in codes


def test_obligor_concentration_limit(create_pool, create_loan, create_party):
    pool = create_pool(criteria={"max_obligor_share": "0.5", "max_township_share": None})
    big = create_party()
    a = create_loan(party=big, amount="300000", disbursed_on=business_today() - timedelta(days=5))
    b = create_loan(amount="100000", disbursed_on=business_today() - timedelta(days=5))
    with pytest.raises(ValidationFailed) as info:
        services.add_loans(pool, [a.id, b.id])
    assert list(info.value.errors) == [f"loan {a.number}"]
    assert "75.0%" in info.value.errors[f"loan {a.number}"][0]


def test_remove_needs_a_reason_and_is_audited(create_pool, create_loan):
    pool = create_pool()
    loan = create_loan(disbursed_on=business_today() - timedelta(days=5))
    services.add_loans(pool, [loan.id])
    db.session.commit()
    with pytest.raises(ValidationFailed):
        services.remove_loan(pool, loan.id, "  ")
    m = services.remove_loan(pool, loan.id, "repurchased by the originator")
    db.session.commit()
    assert m.removed_on == business_today()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pool.remove_loan"))
    assert event.after["removal_reason"] == "repurchased by the originator"
    # Out of the pool, the loan may join another one.
    other = create_pool()
    services.add_loans(other, [loan.id])


def test_substitute_swaps_and_links(create_pool, create_loan):
    pool = create_pool()
    out = create_loan(disbursed_on=business_today() - timedelta(days=5))
    new = create_loan(disbursed_on=business_today() - timedelta(days=5))
    services.add_loans(pool, [out.id])
    db.session.commit()
    membership = services.substitute_loan(pool, out.id, new.id, "prepaid in full")
    db.session.commit()
    old = db.session.scalar(select(PoolMembership).where(PoolMembership.loan_id == out.id))
    assert old.removed_on is not None and old.substituted_by_id == membership.id
    assert [m.loan_id for m in services.live_memberships(pool)] == [new.id]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pool.substitute_loan")) is not None


def test_substitute_with_ineligible_loan_changes_nothing(create_pool, create_loan):
    pool = create_pool()
    out = create_loan(disbursed_on=business_today() - timedelta(days=5))
    late = create_loan(disbursed_on=date(2025, 3, 1))
    services.add_loans(pool, [out.id])
    db.session.commit()
    with pytest.raises(ValidationFailed):
        services.substitute_loan(pool, out.id, late.id, "swap")
    db.session.rollback()
    assert [m.loan_id for m in services.live_memberships(pool)] == [out.id]
    assert db.session.scalar(select(PoolMembership).where(PoolMembership.loan_id == out.id)).removed_on is None


def test_candidates_list_reasons(create_pool, create_loan):
    pool = create_pool()
    ok = create_loan(disbursed_on=business_today() - timedelta(days=5))
    late = create_loan(disbursed_on=date(2025, 3, 1))
    found = {c["record"]["loan_id"]: c["reasons"] for c in services.candidates(pool)}
    assert found[ok.id] == [] and found[late.id]


def test_loan_record_as_of_a_past_date(create_loan, pay_through):
    loan = create_loan(amount="120000", rate="0.06", term=12, disbursed_on=date(2025, 1, 10))
    pay_through(loan, date(2025, 6, 30))
    record = services.loan_record(services.loan_facts([loan.id], date(2025, 6, 30))[loan.id])
    paid = sum(i.principal_due for i in loan.instalments if i.due_date <= date(2025, 6, 30))
    assert record["balance"] == Decimal("120000") - paid
    assert record["days_past_due"] == 0 and record["remaining_term"] == 7
    # A month later, the July instalment is unpaid: 31 days past due on 10 August... as of 2025-08-10: 31.
    assert services.loan_facts([loan.id], date(2025, 8, 10))[loan.id].days_past_due == 31


def test_seed_demo_builds_a_pool_with_a_cut_and_reports(create_party, create_loan, pay_through):
    from greenfin.pools.seed import seed_demo

    create_party(name="上饶农村商业银行测试支行", sector="banking")
    # (thousand CNY, township): the demo book's shape. Together these ten keep the largest obligor
    # at 22% and Danan at 29% (limits 25% and 40%), though adding them one by one, in either
    # order of size, soon breaks a limit.
    book = [(600, "danan"), (600, "hujiao"), (550, "wucun"), (450, "tongboshan"), (180, "paishan"),
            (130, "danan"), (45, "hengshan"), (45, "dashi"), (42, "hujiao"), (34, "danan")]
    loans = [create_loan(party=create_party(township_code=t), disbursed_on=date(2026, 1, 10), amount=str(k * 1000))
             for k, t in book]
    too_big = create_loan(party=create_party(township_code="danan"), disbursed_on=date(2026, 1, 10), amount="900000")
    for loan in loans + [too_big]:
        pay_through(loan, business_today())
    result = seed_demo(None, {})
    db.session.commit()
    pool, cut = result["pool"], result["cut"]
    assert cut.published and cut.as_of == date(2026, 5, 31) and cut.loan_count == len(services.live_memberships(pool))
    months = [r.month for r in result["reports"]]
    assert months[0] == "2026-06" and months == sorted(months) and len(months) >= 5
    members = {m.loan_id for m in services.live_memberships(pool)}
    assert members == {l.id for l in loans} and cut.loan_count == 10 and all(line.eligible for line in cut.lines)
    headline = cut.statistics["headline"]
    assert 0.22 < headline["largest_obligor_share"] <= float(pool.criteria["max_obligor_share"])
    assert max(r["balance_share"] for r in cut.statistics["strata"]["township"]) <= float(pool.criteria["max_township_share"])
    assert all(r.figures["loan_count_end"] == 10 for r in result["reports"][:3])


def test_update_pool_refuses_bad_criteria_and_keeps_the_old(create_pool):
    pool = create_pool()
    before = dict(pool.criteria)
    with pytest.raises(ValidationFailed):
        services.update_pool(pool, {"criteria": {"max_township_share": "-1"}})
    db.session.rollback()
    assert db.session.get(Pool, pool.id).criteria == before
    services.update_pool(pool, {"criteria": {"min_colour": "green"}, "name": "新名称"})
    db.session.commit()
    assert pool.criteria["min_colour"] == "green" and pool.name == "新名称"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pool.update"))
    assert event.before["criteria"]["min_colour"] is None


def test_race_for_the_same_loan_ends_in_conflict(create_pool, create_loan, monkeypatch):
    """Two requests that both passed the membership check: the unique index decides, cleanly."""
    first, second = create_pool(), create_pool()
    loan = create_loan(disbursed_on=business_today() - timedelta(days=5))
    services.add_loans(first, [loan.id])
    db.session.commit()
    monkeypatch.setattr(membership, "_refuse_pooled", lambda *args: None)  # the other request's view of the world
    monkeypatch.setattr(membership, "evaluate", lambda pool, ids, as_of=None, without=(): {
        i: {"record": {}, "reasons": []} for i in ids})
    with pytest.raises(Conflict):
        services.add_loans(second, [loan.id])
    db.session.rollback()
    assert [m.pool_id for m in db.session.scalars(select(PoolMembership))] == [first.id]
