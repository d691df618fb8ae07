"""Demo GEP data: the reference price versions, measured attributes for the demo parcels,
and two years of accounts (2024 with GF-2024 prices, 2025 with GF-2025) for every parcel."""
from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import select

from greenfin.core.models import Parcel
from greenfin.extensions import db
from greenfin.gep import services


def _d(value: float, places: str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))


def seed_demo(rng: random.Random, context: dict) -> dict:
    versions = {v.code: v for v in services.install_reference_versions((2024, 2025))}
    defaults = versions["GF-2025"].values()
    parcels = list(db.session.scalars(select(Parcel).order_by(Parcel.id)))
    for parcel in parcels:
        cover = parcel.land_cover
        attrs = {
            "k_factor": _d(defaults[f"default_k.{cover}"] * rng.uniform(0.85, 1.15), "0.000001"),
            "ls_factor": _d(defaults[f"default_ls.{cover}"] * rng.uniform(0.6, 1.6), "0.0001"),
            "npp": _d(defaults[f"default_npp.{cover}"] * rng.uniform(0.9, 1.1), "0.01"),
            "slope_deg": _d(rng.uniform(2, 25) if cover in ("forest", "orchard", "tea") else rng.uniform(0, 6), "0.01"),
        }
        if defaults[f"default_yield.{cover}"] > 0:
            attrs["yield_t_ha"] = _d(defaults[f"default_yield.{cover}"] * rng.uniform(0.8, 1.2), "0.001")
        services.set_attributes(parcel, attrs)
    ids = [p.id for p in parcels]
    results = [services.compute_accounts(2024, versions["GF-2024"], parcel_ids=ids),
               services.compute_accounts(2025, versions["GF-2025"], parcel_ids=ids)]
    return {"versions": list(versions), "accounts": sum(r.created for r in results)}
