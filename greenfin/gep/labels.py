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
