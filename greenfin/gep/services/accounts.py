"""GEP accounts: parcel attributes, the vectorised computation, reading accounts, collateral value
and the scan-page summary."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Optional

import numpy as np
from sqlalchemy import Select, insert, select

from greenfin.core import services as core
from greenfin.core.models import Parcel
from greenfin.core.types import utcnow
from greenfin.numbers import to_decimal
from greenfin.errors import N_, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.gep import engine
from greenfin.gep.labels import CATEGORY_NAMES, SERVICE_NAMES
from greenfin.gep.models import GepAccount, GepParameter, GepParcelAttribute, GepServiceValue, GepVersion
from greenfin.gep.services.totals import CATEGORIES, CENT, category_shares, shares
from greenfin.gep.services.prices import _lock, _locked_row, default_version, get_version

ATTRIBUTE_FIELDS = ("k_factor", "ls_factor", "npp", "yield_t_ha", "slope_deg")
ATTRIBUTE_LIMITS = {  # plausible physical ranges, to catch unit mistakes on input
    "k_factor": (Decimal("0"), Decimal("0.1")),
    "ls_factor": (Decimal("0"), Decimal("100")),
    "npp": (Decimal("0"), Decimal("3000")),
    "yield_t_ha": (Decimal("0"), Decimal("200")),
    "slope_deg": (Decimal("0"), Decimal("90")),
}


@dataclass(frozen=True)
class ParcelGep:
    """A parcel's current GEP: the total of its latest account, in yuan."""

    value: Decimal
    account_id: int
    year: int
    price_version: str


# ---------------------------------------------------------------- parcel attributes


def get_attributes(parcel_id: int) -> Optional[GepParcelAttribute]:
    return db.session.get(GepParcelAttribute, parcel_id)


