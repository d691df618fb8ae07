"""The compensation rules, pure and exact: no database here.

- ``allocate``: split an amount to the cent in proportion to weights (largest remainder: the parts
  add up to the amount exactly).
- ``budget_scores``: a township's share of a budget from its regulating-service GEP and its
  quantity-effect ΔGEP, mixed by the scheme's weights.
- ``water_index`` and ``water_bet_direction``: the compensation index P of a water-quality bet
  between an upstream and a downstream township (after the Xin'an river scheme):

      P = k₀ · Σᵢ wᵢ · Cᵢ / C₀ᵢ

  Cᵢ is the period's mean concentration of indicator i at the pair's boundary stations, C₀ᵢ its
  baseline (the scheme's reference concentration), wᵢ the indicator weights (summing to 1) and k₀
  the stability coefficient (0.85 in the Xin'an scheme). P ≤ threshold (1): the water leaving the
  upstream township met the bet, the downstream township pays it; P > threshold: the upstream
  township pays the downstream one. Either way someone pays: the bet never lapses.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Hashable, Mapping, TypeVar

from greenfin.errors import ValidationFailed

K = TypeVar("K", bound=Hashable)
CENT = Decimal("0.01")


def to_cents(amount: Decimal, field: str = "amount") -> int:
    amount = Decimal(amount)
    if amount < 0 or amount != amount.quantize(CENT):
        raise ValidationFailed.field(field, "must be a non-negative amount in whole cents")
    return int(amount * 100)


def allocate(amount: Decimal, weights: Mapping[K, Fraction | Decimal | int]) -> dict[K, Decimal]:
    """``amount`` split in proportion to ``weights``, to the cent, adding up to ``amount`` exactly.

    Each part gets the floor of its exact share in cents; the cents left go one each to the parts
    with the largest remainders (ties: the order of ``weights``). Weights are non-negative with a
    positive sum; a zero weight gets nothing."""
    cents = to_cents(amount)
    exact = {k: Fraction(w) for k, w in weights.items()}
    if any(w < 0 for w in exact.values()):
        raise ValidationFailed.field("weights", "must not be negative")
    total = sum(exact.values(), Fraction(0))
    if total <= 0:
        raise ValidationFailed.field("weights", "must have a positive sum")
    raw = {k: cents * w / total for k, w in exact.items()}
    floors = {k: int(r) for k, r in raw.items()}  # floor: r >= 0
    left = cents - sum(floors.values())
    order = list(exact)
    for k in sorted(order, key=lambda k: (-(raw[k] - floors[k]), order.index(k)))[:left]:
        floors[k] += 1
    return {k: Decimal(n).scaleb(-2).quantize(CENT) for k, n in floors.items()}


def budget_scores(regulating: Mapping[K, Decimal], quantity_effect: Mapping[K, Decimal],
                  weight_regulating: Decimal, weight_quantity: Decimal) -> dict[K, Fraction]:
    """Each township's exact share (summing to 1) of a budget.

    share = w_r · R / ΣR + w_q · max(Q, 0) / Σ max(Q, 0): regulating-service GEP R rewards what a
    township keeps, the positive quantity effect Q (ΔGEP at constant prices) what it improved. A
    fall earns nothing of the second part. When no township improved, the second part's weight goes
    to the first (and the other way round when no township has regulating GEP)."""
    keys = list(regulating.keys() | quantity_effect.keys())
    keys.sort(key=str)
    r = {k: Fraction(max(Decimal(regulating.get(k, 0)), Decimal(0))) for k in keys}
    q = {k: Fraction(max(Decimal(quantity_effect.get(k, 0)), Decimal(0))) for k in keys}
    wr, wq = Fraction(Decimal(weight_regulating)), Fraction(Decimal(weight_quantity))
    sr, sq = sum(r.values(), Fraction(0)), sum(q.values(), Fraction(0))
    if sq == 0:
        wr, wq = wr + wq, Fraction(0)
    if sr == 0:
        wr, wq = Fraction(0), wr + wq
    if wr + wq == 0 or (sr == 0 and sq == 0):
        return {k: Fraction(0) for k in keys}
    return {k: (wr * (r[k] / sr if sr else 0) + wq * (q[k] / sq if sq else 0)) / (wr + wq) for k in keys}


def water_index(means: Mapping[str, Decimal], baselines: Mapping[str, Decimal],
                weights: Mapping[str, Decimal], k0: Decimal) -> Fraction:
    """The compensation index P (exact). Every weighted indicator needs a mean and a baseline > 0."""
    errors: dict[str, list[str]] = {}
    for code in weights:
        if code not in means:
            errors.setdefault(code, []).append("no monitoring data in the period")
        if Decimal(baselines.get(code, 0)) <= 0:
            errors.setdefault(code, []).append("baseline must be positive")
    if errors:
        raise ValidationFailed("The water-quality index cannot be computed", errors)
    return Fraction(Decimal(k0)) * sum((Fraction(Decimal(w)) * Fraction(Decimal(means[c])) / Fraction(Decimal(baselines[c]))
                                       for c, w in weights.items()), Fraction(0))


def water_bet_direction(index: Fraction, threshold: Decimal = Decimal(1)) -> str:
    """``downstream_pays`` when P ≤ threshold (the water met the bet), else ``upstream_pays``."""
    return "downstream_pays" if index <= Fraction(Decimal(threshold)) else "upstream_pays"
