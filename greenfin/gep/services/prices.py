"""GEP prices and parameters: price and parameter versions (create, copy with changes, edit while
unused, lock once used). The reference values themselves are in ``greenfin/gep/reference.py``."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Optional

from sqlalchemy import Select, select

from greenfin.core import services as core
from greenfin.core.types import utcnow
from greenfin.numbers import to_decimal
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.gep import engine, reference
from greenfin.gep.models import GepParameter, GepVersion

PARAMETER_FIELDS = ("value", "unit", "source", "year")


# ---------------------------------------------------------------- versions


def version_query() -> Select:
    """Every version, newest base year first."""
    return select(GepVersion).order_by(GepVersion.year.desc(), GepVersion.id.desc())


def list_versions() -> list[GepVersion]:
    return list(db.session.scalars(version_query()))


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
        value = to_decimal(row.get("value"))
        if value is None or value < 0:
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
        errors["year"] = [N_("must be between %(lo)s and %(hi)s", lo=1990, hi=2100)]
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
