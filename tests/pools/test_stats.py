"""Pool statistics and stratification against hand calculations."""
import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin.pools.stats import (
    dpd_bucket,
    ltv_band,
    pool_statistics,
    stratification_tables,
    stratify,
    term_band,
)


def test_pool_statistics_by_hand():
    stats = pool_statistics([100_000, 300_000], [0.04, 0.06], [36, 60], [24, 48], obligor=[1, 1])
    assert stats["count"] == 2
    assert stats["total_balance"] == 400_000
    assert stats["max_balance"] == 300_000 and stats["average_balance"] == 200_000
    assert stats["wa_rate"] == pytest.approx((100_000 * 0.04 + 300_000 * 0.06) / 400_000)
    assert stats["wa_original_term"] == pytest.approx(54)
    assert stats["wa_remaining_term"] == pytest.approx(42)
    assert stats["wa_seasoning"] == pytest.approx(12)
    assert stats["obligors"] == 1 and stats["largest_obligor_share"] == 1.0


def test_pool_statistics_wal_matches_the_annuity_schedule():
    b, r, n = 500_000.0, 0.05, 60
    per = np.arange(1, n + 1)
    principal = -npf.ppmt(r / 12, per, n, b)
    expected = (per * principal).sum() / principal.sum() / 12
    assert pool_statistics([b], [r], [n], [n])["wal_years"] == pytest.approx(expected, rel=1e-10)
    # Interest-only: the principal comes back at maturity.
    assert pool_statistics([b], [r], [n], [24], ["bullet"])["wal_years"] == pytest.approx(2.0)


def test_pool_statistics_of_an_empty_pool():
    stats = pool_statistics([], [], [], [])
    assert stats["count"] == 0 and stats["total_balance"] == 0 and stats["wa_rate"] is None


@pytest.mark.parametrize("value, band", [(0.0, "≤ 40%"), (0.3999, "≤ 40%"), (0.4, "40–50%"), (0.8, "> 80%"),
                                          (1.3, "> 80%"), (None, None)])
def test_ltv_band_boundaries(value, band):
    assert ltv_band(value) == band


@pytest.mark.parametrize("value, bucket", [(0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (90, "61-90"),
                                            (91, "90+"), (400, "90+"), (None, None)])
def test_dpd_bucket_boundaries(value, bucket):
    assert dpd_bucket(value) == bucket


@pytest.mark.parametrize("value, band", [(1, "≤ 12"), (12, "≤ 12"), (13, "13–24"), (60, "37–60"), (121, "> 120")])
def test_term_band_boundaries(value, band):
    assert term_band(value) == band


def test_stratify_orders_and_puts_unknown_last():
    rows = stratify(["red", None, "green", "green"], [10, 20, 30, 40], [0.05, 0.06, 0.04, 0.05],
                    order=("green", "blue", "yellow", "red"))
    assert [r["key"] for r in rows] == ["green", "red", None]
    green = rows[0]
    assert green["count"] == 2 and green["balance"] == 70 and green["balance_share"] == pytest.approx(0.7)
    assert green["wa_rate"] == pytest.approx((30 * 0.04 + 40 * 0.05) / 70)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 1e7), st.sampled_from(["a", "b", "c", None]), st.floats(0, 0.2)),
                min_size=1, max_size=60))
def test_stratify_shares_add_up(loans):
    balances = [b for b, _k, _r in loans]
    rows = stratify([k for _b, k, _r in loans], balances, [r for _b, _k, r in loans])
    assert sum(r["count"] for r in rows) == len(loans)
    assert sum(r["balance"] for r in rows) == pytest.approx(sum(balances))
    assert sum(r["balance_share"] for r in rows) == pytest.approx(1.0)
    assert sum(r["count_share"] for r in rows) == pytest.approx(1.0)


def test_stratification_tables_cover_every_dimension():
    records = [
        {"balance": 100, "rate": 0.05, "remaining_term": 10, "product": "orchard", "township": "danan",
         "colour": "green", "ltv": 0.45, "dpd": 0},
        {"balance": 300, "rate": 0.06, "remaining_term": 40, "product": "forest", "township": "hujiao",
         "colour": None, "ltv": None, "dpd": 45},
    ]
    tables = stratification_tables(records)
    assert set(tables) == {"product", "township", "colour", "ltv", "dpd", "remaining_term"}
    assert [r["key"] for r in tables["ltv"]] == ["40–50%", None]
    assert [r["key"] for r in tables["dpd"]] == ["current", "31-60"]
    assert [r["key"] for r in tables["remaining_term"]] == ["≤ 12", "37–60"]
    assert [r["key"] for r in tables["product"]] == ["forest", "orchard"]  # by balance
