"""The pure rules: largest-remainder allocation, budget scores, the water-quality bet, the ΔGEP split."""
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin.compensation import rules
from greenfin.compensation.split import split_change, total_change
from greenfin.errors import ValidationFailed

cents = st.integers(min_value=0, max_value=10**13)
weights = st.dictionaries(st.text(min_size=1, max_size=6), st.decimals(min_value=0, max_value=10**9, places=4),
                          min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(cents, weights)
def test_allocate_adds_up_to_the_budget_to_the_cent(budget_cents, w):
    if sum(w.values()) <= 0:
        with pytest.raises(ValidationFailed):
            rules.allocate(Decimal(budget_cents).scaleb(-2), w)
        return
    budget = Decimal(budget_cents).scaleb(-2)
    parts = rules.allocate(budget, w)
    assert sum(parts.values()) == budget
    total = sum(w.values())
    for k, part in parts.items():
        exact = Fraction(budget_cents) * Fraction(w[k]) / Fraction(total)
        assert abs(Fraction(int(part * 100)) - exact) < 1  # each part within a cent of its exact share
        assert part >= 0 and (w[k] > 0 or part == 0)


def test_allocate_gives_the_odd_cents_to_the_largest_remainders():
    assert rules.allocate(Decimal("1.00"), {"a": 1, "b": 1, "c": 1}) == {
        "a": Decimal("0.34"), "b": Decimal("0.33"), "c": Decimal("0.33")}
    assert rules.allocate(Decimal("0.10"), {"a": 2, "b": 1}) == {"a": Decimal("0.07"), "b": Decimal("0.03")}


def test_allocate_refuses_fractions_of_a_cent_and_negative_weights():
    with pytest.raises(ValidationFailed):
        rules.allocate(Decimal("1.005"), {"a": 1})
    with pytest.raises(ValidationFailed):
        rules.allocate(Decimal("1"), {"a": -1, "b": 2})


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 10**9), min_size=1),
       st.dictionaries(st.sampled_from("abcdefgh"), st.integers(-10**9, 10**9), min_size=1),
       st.integers(0, 10), st.integers(0, 10))
def test_budget_scores_sum_to_one_and_a_fall_earns_no_quantity_share(reg, qty, wr, wq):
    scores = rules.budget_scores({k: Decimal(v) for k, v in reg.items()}, {k: Decimal(v) for k, v in qty.items()},
                                 Decimal(wr), Decimal(wq))
    if wr + wq == 0 or (sum(reg.values()) == 0 and sum(max(v, 0) for v in qty.values()) == 0):
        assert sum(scores.values()) == 0
        return
    assert sum(scores.values()) == 1
    for k in scores:
        if reg.get(k, 0) == 0 and qty.get(k, 0) <= 0:
            assert scores[k] == 0


BASE = {"codmn": Decimal("4.0"), "nh3n": Decimal("0.5"), "tp": Decimal("0.1")}
W = {"codmn": Decimal("0.4"), "nh3n": Decimal("0.3"), "tp": Decimal("0.3")}


def test_water_bet_pays_downstream_to_upstream_just_below_the_threshold():
    # k0 = 1 and every mean 0.9999 of its baseline: P = 0.9999 ≤ 1
    means = {c: b * Decimal("0.9999") for c, b in BASE.items()}
    p = rules.water_index(means, BASE, W, Decimal("1"))
    assert p == Fraction(9999, 10000)
    assert rules.water_bet_direction(p) == "downstream_pays"


def test_water_bet_pays_upstream_to_downstream_just_above_the_threshold():
    means = {c: b * Decimal("1.0001") for c, b in BASE.items()}
    p = rules.water_index(means, BASE, W, Decimal("1"))
    assert p == Fraction(10001, 10000)
    assert rules.water_bet_direction(p) == "upstream_pays"


def test_water_bet_at_the_threshold_and_with_the_stability_coefficient():
    assert rules.water_bet_direction(rules.water_index(BASE, BASE, W, Decimal("1"))) == "downstream_pays"
    # 1.15 × baseline with k0 = 0.85: P = 0.9775, the water met the bet
    means = {c: b * Decimal("1.15") for c, b in BASE.items()}
    assert rules.water_index(means, BASE, W, Decimal("0.85")) == Fraction(9775, 10000)
    assert rules.water_bet_direction(Fraction(10001, 10000), Decimal("1.0001")) == "downstream_pays"


def test_water_index_names_a_missing_indicator():
    with pytest.raises(ValidationFailed) as exc:
        rules.water_index({"codmn": Decimal(4)}, BASE, W, Decimal("0.85"))
    assert set(exc.value.errors) == {"nh3n", "tp"}


values = st.dictionaries(st.sampled_from(["carbon", "water", "soil", "fruit", "recreation"]),
                         st.integers(0, 10**12).map(lambda c: Decimal(c).scaleb(-2)))


@settings(max_examples=300, deadline=None)
@given(values, values, values)
def test_split_adds_up_exactly(before, after, after_at_base):
    changes = split_change(before, after, after_at_base)
    for code, c in changes.items():
        assert c.quantity + c.price == c.total == after.get(code, 0) - before.get(code, 0)
    total = total_change(changes.values())
    assert total.quantity + total.price == sum(after.values(), Decimal(0)) - sum(before.values(), Decimal(0))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["carbon", "water", "soil"]),
                       st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**5),
                                 st.integers(0, 10**5)), min_size=1))
def test_split_matches_the_index_formulas_on_quantities_and_prices(data):
    """Σ(q₁−q₀)·p₀ and Σq₁·(p₁−p₀) from generated quantities and unit prices (cents)."""
    before = {k: Decimal(q0 * p0).scaleb(-2) for k, (q0, q1, p0, p1) in data.items()}
    after = {k: Decimal(q1 * p1).scaleb(-2) for k, (q0, q1, p0, p1) in data.items()}
    at_base = {k: Decimal(q1 * p0).scaleb(-2) for k, (q0, q1, p0, p1) in data.items()}
    total = total_change(split_change(before, after, at_base).values())
    assert total.quantity == Decimal(sum((q1 - q0) * p0 for q0, q1, p0, p1 in data.values())).scaleb(-2)
    assert total.price == Decimal(sum(q1 * (p1 - p0) for q0, q1, p0, p1 in data.values())).scaleb(-2)
