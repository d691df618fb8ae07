"""The reference parameter and price tables that ``gep init-prices`` and the demo load.

This module is data, not logic: the computation reads every coefficient and
price from the database tables (``gep_parameters``), never from here. An admin
changes a value by copying a version and editing the copy; these rows are only
the starting point. Each row carries its unit, its source and the year of the
value. Where no published district figure was at hand the source says so
("demo estimate" or "calibration"): replace those with the district's own
statistics before using the accounts for anything real.

Method references (the formulas in ``engine.py`` follow them):
- 《生态产品总值核算规范(试行)》, 国家发展改革委 国家统计局, 2022 (发改基础〔2022〕481号) — "规范2022".
- DB36/T 1402-2021 《生态系统生产总值核算技术规范》, 江西省市场监督管理局 — "DB36/T 1402".
"""
from __future__ import annotations

SPEC = "《生态产品总值核算规范(试行)》2022"
DB36 = "DB36/T 1402-2021"
DEMO = "demo estimate; replace with district statistics"
CALIB = "calibration to Jiangxi 2019 GEP per km² (docs/gep.md)"

COVERS = ("forest", "orchard", "farmland", "tea", "grassland", "wetland", "water", "built")


def _per_cover(name: str, unit: str, source: str, year: int, values: dict[str, float], kind: str = "parameter"):
    return [(f"{name}.{cover}", values[cover], unit, source, year, kind) for cover in COVERS]


