"""ΔGEP between two years, split into a quantity effect and a price effect, by parcel, township and service.

GEP is read only through the gep contract (``year_accounts``, ``revalue_accounts``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Optional

from greenfin.compensation.split import Change, split_change, total_change
from greenfin.errors import ValidationFailed
from greenfin.registry import require


@dataclass
class ParcelChange:
    parcel_id: int
    township_code: str
    account_id: Optional[int]  # year 1 (None: the parcel has no account that year)
    base_account_id: Optional[int]  # year 0
    services: dict[str, Change]

    @cached_property
    def change(self) -> Change:
        return total_change(self.services.values())


@dataclass
class ChangeReport:
    base_year: int
    year: int
    base_prices: str  # the price version of p₀
    prices: list[str]  # the versions of the year-1 accounts (p₁)
    parcels: list[ParcelChange] = field(default_factory=list)
    accounts: list = field(default_factory=list)  # the year-1 AccountFacts read (gep contract)

    def by_township(self) -> dict[str, Change]:
        groups: dict[str, list[Change]] = {}
        for p in self.parcels:
            groups.setdefault(p.township_code, []).append(p.change)
        return {k: total_change(v) for k, v in sorted(groups.items())}

    def by_service(self) -> dict[str, Change]:
        groups: dict[str, list[Change]] = {}
        for p in self.parcels:
            for code, c in p.services.items():
                groups.setdefault(code, []).append(c)
        return {k: total_change(v) for k, v in sorted(groups.items())}

    @property
    def total(self) -> Change:
        return total_change(p.change for p in self.parcels)


def latest_change_year() -> Optional[int]:
    """The latest accounted year that has a year before it: the change a page shows unasked."""
    years = require("greenfin.gep").account_years()
    return years[0] if len(years) >= 2 and years[1] == years[0] - 1 else None


def gep_change(base_year: int, year: int, *, township: Optional[str] = None,
               base_prices: Optional[str] = None) -> ChangeReport:
    """ΔGEP from ``base_year`` to ``year`` over each parcel's latest account of each year.

    p₀ is one price version for the whole district: ``base_prices``, or the version most of the
    base year's accounts used. Base accounts of another version are revalued at p₀ too, so the
    quantity effect compares quantities at one set of prices throughout.
    """
    if base_year >= year:
        raise ValidationFailed.field("base_year", "must be before the year")
    gep = require("greenfin.gep")
    before = gep.year_accounts(base_year, township=township)
    after = gep.year_accounts(year, township=township)
    if not before and not base_prices:
        raise ValidationFailed.field("base_year", "has no GEP accounts")
    p0 = base_prices or Counter(a.version for a in before).most_common(1)[0][0]
    after_at_p0 = gep.revalue_accounts([a.account_id for a in after], p0)
    other = [a.account_id for a in before if a.version != p0]
    before_at_p0 = gep.revalue_accounts(other, p0) if other else {}
    base = {a.parcel_id: a for a in before}
    report = ChangeReport(base_year, year, p0, sorted({a.version for a in after}), accounts=after)
    seen = set()
    for a in after:
        b = base.get(a.parcel_id)
        v00 = (before_at_p0.get(b.account_id, b.services) if b else {})
        report.parcels.append(ParcelChange(a.parcel_id, a.township_code, a.account_id, b.account_id if b else None,
                                           split_change(v00, a.services, after_at_p0.get(a.account_id, {}))))
        seen.add(a.parcel_id)
    for b in before:
        if b.parcel_id not in seen:  # gone in year 1: all of it is a quantity effect
            v00 = before_at_p0.get(b.account_id, b.services)
            report.parcels.append(ParcelChange(b.parcel_id, b.township_code, None, b.account_id,
                                               split_change(v00, {}, {})))
    return report
