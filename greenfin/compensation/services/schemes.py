"""Compensation schemes: versioned rules of four kinds, locked once a run used them."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import Select, func, select

from greenfin.compensation.models import KINDS, CompensationScheme
from greenfin.compensation.rules import CENT
from greenfin.core import services as core
from greenfin.core.types import utcnow
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.numbers import parse_decimal
from greenfin.security import current_actor

LAND_COVERS = ("forest", "wetland", "water", "grassland", "orchard", "tea", "farmland")
DEFAULT_WATER_INDICATORS = {"codmn": "permanganate index", "nh3n": "ammonia nitrogen", "tp": "total phosphorus"}


def _amount(value, field: str, errors: dict, *, positive: bool = True) -> Optional[str]:
    number = parse_decimal(value, field, errors)
    if number is None:
        return None
    if number < 0 or (positive and number == 0) or number != number.quantize(CENT):
        errors.setdefault(field, []).append(N_("must be a positive amount in whole cents"))
        return None
    return str(number.quantize(CENT))


def _ratio(value, field: str, errors: dict) -> Optional[str]:
    number = parse_decimal(value, field, errors)
    if number is None:
        return None
    if number < 0:
        errors.setdefault(field, []).append(N_("must not be negative"))
        return None
    return str(number)


def _township(code, field: str, errors: dict) -> Optional[str]:
    known = {t.code for t in core.list_townships()}
    if code not in known:
        errors.setdefault(field, []).append(N_("unknown township of Guangfeng district"))
        return None
    return code


def validate_rules(kind: str, rules: Any) -> dict:
    """The rules of a scheme of ``kind``, checked and normalised (amounts as strings of Decimals)."""
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        raise ValidationFailed.field("kind", N_("must be one of budget_split, water_bet, per_hectare, eco_jobs"))
    if not isinstance(rules, dict):
        raise ValidationFailed.field("rules", N_("must be an object"))
    out: dict[str, Any] = {}
    if kind == "budget_split":
        out["budget"] = _amount(rules.get("budget"), "rules.budget", errors)
        weights = rules.get("weights") or {}
        out["weights"] = {k: _ratio(weights.get(k, "0"), f"rules.weights.{k}", errors) for k in ("regulating", "quantity")}
        if not errors and sum(Decimal(v) for v in out["weights"].values()) <= 0:
            errors.setdefault("rules.weights", []).append(N_("must have a positive sum"))
        if rules.get("base_prices"):
            out["base_prices"] = str(rules["base_prices"])[:32]
    elif kind == "water_bet":
        out["upstream"] = _township(rules.get("upstream"), "rules.upstream", errors)
        out["downstream"] = _township(rules.get("downstream"), "rules.downstream", errors)
        if out["upstream"] and out["upstream"] == out["downstream"]:
            errors.setdefault("rules.downstream", []).append(N_("must differ from the upstream township"))
        out["amount"] = _amount(rules.get("amount"), "rules.amount", errors)
        out["k0"] = _ratio(rules.get("k0", "0.85"), "rules.k0", errors)
        out["threshold"] = _ratio(rules.get("threshold", "1"), "rules.threshold", errors)
        stations = rules.get("stations")
        if not isinstance(stations, list) or not stations or not all(isinstance(s, str) and s.strip() for s in stations):
            errors.setdefault("rules.stations", []).append(N_("must list at least one monitoring station"))
        else:
            out["stations"] = [s.strip()[:32] for s in stations]
        indicators = rules.get("indicators")
        if not isinstance(indicators, dict) or not indicators:
            errors.setdefault("rules.indicators", []).append(N_("must give each indicator's baseline and weight"))
        else:
            out["indicators"] = {}
            for code, spec in indicators.items():
                spec = spec if isinstance(spec, dict) else {}
                baseline = _ratio(spec.get("baseline"), f"rules.indicators.{code}.baseline", errors)
                if baseline is not None and Decimal(baseline) == 0:
                    errors.setdefault(f"rules.indicators.{code}.baseline", []).append(N_("must be positive"))
                out["indicators"][str(code)[:16]] = {
                    "baseline": baseline, "weight": _ratio(spec.get("weight"), f"rules.indicators.{code}.weight", errors)}
            parsed = [s["weight"] for s in out["indicators"].values()]
            if None not in parsed and sum(Decimal(w) for w in parsed) != 1:
                errors.setdefault("rules.indicators", []).append(N_("the weights must add up to 1"))
    elif kind == "per_hectare":
        rates = rules.get("rates")
        if not isinstance(rates, dict) or not rates:
            errors.setdefault("rules.rates", []).append(N_("must give a rate per hectare for at least one land cover"))
        else:
            out["rates"] = {}
            for cover, rate in rates.items():
                if cover not in LAND_COVERS:
                    errors.setdefault(f"rules.rates.{cover}", []).append(N_("unknown land cover"))
                    continue
                out["rates"][cover] = _amount(rate, f"rules.rates.{cover}", errors)
    elif kind == "eco_jobs":
        out["monthly_pay"] = _amount(rules.get("monthly_pay"), "rules.monthly_pay", errors)
        jobs = rules.get("jobs")
        if not isinstance(jobs, list) or not jobs:
            errors.setdefault("rules.jobs", []).append(N_("must list at least one eco-job"))
        else:
            out["jobs"] = []
            for i, job in enumerate(jobs):
                job = job if isinstance(job, dict) else {}
                months = job.get("months")
                if not isinstance(months, int) or not 1 <= months <= 12:
                    errors.setdefault(f"rules.jobs.{i}.months", []).append(N_("must be a whole number from 1 to 12"))
                if job.get("role") not in ("ranger", "river_patrol"):
                    errors.setdefault(f"rules.jobs.{i}.role", []).append(N_("must be ranger or river_patrol"))
                party_id = job.get("party_id")
                try:
                    core.get_party(int(party_id))
                except (NotFound, TypeError, ValueError):
                    errors.setdefault(f"rules.jobs.{i}.party_id", []).append(N_("unknown party"))
                out["jobs"].append({"party_id": party_id, "role": job.get("role"), "months": months,
                                    "township_code": _township(job.get("township_code"),
                                                               f"rules.jobs.{i}.township_code", errors)})
    if errors:
        raise ValidationFailed("The scheme's rules are not valid", errors)
    return out


def _check_header(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    code = (data.get("code") or "").strip()
    title = (data.get("title") or "").strip()
    if not code or len(code) > 32:
        errors.setdefault("code", []).append(N_("must be 1 to 32 characters"))
    if not title or len(title) > 255:
        errors.setdefault("title", []).append(N_("must be 1 to 255 characters"))
    if errors:
        raise ValidationFailed("The scheme is not valid", errors)
    return {"code": code, "title": title}


def create_scheme(data: dict) -> CompensationScheme:
    """A new scheme (version 1). ``data``: code, title, kind, rules, notes."""
    header = _check_header(data)
    rules = validate_rules(data.get("kind"), data.get("rules"))
    if db.session.scalar(select(CompensationScheme.id).where(CompensationScheme.code == header["code"]).limit(1)):
        raise Conflict(f"scheme {header['code']} exists: add a version instead", code="scheme_exists")
    actor = current_actor()
    scheme = CompensationScheme(code=header["code"], version=1, kind=data["kind"], title=header["title"], rules=rules,
                                notes=data.get("notes"), created_by_id=actor.id if actor else None)
    db.session.add(scheme)
    db.session.flush()
    core.record_audit("compensation.scheme.create", "compensation_scheme", scheme.id,
                      after={"code": scheme.code, "version": 1, "kind": scheme.kind, "rules": rules})
    return scheme


def new_scheme_version(source: CompensationScheme, data: dict) -> CompensationScheme:
    """A new version of ``source`` with changed title, rules or notes (the kind stays)."""
    rules = validate_rules(source.kind, data.get("rules", source.rules))
    latest = db.session.scalar(select(func.max(CompensationScheme.version)).where(CompensationScheme.code == source.code))
    actor = current_actor()
    scheme = CompensationScheme(code=source.code, version=latest + 1, kind=source.kind,
                                title=(data.get("title") or source.title).strip()[:255], rules=rules,
                                notes=data.get("notes", source.notes), based_on_id=source.id,
                                created_by_id=actor.id if actor else None)
    db.session.add(scheme)
    db.session.flush()
    core.record_audit("compensation.scheme.version", "compensation_scheme", scheme.id,
                      before={"id": source.id, "version": source.version, "rules": source.rules},
                      after={"code": scheme.code, "version": scheme.version, "rules": rules})
    return scheme


def update_scheme(scheme: CompensationScheme, data: dict) -> CompensationScheme:
    """Change an unlocked scheme in place; a locked one answers 409 (add a version instead)."""
    if scheme.locked:
        raise Conflict("This scheme version was used by a run and is locked: add a new version",
                       code="scheme_locked")
    before = {"title": scheme.title, "rules": scheme.rules, "notes": scheme.notes}
    if "rules" in data:
        scheme.rules = validate_rules(scheme.kind, data["rules"])
    if "title" in data:
        scheme.title = _check_header({"code": scheme.code, "title": data["title"]})["title"]
    if "notes" in data:
        scheme.notes = data["notes"]
    db.session.flush()
    core.record_audit("compensation.scheme.update", "compensation_scheme", scheme.id, before=before,
                      after={"title": scheme.title, "rules": scheme.rules, "notes": scheme.notes})
    return scheme


def lock_scheme(scheme: CompensationScheme) -> None:
    if not scheme.locked:
        scheme.locked_at = utcnow()
        core.record_audit("compensation.scheme.lock", "compensation_scheme", scheme.id,
                          after={"code": scheme.code, "version": scheme.version})


def get_scheme(scheme_id: int) -> CompensationScheme:
    scheme = db.session.get(CompensationScheme, scheme_id)
    if scheme is None:
        raise NotFound(f"compensation scheme {scheme_id} not found")
    return scheme


def find_scheme(code: str, version: Optional[int] = None) -> CompensationScheme:
    """A scheme by code and version (the newest without one)."""
    stmt = select(CompensationScheme).where(CompensationScheme.code == code)
    stmt = stmt.where(CompensationScheme.version == version) if version else stmt.order_by(CompensationScheme.version.desc())
    scheme = db.session.scalar(stmt.limit(1))
    if scheme is None:
        raise NotFound(f"compensation scheme {code}" + (f" v{version}" if version else "") + " not found")
    return scheme


def scheme_query(kind: Optional[str] = None) -> Select:
    stmt = select(CompensationScheme).order_by(CompensationScheme.code, CompensationScheme.version.desc())
    if kind:
        stmt = stmt.where(CompensationScheme.kind == kind)
    return stmt