def reference_rows(year: int) -> list[tuple[str, float, str, str, int, str]]:
    """(key, value, unit, source, year, kind) for the price base year ``year`` (2024 or 2025)."""
    y = year
    # Prices that move from year to year; everything else is the same in both versions.
    prices = {
        2024: {"pomelo": 3200, "rice": 2760, "tea": 36000, "timber": 1050, "fish": 13500, "carbon": 97.5,
               "visitors": 11_800_000, "travel": 430, "electricity": 0.60, "oxygen": 600, "reservoir": 8.44,
               "dredging": 12.6},
        2025: {"pomelo": 3000, "rice": 2800, "tea": 38000, "timber": 1080, "fish": 14000, "carbon": 72.0,
               "visitors": 12_600_000, "travel": 440, "electricity": 0.60, "oxygen": 610, "reservoir": 8.61,
               "dredging": 12.9},
    }[y]
    rows: list[tuple[str, float, str, str, int, str]] = []
    add = rows.append

    # ---- district climate and hydrology (water conservation, flood, soil retention)
    add(("precipitation_mm", 1790.0, "mm/a", "Shangrao weather station normal 1991-2020 (demo estimate)", y, "parameter"))
    add(("rainfall_erosivity", 8600.0, "MJ·mm/(ha·h·a)", f"{SPEC} 附录; Jiangxi R-factor map (demo estimate)", y, "parameter"))
    rows += _per_cover("runoff_coef", "ratio", f"{SPEC} 附表 地表径流系数", y, {
        "forest": 0.30, "orchard": 0.40, "farmland": 0.45, "tea": 0.40, "grassland": 0.40,
        "wetland": 0.20, "water": 1.00, "built": 0.85})
    rows += _per_cover("et_mm", "mm/a", f"{DB36} 蒸散发 by land cover (demo estimate)", y, {
        "forest": 780, "orchard": 700, "farmland": 650, "tea": 700, "grassland": 600,
        "wetland": 900, "water": 1000, "built": 300})
    # ---- soil retention (USLE): defaults used where a parcel has no measured K or LS
    rows += _per_cover("default_k", "t·ha·h/(ha·MJ·mm)", "red soil erodibility, Jiangxi (demo estimate)", y, {
        "forest": 0.032, "orchard": 0.032, "farmland": 0.030, "tea": 0.032, "grassland": 0.032,
        "wetland": 0.0, "water": 0.0, "built": 0.0})
    rows += _per_cover("default_ls", "dimensionless", "hilly terrain typical LS (demo estimate)", y, {
        "forest": 3.5, "orchard": 2.5, "farmland": 0.6, "tea": 3.0, "grassland": 2.0,
        "wetland": 0.0, "water": 0.0, "built": 0.3})
    rows += _per_cover("cover_c", "dimensionless", f"{SPEC} 附表 植被覆盖因子C", y, {
        "forest": 0.006, "orchard": 0.08, "farmland": 0.23, "tea": 0.10, "grassland": 0.04,
        "wetland": 0.0, "water": 0.0, "built": 0.01})
    rows += _per_cover("practice_p", "dimensionless", f"{SPEC} 附表 水土保持措施因子P", y, {
        "forest": 1.0, "orchard": 0.6, "farmland": 0.15, "tea": 0.5, "grassland": 1.0,
        "wetland": 1.0, "water": 1.0, "built": 1.0})
    add(("sediment_ratio", 0.24, "ratio", f"{SPEC} 泥沙淤积比例", y, "parameter"))
    add(("soil_bulk_density", 1.28, "t/m³", "red soil bulk density (demo estimate)", y, "parameter"))
    add(("soil_n_content", 0.0011, "t/t", "Jiangxi red soil total N (demo estimate)", y, "parameter"))
    add(("soil_p_content", 0.0005, "t/t", "Jiangxi red soil total P (demo estimate)", y, "parameter"))
    # ---- carbon and oxygen from NPP
    rows += _per_cover("default_npp", "gC/(m²·a)", "MODIS MOD17A3 NPP, Guangfeng mean (demo estimate)", y, {
        "forest": 850, "orchard": 650, "farmland": 550, "tea": 600, "grassland": 450,
        "wetland": 600, "water": 150, "built": 100})
    rows += _per_cover("nep_ratio", "ratio", f"{SPEC} NEP/NPP (harvested crops sequester little)", y, {
        "forest": 0.45, "orchard": 0.20, "farmland": 0.05, "tea": 0.20, "grassland": 0.15,
        "wetland": 0.30, "water": 0.10, "built": 0.10})
    add(("co2_per_c", 44 / 12, "tCO₂/tC", "molar mass ratio", y, "parameter"))
    add(("o2_per_c", 32 / 12, "tO₂/tC", "photosynthesis equation", y, "parameter"))
    # ---- air purification (absorption and dust retention)
    rows += _per_cover("so2_absorption", "kg/(ha·a)", "LY/T 1721-2008 / 规范2022 附表 (demo estimate)", y, {
        "forest": 150, "orchard": 60, "farmland": 45, "tea": 60, "grassland": 30,
        "wetland": 30, "water": 0, "built": 5})
    rows += _per_cover("nox_absorption", "kg/(ha·a)", "LY/T 1721-2008 / 规范2022 附表 (demo estimate)", y, {
        "forest": 6.0, "orchard": 4.0, "farmland": 3.0, "tea": 4.0, "grassland": 2.0,
        "wetland": 2.0, "water": 0, "built": 0.5})
    rows += _per_cover("dust_retention", "kg/(ha·a)", "LY/T 1721-2008 / 规范2022 附表 (demo estimate)", y, {
        "forest": 10000, "orchard": 4000, "farmland": 1000, "tea": 3000, "grassland": 900,
        "wetland": 500, "water": 0, "built": 100})
    # ---- water purification (pollutant removal by wetlands and water bodies)
    rows += _per_cover("cod_removal", "kg/(ha·a)", f"{DB36} 水体净化 (demo estimate)", y, {
        "forest": 0, "orchard": 0, "farmland": 0, "tea": 0, "grassland": 0,
        "wetland": 2000, "water": 800, "built": 0})
    rows += _per_cover("tn_removal", "kg/(ha·a)", f"{DB36} 水体净化 (demo estimate)", y, {
        "forest": 0, "orchard": 0, "farmland": 0, "tea": 0, "grassland": 0,
        "wetland": 300, "water": 150, "built": 0})
    rows += _per_cover("tp_removal", "kg/(ha·a)", f"{DB36} 水体净化 (demo estimate)", y, {
        "forest": 0, "orchard": 0, "farmland": 0, "tea": 0, "grassland": 0,
        "wetland": 40, "water": 20, "built": 0})
    # ---- climate regulation (evapotranspiration energy)
    add(("cooling_et_share", 0.35, "ratio", "share of annual ET on days with max ≥ 26 °C (demo estimate)", y, "parameter"))
    add(("latent_heat", 2442.0, "kJ/kg", "latent heat of vaporisation at 25 °C", y, "parameter"))
    add(("ac_eer", 3.5, "ratio", "room air-conditioner energy efficiency ratio, GB 21455-2019", y, "parameter"))
    add(("cooling_substitution", 0.15, "ratio", f"share of ET energy replacing powered cooling ({CALIB})", y,
         "parameter"))
    # ---- flood regulation (storm storage)
    rows += _per_cover("flood_storage_mm", "mm", f"{SPEC} 洪水调蓄 storage depth (demo estimate)", y, {
        "forest": 120, "orchard": 80, "farmland": 150, "tea": 80, "grassland": 60,
        "wetland": 800, "water": 1500, "built": 5})
    # ---- provisioning: default yields by land cover (t/ha; timber m³/ha)
    rows += _per_cover("default_yield", "t/(ha·a) (forest: m³/(ha·a))", "Guangfeng statistical yearbook (demo estimate)", y, {
        "forest": 1.5, "orchard": 34.0, "farmland": 9.5, "tea": 1.6, "grassland": 0.0,
        "wetland": 0.8, "water": 4.5, "built": 0.0})
    # ---- cultural: recreation, district visitors × travel cost, allocated by land cover
    add(("recreation_visitors", prices["visitors"], "person-trips/a", f"Guangfeng tourism statistics ({DEMO})", y,
         "parameter"))
    rows += _per_cover("recreation_weight", "relative", "allocation weight per ha (docs/gep.md)", y, {
        "forest": 1.0, "orchard": 0.8, "farmland": 0.3, "tea": 1.0, "grassland": 0.6,
        "wetland": 1.5, "water": 1.5, "built": 0.2})
    rows += _per_cover("district_area_ha", "ha", f"Guangfeng land use, 国土调查 ({DEMO})", y, {
        "forest": 76000, "orchard": 13500, "farmland": 28000, "tea": 1500, "grassland": 3000,
        "wetland": 1500, "water": 5500, "built": 8800})

    # ---- prices
    rows += _per_cover("product_price", "CNY/t (forest: CNY/m³)", "farm-gate prices, Shangrao price bureau (demo estimate)", y, {
        "forest": prices["timber"], "orchard": prices["pomelo"], "farmland": prices["rice"], "tea": prices["tea"],
        "grassland": 0, "wetland": prices["fish"], "water": prices["fish"], "built": 0}, kind="price")
    add(("price_carbon", prices["carbon"], "CNY/tCO₂", "national carbon market (CEA) annual mean closing price", y,
         "price"))
    add(("price_oxygen", prices["oxygen"], "CNY/t", f"{SPEC} industrial oxygen production cost (demo estimate)", y,
         "price"))
    add(("price_reservoir", prices["reservoir"], "CNY/m³", f"{SPEC} reservoir construction cost per m³ storage", y,
         "price"))
    add(("price_dredging", prices["dredging"], "CNY/m³", "river dredging cost, Jiangxi water resources (demo estimate)", y,
         "price"))
    add(("price_nitrogen", 5200.0, "CNY/t N", "urea price ÷ N content (demo estimate)", y, "price"))
    add(("price_phosphorus", 9000.0, "CNY/t P", "superphosphate price ÷ P content (demo estimate)", y, "price"))
    add(("price_so2", 1263.0, "CNY/t", "Jiangxi environmental protection tax 1.2 CNY per 0.95 kg equivalent", y, "price"))
    add(("price_nox", 1263.0, "CNY/t", "Jiangxi environmental protection tax 1.2 CNY per 0.95 kg equivalent", y, "price"))
    add(("price_dust", 300.0, "CNY/t", "Jiangxi environmental protection tax 1.2 CNY per 4 kg equivalent", y, "price"))
    add(("price_cod", 1400.0, "CNY/t", "Jiangxi environmental protection tax 1.4 CNY per 1 kg equivalent", y, "price"))
    add(("price_tn", 1750.0, "CNY/t", "Jiangxi environmental protection tax 1.4 CNY per 0.8 kg equivalent", y, "price"))
    add(("price_tp", 5600.0, "CNY/t", "Jiangxi environmental protection tax 1.4 CNY per 0.25 kg equivalent", y, "price"))
    add(("price_electricity", prices["electricity"], "CNY/kWh", "Jiangxi residential tariff, first tier", y, "price"))
    add(("price_travel_cost", prices["travel"], "CNY/person-trip", f"travel cost method survey ({DEMO})", y, "price"))
    return rows
