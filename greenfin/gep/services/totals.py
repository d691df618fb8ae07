"""GEP totals by district, township and village; service totals; year-over-year change; reports."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Optional

from sqlalchemy import func, select

from greenfin.core.models import Township
from greenfin.errors import NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.gep import engine
from greenfin.gep.labels import SERVICE_NAMES
from greenfin.gep.models import GepAccount, GepServiceValue, GepVersion

CENT = Decimal("0.01")
CATEGORIES = engine.CATEGORIES


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


def category_shares(provisioning: Decimal, regulating: Decimal, cultural: Decimal) -> dict[str, Decimal]:
    return shares({"provisioning": provisioning, "regulating": regulating, "cultural": cultural})


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
