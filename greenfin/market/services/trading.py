"""Trading: buyers, offers made from traced lots, buyers' demand, matching, and orders with traced
delivery. Lots, their certificates and GI authorisations and the EPCIS events are traceability's,
reached through its contract (``require("traceability")``); the producer's colour is credit's
(``contract("credit")``). Verbs add and flush, never commit (greenfin/uow.py), and each audits.

Quantities: an open offer keeps ``available`` (what orders have not taken); the orders that hold a
lot's quantity (placed, confirmed, shipped: reserved; received: delivered) and the open offers'
``available`` together never exceed the lot's quantity. ``make_offer`` decides under a lock on
the lot's row, ``place_order`` under a lock on the offer's row (PostgreSQL ``SELECT ... FOR
UPDATE``; SQLite takes one writer at a time), so concurrent buyers never oversell.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Optional

from sqlalchemy import Select, func, select

from greenfin.core.models import Party, Township
from greenfin.core.services import record_audit, snapshot
from greenfin.dates import today, utcnow
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.labels import label_pair
from greenfin.market import policy
from greenfin.market.models import (
    BUYER_KINDS, HOLDING_STATUSES, Buyer, Demand, Offer, Order,
)
from greenfin.numbers import to_decimal
from greenfin.registry import contract, require

# The quota a public buyer gets when none is given: Jiangxi's share of eco-products in public
# canteens' farm-produce purchases (the national floor is 10 %).
PUBLIC_QUOTA_DEFAULT = Decimal("30")
OFFER_FIELDS = ("lot_id", "product_id", "producer_id", "quantity", "available", "unit", "unit_price",
                "delivery_from", "delivery_until", "certification_kinds", "status")
DEMAND_FIELDS = ("buyer_id", "product_id", "quantity", "unit", "delivery_from", "delivery_until",
                 "required_certifications", "max_price", "status")
ORDER_FIELDS = ("offer_id", "lot_id", "buyer_id", "producer_id", "demand_id", "quantity", "unit", "unit_price",
                "amount", "status")


def _trace():
    return require("traceability")


def _add(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _quantity(value: Any, field: str, errors: dict) -> Optional[Decimal]:
    number = to_decimal(value)
    if number is None or not number.is_finite() or number <= 0:
        _add(errors, field, N_("must be a positive number"))
        return None
    if number != number.quantize(Decimal("0.001")):
        _add(errors, field, N_("at most %(n)s decimal places", n=3))
        return None
    return number


def _price(value: Any, field: str, errors: dict, required: bool = True) -> Optional[Decimal]:
    if value in (None, ""):
        if required:
            _add(errors, field, N_("is required"))
        return None
    number = to_decimal(value)
    if number is None or not number.is_finite() or number < 0:
        _add(errors, field, N_("must be a number not below zero"))
        return None
    if number != number.quantize(Decimal("0.01")):
        _add(errors, field, N_("at most %(n)s decimal places", n=2))
        return None
    return number


def _window(data: dict, errors: dict) -> tuple[Optional[date], Optional[date]]:
    start, end = data.get("delivery_from"), data.get("delivery_until")
    for field, value in (("delivery_from", start), ("delivery_until", end)):
        if not isinstance(value, date):
            _add(errors, field, N_("is required"))
    if isinstance(start, date) and isinstance(end, date):
        if end < start:
            _add(errors, "delivery_until", N_("must not be before delivery_from"))
        elif end < today():
            _add(errors, "delivery_until", N_("is in the past"))
    return (start if isinstance(start, date) else None), (end if isinstance(end, date) else None)


def _kinds(values: Any, field: str, errors: dict) -> list[str]:
    kinds = list(dict.fromkeys(values or []))
    unknown = [k for k in kinds if k not in policy.CLAIMABLE_KINDS]
    if unknown:
        _add(errors, field, N_("unknown certificate kind %(kind)s", kind=", ".join(map(str, unknown))))
    return kinds


# ---------------------------------------------------------------- buyers


def register_buyer(data: dict) -> Buyer:
    """Register a party as a market buyer: ``kind`` canteen, processor or retailer; ``public`` (a
    public canteen: school, hospital, office) with its procurement ``quota_share`` in percent
    (default ``PUBLIC_QUOTA_DEFAULT``, Jiangxi's 30 %)."""
    errors: dict = {}
    party_id = data.get("party_id")
    party = db.session.get(Party, party_id or 0)
    if party is None:
        _add(errors, "party_id", N_("unknown party"))
    elif party.kind == "individual":
        _add(errors, "party_id", N_("a buyer is a firm or an organisation"))
    elif db.session.scalar(select(Buyer.id).where(Buyer.party_id == party_id)):
        _add(errors, "party_id", N_("the party is already a buyer"))
    kind = data.get("kind")
    if kind not in BUYER_KINDS:
        _add(errors, "kind", N_("must be one of %(values)s", values=", ".join(BUYER_KINDS)))
    public = bool(data.get("public"))
    share = data.get("quota_share")
    if share in (None, "") and public:
        share = PUBLIC_QUOTA_DEFAULT
    if share not in (None, ""):
        share = to_decimal(share)
        if share is None or not share.is_finite() or not 0 <= share <= 100:
            _add(errors, "quota_share", N_("must be a percentage from 0 to 100"))
    else:
        share = None
    if errors:
        raise ValidationFailed("Invalid buyer", errors)
    buyer = Buyer(party_id=party_id, kind=kind, public=public, quota_share=share)
    db.session.add(buyer)
    db.session.flush()
    record_audit("market.buyer.register", "market_buyer", buyer.id,
                 after=snapshot(buyer, ("party_id", "kind", "public", "quota_share")), party_id=party_id)
    return buyer


def get_buyer(party_id: int) -> Buyer:
    buyer = db.session.scalar(select(Buyer).where(Buyer.party_id == party_id))
    if buyer is None:
        raise NotFound(f"party {party_id} is not a registered buyer")
    return buyer


def buyer_query() -> Select:
    return select(Buyer).order_by(Buyer.id)


# ---------------------------------------------------------------- offers


def lot_left(lot_id: int, quantity: Decimal) -> Decimal:
    """What of a lot (of ``quantity``) is neither on an open offer nor held by an order."""
    on_offer = db.session.scalar(select(func.coalesce(func.sum(Offer.available), 0))
                                 .where(Offer.lot_id == lot_id, Offer.status == "open"))
    held = db.session.scalar(select(func.coalesce(func.sum(Order.quantity), 0))
                             .where(Order.lot_id == lot_id, Order.status.in_(HOLDING_STATUSES)))
    return Decimal(quantity) - Decimal(on_offer) - Decimal(held)


def make_offer(data: dict, scope: Optional[int] = None) -> Offer:
    """A producer offers (part of) a lot: ``lot_id``, ``quantity`` (in the lot's unit; never more
    than the lot has left), ``unit_price`` (yuan), ``delivery_from``/``delivery_until``, and the
    ``certification_kinds`` it claims (default: every kind the lot has a certificate of).

    Refused (409 with the reasons) while the lot is recalled, the producer's GI authorisation for
    the product's brand is lapsed or revoked, or a claimed certificate is expired, revoked or
    missing. ``scope``: the acting producer's party; another's lot answers as one that does not exist.
    """
    errors: dict = {}
    lot_id = data.get("lot_id")
    facts = _trace().lot_facts([lot_id], lock=True).get(lot_id) if isinstance(lot_id, int) else None
    if facts is None or (scope is not None and facts["producer_id"] != scope):
        raise NotFound(f"lot {lot_id} not found")
    quantity = _quantity(data.get("quantity"), "quantity", errors)
    price = _price(data.get("unit_price"), "unit_price", errors)
    start, end = _window(data, errors)
    claimed = (_kinds(data["certification_kinds"], "certification_kinds", errors)
               if data.get("certification_kinds") is not None else policy.claimed_kinds(facts))
    if errors:
        raise ValidationFailed("Invalid offer", errors)
    refusals = policy.offer_refusals(facts, claimed)
    if refusals:
        record_audit("market.offer.refuse", "trace_lot", lot_id, after={"reasons": refusals},
                     party_id=facts["producer_id"])
        raise Conflict(_refusal_message("The lot may not be offered", refusals), refusals, code="offer_refused")
    left = lot_left(lot_id, facts["quantity"])
    if quantity > left:
        raise ValidationFailed("Invalid offer", {"quantity": [
            N_("more than the lot has left (%(left)s %(unit)s)", left=_plain(left), unit=label_pair("unit", facts["unit"]))]})
    offer = Offer(lot_id=lot_id, product_id=facts["product_id"], producer_id=facts["producer_id"], quantity=quantity,
                  available=quantity, unit=facts["unit"], unit_price=price, delivery_from=start, delivery_until=end,
                  certification_kinds=claimed, status="open")
    db.session.add(offer)
    db.session.flush()
    record_audit("market.offer.make", "market_offer", offer.id, after=snapshot(offer, OFFER_FIELDS),
                 party_id=offer.producer_id)
    return offer


def _refusal_message(head: str, reasons: dict) -> str:
    return f"{head}: " + "; ".join(str(m) for messages in reasons.values() for m in messages)


def _plain(value) -> str:
    return format(Decimal(value).normalize(), "f")


def get_offer(offer_id: int, scope: Optional[int] = None) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or (scope is not None and offer.producer_id != scope):
        raise NotFound(f"offer {offer_id} not found")
    return offer


def offer_query(producer_id: Optional[int] = None, status: Optional[str] = None,
                product_id: Optional[int] = None, lot_id: Optional[int] = None) -> Select:
    stmt = select(Offer).order_by(Offer.id.desc())
    if producer_id is not None:
        stmt = stmt.where(Offer.producer_id == producer_id)
    if status:
        stmt = stmt.where(Offer.status == status)
    if product_id:
        stmt = stmt.where(Offer.product_id == product_id)
    if lot_id:
        stmt = stmt.where(Offer.lot_id == lot_id)
    return stmt


def withdraw_offer(offer: Offer, reason: str) -> Offer:
    """Take an offer off the market: what orders have not taken goes back to the lot; orders
    already placed stand."""
    if offer.status != "open":
        raise Conflict("the offer is already withdrawn")
    if not (reason or "").strip():
        raise ValidationFailed("Invalid withdrawal", {"reason": [N_("is required")]})
    before = {"status": offer.status, "available": offer.available}
    offer.status, offer.available = "withdrawn", Decimal(0)
    offer.withdrawn_at, offer.withdraw_reason = utcnow(), reason.strip()
    db.session.flush()
    record_audit("market.offer.withdraw", "market_offer", offer.id, before=before,
                 after={"status": offer.status, "reason": offer.withdraw_reason}, party_id=offer.producer_id)
    return offer


def withdraw_recalled_lot(app=None, *, lot_id: int, reason: Optional[str] = None, **_ignored) -> int:
    """The ``lot_recalled`` receiver: the lot's open offers are withdrawn and its orders not yet
    shipped are cancelled (goods under recall are not delivered). Returns how many offers."""
    offers = db.session.scalars(select(Offer).where(Offer.lot_id == lot_id, Offer.status == "open")
                                .with_for_update()).all()
    note = f"lot recalled: {reason}" if reason else "lot recalled"
    for offer in offers:
        withdraw_offer(offer, note)
    orders = db.session.scalars(select(Order).where(Order.lot_id == lot_id,
                                                    Order.status.in_(("placed", "confirmed")))).all()
    for order in orders:
        _cancel(order, note)
    return len(offers)


# ---------------------------------------------------------------- demand and matching


def post_demand(data: dict, scope: Optional[int] = None) -> Demand:
    """A buyer's demand: ``product_id``, ``quantity`` and ``unit``, ``delivery_from``/``delivery_until``,
    ``required_certifications`` (kinds valid on the lot), optional ``max_price`` per unit.
    ``scope``: the acting buyer's party (staff name ``buyer_id``)."""
    errors: dict = {}
    buyer_id = scope if scope is not None else data.get("buyer_id")
    if db.session.scalar(select(Buyer.id).where(Buyer.party_id == (buyer_id or 0))) is None:
        _add(errors, "buyer_id", N_("not a registered buyer"))
    product_id = data.get("product_id")
    product = None
    if isinstance(product_id, int):
        try:
            product = _trace().get_product(product_id)
        except NotFound:
            product = None
    if product is None:
        _add(errors, "product_id", N_("no product %(id)s", id=product_id))
    quantity = _quantity(data.get("quantity"), "quantity", errors)
    unit = data.get("unit") or "KGM"
    if unit not in _trace().LOT_UNITS:
        _add(errors, "unit", N_("must be one of %(values)s", values=", ".join(_trace().LOT_UNITS)))
    start, end = _window(data, errors)
    required = _kinds(data.get("required_certifications"), "required_certifications", errors)
    max_price = _price(data.get("max_price"), "max_price", errors, required=False)
    if errors:
        raise ValidationFailed("Invalid demand", errors)
    demand = Demand(buyer_id=buyer_id, product_id=product_id, quantity=quantity, unit=unit, delivery_from=start,
                    delivery_until=end, required_certifications=required, max_price=max_price, status="open")
    db.session.add(demand)
    db.session.flush()
    record_audit("market.demand.post", "market_demand", demand.id, after=snapshot(demand, DEMAND_FIELDS),
                 party_id=buyer_id)
    return demand


def get_demand(demand_id: int, scope: Optional[int] = None) -> Demand:
    demand = db.session.get(Demand, demand_id)
    if demand is None or (scope is not None and demand.buyer_id != scope):
        raise NotFound(f"demand {demand_id} not found")
    return demand


def demand_query(buyer_id: Optional[int] = None, status: Optional[str] = None) -> Select:
    stmt = select(Demand).order_by(Demand.id.desc())
    if buyer_id is not None:
        stmt = stmt.where(Demand.buyer_id == buyer_id)
    if status:
        stmt = stmt.where(Demand.status == status)
    return stmt


def close_demand(demand: Demand) -> Demand:
    if demand.status != "open":
        raise Conflict("the demand is already closed")
    demand.status = "closed"
    db.session.flush()
    record_audit("market.demand.close", "market_demand", demand.id, before={"status": "open"},
                 after={"status": "closed"}, party_id=demand.buyer_id)
    return demand


def _row(obj, fields) -> dict:
    return {f: getattr(obj, f) for f in fields}


def match(demand: Demand) -> list[dict]:
    """The open offers that can serve a demand, best first (``policy.score``: certification fit,
    distance from the buyer's township to the lot's orchard, price, producer colour; ties by the
    lower price, then the older offer). Each: {offer_id, lot_id, lot, producer_id, rights_holder,
    available, unit, unit_price, delivery_from, delivery_until, certifications (valid kinds),
    distance_km, colour, scores {certification, distance, price, colour, total}}."""
    d = _row(demand, DEMAND_FIELDS)
    offers = db.session.scalars(select(Offer).where(Offer.product_id == demand.product_id, Offer.status == "open",
                                                    Offer.available > 0).order_by(Offer.id)).all()
    facts = _trace().lot_facts(list({o.lot_id for o in offers}))
    compatible = [(o, facts[o.lot_id]) for o in offers if o.lot_id in facts
                  and policy.incompatibility(d, _row(o, OFFER_FIELDS), facts[o.lot_id]) is None]
    if not compatible:
        return []
    buyer = db.session.get(Party, demand.buyer_id)
    home = db.session.get(Township, buyer.township_code)
    credit = contract("credit")
    prices = [o.unit_price for o, _f in compatible]
    out = []
    colours: dict[int, Optional[str]] = {}
    for offer, lot in compatible:
        parcel = lot["parcels"][0] if lot["parcels"] else None
        distance = policy.distance_km(home.lat, home.lon, parcel["lat"], parcel["lon"]) if parcel else None
        if offer.producer_id not in colours:
            colours[offer.producer_id] = (getattr(credit.current_rating(offer.producer_id), "colour", None)
                                          if credit is not None else None)
        colour = colours[offer.producer_id]
        scores = policy.score(d, _row(offer, OFFER_FIELDS), lot, distance, colour, min(prices), max(prices))
        out.append({"offer_id": offer.id, "lot_id": offer.lot_id, "lot": lot["lot_code"], "product": lot["product"],
                    "producer_id": offer.producer_id, "rights_holder": lot["rights_holder"],
                    "available": offer.available, "unit": offer.unit, "unit_price": offer.unit_price,
                    "delivery_from": offer.delivery_from, "delivery_until": offer.delivery_until,
                    "certifications": sorted(policy.valid_kinds(lot)), "distance_km": distance, "colour": colour,
                    "scores": scores})
    out.sort(key=lambda m: (-m["scores"]["total"], m["unit_price"], m["offer_id"]))
    return out


# ---------------------------------------------------------------- orders


def place_order(data: dict, scope: Optional[int] = None) -> Order:
    """A buyer orders ``quantity`` from an offer (``offer_id``; optional ``demand_id`` it answers).

    The offer's row is locked while the quantity is taken from it, so concurrent orders never take
    more than it has. Checked again on the day: the lot is not recalled, the GI authorisation and
    the offer's claimed certificates are valid, the delivery window has not passed.
    ``scope``: the acting buyer's party (staff name ``buyer_id``)."""
    errors: dict = {}
    buyer_id = scope if scope is not None else data.get("buyer_id")
    if db.session.scalar(select(Buyer.id).where(Buyer.party_id == (buyer_id or 0))) is None:
        _add(errors, "buyer_id", N_("not a registered buyer"))
    quantity = _quantity(data.get("quantity"), "quantity", errors)
    demand_id = data.get("demand_id")
    if demand_id is not None:
        demand = db.session.get(Demand, demand_id)
        if demand is None or demand.buyer_id != buyer_id:
            _add(errors, "demand_id", N_("no demand %(id)s of the buyer", id=demand_id))
    offer_id = data.get("offer_id")
    offer = (db.session.scalar(select(Offer).where(Offer.id == offer_id).with_for_update()
                               .execution_options(populate_existing=True))
             if isinstance(offer_id, int) else None)
    if offer is None:
        raise NotFound(f"offer {offer_id} not found")
    if errors:
        raise ValidationFailed("Invalid order", errors)
    if offer.status != "open":
        raise Conflict("the offer is withdrawn", {"offer_id": [N_("the offer is withdrawn")]}, code="offer_closed")
    if offer.delivery_until < today():
        raise Conflict("the offer's delivery window has passed",
                       {"offer_id": [N_("the offer's delivery window has passed")]}, code="offer_closed")
    if quantity > offer.available:
        raise Conflict(f"the offer has {_plain(offer.available)} {offer.unit} left",
                       {"quantity": [N_("more than the offer has left (%(left)s %(unit)s)",
                                        left=_plain(offer.available), unit=label_pair("unit", offer.unit))]},
                       code="insufficient_quantity")
    facts = _trace().lot_facts([offer.lot_id])[offer.lot_id]
    refusals = policy.offer_refusals(facts, offer.certification_kinds)
    if refusals:
        raise Conflict(_refusal_message("The lot may not be sold today", refusals), refusals, code="offer_refused")
    offer.available -= quantity
    order = Order(offer_id=offer.id, lot_id=offer.lot_id, buyer_id=buyer_id, producer_id=offer.producer_id,
                  demand_id=demand_id, quantity=quantity, unit=offer.unit, unit_price=offer.unit_price,
                  amount=(quantity * offer.unit_price).quantize(Decimal("0.01")), status="placed", placed_at=utcnow())
    db.session.add(order)
    db.session.flush()
    record_audit("market.order.place", "market_order", order.id, after=snapshot(order, ORDER_FIELDS),
                 party_id=buyer_id)
    return order


def get_order(order_id: int, buyer: Optional[int] = None, producer: Optional[int] = None) -> Order:
    """An order; for a buyer or producer (their party) another's order answers as one that does not exist."""
    order = db.session.get(Order, order_id)
    if (order is None or (buyer is not None and order.buyer_id != buyer)
            or (producer is not None and order.producer_id != producer)):
        raise NotFound(f"order {order_id} not found")
    return order


def order_query(buyer_id: Optional[int] = None, producer_id: Optional[int] = None,
                status: Optional[str] = None, lot_id: Optional[int] = None) -> Select:
    stmt = select(Order).order_by(Order.id.desc())
    if buyer_id is not None:
        stmt = stmt.where(Order.buyer_id == buyer_id)
    if producer_id is not None:
        stmt = stmt.where(Order.producer_id == producer_id)
    if status:
        stmt = stmt.where(Order.status == status)
    if lot_id:
        stmt = stmt.where(Order.lot_id == lot_id)
    return stmt


def _lock(order: Order) -> Order:
    """The order's row, locked and read again (a concurrent transition waits, then sees the new status)."""
    return db.session.scalar(select(Order).where(Order.id == order.id).with_for_update()
                             .execution_options(populate_existing=True))


def _expect(order: Order, *statuses: str) -> None:
    if order.status not in statuses:
        raise Conflict(f"the order is {order.status}",
                       {"status": [N_("the order is %(status)s", status=order.status)]}, code="order_state")


def _transition(order: Order, status: str, action: str, **after: Any) -> None:
    before = order.status
    order.status = status
    db.session.flush()
    record_audit(action, "market_order", order.id, before={"status": before},
                 after={"status": status, **after}, party_id=order.buyer_id)


def order_reference(order: Order) -> str:
    """The order as a business document (the EPCIS events' ``po`` business transaction)."""
    return f"market-order-{order.id}"


def confirm_order(order: Order) -> Order:
    """The producer confirms a placed order."""
    order = _lock(order)
    _expect(order, "placed")
    order.confirmed_at = utcnow()
    _transition(order, "confirmed", "market.order.confirm")
    return order


def ship_order(order: Order) -> Order:
    """The producer ships a confirmed order: an EPCIS ObjectEvent (bizStep shipping) of the order's
    quantity of the lot, from the producer to the buyer, with the order as ``po`` business transaction."""
    order = _lock(order)
    _expect(order, "confirmed")
    trace = _trace()
    lot = trace.get_lot(order.lot_id)
    event = trace.record_event(lot, "shipping", {"quantity": order.quantity, "ship_to_id": order.buyer_id,
                                                 "order": order_reference(order)})
    order.shipped_at, order.shipping_event = event.event_time, event.event_hash
    _transition(order, "shipped", "market.order.ship", event=event.event_hash)
    return order


def receive_order(order: Order, scanned: Iterable[str]) -> Order:
    """The buyer receives a shipped order by scanning the delivered cases' labels (serials or the
    labels' Digital Link URIs). Every label must be one issued for the order's lot: an unknown
    serial or a label of another lot refuses the receipt (422, each label named), and nothing is
    recorded. Recorded as an EPCIS ObjectEvent (bizStep receiving) of the scanned items."""
    scanned = [s.strip() for s in scanned if s and s.strip()]
    if not scanned:
        raise ValidationFailed("Invalid receipt", {"serials": [N_("scan at least one label of the delivery")]})
    order = _lock(order)
    _expect(order, "shipped")
    trace = _trace()
    lots = trace.label_lots(scanned)
    problems = []
    for text, lot_id in lots.items():
        if lot_id is None:
            problems.append(N_("%(serial)s: no label has this serial", serial=text))
        elif lot_id != order.lot_id:
            problems.append(N_("%(serial)s: a label of another lot", serial=text))
    if problems:
        record_audit("market.order.receipt_refused", "market_order", order.id,
                     after={"problems": [str(p) for p in problems]}, party_id=order.buyer_id)
        raise ValidationFailed("The receipt is refused", {"serials": problems}, code="receipt_refused")
    serials = sorted({trace.label_serial(s) for s in scanned})
    lot = trace.get_lot(order.lot_id)
    event = trace.record_event(lot, "receiving", {"quantity": order.quantity, "ship_from_id": order.producer_id,
                                                  "ship_to_id": order.buyer_id, "serials": serials,
                                                  "order": order_reference(order)})
    order.received_at, order.receiving_event, order.received_serials = event.event_time, event.event_hash, serials
    _transition(order, "received", "market.order.receive", event=event.event_hash, labels=len(serials))
    return order


def _cancel(order: Order, reason: str) -> None:
    offer = db.session.scalar(select(Offer).where(Offer.id == order.offer_id).with_for_update()
                              .execution_options(populate_existing=True))
    if offer.status == "open":
        offer.available += order.quantity  # back on offer; a withdrawn offer's share goes back to the lot
    order.cancelled_at, order.cancel_reason = utcnow(), reason
    _transition(order, "cancelled", "market.order.cancel", reason=reason)


def cancel_order(order: Order, reason: str) -> Order:
    """Cancel a placed or confirmed order (not once shipped): its quantity is released."""
    if not (reason or "").strip():
        raise ValidationFailed("Invalid cancellation", {"reason": [N_("is required")]})
    order = _lock(order)
    _expect(order, "placed", "confirmed")
    _cancel(order, reason.strip())
    return order


def lot_position(lot_id: int, scope: Optional[int] = None) -> dict:
    """How a lot's quantity stands in the market: {quantity, on_offer, reserved, delivered, left}.
    ``scope``: the acting producer's party (another's lot answers as one that does not exist)."""
    facts = _trace().lot_facts([lot_id]).get(lot_id)
    if facts is None or (scope is not None and facts["producer_id"] != scope):
        raise NotFound(f"lot {lot_id} not found")
    on_offer = db.session.scalar(select(func.coalesce(func.sum(Offer.available), 0))
                                 .where(Offer.lot_id == lot_id, Offer.status == "open"))
    sums = dict(db.session.execute(select(Order.status, func.sum(Order.quantity)).where(Order.lot_id == lot_id)
                                   .group_by(Order.status)).all())
    reserved = sum((Decimal(sums.get(s) or 0) for s in ("placed", "confirmed", "shipped")), Decimal(0))
    delivered = Decimal(sums.get("received") or 0)
    quantity = Decimal(facts["quantity"])
    return {"quantity": quantity, "on_offer": Decimal(on_offer), "reserved": reserved, "delivered": delivered,
            "left": quantity - Decimal(on_offer) - reserved - delivered}
