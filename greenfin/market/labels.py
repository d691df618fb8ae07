"""Display labels of the market's enumerations (greenfin/labels.py)."""
from __future__ import annotations

from greenfin.labels import declare

# A producer's authorisation to use the GI brand, as of today (traceability's catalogue_lots).
GI_STATUS = declare("gi_authorisation", {
    "active": ("授权有效", "Authorised"), "lapsed": ("授权已过期", "Authorisation lapsed"),
    "revoked": ("授权已撤销", "Authorisation revoked"), "none": ("未获授权", "Not authorised"),
})
# A certificate's validity as of today.
CERT_STATUS = declare("cert_status", {
    "valid": ("有效", "Valid"), "expired": ("已过期", "Expired"), "revoked": ("已撤销", "Revoked"),
    "not_yet_valid": ("尚未生效", "Not yet valid"), "not_applicable": ("不适用（批次已召回）", "Not applicable (recalled)"),
})
BUYER_KIND = declare("buyer_kind", {
    "canteen": ("食堂", "Canteen"), "processor": ("加工企业", "Processor"), "retailer": ("零售商", "Retailer"),
})
OFFER_STATUS = declare("offer_status", {"open": ("在售", "Open"), "withdrawn": ("已撤回", "Withdrawn")})
DEMAND_STATUS = declare("demand_status", {"open": ("征集中", "Open"), "closed": ("已关闭", "Closed")})
ORDER_STATUS = declare("order_status", {
    "placed": ("已下单", "Placed"), "confirmed": ("已确认", "Confirmed"), "shipped": ("已发货", "Shipped"),
    "received": ("已收货", "Received"), "cancelled": ("已取消", "Cancelled"),
})
