"""Display labels of the core's enumerations: townships, party kinds, roles, land cover, rights
certificates and sectors (greenfin/labels.py explains the mechanism)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from greenfin.core import geography
from greenfin.labels import declare

TOWNSHIP = declare("township", {code: (zh, en) for code, zh, en, _kind, _lat, _lon in geography.TOWNSHIPS})
PARTY_KIND = declare("party_kind", {"firm": _l("Firm"), "organisation": _l("Organisation"),
                                    "individual": _l("Individual")})
ROLE = declare("role", {"admin": _l("Administrator"), "loan_officer": _l("Loan officer"),
                        "producer": _l("Producer"), "regulator": _l("Regulator"),
                        "insurer": _l("Insurer"), "buyer": _l("Buyer")})
LAND_COVER = declare("land_cover", {
    "forest": _l("Forest"), "orchard": _l("Orchard"), "farmland": _l("Farmland"), "tea": _l("Tea garden"),
    "grassland": _l("Grassland"), "wetland": _l("Wetland"), "water": _l("Water"), "built": _l("Built land"),
})
CERT_TYPE = declare("cert_type", {
    "forest_rights": ("林权证", "Forest rights certificate"),
    "land_contract": ("土地承包经营权证", "Land contract management right certificate"),
    "real_estate": ("不动产权证书", "Real estate title certificate"),
    "collective_land": ("集体土地所有权证", "Collective land ownership certificate"),
    "water_area": ("水域滩涂养殖证", "Aquaculture water area certificate"),
})
# A party's sector (free text up to 64 characters; these are the ones the district uses).
SECTOR = declare("sector", {
    "pomelo": ("马家柚种植", "Majia pomelo growing"),
    "food_processing": ("食品加工", "Food processing"),
    "tea": ("茶叶", "Tea"),
    "forestry": ("林业", "Forestry"),
    "banking": ("银行业", "Banking"),
    "eco_tourism": ("生态旅游", "Eco-tourism"),
    "fishery": ("渔业", "Fishery"),
    "fertiliser": ("有机肥", "Organic fertiliser"),
    "vegetables": ("果蔬种植", "Fruit and vegetables"),
    "association": ("行业协会", "Industry association"),
    "village": ("村集体", "Village collective"),
})
