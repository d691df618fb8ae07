"""Display labels of the traceability enumerations (greenfin/labels.py): event kinds, CBV 2.0
business steps and dispositions, UN/ECE Rec 20 units, label sheet layouts, certification kinds.
(The printed QR labels themselves are ``traceability/services/labels.py``.)"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from greenfin.labels import declare

EVENT = declare("trace_event", {
    "harvest": _l("Harvest"), "inspection": _l("Inspection / testing"), "grading": _l("Grading"),
    "packing": _l("Packing"), "shipping": _l("Shipping"), "receiving": _l("Receiving"),
    "retail": _l("Retail sale"), "transformation": _l("Processing"), "recall": _l("Recall"),
    "imported": _l("Partner event"),
})
# GS1 CBV 2.0 business steps and dispositions: ours (traceability/epcis.py KIND_VOCAB) and the
# common ones a partner's captured event may carry.
CBV_STEP = declare("cbv_step", {
    "commissioning": ("赋码启用", "Commissioning"), "inspecting": ("检验", "Inspecting"),
    "sampling": ("抽样", "Sampling"), "packing": ("包装", "Packing"), "shipping": ("发运", "Shipping"),
    "receiving": ("收货", "Receiving"), "retail_selling": ("零售", "Retail selling"),
    "holding": ("扣留", "Holding"), "accepting": ("验收", "Accepting"), "arriving": ("到达", "Arriving"),
    "departing": ("离开", "Departing"), "loading": ("装载", "Loading"), "storing": ("入库存储", "Storing"),
    "transforming": ("加工转化", "Transforming"), "destroying": ("销毁", "Destroying"),
    "decommissioning": ("停用", "Decommissioning"), "unpacking": ("拆包", "Unpacking"),
})
CBV_DISPOSITION = declare("cbv_disposition", {
    "active": ("在用", "Active"), "conformant": ("合格", "Conformant"), "in_progress": ("处理中", "In progress"),
    "in_transit": ("在途", "In transit"), "retail_sold": ("已售出", "Sold at retail"),
    "recalled": ("已召回", "Recalled"), "non_conformant": ("不合格", "Non-conformant"),
    "expired": ("已过期", "Expired"), "damaged": ("已损坏", "Damaged"), "destroyed": ("已销毁", "Destroyed"),
    "sellable_accessible": ("可售", "Sellable"), "inactive": ("停用", "Inactive"),
})
# UN/ECE Recommendation 20 codes of a lot's quantity.
UNIT = declare("unit", {"KGM": ("千克", "kg"), "TNE": ("吨", "t"), "H87": ("件", "pieces"), "XBX": ("箱", "boxes")})
LAYOUT = declare("label_layout", {
    "a4-3x8": ("A4 纸，3 × 8（70 × 37 毫米）", "A4, 3 × 8 (70 × 37 mm)"),
    "a4-4x10": ("A4 纸，4 × 10（52.5 × 29.7 毫米）", "A4, 4 × 10 (52.5 × 29.7 mm)"),
    "a4-5x13": ("A4 纸，5 × 13（38 × 21 毫米）", "A4, 5 × 13 (38 × 21 mm)"),
    "roll-40x30": ("热敏卷标 40 × 30 毫米", "Thermal roll 40 × 30 mm"),
    "roll-50x30": ("热敏卷标 50 × 30 毫米", "Thermal roll 50 × 30 mm"),
})
CERT_KIND = declare("cert_kind", {
    "green_food": ("绿色食品", "Green Food"), "organic": ("有机产品", "Organic"),
    "gi": ("地理标志", "Geographical indication"), "test_report": ("检测报告", "Test report"),
})
CERT_SCOPE = declare("cert_scope", {"product": _l("Product"), "producer": _l("Producer"), "parcel": _l("Parcel")})
