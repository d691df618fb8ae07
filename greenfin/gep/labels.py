"""Names of the services and categories, in Chinese and English.

``SERVICE_NAMES`` gives both languages as plain strings (for other packages and the
PDF); ``service_label`` / ``category_label`` go through gettext for pages.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

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

_SERVICE_LABELS = {
    "crops": _l("Crops"),
    "fruit": _l("Fruit (Majia pomelo)"),
    "tea": _l("Tea"),
    "timber": _l("Timber"),
    "fishery": _l("Fishery products"),
    "water_conservation": _l("Water conservation"),
    "soil_retention": _l("Soil retention"),
    "carbon_sequestration": _l("Carbon sequestration"),
    "oxygen_release": _l("Oxygen release"),
    "air_purification": _l("Air purification"),
    "water_purification": _l("Water purification"),
    "climate_regulation": _l("Climate regulation"),
    "flood_regulation": _l("Flood regulation"),
    "recreation": _l("Recreation and tourism"),
}
_COVER_LABELS = {
    "forest": _l("Forest"), "orchard": _l("Orchard"), "farmland": _l("Farmland"), "tea": _l("Tea garden"),
    "grassland": _l("Grassland"), "wetland": _l("Wetland"), "water": _l("Water"), "built": _l("Built land"),
}
_CATEGORY_LABELS = {"provisioning": _l("Provisioning"), "regulating": _l("Regulating"), "cultural": _l("Cultural")}


def service_label(code: str):
    return _SERVICE_LABELS.get(code, code)


def category_label(code: str):
    return _CATEGORY_LABELS.get(code, code)


def cover_label(code: str):
    return _COVER_LABELS.get(code, code)
