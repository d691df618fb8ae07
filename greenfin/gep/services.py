"""GEP business functions. They add and flush, never commit.

For other packages (reach GEP only through these):
- ``current_parcel_gep(parcel_id) -> Optional[ParcelGep]``: the latest account of a
  parcel (value, account id, year, price version), e.g. to value loan collateral;
- ``scan_summary(parcel_id) -> Optional[dict]``: a short summary for the consumer
  scan page (year, total, value per ha, top services with shares, both languages).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Optional

import numpy as np
from sqlalchemy import Select, func, insert, select

from greenfin.core import services as core
from greenfin.core.models import Parcel, Township
from greenfin.core.types import utcnow
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.gep import engine, reference
from greenfin.gep.labels import CATEGORY_NAMES, SERVICE_NAMES
from greenfin.gep.models import GepAccount, GepParameter, GepParcelAttribute, GepServiceValue, GepVersion

CENT = Decimal("0.01")
CATEGORIES = engine.CATEGORIES
ATTRIBUTE_FIELDS = ("k_factor", "ls_factor", "npp", "yield_t_ha", "slope_deg")
ATTRIBUTE_LIMITS = {  # plausible physical ranges, to catch unit mistakes on input
    "k_factor": (Decimal("0"), Decimal("0.1")),
    "ls_factor": (Decimal("0"), Decimal("100")),
    "npp": (Decimal("0"), Decimal("3000")),
    "yield_t_ha": (Decimal("0"), Decimal("200")),
    "slope_deg": (Decimal("0"), Decimal("90")),
}
PARAMETER_FIELDS = ("value", "unit", "source", "year")


@dataclass(frozen=True)
class ParcelGep:
    """A parcel's current GEP: the total of its latest account, in yuan."""

    value: Decimal
    account_id: int
    year: int
    price_version: str


# ---------------------------------------------------------------- shares


def shares(values: dict[str, Decimal], places: int = 2) -> dict[str, Decimal]:
    """Percent shares of ``values`` that sum to exactly 100 (largest-remainder rounding).

    All zero (or empty) gives all zero shares.
    """
    total = sum(values.values(), Decimal(0))
    if total <= 0:
        return {k: Decimal(0).quantize(Decimal(1).scaleb(-places)) for k in values}
    unit = Decimal(1).scaleb(-places)
    steps = 100 * 10 ** places
    raw = {k: Decimal(v) * steps / total for k, v in values.items()}
    floors = {k: int(r) for k, r in raw.items()}
    left = steps - sum(floors.values())
    for k in sorted(raw, key=lambda k: (raw[k] - floors[k], raw[k]), reverse=True)[:left]:
        floors[k] += 1
    return {k: Decimal(n) * unit for k, n in floors.items()}


# ---------------------------------------------------------------- versions


def list_versions() -> list[GepVersion]:
    return list(db.session.scalars(select(GepVersion).order_by(GepVersion.year.desc(), GepVersion.id.desc())))


def get_version(code: str) -> GepVersion:
    version = db.session.scalar(select(GepVersion).where(GepVersion.code == code))
    if version is None:
        raise NotFound(f"GEP price version '{code}' not found")
    return version


def default_version(year: int) -> GepVersion:
    """The newest version whose price base year is at most ``year`` (else the oldest one)."""
    version = db.session.scalar(select(GepVersion).where(GepVersion.year <= year)
                                .order_by(GepVersion.year.desc(), GepVersion.id.desc()).limit(1))
    if version is None:
        version = db.session.scalar(select(GepVersion).order_by(GepVersion.year, GepVersion.id).limit(1))
    if version is None:
        raise NotFound("no GEP price version exists; run `flask --app greenfin gep init-prices`")
    return version


def _check_rows(rows: Iterable[dict], errors: dict) -> None:
    for row in rows:
        key = row.get("key", "?")
        if row.get("kind") not in ("parameter", "price"):
            errors.setdefault(key, []).append("kind must be parameter or price")
        if not (row.get("unit") or "").strip():
            errors.setdefault(key, []).append("unit is required")
        if not (row.get("source") or "").strip():
            errors.setdefault(key, []).append("source is required")
        if not isinstance(row.get("year"), int) or not (1990 <= row["year"] <= 2100):
            errors.setdefault(key, []).append("year must be between 1990 and 2100")
        try:
            value = Decimal(str(row.get("value")))
            if not value.is_finite() or value < 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.setdefault(key, []).append("value must be a finite number ≥ 0")


