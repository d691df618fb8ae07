"""Tables of the market: buyers, offers made from traced lots, buyers' demand, orders.

Lots, products and parties belong to traceability and core; these tables refer to them by id (foreign
keys by table name) and read them only through traceability's contract (greenfin/registry.py).
Quantities are in the lot's unit (UN/CEFACT code: KGM, TNE, H87, XBX), prices in yuan per unit.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db

BUYER_KINDS = ("canteen", "processor", "retailer")
OFFER_STATUSES = ("open", "withdrawn")
DEMAND_STATUSES = ("open", "closed")
ORDER_STATUSES = ("placed", "confirmed", "shipped", "received", "cancelled")
# Orders whose quantity is taken from the lot: reserved (placed, confirmed, shipped) or delivered.
HOLDING_STATUSES = ("placed", "confirmed", "shipped", "received")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in (" + ", ".join(f"'{v}'" for v in values) + ")"


class Buyer(db.Model):
    """A party registered to buy in the market: a public canteen (school, hospital, office), a
    processor or a retailer. A public buyer has a procurement quota: the share of its farm-produce
    purchases it is to buy as eco-products (Jiangxi: at least 30 %)."""

    __tablename__ = "market_buyers"
    __table_args__ = (
        CheckConstraint(_in("kind", BUYER_KINDS), name="kind"),
        CheckConstraint("quota_share is null or (quota_share >= 0 and quota_share <= 100)", name="quota_share"),
        CheckConstraint("not public or quota_share is not null", name="public_quota"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    public: Mapped[bool] = mapped_column(default=False)
    quota_share: Mapped[Optional[Decimal]] = mapped_column(Numeric(5, 2))  # percent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Offer(db.Model):
    """A producer's offer of (part of) a lot: ``quantity`` offered, ``available`` what orders have not
    taken yet. Withdrawn on the producer's word or at once when the lot is recalled."""

    __tablename__ = "market_offers"
    __table_args__ = (
        CheckConstraint(_in("status", OFFER_STATUSES), name="status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("available >= 0 and available <= quantity", name="available"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("delivery_until >= delivery_from", name="window"),
        Index("ix_market_offers_product_status", "product_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("trace_lots.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("trace_products.id"))
    producer_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    available: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    delivery_from: Mapped[date] = mapped_column(Date)
    delivery_until: Mapped[date] = mapped_column(Date)
    # Certificate kinds the offer claims (each valid on the lot when offered).
    certification_kinds: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    withdraw_reason: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Demand(db.Model):
    """What a buyer wants: a product, a quantity, a delivery window, the certificate kinds required."""

    __tablename__ = "market_demands"
    __table_args__ = (
        CheckConstraint(_in("status", DEMAND_STATUSES), name="status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("max_price is null or max_price >= 0", name="max_price"),
        CheckConstraint("delivery_until >= delivery_from", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("trace_products.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(3))
    delivery_from: Mapped[date] = mapped_column(Date)
    delivery_until: Mapped[date] = mapped_column(Date)
    required_certifications: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    max_price: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 2))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Order(db.Model):
    """A buyer's order on an offer: placed (quantity reserved), confirmed by the producer, shipped
    and received (each an EPCIS event with the order as business transaction), or cancelled (the
    quantity goes back to the offer)."""

    __tablename__ = "market_orders"
    __table_args__ = (
        CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("market_offers.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("trace_lots.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    demand_id: Mapped[Optional[int]] = mapped_column(ForeignKey("market_demands.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    status: Mapped[str] = mapped_column(String(16), default="placed")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    shipped_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    received_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[Optional[str]] = mapped_column(Text)
    shipping_event: Mapped[Optional[str]] = mapped_column(String(100))  # EPCIS event hash
    receiving_event: Mapped[Optional[str]] = mapped_column(String(100))
    received_serials: Mapped[Optional[list[Any]]] = mapped_column(JSONType)


class PurchaseTotal(db.Model):
    """What a buyer spent on farm produce in a month, all sources (declared by the buyer or entered
    by staff): the denominator of a public buyer's eco-product share. A correction replaces the
    month's figure and is audited with the figure before."""

    __tablename__ = "market_purchase_totals"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount"),
        UniqueConstraint("buyer_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
