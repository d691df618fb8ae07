"""The GEP computation: physical quantities and values of every ecosystem service.

Two implementations of the same formulas:
- ``compute_vectorised`` works on numpy arrays over all parcels at once (the job and
  the district runs use it);
- ``compute_reference`` works on one parcel with plain Python floats: it is the
  readable statement of each formula, and the tests check that both agree.

No coefficient lives here: every number comes from ``params``, the rows of one
parameter/price version (``gep_parameters``). Structure follows the national
《生态产品总值核算规范(试行)》(2022) and DB36/T 1402-2021; docs/gep.md lists each
formula with its parameters and their sources.

Units: area in ha (1 ha = 10,000 m²), rainfall and ET in mm (1 mm over 1 ha = 10 m³),
pollutant rates in kg/(ha·a), prices in CNY per the unit of the quantity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

METHOD_VERSION = "gep-method-1"
COVERS = ("forest", "orchard", "farmland", "tea", "grassland", "wetland", "water", "built")
COVER_INDEX = {c: i for i, c in enumerate(COVERS)}


@dataclass(frozen=True)
class Service:
    code: str
    category: str  # provisioning | regulating | cultural
    unit: str
    covers: tuple[str, ...] = COVERS  # provisioning: the land covers that yield this product


# Provisioning products by land cover (the classification of the spec's 物质产品 accounts).
SERVICES: tuple[Service, ...] = (
    Service("crops", "provisioning", "t", ("farmland",)),
    Service("fruit", "provisioning", "t", ("orchard",)),
    Service("tea", "provisioning", "t", ("tea",)),
    Service("timber", "provisioning", "m³", ("forest",)),
    Service("fishery", "provisioning", "t", ("water", "wetland")),
    Service("water_conservation", "regulating", "m³"),
    Service("soil_retention", "regulating", "t"),
    Service("carbon_sequestration", "regulating", "tCO₂"),
    Service("oxygen_release", "regulating", "tO₂"),
    Service("air_purification", "regulating", "t"),
    Service("water_purification", "regulating", "t"),
    Service("climate_regulation", "regulating", "kWh"),
    Service("flood_regulation", "regulating", "m³"),
    Service("recreation", "cultural", "person-trips"),
)
SERVICE_BY_CODE = {s.code: s for s in SERVICES}
CATEGORIES = ("provisioning", "regulating", "cultural")

# Parcel inputs; NaN (vectorised) or None (reference) means "use the land-cover default".
INPUT_DEFAULTS = {"k_factor": "default_k", "ls_factor": "default_ls", "npp": "default_npp",
                  "yield_t_ha": "default_yield"}


class MissingParameter(KeyError):
    pass


def _p(params: Mapping[str, float], key: str) -> float:
    try:
        return float(params[key])
    except KeyError:
        raise MissingParameter(key) from None


def cover_table(params: Mapping[str, float], name: str) -> np.ndarray:
    """The per-land-cover values of parameter ``name`` as an array indexed like COVERS."""
    return np.array([_p(params, f"{name}.{c}") for c in COVERS], dtype=float)


def recreation_value_per_weighted_ha(params: Mapping[str, float]) -> tuple[float, float]:
    """District recreation (visitors, value) per weighted hectare.

    Allocation rule: the district's visitors × travel cost is spread over its whole
    land area in proportion to area × a land-cover weight (water, wetland and forest
    draw visitors, built land little). The denominator is the district's land-use
    table (a parameter), so a parcel's share never depends on which other parcels
    happen to be registered.
    """
    weighted = float(np.dot(cover_table(params, "recreation_weight"), cover_table(params, "district_area_ha")))
    if weighted <= 0:
        return 0.0, 0.0
    visitors = _p(params, "recreation_visitors")
    return visitors / weighted, visitors * _p(params, "price_travel_cost") / weighted


@dataclass
class ParcelArrays:
    area_ha: np.ndarray
    cover: np.ndarray  # int index into COVERS
    k_factor: np.ndarray  # NaN = default
    ls_factor: np.ndarray
    npp: np.ndarray
    yield_t_ha: np.ndarray

    def __len__(self) -> int:
        return len(self.area_ha)

    @classmethod
    def from_records(cls, records: list[Mapping]) -> "ParcelArrays":
        def col(name):
            return np.array([np.nan if r.get(name) is None else float(r[name]) for r in records], dtype=float)

        return cls(
            area_ha=np.array([float(r["area_ha"]) for r in records], dtype=float),
            cover=np.array([COVER_INDEX[r["land_cover"]] for r in records], dtype=np.int64),
            k_factor=col("k_factor"), ls_factor=col("ls_factor"), npp=col("npp"), yield_t_ha=col("yield_t_ha"),
        )


def effective_inputs(arrays: ParcelArrays, params: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Parcel attributes with land-cover defaults filled in where none was measured."""
    out = {"area_ha": arrays.area_ha, "cover": arrays.cover}
    for name, default in INPUT_DEFAULTS.items():
        given = getattr(arrays, name)
        out[name] = np.where(np.isnan(given), cover_table(params, default)[arrays.cover], given)
    return out


