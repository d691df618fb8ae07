"""Reading a year's accounts for other packages, and revaluing them at another version's prices.

The two verbs behind an honest split of a change in GEP (``greenfin.compensation.split``):
``year_accounts`` gives each parcel's latest account of a year with its service values, and
``revalue_accounts`` values those accounts' physical quantities (their stored inputs and their
own version's parameters) at the unit prices of another version: V(q₁, p₀).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Optional

import numpy as np
from sqlalchemy import select

from greenfin.extensions import db
from greenfin.gep import engine
from greenfin.gep.models import GepAccount, GepParameter, GepServiceValue
from greenfin.gep.services.prices import get_version
from greenfin.gep.services.totals import _latest_ids


@dataclass(frozen=True)
class AccountFacts:
    """One account as other packages see it: who, where, which prices, what value (Decimal yuan)."""

    account_id: int
    parcel_id: int
    year: int
    version: str
    township_code: str
    village: Optional[str]
    land_cover: str
    area_ha: Decimal
    regulating: Decimal
    total: Decimal
    services: dict[str, Decimal] = field(default_factory=dict)


def year_accounts(year: Optional[int], *, township: Optional[str] = None, parcel_ids: Optional[Iterable[int]] = None,
                  account_ids: Optional[Iterable[int]] = None, with_services: bool = True) -> list[AccountFacts]:
    """Each parcel's latest account of ``year`` (or exactly ``account_ids``, any year), ordered by parcel."""
    stmt = (select(GepAccount.id, GepAccount.parcel_id, GepAccount.year, GepAccount.version_id,
                   GepAccount.township_code, GepAccount.village, GepAccount.land_cover, GepAccount.area_ha,
                   GepAccount.regulating, GepAccount.total).order_by(GepAccount.parcel_id))
    if account_ids is not None:
        stmt = stmt.where(GepAccount.id.in_(list(account_ids)))
    else:
        latest = _latest_ids(year)
        stmt = stmt.join(latest, latest.c.id == GepAccount.id)
    if township:
        stmt = stmt.where(GepAccount.township_code == township)
    if parcel_ids is not None:
        stmt = stmt.where(GepAccount.parcel_id.in_(list(parcel_ids)))
    conn = db.session.connection()  # Core rows: no ORM bookkeeping over a district's accounts
    rows = conn.execute(stmt).all()
    codes = _version_codes({r.version_id for r in rows})
    services: dict[int, dict[str, Decimal]] = {}
    if with_services and rows:
        # the same accounts, joined rather than listed (a district holds 100,000 of them)
        wanted = stmt.with_only_columns(GepAccount.id).order_by(None).subquery("wanted")
        values = (select(GepServiceValue.account_id, GepServiceValue.service, GepServiceValue.value)
                  .join(wanted, wanted.c.id == GepServiceValue.account_id))
        for account_id, code, value in conn.execute(values):
            services.setdefault(account_id, {})[code] = value
    return [AccountFacts(r.id, r.parcel_id, r.year, codes[r.version_id], r.township_code, r.village, r.land_cover,
                         r.area_ha, r.regulating, r.total, services.get(r.id, {})) for r in rows]


def _version_codes(ids: set[int]) -> dict[int, str]:
    from greenfin.gep.models import GepVersion

    if not ids:
        return {}
    return dict(db.session.execute(select(GepVersion.id, GepVersion.code).where(GepVersion.id.in_(ids))).all())


def _parameters(version_id: int) -> dict[str, tuple[str, float]]:
    return {key: (kind, float(value)) for key, kind, value in db.session.execute(
        select(GepParameter.key, GepParameter.kind, GepParameter.value).where(GepParameter.version_id == version_id))}


def revalue_accounts(account_ids: Iterable[int], price_version: str) -> dict[int, dict[str, Decimal]]:
    """{account id: {service: value}}: each account's quantities valued at ``price_version``'s prices.

    Quantities come from the account's stored inputs and the non-price parameters of the
    account's own version; only rows of kind ``price`` are taken from ``price_version``. Values
    are rounded to whole cents as the accounts are, so an account revalued at its own version
    gives exactly its stored values.
    """
    prices = {k: v for k, (kind, v) in _parameters(get_version(price_version).id).items() if kind == "price"}
    accounts = db.session.execute(select(GepAccount.id, GepAccount.version_id, GepAccount.inputs)
                                  .where(GepAccount.id.in_(list(account_ids))).order_by(GepAccount.id)).all()
    by_version: dict[int, list] = {}
    for row in accounts:
        by_version.setdefault(row.version_id, []).append(row)
    out: dict[int, dict[str, Decimal]] = {}
    for version_id, rows in by_version.items():
        params = {k: v for k, (_kind, v) in _parameters(version_id).items()} | prices
        records = [{"area_ha": r.inputs["area_ha"], "land_cover": r.inputs["land_cover"]}
                   | {k: r.inputs[k] for k in engine.INPUT_DEFAULTS} for r in rows]
        results = engine.compute_vectorised(engine.ParcelArrays.from_records(records), params)
        cents = {code: np.rint(value * 100.0).astype(np.int64).tolist() for code, (_q, value) in results.items()}
        for i, r in enumerate(rows):
            out[r.id] = {code: Decimal(c[i]).scaleb(-2) for code, c in cents.items() if c[i]}
    return out
