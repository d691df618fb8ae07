"""The loan-level projection against independent calculations."""
import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin.pools.cashflow import AssumptionError, loan_arrays, monthly_rate, project_pool


def test_project_annuity_without_cpr_cdr_equals_numpy_financial_schedule():
    balances, rates, terms = [100_000.0, 250_000.0, 80_000.0], [0.0435, 0.06, 0.0], [36, 60, 24]
    loans = loan_arrays(balances, rates, terms, "annuity")
    proj = project_pool(loans, 60, loan_level=True)
    for j, (b, r, n) in enumerate(zip(balances, rates, terms)):
        per = np.arange(1, n + 1)
        if r > 0:
            interest = -npf.ipmt(r / 12, per, n, b)
            principal = -npf.ppmt(r / 12, per, n, b)
        else:
            interest, principal = np.zeros(n), np.full(n, b / n)
        np.testing.assert_allclose(proj.loan_level["interest"][:n, j], interest, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(proj.loan_level["scheduled_principal"][:n, j], principal, rtol=1e-9, atol=1e-6)
        assert proj.loan_level["balance_end"][n - 1, j] == pytest.approx(0, abs=1e-6)
        assert proj.loan_level["interest"][n:, j].sum() == 0
        # The level payment is the numpy-financial payment.
        payment = proj.loan_level["interest"][:n, j] + proj.loan_level["scheduled_principal"][:n, j]
        np.testing.assert_allclose(payment, -npf.pmt(r / 12, n, b) if r else b / n, rtol=1e-9)


def test_project_linear_and_bullet_schedules():
    loans = loan_arrays([120_000.0, 50_000.0], [0.05, 0.048], [12, 6], ["linear", "bullet"])
    proj = project_pool(loans, 12, loan_level=True)
    # 等额本金: equal principal, interest on the declining balance.
    opening = 120_000.0 - 10_000.0 * np.arange(12)
    np.testing.assert_allclose(proj.loan_level["scheduled_principal"][:, 0], 10_000.0)
    np.testing.assert_allclose(proj.loan_level["interest"][:, 0], opening * 0.05 / 12)
    # 按月付息到期还本: interest only, then the whole principal in the last month.
    np.testing.assert_allclose(proj.loan_level["interest"][:6, 1], 50_000.0 * 0.048 / 12)
    np.testing.assert_allclose(proj.loan_level["scheduled_principal"][:6, 1], [0, 0, 0, 0, 0, 50_000.0])
    assert proj.loan_level["balance_end"][5:, 1].sum() == 0


def test_project_pool_totals_are_sums_of_loans():
    rng = np.random.default_rng(7)
    loans = loan_arrays(rng.uniform(1e4, 5e5, 200), rng.uniform(0.02, 0.09, 200), rng.integers(3, 120, 200),
                        rng.integers(0, 3, 200))
    proj = project_pool(loans, 120, cpr=0.08, cdr=0.03, severity=0.35, recovery_lag=4, loan_level=True)
    for key in ("interest", "scheduled_principal", "prepayment", "default", "balance_end"):
        np.testing.assert_allclose(getattr(proj, key), proj.loan_level[key].sum(axis=1), rtol=1e-10, atol=1e-6)


def test_project_prepayment_and_default_scale_the_schedule():
    """Proportional prepayments and defaults leave an annuity's amortisation shape intact."""
    b, r, n, cpr, cdr = 300_000.0, 0.055, 48, 0.10, 0.04
    loans = loan_arrays([b], [r], [n])
    proj = project_pool(loans, n, cpr=cpr, cdr=cdr)
    smm, mdr = 1 - (1 - cpr) ** (1 / 12), 1 - (1 - cdr) ** (1 / 12)
    per = np.arange(1, n + 1)
    scheduled_balance = -npf.fv(r / 12, per, npf.pmt(r / 12, n, b), b)
    survival = ((1 - smm) * (1 - mdr)) ** per
    np.testing.assert_allclose(proj.balance_end, scheduled_balance * survival, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(proj.default, proj.balance_start * mdr, rtol=1e-12)


def test_project_monthly_vectors_change_rates_by_month():
    loans = loan_arrays([100_000.0], [0.0], [10], "bullet")
    cpr = [0.0, 0.5, 0.0]  # extended with its last value
    proj = project_pool(loans, 10, cpr=cpr)
    assert proj.prepayment[0] == 0
    assert proj.prepayment[1] == pytest.approx(100_000.0 * monthly_rate(np.array(0.5)))
    assert proj.prepayment[2:9].sum() == 0
    assert proj.scheduled_principal[9] == pytest.approx(proj.balance_start[9])


def test_project_recoveries_arrive_after_the_lag():
    loans = loan_arrays([1_000_000.0], [0.06], [24])
    proj = project_pool(loans, 30, cdr=0.2, severity=0.4, recovery_lag=[3, 3, 3, 3, 3, 5])
    np.testing.assert_allclose(proj.recovery[3:8], proj.default[0:5] * 0.6)
    np.testing.assert_allclose(proj.loss[3:8], proj.default[0:5] * 0.4)
    assert proj.recovery[:3].sum() == 0
    np.testing.assert_allclose(proj.recovery[10], proj.default[5] * 0.6)
    assert proj.pending_end[-1] == pytest.approx(0, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 30), months=st.integers(1, 80), seed=st.integers(0, 10_000),
    cpr=st.floats(0, 0.5), cdr=st.floats(0, 0.5), severity=st.floats(0, 1), lag=st.integers(0, 12),
)
def test_project_conserves_principal(n, months, seed, cpr, cdr, severity, lag):
    rng = np.random.default_rng(seed)
    loans = loan_arrays(rng.uniform(0, 1e6, n), rng.uniform(0, 0.2, n), rng.integers(1, 90, n), rng.integers(0, 3, n))
    proj = project_pool(loans, months, cpr=cpr, cdr=cdr, severity=severity, recovery_lag=lag)
    opening = loans.balance.sum()
    paid = proj.scheduled_principal.sum() + proj.prepayment.sum() + proj.default.sum()
    assert paid + proj.balance_end[-1] == pytest.approx(opening, rel=1e-9, abs=1e-4)
    liquidated = proj.recovery.sum() + proj.loss.sum()
    assert liquidated + proj.pending_end[-1] == pytest.approx(proj.default.sum(), rel=1e-9, abs=1e-4)
    assert np.all(proj.balance_end >= -1e-6) and np.all(proj.interest >= 0)
    assert np.all(np.diff(np.concatenate([[opening], proj.balance_end])) <= 1e-6)


@pytest.mark.parametrize("kwargs, field", [
    ({"cpr": -0.1}, "cpr"), ({"cdr": 1.2}, "cdr"), ({"severity": 1.5}, "severity"),
    ({"recovery_lag": 1.5}, "recovery_lag"), ({"months": 0}, "months"), ({"cpr": [0.1, float("nan")]}, "cpr"),
])
def test_project_refuses_bad_assumptions(kwargs, field):
    loans = loan_arrays([1000.0], [0.05], [12])
    with pytest.raises(AssumptionError) as info:
        project_pool(loans, **({"months": 12} | kwargs))
    assert info.value.field == field


@pytest.mark.parametrize("args, field", [
    (([1000.0], [-0.01], [12]), "rate"), (([1000.0], [1.01], [12]), "rate"), (([-5.0], [0.05], [12]), "balance"),
    (([1000.0], [0.05], [0]), "remaining_term"), (([1000.0], [0.05], [12.5]), "remaining_term"),
    (([1000.0, 5.0], [0.05], [12]), "rate"),
])
def test_loan_arrays_refuses_bad_loans(args, field):
    with pytest.raises(AssumptionError) as info:
        loan_arrays(*args)
    assert info.value.field == field


def test_loan_arrays_refuses_unknown_amortisation():
    with pytest.raises(AssumptionError, match="amortisation"):
        loan_arrays([1000.0], [0.05], [12], "balloon")


@pytest.mark.parametrize("method, kind", [("annuity", "annuity"), ("equal_principal", "linear"), ("interest_only", "bullet")])
def test_project_matches_the_lending_schedule(method, kind):
    """The engine against the lending package's own Decimal schedule (rounded to the cent)."""
    from datetime import date
    from decimal import Decimal

    from greenfin.lending.schedule import build_schedule

    amount, rate, n = Decimal("386500"), Decimal("0.0435"), 36
    lines = build_schedule(amount, rate, n, method, date(2026, 1, 15))
    proj = project_pool(loan_arrays([float(amount)], [float(rate)], [n], kind), n, loan_level=True)
    np.testing.assert_allclose(proj.loan_level["scheduled_principal"][:, 0], [float(l.principal) for l in lines],
                               atol=0.02 * n)
    np.testing.assert_allclose(proj.loan_level["interest"][:, 0], [float(l.interest) for l in lines], atol=0.02 * n)
    assert proj.scheduled_principal.sum() == pytest.approx(float(amount))