def _check_complete(values: dict[str, float]) -> None:
    """Every parameter the formulas need must be present."""
    try:
        engine.compute_reference({"area_ha": 1.0, "land_cover": "forest"}, values)
        engine.recreation_value_per_weighted_ha(values)
        for cover in engine.COVERS:
            engine.compute_reference({"area_ha": 1.0, "land_cover": cover}, values)
    except engine.MissingParameter as exc:
        raise ValidationFailed("Incomplete parameter table", {"parameters": [f"missing {exc.args[0]}"]}) from None
    except ZeroDivisionError:
        raise ValidationFailed("Invalid parameter table",
                               {"parameters": ["soil_bulk_density and ac_eer must be above zero"]}) from None


def _version_snapshot(version: GepVersion) -> dict:
    return {"code": version.code, "title": version.title, "year": version.year,
            "based_on": version.based_on.code if version.based_on else None, "parameters": len(version.parameters)}


def create_version(data: dict, rows: list[dict], based_on: Optional[GepVersion] = None) -> GepVersion:
    errors: dict[str, list[str]] = {}
    code = (data.get("code") or "").strip()
    if not code:
        errors["code"] = ["is required"]
    elif db.session.scalar(select(GepVersion.id).where(GepVersion.code == code)):
        errors["code"] = [f"version '{code}' already exists"]
    if not (data.get("title") or "").strip():
        errors["title"] = ["is required"]
    year = data.get("year")
    if not isinstance(year, int) or not (1990 <= year <= 2100):
        errors["year"] = ["must be between 1990 and 2100"]
    _check_rows(rows, errors)
    if errors:
        raise ValidationFailed("Invalid GEP version", errors)
    _check_complete({r["key"]: float(r["value"]) for r in rows})
    version = GepVersion(code=code, title=data["title"].strip(), year=year, notes=data.get("notes"),
                         based_on=based_on)
    for row in rows:
        version.parameters.append(GepParameter(key=row["key"], kind=row["kind"], value=Decimal(str(row["value"])),
                                               unit=row["unit"].strip(), source=row["source"].strip(),
                                               year=row["year"]))
    db.session.add(version)
    db.session.flush()
    core.record_audit("gep.version.create", "gep_version", version.code, after=_version_snapshot(version))
    return version


def install_reference_versions(years: Iterable[int] = (2024, 2025)) -> list[GepVersion]:
    """Load the reference tables (``reference.py``) as versions ``GF-<year>`` when absent."""
    out = []
    for year in years:
        code = f"GF-{year}"
        existing = db.session.scalar(select(GepVersion).where(GepVersion.code == code))
        if existing is not None:
            out.append(existing)
            continue
        rows = [{"key": k, "value": v, "unit": u, "source": s, "year": y, "kind": kind}
                for k, v, u, s, y, kind in reference.reference_rows(year)]
        out.append(create_version({"code": code, "title": f"Guangfeng GEP parameters and prices {year}",
                                   "year": year, "notes": "reference table; see docs/gep.md"}, rows))
    return out


def copy_version(source: GepVersion, data: dict, changes: Optional[dict[str, dict]] = None) -> GepVersion:
    """A new version: a copy of ``source`` with ``changes`` ({key: {value, unit, source, year}}) applied."""
    changes = changes or {}
    rows = {p.key: {"key": p.key, "kind": p.kind, "value": p.value, "unit": p.unit, "source": p.source,
                    "year": p.year} for p in source.parameters}
    unknown = sorted(set(changes) - set(rows))
    if unknown:
        raise ValidationFailed("Unknown parameters", {"changes": [f"unknown key {k}" for k in unknown]})
    for key, change in changes.items():
        rows[key].update({f: change[f] for f in PARAMETER_FIELDS if f in change and change[f] is not None})
    data = dict(data)
    data.setdefault("title", source.title)
    data.setdefault("year", source.year)
    return create_version(data, list(rows.values()), based_on=source)


