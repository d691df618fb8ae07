"""The honest split of a change in GEP: a quantity effect at constant prices and a price effect.

For two years 0 and 1 with quantities q and unit prices p (per service):

    ΔGEP = V(q₁, p₁) − V(q₀, p₀)
         = [V(q₁, p₀) − V(q₀, p₀)]   quantity effect  Σ(q₁ − q₀)·p₀
         + [V(q₁, p₁) − V(q₁, p₀)]   price effect     Σq₁·(p₁ − p₀)

V(q₁, p₀) is the year-1 account revalued at the base prices (``gep.services.revalue_accounts``).
All three values are whole cents, so the two effects add up to the change exactly: a new price
table never reads as ecological change. Pure functions: no database here.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Mapping

ZERO = Decimal("0.00")


class Change:
    """V(q₀,p₀) ``before``, V(q₁,p₁) ``after`` and the two effects (Decimal yuan). Immutable by use."""

    __slots__ = ("before", "after", "quantity", "price")

    def __init__(self, before: Decimal, after: Decimal, quantity: Decimal, price: Decimal):
        self.before, self.after, self.quantity, self.price = before, after, quantity, price

    @property
    def total(self) -> Decimal:
        return self.after - self.before

    def __add__(self, other: "Change") -> "Change":
        return Change(self.before + other.before, self.after + other.after, self.quantity + other.quantity,
                      self.price + other.price)

    def __eq__(self, other) -> bool:
        return isinstance(other, Change) and (self.before, self.after, self.quantity, self.price) == (
            other.before, other.after, other.quantity, other.price)

    def __repr__(self) -> str:
        return f"Change(before={self.before}, after={self.after}, quantity={self.quantity}, price={self.price})"

    def as_dict(self) -> dict:
        return {"before": self.before, "after": self.after, "total": self.total, "quantity": self.quantity,
                "price": self.price}


NO_CHANGE = Change(ZERO, ZERO, ZERO, ZERO)


def split_change(before: Mapping[str, Decimal], after: Mapping[str, Decimal],
                 after_at_base_prices: Mapping[str, Decimal]) -> dict[str, Change]:
    """Per service: V(q₀,p₀) = ``before``, V(q₁,p₁) = ``after``, V(q₁,p₀) = ``after_at_base_prices``.

    A service missing from a mapping is worth zero there (a parcel new in year 1 has no
    ``before``; a parcel gone has no ``after``)."""
    out = {}
    for code in sorted(before.keys() | after.keys() | after_at_base_prices.keys()):
        v00 = before.get(code, ZERO)
        v11 = after.get(code, ZERO)
        v10 = after_at_base_prices.get(code, ZERO)
        out[code] = Change(v00, v11, v10 - v00, v11 - v10)
    return out


def total_change(changes: Iterable[Change]) -> Change:
    before = after = quantity = price = ZERO
    for c in changes:
        before += c.before
        after += c.after
        quantity += c.quantity
        price += c.price
    return Change(before, after, quantity, price)
