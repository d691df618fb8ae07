"""Reference data: the subdistricts, towns and townships of Guangfeng district.

Guangfeng district (广丰区, administrative code 361103) of Shangrao, Jiangxi.
Codes are stable slugs used as keys; names are as the district publishes them.
Centroids are approximate (WGS84) and serve maps and plausibility checks only.
"""
from __future__ import annotations

DISTRICT_CODE = "361103"
DISTRICT_NAME_ZH = "广丰区"
DISTRICT_NAME_EN = "Guangfeng District"

# (code, name_zh, name_en, kind, lat, lon)
TOWNSHIPS: list[tuple[str, str, str, str, float, float]] = [
    ("yongfeng", "永丰街道", "Yongfeng Subdistrict", "subdistrict", 28.436, 118.191),
    ("lulin", "芦林街道", "Lulin Subdistrict", "subdistrict", 28.452, 118.203),
    ("fengxi", "丰溪街道", "Fengxi Subdistrict", "subdistrict", 28.426, 118.176),
    ("xiaxi", "下溪街道", "Xiaxi Subdistrict", "subdistrict", 28.418, 118.214),
    ("yangkou", "洋口镇", "Yangkou Town", "town", 28.383, 118.152),
    ("hengshan", "横山镇", "Hengshan Town", "town", 28.356, 118.269),
    ("tongfan", "桐畈镇", "Tongfan Town", "town", 28.316, 118.331),
    ("hufeng", "湖丰镇", "Hufeng Town", "town", 28.451, 118.248),
    ("danan", "大南镇", "Danan Town", "town", 28.493, 118.288),
    ("paishan", "排山镇", "Paishan Town", "town", 28.357, 118.214),
    ("maocun", "毛村镇", "Maocun Town", "town", 28.296, 118.128),
    ("jiandi", "枧底镇", "Jiandi Town", "town", 28.521, 118.097),
    ("quanbo", "泉波镇", "Quanbo Town", "town", 28.398, 118.318),
    ("xiafeng", "霞峰镇", "Xiafeng Town", "town", 28.546, 118.191),
    ("wudu", "五都镇", "Wudu Town", "town", 28.475, 118.146),
    ("wucun", "吴村镇", "Wucun Town", "town", 28.271, 118.244),
    ("shatian", "沙田镇", "Shatian Town", "town", 28.328, 118.406),
    ("hujiao", "壶峤镇", "Hujiao Town", "town", 28.512, 118.238),
    ("dashi", "大石镇", "Dashi Town", "town", 28.584, 118.251),
    ("tongboshan", "铜钹山镇", "Tongboshan Town", "town", 28.208, 118.302),
    ("dongyang", "东阳乡", "Dongyang Township", "township", 28.242, 118.364),
    ("songfeng", "嵩峰乡", "Songfeng Township", "township", 28.559, 118.327),
    ("shaoyang", "少阳乡", "Shaoyang Township", "township", 28.433, 118.362),
]

TOWNSHIP_CODES = frozenset(t[0] for t in TOWNSHIPS)

# The district's bounding box with a margin: parcel centroids must fall inside.
LAT_RANGE = (28.05, 28.75)
LON_RANGE = (117.90, 118.60)