def _locked_row(version: GepVersion) -> GepVersion:
    """Re-read the version row under a row lock (PostgreSQL), so that an edit and a computation
    that use the same version serialise: the edit either lands before the computation reads the
    values, or sees the version locked."""
    return db.session.scalars(select(GepVersion).where(GepVersion.id == version.id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def update_parameter(version: GepVersion, key: str, data: dict) -> GepParameter:
    """Edit one value of a version that no account has used yet."""
    version = _locked_row(version)
    if version.locked:
        raise Conflict(f"version {version.code} is used by accounts and cannot change; copy it to a new version")
    param = db.session.scalar(select(GepParameter).where(GepParameter.version_id == version.id,
                                                         GepParameter.key == key))
    if param is None:
        raise NotFound(f"parameter {key} not found in version {version.code}")
    before = {f: getattr(param, f) for f in PARAMETER_FIELDS}
    merged = {"key": key, "kind": param.kind} | before | {f: data[f] for f in PARAMETER_FIELDS if data.get(f) is not None}
    errors: dict[str, list[str]] = {}
    _check_rows([merged], errors)
    if errors:
        raise ValidationFailed("Invalid parameter", {f: msgs for f, msgs in errors.items()})
    values = version.values() | {key: float(merged["value"])}
    _check_complete(values)
    param.value = Decimal(str(merged["value"]))
    param.unit, param.source, param.year = merged["unit"].strip(), merged["source"].strip(), merged["year"]
    db.session.flush()
    core.record_audit("gep.parameter.update", "gep_parameter", f"{version.code}:{key}", before=before,
                      after={f: getattr(param, f) for f in PARAMETER_FIELDS})
    return param


def _lock(version: GepVersion) -> None:
    if version.locked_at is None:
        version.locked_at = utcnow()
        core.record_audit("gep.version.lock", "gep_version", version.code, after={"locked_at": version.locked_at})


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
        try:
            number = Decimal(str(value))
            if not number.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[field] = ["must be a number"]
            continue
        lo, hi = ATTRIBUTE_LIMITS[field]
        if not (lo <= number <= hi):
            errors[field] = [f"must be between {lo} and {hi}"]
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
                     progress: Optional[Callable[[int, str], None]] = None, chunk: int = 2000) -> ComputeResult:
    """Account the parcels (all, or ``parcel_ids``) for ``year`` under ``version``, vectorised.

    A parcel whose account for this year, version and inputs exists already is left
    alone (running twice adds nothing); a new version or changed inputs add a new
    account and keep the old ones.
    """
    if not (1990 <= int(year) <= 2100):
        raise ValidationFailed.field("year", "must be between 1990 and 2100")
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
        progress(5, f"{len(records)} parcels loaded")
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
        progress(20, "computed")

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
            progress(20 + int(75 * min(n, start + chunk) / n), f"{min(n, start + chunk)} of {n} parcels stored")
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


def account_services(account: GepAccount) -> list[dict]:
    """The account's services with names and shares of the total, largest first."""
    values = {s.service: s.value for s in account.services}
    pct = shares(values)
    rows = [{"code": s.service, "category": s.category, "quantity": s.quantity, "unit": s.unit, "value": s.value,
             "share": pct[s.service], "name_zh": SERVICE_NAMES[s.service][0], "name_en": SERVICE_NAMES[s.service][1]}
            for s in account.services]
    return sorted(rows, key=lambda r: r["value"], reverse=True)


def category_shares(provisioning: Decimal, regulating: Decimal, cultural: Decimal) -> dict[str, Decimal]:
    return shares({"provisioning": provisioning, "regulating": regulating, "cultural": cultural})


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


# ---------------------------------------------------------------- totals


def _latest_ids(year: int, version: Optional[GepVersion] = None):
    stmt = select(func.max(GepAccount.id).label("id")).where(GepAccount.year == year)
    if version is not None:
        stmt = stmt.where(GepAccount.version_id == version.id)
    return stmt.group_by(GepAccount.parcel_id).subquery()


def totals(year: int, level: str = "township", *, township: Optional[str] = None,
           version: Optional[GepVersion] = None) -> list[dict]:
    """GEP totals by ``level`` (district, township or village) over each parcel's latest account of ``year``.

    Each row: key (township code, village or district code), name_zh/name_en, parcels, area_ha,
    provisioning, regulating, cultural, total (Decimal yuan), per_km2, shares (percent, sum 100).
    """
    if level not in ("district", "township", "village"):
        raise ValidationFailed.field("level", "must be district, township or village")
    latest = _latest_ids(year, version)
    keys = {"district": [], "township": [GepAccount.township_code],
            "village": [GepAccount.township_code, GepAccount.village]}[level]
    stmt = (select(*keys, func.count(GepAccount.id), func.sum(GepAccount.area_ha), func.sum(GepAccount.provisioning),
                   func.sum(GepAccount.regulating), func.sum(GepAccount.cultural), func.sum(GepAccount.total))
            .join(latest, latest.c.id == GepAccount.id))
    if township:
        stmt = stmt.where(GepAccount.township_code == township)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    names = {t.code: (t.name_zh, t.name_en) for t in db.session.scalars(select(Township))}
    out = []
    from greenfin.core.geography import DISTRICT_CODE, DISTRICT_NAME_EN, DISTRICT_NAME_ZH

    for row in db.session.execute(stmt):
        vals = list(row)
        key_vals, (count, area, prov, reg, cult, total) = vals[:len(keys)], vals[len(keys):]
        if not count:
            continue
        dec = [Decimal(str(v or 0)).quantize(CENT) for v in (prov, reg, cult, total)]
        area = Decimal(str(area or 0))
        if level == "district":
            key, zh, en = DISTRICT_CODE, DISTRICT_NAME_ZH, DISTRICT_NAME_EN
        elif level == "township":
            key = key_vals[0]
            zh, en = names.get(key, (key, key))
        else:
            key = key_vals[1] or "—"
            zh = en = key
        per_km2 = (dec[3] / (area / 100)).quantize(CENT, ROUND_HALF_UP) if area else Decimal(0)
        out.append({"key": key, "township_code": key_vals[0] if keys else None, "name_zh": zh, "name_en": en,
                    "parcels": count, "area_ha": area, "provisioning": dec[0], "regulating": dec[1],
                    "cultural": dec[2], "total": dec[3], "per_km2": per_km2,
                    "shares": category_shares(*dec[:3])})
    if level != "district":
        out.sort(key=lambda r: r["total"], reverse=True)
    return out


def district_total(year: int, *, township: Optional[str] = None, version: Optional[GepVersion] = None) -> Optional[dict]:
    rows = totals(year, "district", township=township, version=version)
    return rows[0] if rows else None


def service_totals(year: int, *, township: Optional[str] = None, version: Optional[GepVersion] = None) -> list[dict]:
    """Quantity and value per service over the latest accounts of ``year``, with shares; largest first."""
    latest = _latest_ids(year, version)
    stmt = (select(GepServiceValue.service, GepServiceValue.category, GepServiceValue.unit,
                   func.sum(GepServiceValue.quantity), func.sum(GepServiceValue.value))
            .join(GepAccount, GepAccount.id == GepServiceValue.account_id)
            .join(latest, latest.c.id == GepAccount.id)
            .group_by(GepServiceValue.service, GepServiceValue.category, GepServiceValue.unit))
    if township:
        stmt = stmt.where(GepAccount.township_code == township)
    rows = [{"code": s, "category": c, "unit": u, "quantity": Decimal(str(q or 0)),
             "value": Decimal(str(v or 0)).quantize(CENT), "name_zh": SERVICE_NAMES[s][0],
             "name_en": SERVICE_NAMES[s][1]} for s, c, u, q, v in db.session.execute(stmt)]
    pct = shares({r["code"]: r["value"] for r in rows})
    for r in rows:
        r["share"] = pct[r["code"]]
    return sorted(rows, key=lambda r: r["value"], reverse=True)


def year_over_year(year: int, level: str = "township", *, township: Optional[str] = None) -> list[dict]:
    """Totals of ``year`` beside ``year - 1``: change in yuan and percent (None where no prior year)."""
    prior = {r["key"]: r for r in totals(year - 1, level, township=township)}
    out = []
    for row in totals(year, level, township=township):
        before = prior.get(row["key"])
        change = row["total"] - before["total"] if before else None
        pct = ((change / before["total"] * 100).quantize(CENT, ROUND_HALF_UP)
               if before and before["total"] else None)
        out.append(row | {"previous": before["total"] if before else None, "change": change, "change_pct": pct})
    return out


def account_years() -> list[int]:
    return list(db.session.scalars(select(GepAccount.year).distinct().order_by(GepAccount.year.desc())))


# ---------------------------------------------------------------- reports


def find_township(name: str) -> Township:
    """A township by code, Chinese or English name."""
    name = (name or "").strip()
    township = db.session.scalar(select(Township).where(
        (Township.code == name.lower()) | (Township.name_zh == name) | (func.lower(Township.name_en) == name.lower())))
    if township is None:
        raise NotFound(f"unknown township '{name}'")
    return township


def versions_used(year: int, township: Optional[str] = None) -> list[str]:
    latest = _latest_ids(year)
    stmt = (select(GepVersion.code).join(GepAccount, GepAccount.version_id == GepVersion.id)
            .join(latest, latest.c.id == GepAccount.id).distinct().order_by(GepVersion.code))
    if township:
        stmt = stmt.where(GepAccount.township_code == township)
    return list(db.session.scalars(stmt))


def report_pdf(year: int, township: Optional[str] = None) -> bytes:
    """The GEP report PDF of a township (by village) or of the district (by township)."""
    from greenfin.core.geography import DISTRICT_NAME_ZH
    from greenfin.gep.pdf import render_report

    summary = district_total(year, township=township)
    if summary is None:
        where = f"township {township}" if township else "the district"
        raise NotFound(f"no GEP accounts for {where} in {year}; run `gep compute --year {year}` first")
    previous = district_total(year - 1, township=township)
    if township:
        place = find_township(township)
        title, areas, label = place.name_zh, totals(year, "village", township=township), "按村 By village"
    else:
        title, areas, label = DISTRICT_NAME_ZH, totals(year, "township"), "按乡镇(街道) By township"
    return render_report(title=title, year=year, summary=summary, previous=previous,
                         services=service_totals(year, township=township), areas=areas, area_label=label,
                         versions=versions_used(year, township))
