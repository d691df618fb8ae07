"""Index products, versioned: a product code's versions are rows; a change is the next version."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from sqlalchemy import func, select

from greenfin.core.services import record_audit, snapshot
from greenfin.errors import N_, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.insurance import rules
from greenfin.insurance.models import COVERS, PAYOUT_MODES, PERILS, SUBSIDY_PAYERS, IndexProduct
from greenfin.numbers import parse_decimal

PRODUCT_FIELDS = ("code", "version", "name_zh", "name_en", "peril", "land_cover", "season_start", "season_end",
                  "trigger", "exit", "payout_mode", "tiers", "dry_day_mm", "sum_insured_per_ha", "premium_rate",
                  "loading", "subsidy")


def terms_of(product: IndexProduct) -> rules.Terms:
    return rules.Terms(peril=product.peril, trigger=Decimal(product.trigger), exit=Decimal(product.exit),
                       payout_mode=product.payout_mode,
                       tiers=tuple((Decimal(str(t["level"])), Decimal(str(t["share"]))) for t in product.tiers or []),
                       dry_day_mm=Decimal(product.dry_day_mm) if product.dry_day_mm is not None else None)


def list_products(code: Optional[str] = None) -> list[IndexProduct]:
    stmt = select(IndexProduct).order_by(IndexProduct.code, IndexProduct.version.desc())
    if code:
        stmt = stmt.where(IndexProduct.code == code)
    return list(db.session.scalars(stmt))


def latest_products() -> list[IndexProduct]:
    """The newest version of every product code."""
    newest = select(IndexProduct.code, func.max(IndexProduct.version).label("v")).group_by(IndexProduct.code).subquery()
    return list(db.session.scalars(select(IndexProduct).join(
        newest, (IndexProduct.code == newest.c.code) & (IndexProduct.version == newest.c.v)).order_by(IndexProduct.code)))


def get_product(product_id: int) -> IndexProduct:
    product = db.session.get(IndexProduct, product_id)
    if product is None:
        raise NotFound(N_("index product not found"), {"product_id": [f"unknown product {product_id}"]})
    return product


def find_product(code: str, version: Optional[int] = None) -> Optional[IndexProduct]:
    stmt = select(IndexProduct).where(IndexProduct.code == code)
    stmt = stmt.where(IndexProduct.version == version) if version else stmt.order_by(IndexProduct.version.desc())
    return db.session.scalars(stmt.limit(1)).first()


def validate_product(data: dict) -> dict:
    """The product's fields checked one by one and as a whole; ValidationFailed names each problem."""
    errors: dict[str, list[str]] = {}
    out: dict = {}
    code = (data.get("code") or "").strip().upper()
    if not code or len(code) > 32 or not all(c.isalnum() or c in "-_" for c in code):
        errors["code"] = ["is required: letters, digits, - and _ (at most 32)"]
    out["code"] = code
    for key in ("name_zh", "name_en"):
        out[key] = (data.get(key) or "").strip()
        if not out[key]:
            errors[key] = ["is required"]
    for key, allowed in (("peril", PERILS), ("land_cover", COVERS), ("payout_mode", PAYOUT_MODES)):
        out[key] = data.get(key)
        if out[key] not in allowed:
            errors[key] = ["must be one of " + ", ".join(allowed)]
    for key in ("season_start", "season_end"):
        out[key] = (data.get(key) or "").strip()
        try:
            month, day = rules.parse_month_day(out[key])
            out[key] = f"{month:02d}-{day:02d}"
        except (ValueError, TypeError):
            errors[key] = ["write the day as MM-DD"]
    if not errors.get("season_start") and not errors.get("season_end") and out["season_start"] == out["season_end"]:
        errors["season_end"] = ["must differ from the season start"]
    for key in ("trigger", "exit", "sum_insured_per_ha", "premium_rate"):
        out[key] = parse_decimal(data.get(key), key, errors)
    out["loading"] = parse_decimal(data.get("loading") if data.get("loading") not in (None, "") else "1.5",
                                   "loading", errors)
    out["dry_day_mm"] = (parse_decimal(data.get("dry_day_mm"), "dry_day_mm", errors)
                         if data.get("dry_day_mm") not in (None, "") else None)
    if out["sum_insured_per_ha"] is not None and out["sum_insured_per_ha"] <= 0:
        errors["sum_insured_per_ha"] = ["must be positive"]
    if out["premium_rate"] is not None and not 0 < out["premium_rate"] < 1:
        errors["premium_rate"] = ["must be a share above 0 and below 1"]
    if out["loading"] is not None and not 1 <= out["loading"] <= 5:
        errors["loading"] = ["must be between 1 and 5"]
    tiers = []
    for i, tier in enumerate(data.get("tiers") or []):
        level = parse_decimal(tier.get("level"), f"tiers.{i}.level", errors)
        share = parse_decimal(tier.get("share"), f"tiers.{i}.share", errors)
        if level is not None and share is not None:
            tiers.append((level, share))
    out["tiers"] = tiers
    subsidy = {}
    raw = data.get("subsidy") or {}
    for payer in SUBSIDY_PAYERS:
        value = parse_decimal(raw.get(payer, "0"), f"subsidy.{payer}", errors)
        if value is not None and not 0 <= value <= 1:
            errors[f"subsidy.{payer}"] = ["must be a share between 0 and 1"]
        subsidy[payer] = value
    if all(v is not None for v in subsidy.values()) and sum(subsidy.values()) != 1:
        errors["subsidy"] = ["the shares of central, provincial, county and farmer must add up to 1"]
    out["subsidy"] = subsidy
    rules.validate_terms(out, errors)  # the terms as a whole, with what could be read
    if errors:
        raise ValidationFailed(N_("Invalid index product"), errors)
    return out


def create_product(data: dict) -> IndexProduct:
    """A product's first version, or the next version of an existing code (versions are never edited)."""
    clean = validate_product(data)
    current = find_product(clean["code"])
    version = current.version + 1 if current else 1
    product = IndexProduct(
        **{k: v for k, v in clean.items() if k not in ("tiers", "subsidy")}, version=version,
        tiers=[{"level": str(level), "share": str(share)} for level, share in clean["tiers"]],
        subsidy={k: str(v) for k, v in clean["subsidy"].items()}, notes=(data.get("notes") or "").strip() or None)
    db.session.add(product)
    db.session.flush()
    record_audit("insurance.product.create", "ins_product", product.id, after=snapshot(product, PRODUCT_FIELDS))
    return product
