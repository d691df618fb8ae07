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

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Change:
    before: Decimal  # V(q₀, p₀)
    after: Decimal  # V(q₁, p₁)
    quantity: Decimal  # V(q₁, p₀) − V(q₀, p₀)
    price: Decimal  # V(q₁, p₁) − V(q₁, p₀)

    @property
    def total(self) -> Decimal:
        return self.after - self.before

    def __add__(self, other: "Change") -> "Change":
        return Change(self.before + other.before, self.after + other.after, self.quantity + other.quantity,
                      self.price + other.price)

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
    for code in sorted(set(before) | set(after) | set(after_at_base_prices)):
        v00 = Decimal(before.get(code, ZERO))
        v11 = Decimal(after.get(code, ZERO))
        v10 = Decimal(after_at_base_prices.get(code, ZERO))
        out[code] = Change(v00, v11, v10 - v00, v11 - v10)
    return out


def total_change(changes: Iterable[Change]) -> Change:
    result = NO_CHANGE
    for change in changes:
        result = result + change
    return result
