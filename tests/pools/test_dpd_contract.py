"""One days-past-due rule: lending's servicing and pools (through lending's ``loan_facts``) agree."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenfin.extensions import db
from greenfin.lending import servicing
from greenfin.lending.services import loan_facts
from greenfin.pools import services

START = date(2025, 1, 10)
histories = st.lists(st.tuples(st.integers(0, 420), st.sampled_from(["0.5", "1", "1.5", "3"]), st.integers(0, 40)),
                     max_size=8, unique_by=lambda event: event[0])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(product=st.sampled_from(["T-ANNUITY", "T-LINEAR", "T-BULLET"]), rate=st.sampled_from(["0", "0.06"]),
       term=st.integers(3, 12), history=histories)
def test_dpd_callers_agree_on_generated_histories(create_loan, product, rate, term, history):
    """Replay repayments in time order; after each, lending's servicing says how late the loan is
    on a later day. Read afterwards through loan_facts for that day, pools must see the same."""
    loan = create_loan(product=product, rate=rate, term=term, amount="12000", disbursed_on=START)
    seen: dict[date, int] = {}
    for offset, share, gap in sorted(history):
        day = START + timedelta(days=offset)
        open_lines = [i for i in loan.instalments if not i.settled]
        if open_lines and loan.status == "active":
            unpaid = sum((i.amount_unpaid for i in open_lines), Decimal("0"))
            amount = min(unpaid, (open_lines[0].amount_unpaid * Decimal(share)).quantize(Decimal("0.01")))
            if amount > 0:
                servicing.record_repayment(loan, amount, day)
        probe = day + timedelta(days=gap)
        if all(probe < START + timedelta(days=o) for o, _s, _g in history if START + timedelta(days=o) > day):
            seen[probe] = servicing.days_past_due(loan, probe)
    seen[START + timedelta(days=500)] = servicing.days_past_due(loan, START + timedelta(days=500))
    db.session.flush()
    for probe, expected in seen.items():
        assert loan_facts([loan.id], probe)[loan.id].days_past_due == expected, probe
        assert services.loan_facts([loan.id], probe)[loan.id].days_past_due == expected, probe
    db.session.rollback()


def test_dpd_counts_an_instalment_with_nothing_due_as_settled(create_loan):
    """An interest-free bullet loan owes nothing until maturity: never past due before it.
    (Pools' former rule, "not paid by its paid-on date", called the zero instalments unpaid.)"""
    loan = create_loan(product="T-BULLET", rate="0", term=6, amount="12000", disbursed_on=START)
    day = START + timedelta(days=100)
    assert servicing.days_past_due(loan, day) == 0
    assert loan_facts([loan.id], day)[loan.id].days_past_due == 0
    after = loan.maturity_date + timedelta(days=10)
    assert loan_facts([loan.id], after)[loan.id].days_past_due == 10 == servicing.days_past_due(loan, after)


def test_read_loan_facts_of_many_loans_in_few_queries(create_party, create_loan, pay_through):
    """loan_facts reads in bulk: loans, instalments, repayments and collateral in one query each
    (and the borrower's colour once per borrower), however many loans."""
    from sqlalchemy import event

    party = create_party()
    loans = [create_loan(party=party, disbursed_on=START) for _ in range(6)]
    for loan in loans:
        pay_through(loan, date(2025, 6, 30))
    ids = [loan.id for loan in loans]
    db.session.expire_all()
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        facts = loan_facts(ids, date(2025, 6, 30))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert set(facts) == set(ids)
    assert all(f.days_past_due == 0 and f.status == "performing" for f in facts.values())
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 5, selects  # loans (with borrower and product), instalments, repayments, pledges, colour
