"""The index rules: payout tiers at their edges, monotone payouts (Hypothesis), spells, stations, backtest."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin.insurance import rules

FROST = rules.Terms("frost", D("-3"), D("-7"), "tiers", ((D("-3"), D("0.30")), (D("-5"), D("0.60")), (D("-7"), D("1"))))
LINEAR_FROST = rules.Terms("frost", D("-1"), D("-5"), "linear")
DROUGHT = rules.Terms("drought", D("20"), D("40"), "tiers", ((D("20"), D("0.2")), (D("30"), D("0.5")),
                                                             (D("35"), D("0.7")), (D("40"), D("0.9"))), D("1.0"))


@pytest.mark.parametrize("index, share", [
    ("-2.9", "0"), ("-3.0", "0.30"), ("-3.1", "0.30"),  # trigger: just above, at, just below
    ("-4.9", "0.30"), ("-5.0", "0.60"), ("-5.1", "0.60"),
    ("-6.9", "0.60"), ("-7.0", "1"), ("-7.1", "1"), ("-20", "1"),
])
def test_frost_tiers_at_each_edge(index, share):
    assert rules.payout_share(FROST, D(index)) == D(share)


@pytest.mark.parametrize("index, share", [
    ("19", "0"), ("20", "0.2"), ("21", "0.2"), ("29", "0.2"), ("30", "0.5"), ("34", "0.5"), ("35", "0.7"),
    ("39", "0.7"), ("40", "0.9"), ("60", "0.9"),  # the orange index pays 20/50/70/90 %, never 100
])
def test_drought_tiers_at_each_edge(index, share):
    assert rules.payout_share(DROUGHT, D(index)) == D(share)


@pytest.mark.parametrize("index, share", [("-0.9", "0"), ("-1", "0"), ("-2", "0.25"), ("-3", "0.5"), ("-4.9", "0.975"),
                                          ("-5", "1"), ("-9", "1")])
def test_linear_payout_between_trigger_and_exit(index, share):
    assert rules.payout_share(LINEAR_FROST, D(index)) == D(share)


def test_payout_amount_in_cents_within_the_aggregate_limit():
    assert rules.payout_amount(D("0.3"), D("12345.67")) == D("3703.70")  # 3703.701 rounds half up to cents
    assert rules.payout_amount(D("0.6"), D("1000"), already_paid=D("700")) == D("300")
    assert rules.payout_amount(D("1"), D("1000"), already_paid=D("1000")) == D("0")


levels = st.decimals(min_value=D("-30"), max_value=D("10"), places=1, allow_nan=False)
sums = st.decimals(min_value=D("0.01"), max_value=D("50000000"), places=2, allow_nan=False)


@given(a=levels, b=levels, sum_insured=sums, linear=st.booleans())
@settings(max_examples=300, deadline=None)
def test_payout_is_monotone_in_the_index_and_never_exceeds_the_sum_insured(a, b, sum_insured, linear):
    terms = LINEAR_FROST if linear else FROST
    colder, warmer = min(a, b), max(a, b)
    assert rules.payout_share(terms, colder) >= rules.payout_share(terms, warmer)
    pay_colder = rules.payout_amount(rules.payout_share(terms, colder), sum_insured)
    pay_warmer = rules.payout_amount(rules.payout_share(terms, warmer), sum_insured)
    assert D("0") <= pay_warmer <= pay_colder <= sum_insured


@given(shares=st.lists(st.decimals(min_value=D("0"), max_value=D("1"), places=6), min_size=1, max_size=8),
       sum_insured=sums)
@settings(max_examples=200, deadline=None)
def test_a_season_of_claims_never_pays_more_than_the_sum_insured(shares, sum_insured):
    paid = D("0")
    cents = int(sum_insured * 100)
    for share in shares:
        amount = rules.payout_amount(share, sum_insured, paid)
        vector = rules.payout_cents(share, np.array([cents]), np.array([int(paid * 100)]))
        assert int(amount * 100) == int(vector[0])  # the vectorised path pays the same cents
        paid += amount
    assert paid <= sum_insured


def test_spells_end_on_a_warm_day_and_skip_missing_days():
    nan = math.nan
    tmin = [2, -3.5, nan, -4.2, 1, 5, -3.0, -2.0, -6]
    precip = [0] * len(tmin)
    spells = rules.find_spells(FROST, tmin, precip, season_over=False)
    assert [(s.start, s.end, s.index) for s in spells] == [(1, 3, D("-4.2")), (6, 6, D("-3.0"))]
    # the last spell (day 8) is still open until the season is over
    closed = rules.find_spells(FROST, tmin, precip, season_over=True)
    assert [(s.start, s.index) for s in closed][-1] == (8, D("-6.0"))


@given(st.lists(st.one_of(st.none(), st.floats(min_value=-12, max_value=12).map(lambda x: round(x, 1))),
                max_size=60), st.booleans())
@settings(max_examples=200, deadline=None)
def test_vectorised_spells_equal_the_day_by_day_loop(values, over):
    tmin = [math.nan if v is None else v for v in values]
    precip = [math.nan if v is None else abs(v) for v in values]
    for terms in (FROST, DROUGHT, rules.Terms("excess_rain", D("5"), D("10"), "linear")):
        assert rules.find_spells(terms, tmin, precip, over) == rules.find_spells_loop(terms, tmin, precip, over)


def test_drought_index_counts_dry_days_of_a_spell():
    precip = [5] + [0.2] * 22 + [3] + [0] * 5
    tmin = [10] * len(precip)
    spells = rules.find_spells(DROUGHT, tmin, precip, season_over=False)
    assert [(s.start, s.end, s.index) for s in spells] == [(1, 22, D("22"))]  # the last 5 dry days: too short


def test_nearest_station_by_great_circle_distance_with_ties_by_code():
    stations = [("B", 28.50, 118.30), ("A", 28.50, 118.30), ("C", 28.40, 118.20)]
    assert rules.nearest_station(28.49, 118.29, stations) == ("A", D("1.480"))  # dlat 1.112 km, dlon 0.977 km
    assert rules.nearest_station(29.2, 118.29, stations) is None  # beyond 50 km of every station
    assert round(rules.distance_km(28.0, 118.0, 29.0, 118.0), 1) == 111.2


def test_season_bounds_cross_new_year_and_29_february():
    assert rules.season_bounds("11-15", "03-15", 2026) == (date(2026, 11, 15), date(2027, 3, 15))
    assert rules.season_bounds("07-01", "10-31", 2026) == (date(2026, 7, 1), date(2026, 10, 31))
    assert rules.season_bounds("12-01", "02-29", 2025) == (date(2025, 12, 1), date(2026, 2, 28))
    assert rules.season_of("11-15", "03-15", date(2027, 1, 3)) == 2026
    assert rules.season_of("11-15", "03-15", date(2027, 6, 3)) is None


def test_premium_split_adds_up_to_the_premium():
    parts = rules.split_premium(D("1234.57"), {"central": D("0.35"), "provincial": D("0.25"), "county": D("0.25")})
    assert parts == {"central": D("432.10"), "provincial": D("308.64"), "county": D("308.64"), "farmer": D("185.19")}
    assert sum(parts.values()) == D("1234.57")


def test_backtest_matches_the_hand_worked_example():
    """20 seasons of 1-10 January at 5 °C, except: 2003 reaches -3.0 (30 %), 2007 -5.5 (60 %), 2011 two
    spells, -4 and -6 (30 % + 60 % = 90 %), 2015 two spells of -8 and -7.5 (100 % + 100 %, capped at 100 %).
    Paid in 4 seasons of 20: frequency 0.2; expected loss (0.3 + 0.6 + 0.9 + 1.0) / 20 = 0.14 of the sum
    insured, 1,400 CNY/ha of 10,000; premium 0.14 × 1.5 = 0.21, 2,100 CNY/ha."""
    cold = {date(2003, 1, 4): -3.0, date(2007, 1, 5): -5.5, date(2011, 1, 2): -4.0, date(2011, 1, 7): -6.0,
            date(2015, 1, 3): -8.0, date(2015, 1, 8): -7.5}
    readings = {}
    for year in range(2000, 2020):
        for day in range(1, 11):
            d = date(year, 1, day)
            readings[d] = (cold.get(d, 5.0), 0.0)
    result = rules.backtest(FROST, ("01-01", "01-10"), readings, D("10000"), D("1.5"))
    assert len(result.seasons) == 20
    assert {s.season: s.share for s in result.seasons if s.share} == {
        2003: D("0.30"), 2007: D("0.60"), 2011: D("0.90"), 2015: D("1")}
    assert result.frequency == D("0.2")
    assert result.expected_loss_rate == D("0.14")
    assert result.expected_loss_per_ha == D("1400.00")
    assert result.premium_rate == D("0.21")
    assert result.premium_per_ha == D("2100.00")


def test_backtest_leaves_out_seasons_with_too_few_readings():
    readings = {date(y, 1, d): (5.0, 0.0) for y in range(2000, 2003) for d in range(1, 11)}
    for d in range(1, 4):
        del readings[date(2001, 1, d)]  # 7 of 10 days: below 90 %
    result = rules.backtest(FROST, ("01-01", "01-10"), readings, D("10000"), D("1.5"))
    assert [s.season for s in result.seasons] == [2000, 2002] and result.skipped == [2001]


def test_terms_are_checked_as_a_whole():
    errors: dict = {}
    rules.validate_terms({"peril": "frost", "trigger": D("-3"), "exit": D("-1"), "payout_mode": "tiers",
                          "tiers": [(D("-2"), D("0.5")), (D("-1"), D("0.4"))]}, errors)
    assert "exit" in errors and len(errors["tiers"]) >= 3
