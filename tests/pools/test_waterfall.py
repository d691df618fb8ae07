"""The tranche waterfall: cash conservation, bottom-up losses, triggers, clean-up call, yields."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin.pools.cashflow import AssumptionError, loan_arrays, project_pool
from greenfin.pools.waterfall import Structure, Tranche, run_waterfall, standard_structure


def pool(n=50, seed=1, rate=(0.04, 0.08), term=(12, 60)):
    rng = np.random.default_rng(seed)
    return loan_arrays(rng.uniform(5e4, 5e5, n), rng.uniform(*rate, n), rng.integers(*term, n), rng.integers(0, 3, n))


def paid_out(result, t):
    tranches = sum(tr.interest[t] + tr.principal[t] + tr.residual[t] for tr in result.tranches)
    return result.fees[t] + tranches + result.residual_to_originator[t] + result.reserve_end[t] - result.reserve_start[t]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000), cpr=st.floats(0, 0.4), cdr=st.floats(0, 0.6), severity=st.floats(0, 1),
    lag=st.integers(0, 9), mode=st.sampled_from(["sequential", "pro_rata"]),
    shares=st.tuples(st.floats(0.3, 0.85), st.floats(0.01, 0.14), st.floats(0.0, 0.1)),
    fee=st.floats(0, 0.02), reserve=st.floats(0, 0.03), call=st.sampled_from([0.0, 0.1]),
    oc=st.one_of(st.none(), st.floats(1.0, 1.3)), ic=st.one_of(st.none(), st.floats(1.0, 2.0)),
)
def test_waterfall_conserves_cash_and_writes_down_bottom_up(seed, cpr, cdr, severity, lag, mode, shares, fee,
                                                            reserve, call, oc, ic):
    loans = pool(seed=seed)
    proj = project_pool(loans, cpr=cpr, cdr=cdr, severity=severity, recovery_lag=lag)
    c0 = proj.opening_balance
    subordinated = max(0.0, min(shares[2], 0.999 - shares[0] - shares[1]))
    structure = standard_structure(c0, senior=shares[0], mezzanine=shares[1], subordinated=subordinated,
                                   principal_mode=mode, servicer_fee=fee, fixed_fees=50.0,
                                   reserve_initial=reserve * c0, reserve_target=reserve, cleanup_call=call,
                                   oc_trigger=oc, ic_trigger=ic)
    result = run_waterfall(proj, structure)
    for t in range(result.months):
        # collections = fees + interest + principal + residual + reserve change
        assert result.collections[t] == pytest.approx(paid_out(result, t), rel=1e-9, abs=1e-4)
        # A tranche is written down only when every tranche below it is gone.
        for i, tr in enumerate(result.tranches):
            if tr.writedown[t] > 1e-6:
                assert all(lower.balance_end[t] == 0 for lower in result.tranches[i + 1:])
    for tr in result.tranches:
        assert tr.principal.sum() + tr.losses + tr.balance_end[-1] == pytest.approx(tr.original_balance, rel=1e-9)
        assert np.all(tr.interest >= 0) and np.all(tr.principal >= -1e-9)
    # Notes never exceed the collateral after a month's payments.
    notes = sum(tr.balance_end for tr in result.tranches)
    assert np.all(notes <= result.collateral_end + 1e-4)


def test_waterfall_without_losses_repays_everything_sequentially():
    proj = project_pool(pool(), cpr=0.05)
    structure = standard_structure(proj.opening_balance, cleanup_call=0.0)
    result = run_waterfall(proj, structure)
    senior, mezz, sub = result.tranches
    for tr in result.tranches:
        assert tr.losses == 0
        assert tr.principal.sum() == pytest.approx(tr.original_balance)
    # Sequential: the mezzanine gets no principal before the senior is repaid.
    last_senior = np.nonzero(senior.principal > 0)[0][-1]
    first_mezz = np.nonzero(mezz.principal > 0)[0][0]
    assert first_mezz >= last_senior
    assert senior.balance_end[first_mezz - 1] == 0 or first_mezz == last_senior


def test_waterfall_par_tranche_yields_its_coupon():
    proj = project_pool(pool(rate=(0.07, 0.09)), cpr=0.1)
    structure = standard_structure(proj.opening_balance, senior_coupon=0.03, mezzanine_coupon=0.045)
    result = run_waterfall(proj, structure)
    assert result.tranche("A").irr == pytest.approx((1 + 0.03 / 12) ** 12 - 1, abs=1e-7)
    assert result.tranche("B").irr == pytest.approx((1 + 0.045 / 12) ** 12 - 1, abs=1e-7)
    # WAL: principal-weighted average month, in years.
    a = result.tranche("A")
    months = np.arange(1, a.principal.size + 1)
    assert a.wal_years == pytest.approx((months * a.principal).sum() / a.principal.sum() / 12)


def test_waterfall_losses_hit_the_subordinated_tranche_first():
    proj = project_pool(pool(rate=(0.03, 0.035)), cdr=0.25, severity=0.8, recovery_lag=3)
    structure = standard_structure(proj.opening_balance, senior=0.7, mezzanine=0.15, subordinated=0.1,
                                   servicer_fee=0.01, cleanup_call=0.0)
    result = run_waterfall(proj, structure)
    senior, mezz, sub = result.tranches
    assert sub.losses == pytest.approx(sub.original_balance - sub.principal.sum())
    assert sub.losses > 0
    first_sub = np.nonzero(sub.writedown > 0)[0][0]
    mezz_cuts = np.nonzero(mezz.writedown > 0)[0]
    if mezz_cuts.size:
        assert mezz_cuts[0] >= first_sub and sub.balance_end[mezz_cuts[0]] == 0
    assert senior.losses <= mezz.losses + 1e-6 or mezz.balance_end[-1] == 0


def test_waterfall_trigger_switches_pro_rata_to_sequential():
    proj = project_pool(pool(n=80, rate=(0.05, 0.06)), cdr=[0.0] * 6 + [0.5] * 12 + [0.0], severity=0.6)
    structure = standard_structure(proj.opening_balance, senior=0.8, mezzanine=0.1, subordinated=0.05,
                                   principal_mode="pro_rata", oc_trigger=1.08, cleanup_call=0.0)
    result = run_waterfall(proj, structure)
    senior, mezz, sub = result.tranches
    assert not result.trigger_breached[0] and result.trigger_breached.any()
    hit = int(np.argmax(result.trigger_breached))
    # Before the breach all three tranches amortise in proportion to their balances.
    assert mezz.principal[0] / senior.principal[0] == pytest.approx(structure.tranches[1].balance / structure.tranches[0].balance)
    assert sub.principal[: hit].sum() > 0
    # From the breach on, principal is sequential (and the breach is sticky).
    assert result.trigger_breached[hit:].all() and result.sequential[hit:].all()
    for t in range(hit, result.months):
        if mezz.principal[t] > 1e-6 or sub.principal[t] > 1e-6:
            assert senior.balance_end[t] == 0


def test_waterfall_cleanup_call_ends_the_deal():
    proj = project_pool(pool(n=40), cpr=0.1)
    structure = standard_structure(proj.opening_balance, cleanup_call=0.1)
    result = run_waterfall(proj, structure)
    expected = int(np.argmax(proj.collateral_end <= 0.1 * proj.opening_balance)) + 1
    assert result.call_month == expected and result.months == expected
    assert result.call_proceeds[-1] == pytest.approx(proj.balance_end[expected - 1])
    assert all(tr.balance_end[-1] == 0 for tr in result.tranches)


def row_paid_out(row: dict, names) -> float:
    return (row["fees"] + sum(row[f"{n}_interest"] + row[f"{n}_principal"] for n in names)
            + row["reserve_change"] + row["residual"])


@pytest.mark.parametrize("subordinated", [0.08, 0.0])
def test_waterfall_rows_reconcile_every_month(subordinated):
    """Each row: collections (call proceeds included) = fees + interest + principal + reserve change + residual."""
    proj = project_pool(pool(n=40, seed=7), cpr=0.08, cdr=0.05, severity=0.4, recovery_lag=3)
    structure = standard_structure(proj.opening_balance, subordinated=subordinated, fixed_fees=30.0,
                                   reserve_initial=0.01 * proj.opening_balance, reserve_target=0.015, cleanup_call=0.1)
    result = run_waterfall(proj, structure)
    rows = result.rows()
    names = [t.name for t in result.tranches]
    assert len(rows) == result.months and result.call_month == rows[-1]["month"]
    assert rows[-1]["call_proceeds"] > 0 and all(r["call_proceeds"] == 0 for r in rows[:-1])
    assert any(r["reserve_change"] > 0 for r in rows) and any(r["reserve_change"] < 0 for r in rows)
    assert sum(r["residual"] for r in rows) > 0
    for row in rows:
        assert abs(row["collections"] - row_paid_out(row, names)) < 0.005, row["month"]
    # The residual goes to the subordinated tranche, or to the originator without one.
    expected = result.tranche("C").residual if subordinated else result.residual_to_originator
    assert [r["residual"] for r in rows] == pytest.approx(list(expected))


def test_waterfall_reserve_pays_senior_interest_shortfall():
    loans = loan_arrays([1_000_000.0], [0.0], [12], "bullet")  # no interest at all
    proj = project_pool(loans)
    structure = Structure((Tranche("A", "senior", 900_000.0, 0.04),), servicer_fee=0.0,
                          reserve_initial=50_000.0, reserve_target=0.06, cleanup_call=0.0)
    result = run_waterfall(proj, structure)
    assert result.tranche("A").interest[0] == pytest.approx(3_000.0)
    assert result.reserve_end[0] == pytest.approx(47_000.0)


@pytest.mark.parametrize("tranches, field", [
    ((Tranche("A", "senior", -1.0, 0.03),), "tranches"),
    ((Tranche("A", "senior", 100.0, 1.5),), "tranches"),
    ((Tranche("A", "senior", 100.0, -0.01),), "tranches"),
    ((Tranche("C", "subordinated", 100.0, 0.0), Tranche("A", "senior", 100.0, 0.03)), "tranches"),
    ((Tranche("A", "senior", 5e9, 0.03),), "tranches"),
])
def test_waterfall_refuses_bad_structures(tranches, field):
    proj = project_pool(pool(n=5))
    with pytest.raises(AssumptionError) as info:
        run_waterfall(proj, Structure(tranches))
    assert info.value.field == field


def test_waterfall_ic_trigger_breaches_when_interest_is_thin():
    proj = project_pool(pool(rate=(0.02, 0.021)), cpr=0.05)
    structure = standard_structure(proj.opening_balance, senior_coupon=0.035, mezzanine_coupon=0.05,
                                   principal_mode="pro_rata", ic_trigger=1.0, cleanup_call=0.0)
    result = run_waterfall(proj, structure)
    assert result.ic_ratio[0] < 1.0 and result.trigger_breached[0] and result.sequential.all()
    # Interest collected falls short of the coupons: principal collections pay interest, so notes
    # are written down although the pool lost nothing.
    assert proj.loss.sum() == 0
    assert sum(t.losses for t in result.tranches) > 0
