"""The market's figures for operators and regulators (``flask market report``): offers, orders by
status, and what each buyer received per month (by the business date of receipt, Asia/Shanghai)."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from sqlalchemy import func, select

from greenfin.core.models import AuditEvent, Party
from greenfin.dates import business_date
from greenfin.extensions import db
from greenfin.market.models import Buyer, Offer, Order

REPORT_COLUMNS = ("month", "buyer_id", "buyer", "kind", "public", "quota_share", "orders", "quantity", "unit",
                  "amount")


def market_report(month: Optional[str] = None) -> dict:
    """{offers: {status: n}, on_offer: {unit: quantity}, orders: {status: n}, refused_offers: n,
    received: [rows of ``REPORT_COLUMNS``: per month, buyer and unit, the orders received, their
    quantity and amount (yuan)]}; ``month`` (YYYY-MM) narrows the rows."""
    offers = dict(db.session.execute(select(Offer.status, func.count(Offer.id)).group_by(Offer.status)).all())
    on_offer = {unit: Decimal(q) for unit, q in db.session.execute(
        select(Offer.unit, func.sum(Offer.available)).where(Offer.status == "open").group_by(Offer.unit)).all()}
    orders = dict(db.session.execute(select(Order.status, func.count(Order.id)).group_by(Order.status)).all())
    refused = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "market.offer.refuse"))
    buyers = {b.party_id: b for b in db.session.scalars(select(Buyer))}
    names = dict(db.session.execute(select(Party.id, Party.name).where(Party.id.in_(list(buyers) or [0]))).all())
    rows: dict[tuple, dict] = {}
    for order in db.session.scalars(select(Order).where(Order.status == "received").order_by(Order.received_at)):
        key_month = business_date(order.received_at).strftime("%Y-%m")
        if month and key_month != month:
            continue
        buyer = buyers.get(order.buyer_id)
        row = rows.setdefault((key_month, order.buyer_id, order.unit), {
            "month": key_month, "buyer_id": order.buyer_id, "buyer": names.get(order.buyer_id, ""),
            "kind": buyer.kind if buyer else "", "public": bool(buyer and buyer.public),
            "quota_share": buyer.quota_share if buyer else None, "orders": 0, "quantity": Decimal(0),
            "unit": order.unit, "amount": Decimal("0.00")})
        row["orders"] += 1
        row["quantity"] += order.quantity
        row["amount"] += order.amount
    return {"offers": offers, "on_offer": on_offer, "orders": orders, "refused_offers": refused,
            "received": sorted(rows.values(), key=lambda r: (r["month"], r["buyer_id"], r["unit"]))}
