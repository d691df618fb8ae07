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


PROCUREMENT_COLUMNS = ("month", "buyer_id", "buyer", "quota_share", "eco_amount", "orders", "total_amount", "share",
                       "meets_quota")


def _month(text: str) -> str:
    from datetime import datetime

    from greenfin.errors import ValidationFailed

    try:
        if len(text) != 7:
            raise ValueError
        datetime.strptime(text, "%Y-%m")
    except (TypeError, ValueError):
        raise ValidationFailed("Invalid input", {"month": ["must be YYYY-MM"]}) from None
    return text


def record_purchase_total(data: dict, scope: Optional[int] = None):
    """A buyer's farm-produce purchases of a month from all sources (``buyer_id``, ``month`` YYYY-MM,
    ``amount`` yuan): the denominator of its eco-product share. Recording a month again replaces the
    figure (audited with the one before). ``scope``: the acting buyer's party."""
    from greenfin.core.services import record_audit
    from greenfin.errors import ValidationFailed
    from greenfin.market.models import PurchaseTotal
    from greenfin.numbers import to_decimal

    buyer_id = scope if scope is not None else data.get("buyer_id")
    errors: dict = {}
    if db.session.scalar(select(Buyer.id).where(Buyer.party_id == (buyer_id or 0))) is None:
        errors["buyer_id"] = ["not a registered buyer"]
    try:
        month = _month(data.get("month"))
    except ValidationFailed as exc:
        errors.update(exc.errors)
        month = None
    amount = to_decimal(data.get("amount"))
    if amount is None or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = ["must be an amount in yuan, not below zero, at most 2 decimal places"]
    if errors:
        raise ValidationFailed("Invalid purchase total", errors)
    row = db.session.scalar(select(PurchaseTotal).where(PurchaseTotal.buyer_id == buyer_id,
                                                        PurchaseTotal.month == month).with_for_update())
    before = {"amount": row.amount} if row is not None else None
    if row is None:
        row = PurchaseTotal(buyer_id=buyer_id, month=month, amount=amount)
        db.session.add(row)
    else:
        row.amount = amount
    db.session.flush()
    record_audit("market.purchases.record", "market_buyer", buyer_id, before=before,
                 after={"month": month, "amount": amount}, party_id=buyer_id)
    return row


def procurement(month_from: Optional[str] = None, month_to: Optional[str] = None) -> list[dict]:
    """The regulators' procurement dashboard: for each public buyer and month (from its received
    orders and its recorded totals): ``eco_amount`` (yuan of eco-products received through the
    market, by the business month of receipt; the sum of those orders' amounts), ``orders``,
    ``total_amount`` (its recorded farm-produce purchases, or None), ``share`` (percent, one place;
    None without a total or with a zero total) and ``meets_quota`` (share at least the quota)."""
    from greenfin.market.models import PurchaseTotal

    lo = _month(month_from) if month_from else None
    hi = _month(month_to) if month_to else None
    public = {b.party_id: b for b in db.session.scalars(select(Buyer).where(Buyer.public.is_(True)))}
    if not public:
        return []
    names = dict(db.session.execute(select(Party.id, Party.name).where(Party.id.in_(list(public)))).all())
    cells: dict[tuple[str, int], dict] = {}

    def cell(month: str, buyer_id: int) -> dict:
        return cells.setdefault((month, buyer_id), {
            "month": month, "buyer_id": buyer_id, "buyer": names.get(buyer_id, ""),
            "quota_share": public[buyer_id].quota_share, "eco_amount": Decimal("0.00"), "orders": 0,
            "total_amount": None, "share": None, "meets_quota": None})

    for order in db.session.scalars(select(Order).where(Order.status == "received",
                                                        Order.buyer_id.in_(list(public)))):
        c = cell(business_date(order.received_at).strftime("%Y-%m"), order.buyer_id)
        c["eco_amount"] += order.amount
        c["orders"] += 1
    for total in db.session.scalars(select(PurchaseTotal).where(PurchaseTotal.buyer_id.in_(list(public)))):
        cell(total.month, total.buyer_id)["total_amount"] = total.amount
    rows = []
    for (month, _b), c in sorted(cells.items()):
        if (lo and month < lo) or (hi and month > hi):
            continue
        if c["total_amount"]:
            c["share"] = (c["eco_amount"] * 100 / c["total_amount"]).quantize(Decimal("0.1"))
            c["meets_quota"] = c["quota_share"] is not None and c["share"] >= c["quota_share"]
        rows.append(c)
    return rows
