"""Schedules agree with numpy-financial; invariants hold for every method; allocation order."""
from datetime import date
from decimal import Decimal

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin.lending.schedule import Due, add_months, allocate, bucket_for, build_schedule


@pytest.mark.parametrize("amount,rate,n", [(100000, "0.0435", 12), (250000, "0.06", 36), (1234567.89, "0.0399", 60),
                                           (50000, "0", 6)])
def test_build_schedule_annuity_agrees_with_numpy_financial(amount, rate, n):
    lines = build_schedule(Decimal(str(amount)), Decimal(rate), n, "annuity", date(2026, 1, 15))
    r = float(rate) / 12
    pmt = -npf.pmt(r, n, amount) if r else amount / n
    assert abs(float(lines[0].total) - pmt) <= 0.005 + 1e-9
    with np.errstate(invalid="ignore", divide="ignore"):  # at rate 0 npf computes (and discards) x / 0
        for line in lines[:-1]:
            assert abs(float(line.interest) - -npf.ipmt(r, line.seq, n, amount)) <= 0.011
            assert abs(float(line.principal) - -npf.ppmt(r, line.seq, n, amount)) <= 0.011 * line.seq
    assert abs(float(lines[-1].total) - pmt) <= 0.01 * n
    assert sum(l.principal for l in lines) == Decimal(str(amount)).quantize(Decimal("0.01"))


@settings(max_examples=150, deadline=None)
@given(amount=st.decimals(min_value=Decimal("1000"), max_value=Decimal("5000000"), places=2),
       rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.24"), places=4),
       term=st.integers(min_value=1, max_value=84),
       method=st.sampled_from(["annuity", "equal_principal", "interest_only", "seasonal"]),
       day=st.integers(min_value=1, max_value=31))
def test_build_schedule_invariants(amount, rate, term, method, day):
    start = date(2026, 1, day)
    lines = build_schedule(amount, rate, term, method, start, harvest_months=[10, 11])
    assert sum(l.principal for l in lines) == amount
    for line in lines:
        assert line.principal >= 0 and line.interest >= 0
        assert line.closing_balance >= 0
        assert line.principal == line.principal.quantize(Decimal("0.01"))
        assert line.interest == line.interest.quantize(Decimal("0.01"))
    assert lines[-1].closing_balance == 0
    assert lines[-1].due_date == add_months(start, term)
    assert [l.due_date for l in lines] == sorted(l.due_date for l in lines)


def test_build_schedule_seasonal_falls_in_harvest_months():
    lines = build_schedule(Decimal("120000"), Decimal("0.05"), 24, "seasonal", date(2026, 3, 10), harvest_months=[10, 11])
    assert {l.due_date.month for l in lines[:-1]} <= {10, 11}
    assert lines[-1].due_date == date(2028, 3, 10)
    # interest covers the months since the previous instalment
    assert lines[0].interest == (Decimal("120000") * Decimal("0.05") / 12 * 7).quantize(Decimal("0.01"))


def test_build_schedule_rejects_bad_input():
    with pytest.raises(ValueError):
        build_schedule(Decimal("0"), Decimal("0.05"), 12, "annuity", date(2026, 1, 1))
    with pytest.raises(ValueError):
        build_schedule(Decimal("100"), Decimal("0.05"), 12, "bullet", date(2026, 1, 1))


dues_strategy = st.lists(st.tuples(st.decimals(min_value=0, max_value=50, places=2),
                                   st.decimals(min_value=0, max_value=500, places=2),
                                   st.decimals(min_value=0, max_value=5000, places=2)), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(parts=dues_strategy, share=st.floats(min_value=0.01, max_value=1.0), as_of_seq=st.integers(0, 8))
def test_allocate_fees_then_interest_then_principal(parts, share, as_of_seq):
    dues = [Due(i + 1, date(2026, i + 1, 1), f, it, p) for i, (f, it, p) in enumerate(parts)]
    owed = sum(f + i + p for f, i, p in parts)
    amount = (owed * Decimal(str(share))).quantize(Decimal("0.01"))
    if amount <= 0:
        return
    as_of = date(2026, as_of_seq, 1) if as_of_seq else date(2025, 12, 1)
    result = allocate(amount, dues, as_of)
    assert result.total == amount
    due_now = [d for d in dues if d.due_date <= as_of]
    for line in result.lines.values():
        assert all(v >= 0 for v in line.values())
    for d in dues:
        got = result.lines.get(d.seq, {"fee": 0, "interest": 0, "principal": 0})
        assert got["fee"] <= d.fee and got["interest"] <= d.interest and got["principal"] <= d.principal
    # No principal of a due instalment is paid while interest or fees of due instalments are unpaid.
    if any(result.lines.get(d.seq, {}).get("principal", 0) > 0 for d in due_now):
        assert result.fee == sum(d.fee for d in due_now) + sum(
            result.lines.get(d.seq, {}).get("fee", 0) for d in dues if d not in due_now)
        assert all(result.lines[d.seq]["interest"] == d.interest for d in due_now if d.interest > 0)


def test_allocate_refuses_more_than_owed():
    with pytest.raises(ValueError):
        allocate(Decimal("101"), [Due(1, date(2026, 1, 1), Decimal("0"), Decimal("1"), Decimal("99"))], date(2026, 2, 1))


@pytest.mark.parametrize("dpd,bucket", [(0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (61, "61-90"),
                                        (90, "61-90"), (91, "90+")])
def test_bucket_for_boundaries(dpd, bucket):
    assert bucket_for(dpd) == bucket
