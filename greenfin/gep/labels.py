"""Names of the services and categories, in Chinese and English.

``SERVICE_NAMES`` gives both languages as plain strings (for other packages and the PDF);
``service_label`` / ``category_label`` give the current language's (greenfin/labels.py).
"""
from __future__ import annotations

from greenfin.labels import declare, label

SERVICE_NAMES: dict[str, tuple[str, str]] = {
    "crops": ("农产品", "Crops"),
    "fruit": ("水果(马家柚)", "Fruit (Majia pomelo)"),
    "tea": ("茶叶", "Tea"),
    "timber": ("林产品", "Timber"),
    "fishery": ("渔产品", "Fishery products"),
    "water_conservation": ("水源涵养", "Water conservation"),
    "soil_retention": ("土壤保持", "Soil retention"),
    "carbon_sequestration": ("固碳", "Carbon sequestration"),
    "oxygen_release": ("释氧", "Oxygen release"),
    "air_purification": ("空气净化", "Air purification"),
    "water_purification": ("水质净化", "Water purification"),
    "climate_regulation": ("气候调节", "Climate regulation"),
    "flood_regulation": ("洪水调蓄", "Flood regulation"),
    "recreation": ("休闲旅游", "Recreation and tourism"),
}
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "provisioning": ("物质产品", "Provisioning"),
    "regulating": ("调节服务", "Regulating"),
    "cultural": ("文化服务", "Cultural"),
}

# Pages read these through greenfin/labels.py (``label('gep_service', code)``); the land cover of an
# account is the core's enumeration (``land_cover``, greenfin/core/labels.py).
declare("gep_service", SERVICE_NAMES)
declare("gep_category", CATEGORY_NAMES)
# The inputs an account stores (greenfin/gep/engine.py).
declare("gep_input", {
    "area_ha": ("面积（公顷）", "Area (ha)"), "land_cover": ("地类", "Land cover"),
    "k_factor": ("土壤可蚀性因子 K", "Soil erodibility K"), "ls_factor": ("坡长坡度因子 LS", "Slope length and steepness LS"),
    "npp": ("净初级生产力 NPP", "Net primary productivity (NPP)"), "yield_t_ha": ("单产（吨/公顷）", "Yield (t/ha)"),
    "township_code": ("乡镇", "Township"), "village": ("村", "Village"),
})


def service_label(code: str):
    return label("gep_service", code)


def category_label(code: str):
    return label("gep_category", code)


def cover_label(code: str):
    return label("land_cover", code)


# The parameters and prices of a version (greenfin/gep/reference.py); a key ``base.cover`` is the
# base parameter for one land cover.
PARAMETER_NAMES: dict[str, tuple[str, str]] = {
    "ac_eer": ("空调能效比", "Air-conditioner energy efficiency ratio"),
    "co2_per_c": ("碳转二氧化碳系数", "CO₂ per unit of carbon"),
    "cod_removal": ("化学需氧量净化量", "COD removal"),
    "cooling_et_share": ("蒸散降温占比", "Share of evapotranspiration that cools"),
    "cooling_substitution": ("降温替代系数", "Cooling substitution factor"),
    "cover_c": ("植被覆盖与管理因子 C", "Cover-management factor C"),
    "default_k": ("默认土壤可蚀性因子 K", "Default soil erodibility K"),
    "default_ls": ("默认坡长坡度因子 LS", "Default slope length and steepness LS"),
    "default_npp": ("默认净初级生产力", "Default net primary productivity"),
    "default_yield": ("默认单产", "Default yield"),
    "district_area_ha": ("全区面积（公顷）", "District area (ha)"),
    "dust_retention": ("滞尘量", "Dust retention"),
    "et_mm": ("蒸散量（毫米）", "Evapotranspiration (mm)"),
    "flood_storage_mm": ("洪水调蓄深度（毫米）", "Flood storage depth (mm)"),
    "latent_heat": ("水的汽化潜热", "Latent heat of vaporisation"),
    "nep_ratio": ("净生态系统生产力比例", "NEP to NPP ratio"),
    "nox_absorption": ("氮氧化物吸收量", "NOx absorption"),
    "o2_per_c": ("碳转氧气系数", "O₂ per unit of carbon"),
    "practice_p": ("水土保持措施因子 P", "Support practice factor P"),
    "precipitation_mm": ("年降水量（毫米）", "Annual precipitation (mm)"),
    "price_carbon": ("碳价", "Carbon price"),
    "price_cod": ("化学需氧量治理价格", "COD treatment price"),
    "price_dredging": ("清淤价格", "Dredging price"),
    "price_dust": ("降尘治理价格", "Dust treatment price"),
    "price_electricity": ("电价", "Electricity price"),
    "price_nitrogen": ("氮肥价格", "Nitrogen fertiliser price"),
    "price_nox": ("氮氧化物治理价格", "NOx treatment price"),
    "price_oxygen": ("工业制氧价格", "Industrial oxygen price"),
    "price_phosphorus": ("磷肥价格", "Phosphate fertiliser price"),
    "price_reservoir": ("水库库容造价", "Reservoir construction cost"),
    "price_so2": ("二氧化硫治理价格", "SO₂ treatment price"),
    "price_tn": ("总氮治理价格", "Total nitrogen treatment price"),
    "price_tp": ("总磷治理价格", "Total phosphorus treatment price"),
    "price_travel_cost": ("人均旅行费用", "Travel cost per visit"),
    "product_price": ("产品价格", "Product price"),
    "rainfall_erosivity": ("降雨侵蚀力因子 R", "Rainfall erosivity R"),
    "recreation_visitors": ("年游客人次", "Visits a year"),
    "recreation_weight": ("游憩权重", "Recreation weight"),
    "runoff_coef": ("径流系数", "Runoff coefficient"),
    "sediment_ratio": ("泥沙淤积比例", "Sediment deposition ratio"),
    "so2_absorption": ("二氧化硫吸收量", "SO₂ absorption"),
    "soil_bulk_density": ("土壤容重", "Soil bulk density"),
    "soil_n_content": ("土壤含氮量", "Soil nitrogen content"),
    "soil_p_content": ("土壤含磷量", "Soil phosphorus content"),
    "tn_removal": ("总氮净化量", "Total nitrogen removal"),
    "tp_removal": ("总磷净化量", "Total phosphorus removal"),
}
declare("gep_parameter", PARAMETER_NAMES)


def parameter_label(key: str) -> str:
    """A parameter key in words: ``cover_c.orchard`` -> "植被覆盖与管理因子 C · 园地(果园)"."""
    base, _sep, cover = key.partition(".")
    name = label("gep_parameter", base)
    return f"{name} · {label('land_cover', cover)}" if cover else name