def compute_vectorised(arrays: ParcelArrays, params: Mapping[str, float]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{service code: (physical quantity, value in CNY)} for every parcel, as float arrays."""
    eff = effective_inputs(arrays, params)
    area, cov = eff["area_ha"], eff["cover"]

    def t(name):
        return cover_table(params, name)[cov]

    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    # Provisioning: quantity = area × yield; value = quantity × farm-gate price.
    price = t("product_price")
    for s in SERVICES:
        if s.category != "provisioning":
            continue
        mask = np.isin(cov, [COVER_INDEX[c] for c in s.covers])
        qty = np.where(mask, area * eff["yield_t_ha"], 0.0)
        out[s.code] = (qty, qty * price)

    # Water conservation: Q = (P − R − ET)·A, R = P × runoff coefficient; ≥ 0.
    p_mm = _p(params, "precipitation_mm")
    wc_mm = np.maximum(p_mm - p_mm * t("runoff_coef") - t("et_mm"), 0.0)
    wc = wc_mm * 10.0 * area
    out["water_conservation"] = (wc, wc * _p(params, "price_reservoir"))

    # Soil retention: Qsr = R·K·LS·(1 − C·P)·A (t); valued by avoided dredging and nutrients.
    qsr = _p(params, "rainfall_erosivity") * eff["k_factor"] * eff["ls_factor"] * (1.0 - t("cover_c") * t("practice_p")) * area
    qsr = np.maximum(qsr, 0.0)
    v_sediment = qsr * _p(params, "sediment_ratio") / _p(params, "soil_bulk_density") * _p(params, "price_dredging")
    v_nutrient = qsr * (_p(params, "soil_n_content") * _p(params, "price_nitrogen")
                        + _p(params, "soil_p_content") * _p(params, "price_phosphorus"))
    out["soil_retention"] = (qsr, v_sediment + v_nutrient)

    # Carbon sequestration and oxygen release from NEP = NPP × NEP/NPP ratio (tC = gC/m² × ha / 100).
    nep_tc = eff["npp"] * t("nep_ratio") * area / 100.0
    co2 = nep_tc * _p(params, "co2_per_c")
    o2 = nep_tc * _p(params, "o2_per_c")
    out["carbon_sequestration"] = (co2, co2 * _p(params, "price_carbon"))
    out["oxygen_release"] = (o2, o2 * _p(params, "price_oxygen"))

    # Air purification: Σ pollutant absorbed (kg/ha × ha → t) × treatment cost.
    so2, nox, dust = (t(n) * area / 1000.0 for n in ("so2_absorption", "nox_absorption", "dust_retention"))
    out["air_purification"] = (so2 + nox + dust, so2 * _p(params, "price_so2") + nox * _p(params, "price_nox")
                               + dust * _p(params, "price_dust"))

    # Water purification: Σ pollutant removed × treatment cost.
    cod, tn, tp = (t(n) * area / 1000.0 for n in ("cod_removal", "tn_removal", "tp_removal"))
    out["water_purification"] = (cod + tn + tp, cod * _p(params, "price_cod") + tn * _p(params, "price_tn")
                                 + tp * _p(params, "price_tp"))

    # Climate regulation: ET energy on hot days that replaces air conditioning (kWh) × electricity price.
    kwh_factor = (_p(params, "cooling_et_share") * 10.0 * 1000.0 * _p(params, "latent_heat") / 3600.0
                  / _p(params, "ac_eer") * _p(params, "cooling_substitution"))
    kwh = t("et_mm") * area * kwh_factor
    out["climate_regulation"] = (kwh, kwh * _p(params, "price_electricity"))

    # Flood regulation: storm storage capacity (mm × 10 m³/ha·mm × ha) × reservoir cost.
    flood = t("flood_storage_mm") * 10.0 * area
    out["flood_regulation"] = (flood, flood * _p(params, "price_reservoir"))

    # Recreation: district visitors × travel cost, allocated by area × land-cover weight.
    visitors_per_wha, value_per_wha = recreation_value_per_weighted_ha(params)
    weighted = t("recreation_weight") * area
    out["recreation"] = (weighted * visitors_per_wha, weighted * value_per_wha)
    return out


def compute_reference(parcel: Mapping, params: Mapping[str, float]) -> dict[str, tuple[float, float]]:
    """The same formulas for one parcel in plain Python (the readable statement, and the baseline)."""
    cover = parcel["land_cover"]
    area = float(parcel["area_ha"])

    def c(name):
        return _p(params, f"{name}.{cover}")

    def attr(name):
        value = parcel.get(name)
        return c(INPUT_DEFAULTS[name]) if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)

    out: dict[str, tuple[float, float]] = {}
    for s in SERVICES:
        if s.category == "provisioning":
            qty = area * attr("yield_t_ha") if cover in s.covers else 0.0
            out[s.code] = (qty, qty * c("product_price"))
    p_mm = _p(params, "precipitation_mm")
    wc = max(p_mm - p_mm * c("runoff_coef") - c("et_mm"), 0.0) * 10.0 * area
    out["water_conservation"] = (wc, wc * _p(params, "price_reservoir"))
    qsr = max(_p(params, "rainfall_erosivity") * attr("k_factor") * attr("ls_factor")
              * (1.0 - c("cover_c") * c("practice_p")) * area, 0.0)
    value = (qsr * _p(params, "sediment_ratio") / _p(params, "soil_bulk_density") * _p(params, "price_dredging")
             + qsr * (_p(params, "soil_n_content") * _p(params, "price_nitrogen")
                      + _p(params, "soil_p_content") * _p(params, "price_phosphorus")))
    out["soil_retention"] = (qsr, value)
    nep_tc = attr("npp") * c("nep_ratio") * area / 100.0
    co2, o2 = nep_tc * _p(params, "co2_per_c"), nep_tc * _p(params, "o2_per_c")
    out["carbon_sequestration"] = (co2, co2 * _p(params, "price_carbon"))
    out["oxygen_release"] = (o2, o2 * _p(params, "price_oxygen"))
    so2, nox, dust = (c(n) * area / 1000.0 for n in ("so2_absorption", "nox_absorption", "dust_retention"))
    out["air_purification"] = (so2 + nox + dust, so2 * _p(params, "price_so2") + nox * _p(params, "price_nox")
                               + dust * _p(params, "price_dust"))
    cod, tn, tp = (c(n) * area / 1000.0 for n in ("cod_removal", "tn_removal", "tp_removal"))
    out["water_purification"] = (cod + tn + tp, cod * _p(params, "price_cod") + tn * _p(params, "price_tn")
                                 + tp * _p(params, "price_tp"))
    kwh = (c("et_mm") * area * _p(params, "cooling_et_share") * 10.0 * 1000.0 * _p(params, "latent_heat") / 3600.0
           / _p(params, "ac_eer") * _p(params, "cooling_substitution"))
    out["climate_regulation"] = (kwh, kwh * _p(params, "price_electricity"))
    flood = c("flood_storage_mm") * 10.0 * area
    out["flood_regulation"] = (flood, flood * _p(params, "price_reservoir"))
    visitors_per_wha, value_per_wha = recreation_value_per_weighted_ha(params)
    weighted = c("recreation_weight") * area
    out["recreation"] = (weighted * visitors_per_wha, weighted * value_per_wha)
    return out


def effective_record(parcel: Mapping, params: Mapping[str, float]) -> dict:
    """The inputs an account stores: parcel attributes with defaults filled in, and which were defaults."""
    cover = parcel["land_cover"]
    out = {"area_ha": float(parcel["area_ha"]), "land_cover": cover, "defaults": []}
    for name, default in INPUT_DEFAULTS.items():
        value = parcel.get(name)
        if value is None:
            out[name] = _p(params, f"{default}.{cover}")
            out["defaults"].append(name)
        else:
            out[name] = float(value)
    return out