def validate_attributes(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for field in ATTRIBUTE_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if value is None or value == "":
            out[field] = None
            continue
        number = to_decimal(value)
        if number is None:
            errors[field] = [N_("must be a number")]
            continue
        lo, hi = ATTRIBUTE_LIMITS[field]
        if not (lo <= number <= hi):
            errors[field] = [N_("must be between %(lo)s and %(hi)s", lo=lo, hi=hi)]
        out[field] = number
    if "geometry" in data:
        out["geometry"] = data["geometry"]
    if "area_m2_ellipsoid" in data:
        out["area_m2_ellipsoid"] = data["area_m2_ellipsoid"]
    if errors:
        raise ValidationFailed("Invalid parcel attributes", errors)
    return out


def set_attributes(parcel: Parcel, data: dict) -> GepParcelAttribute:
    """Create or change the GEP attributes of a parcel (only the fields given)."""
    values = validate_attributes(data)
    attrs = db.session.get(GepParcelAttribute, parcel.id)
    before = None
    if attrs is None:
        attrs = GepParcelAttribute(parcel_id=parcel.id)
        db.session.add(attrs)
    else:
        before = core.snapshot(attrs, ATTRIBUTE_FIELDS)
    for key, value in values.items():
        setattr(attrs, key, value)
    attrs.updated_at = utcnow()
    db.session.flush()
    core.record_audit("gep.attributes.update", "parcel", parcel.id, before=before,
                      after=core.snapshot(attrs, ATTRIBUTE_FIELDS), party_id=parcel.holder_id)
    return attrs


# ---------------------------------------------------------------- computation


def _hash_inputs(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _parcel_records(parcel_ids: Optional[list[int]] = None, township: Optional[str] = None) -> list[dict]:
    stmt = (select(Parcel.id, Parcel.area_ha, Parcel.land_cover, Parcel.township_code, Parcel.village,
                   GepParcelAttribute.k_factor, GepParcelAttribute.ls_factor, GepParcelAttribute.npp,
                   GepParcelAttribute.yield_t_ha)
            .outerjoin(GepParcelAttribute, GepParcelAttribute.parcel_id == Parcel.id).order_by(Parcel.id))
    if parcel_ids is not None:
        stmt = stmt.where(Parcel.id.in_(parcel_ids))
    if township:
        stmt = stmt.where(Parcel.township_code == township)
    return [dict(row._mapping) for row in db.session.execute(stmt)]


def _to_float(value):
    return None if value is None else float(value)


@dataclass
class ComputeResult:
    year: int
    version: str
    parcels: int
    created: int
    unchanged: int
    total: Decimal
    account_ids: list[int]


def compute_accounts(year: int, version: Optional[GepVersion] = None, *, parcel_ids: Optional[list[int]] = None,
                     township: Optional[str] = None, job_id: Optional[str] = None,
                     progress: Optional[Callable[..., None]] = None, chunk: int = 2000) -> ComputeResult:
    """Account the parcels (all, or ``parcel_ids``) for ``year`` under ``version``, vectorised.

    A parcel whose account for this year, version and inputs exists already is left
    alone (running twice adds nothing); a new version or changed inputs add a new
    account and keep the old ones.
    """
    if not (1990 <= int(year) <= 2100):
        raise ValidationFailed.field("year", N_("must be between %(lo)s and %(hi)s", lo=1990, hi=2100))
    version = _locked_row(version or default_version(year))
    rows = db.session.execute(select(GepParameter.key, GepParameter.value)
                              .where(GepParameter.version_id == version.id)).all()
    params = {key: float(value) for key, value in rows}
    records = _parcel_records(parcel_ids, township)
    if parcel_ids is not None and len(records) != len(set(parcel_ids)):
        missing = sorted(set(parcel_ids) - {r["id"] for r in records})
        raise NotFound(f"parcels not found: {missing}")
    for r in records:
        for key in ("area_ha", "k_factor", "ls_factor", "npp", "yield_t_ha"):
            r[key] = _to_float(r[key])
    if progress:
        progress(5, "reading", len(records))
    if not records:
        return ComputeResult(year, version.code, 0, 0, 0, Decimal(0), [])
    _lock(version)  # the row lock is held to the commit: a waiting edit then finds the version locked

    arrays = engine.ParcelArrays.from_records(records)
    results = engine.compute_vectorised(arrays, params)
    codes = [s.code for s in engine.SERVICES]
    # Storage boundary: floats become whole cents (int64) and quantities 4 places.
    cents = np.stack([np.rint(results[c][1] * 100.0).astype(np.int64) for c in codes], axis=1)
    quantities = np.stack([np.round(results[c][0], 4) for c in codes], axis=1)
    cat_index = {cat: [i for i, s in enumerate(engine.SERVICES) if s.category == cat] for cat in CATEGORIES}
    cat_cents = {cat: cents[:, idx].sum(axis=1).tolist() for cat, idx in cat_index.items()}
    total_by_parcel = cents.sum(axis=1).tolist()
    quantities_list, cents_list = quantities.tolist(), cents.tolist()
    if progress:
        progress(20, "computing", len(records), len(records))

    existing = set(db.session.execute(
        select(GepAccount.parcel_id, GepAccount.inputs_hash)
        .where(GepAccount.year == year, GepAccount.version_id == version.id)).all())
    created_ids: list[int] = []
    unchanged = 0
    total_cents = 0
    n = len(records)
    for start in range(0, n, chunk):
        rows, positions = [], []
        for i in range(start, min(n, start + chunk)):
            rec = records[i]
            inputs = engine.effective_record(rec, params) | {
                "method": engine.METHOD_VERSION, "version": version.code, "year": year,
                "township_code": rec["township_code"], "village": rec["village"]}
            digest = _hash_inputs(inputs)
            total_cents += total_by_parcel[i]
            if (rec["id"], digest) in existing:
                unchanged += 1
                continue
            rows.append({
                "parcel_id": rec["id"], "year": year, "version_id": version.id,
                "township_code": rec["township_code"], "village": rec["village"],
                "area_ha": Decimal(str(rec["area_ha"])).quantize(Decimal("0.0001")), "land_cover": rec["land_cover"],
                "inputs": inputs, "inputs_hash": digest,
                "provisioning": Decimal(cat_cents["provisioning"][i]).scaleb(-2),
                "regulating": Decimal(cat_cents["regulating"][i]).scaleb(-2),
                "cultural": Decimal(cat_cents["cultural"][i]).scaleb(-2),
                "total": Decimal(total_by_parcel[i]).scaleb(-2),
                "job_id": job_id, "created_at": utcnow(),
            })
            positions.append(i)
        if rows:
            # Core inserts (no ORM bookkeeping): executemany with RETURNING in parameter order.
            conn = db.session.connection()
            accounts = GepAccount.__table__
            ids = conn.execute(insert(accounts).returning(accounts.c.id, sort_by_parameter_order=True),
                               rows).scalars().all()
            service_rows = []
            for account_id, i in zip(ids, positions):
                for j, s in enumerate(engine.SERVICES):
                    q, c = quantities_list[i][j], cents_list[i][j]
                    if q == 0.0 and c == 0:
                        continue
                    service_rows.append({"account_id": account_id, "service": s.code, "category": s.category,
                                         "quantity": Decimal(repr(q)).quantize(Decimal("0.0001")), "unit": s.unit,
                                         "value": Decimal(c).scaleb(-2)})
            if service_rows:
                conn.execute(insert(GepServiceValue.__table__), service_rows)
            created_ids.extend(ids)
        if progress:
            progress(20 + int(75 * min(n, start + chunk) / n), "storing", min(n, start + chunk), n)
    db.session.flush()
    result = ComputeResult(year, version.code, n, len(created_ids), unchanged, Decimal(total_cents).scaleb(-2),
                           created_ids)
    core.record_audit("gep.compute", "gep_run", f"{year}:{version.code}", after={
        "year": year, "version": version.code, "parcels": n, "created": result.created,
        "unchanged": unchanged, "total": result.total, "job_id": job_id, "township": township})
    return result


def compute_parcel_account(parcel_id: int, year: int, version: Optional[GepVersion] = None) -> GepAccount:
    """Account one parcel (the same vectorised path); returns its account for year and version."""
    core.get_parcel(parcel_id)
    result = compute_accounts(year, version, parcel_ids=[parcel_id])
    version = get_version(result.version)
    return db.session.scalar(select(GepAccount).where(
        GepAccount.parcel_id == parcel_id, GepAccount.year == year, GepAccount.version_id == version.id)
        .order_by(GepAccount.id.desc()).limit(1))


def reproduce_account(account: GepAccount) -> dict[str, Decimal]:
    """Recompute an account's service values from its stored inputs and version alone."""
    stored = account.inputs
    record = {"area_ha": stored["area_ha"], "land_cover": stored["land_cover"]}
    record.update({k: stored[k] for k in engine.INPUT_DEFAULTS})
    results = engine.compute_vectorised(engine.ParcelArrays.from_records([record]), account.version.values())
    return {code: Decimal(int(np.rint(v[0] * 100.0))).scaleb(-2) for code, (_q, v) in results.items()}


def verify_account(account: GepAccount) -> bool:
    """True when the stored service values are exactly what the stored inputs and version give."""
    stored = {s.service: s.value for s in account.services}
    reproduced = {k: v for k, v in reproduce_account(account).items() if v or k in stored}
    return stored == reproduced and account.total == sum(stored.values(), Decimal(0))


# ---------------------------------------------------------------- reading accounts


def get_account(account_id: int) -> GepAccount:
    account = db.session.get(GepAccount, account_id)
    if account is None:
        raise NotFound(f"GEP account {account_id} not found")
    return account


def account_query(*, parcel_id: Optional[int] = None, year: Optional[int] = None,
                  holder_id: Optional[int] = None) -> Select:
    stmt = select(GepAccount).order_by(GepAccount.year.desc(), GepAccount.id.desc())
    if parcel_id is not None:
        stmt = stmt.where(GepAccount.parcel_id == parcel_id)
    if year is not None:
        stmt = stmt.where(GepAccount.year == year)
    if holder_id is not None:
        stmt = stmt.join(Parcel, Parcel.id == GepAccount.parcel_id).where(Parcel.holder_id == holder_id)
    return stmt


def latest_account(parcel_id: int, year: Optional[int] = None) -> Optional[GepAccount]:
    return db.session.scalar(account_query(parcel_id=parcel_id, year=year).limit(1))


def current_parcel_gep(parcel_id: int) -> Optional[ParcelGep]:
    """The parcel's latest account (newest year, then newest computation), or None."""
    account = latest_account(parcel_id)
    if account is None:
        return None
    return ParcelGep(value=account.total, account_id=account.id, year=account.year,
                     price_version=account.version.code)


def accounted_parcel_ids() -> set[int]:
    """The parcels that have at least one GEP account (any year): what the market catalogue's
    coverage is measured against."""
    return set(db.session.scalars(select(GepAccount.parcel_id).distinct()))


def account_services(account: GepAccount) -> list[dict]:
    """The account's services with names and shares of the total, largest first."""
    values = {s.service: s.value for s in account.services}
    pct = shares(values)
    rows = [{"code": s.service, "category": s.category, "quantity": s.quantity, "unit": s.unit, "value": s.value,
             "share": pct[s.service], "name_zh": SERVICE_NAMES[s.service][0], "name_en": SERVICE_NAMES[s.service][1]}
            for s in account.services]
    return sorted(rows, key=lambda r: r["value"], reverse=True)


def scan_summary(parcel_id: int, top: int = 3) -> Optional[dict]:
    """A short GEP summary of a parcel for the consumer scan page, or None without an account.

    {"year", "total_value" (Decimal yuan), "value_per_ha", "area_ha", "price_version", "account_id",
     "categories": [{"code", "name_zh", "name_en", "value", "share"}],
     "top_services": [{"code", "name_zh", "name_en", "value", "share"}]}  (shares in percent)
    """
    account = latest_account(parcel_id)
    if account is None:
        return None
    cat = category_shares(account.provisioning, account.regulating, account.cultural)
    services = account_services(account)[:top]
    per_ha = (account.total / account.area_ha).quantize(CENT, ROUND_HALF_UP) if account.area_ha else Decimal(0)
    return {
        "year": account.year, "total_value": account.total, "value_per_ha": per_ha, "area_ha": account.area_ha,
        "price_version": account.version.code, "account_id": account.id,
        "categories": [{"code": c, "name_zh": CATEGORY_NAMES[c][0], "name_en": CATEGORY_NAMES[c][1],
                        "value": getattr(account, c), "share": cat[c]} for c in CATEGORIES],
        "top_services": [{k: s[k] for k in ("code", "name_zh", "name_en", "value", "share")} for s in services],
    }


def service_quantity(parcel_ids: list[int], year: int, service: str = "carbon_sequestration") -> Optional[dict]:
    """The summed quantity of one ecosystem service over parcels in a year, from each parcel's
    latest account of that year (the carbon registry shows it beside verified tonnes), or None
    when no parcel has an account that year. ``{"quantity", "unit", "parcels", "accounts"}``."""
    total, unit, accounts = Decimal("0"), None, []
    for parcel_id in parcel_ids:
        account = latest_account(parcel_id, year)
        if account is None or account.year != year:
            continue
        for value in account.services:
            if value.service == service:
                total += value.quantity
                unit = value.unit
                accounts.append(account.id)
    if not accounts:
        return None
    return {"quantity": total, "unit": unit, "parcels": len(accounts), "accounts": accounts}
