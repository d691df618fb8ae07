"""Lots (GS1 AI 10) with their origin parcels, recalls, and tracing backward and forward with the
key data elements (KDE) of every event."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import Select, select

from greenfin import signals
from greenfin.core.identifiers import InvalidIdentifier
from greenfin.core.models import Parcel, Party
from greenfin.core.services import record_audit, snapshot
from greenfin.core.types import utcnow
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from traceability import digital_link as dl
from traceability.models import LOT_UNITS, Lot, LotInput, Product
from traceability.services.catalogue import brand_authorised, product_usable_by
from traceability.services.common import CHINA_TZ, add_error, parse_date, parse_decimal, today
from traceability.services.events import lot_events, record_event
from traceability.services.scan_store import invalidate_lot_cache

LOT_FIELDS = ("code", "product_id", "producer_id", "harvest_date", "quantity", "unit")


def create_lot(data: dict, scope: Optional[int] = None) -> Lot:
    """Register a lot with its origin parcels (the producer's own orchards).

    ``scope``: the acting producer's party (None for staff). Another party's product then
    answers exactly as a product that does not exist.
    """
    errors: dict = {}
    code = (data.get("code") or "").strip()
    try:
        dl.validate_lot_code(code)
    except InvalidIdentifier as exc:
        add_error(errors, "code", str(exc))
    product = db.session.get(Product, data.get("product_id") or 0)
    if product is not None and scope is not None and not product_usable_by(product, scope):
        product = None
    if product is None:
        add_error(errors, "product_id", "unknown product")
    producer_id = data.get("producer_id")
    if db.session.get(Party, producer_id or 0) is None:
        add_error(errors, "producer_id", "unknown producer")
    elif product is not None and product.brand_id is None and product.owner_id != producer_id:
        add_error(errors, "producer_id", "the product belongs to another party")
    if product is not None and code and db.session.scalar(
            select(Lot.id).where(Lot.product_id == product.id, Lot.code == code)):
        add_error(errors, "code", "this lot code exists for the product")
    if product is not None and product.brand_id and producer_id and not brand_authorised(product.brand_id, producer_id):
        add_error(errors, "producer_id", "the producer is not authorised to use the product's brand")
    quantity = parse_decimal(data.get("quantity"), "quantity", errors)
    unit = data.get("unit") or "KGM"
    if unit not in LOT_UNITS:
        add_error(errors, "unit", "must be one of " + ", ".join(LOT_UNITS))
    harvest = parse_date(data.get("harvest_date"), "harvest_date", errors, required=False)
    if harvest and harvest > today():
        add_error(errors, "harvest_date", "is in the future")
    parcel_ids = list(dict.fromkeys(data.get("parcel_ids") or []))
    parcels = []
    for pid in parcel_ids:
        parcel = db.session.get(Parcel, pid)
        if parcel is None or parcel.holder_id != producer_id:  # one answer: another's parcel is not revealed
            add_error(errors, "parcel_ids", f"parcel {pid} is unknown or not held by the producer")
        else:
            parcels.append(parcel)
    if errors:
        raise ValidationFailed("Invalid lot", errors)
    lot = Lot(code=code, product_id=product.id, producer_id=producer_id, harvest_date=harvest,
              quantity=quantity, unit=unit)
    lot.parcels = parcels
    db.session.add(lot)
    db.session.flush()
    record_audit("trace.lot.create", "trace_lot", lot.id,
                 after=snapshot(lot, LOT_FIELDS) | {"parcel_ids": [p.id for p in parcels]}, party_id=producer_id)
    return lot


def get_lot(lot_id: int, scope: Optional[int] = None) -> Lot:
    """The lot; for a producer (``scope``: their party) another producer's lot answers exactly
    as one that does not exist."""
    lot = db.session.get(Lot, lot_id)
    if lot is None or (scope is not None and lot.producer_id != scope):
        raise NotFound(f"lot {lot_id} not found")
    return lot


def find_lot(code: str, gtin: Optional[str] = None) -> Lot:
    stmt = select(Lot).where(Lot.code == code)
    if gtin:
        stmt = stmt.join(Product).where(Product.gtin == gtin)
    lots = db.session.scalars(stmt.limit(2)).all()
    if not lots:
        raise NotFound(f"lot {code} not found")
    if len(lots) > 1:
        raise Conflict(f"lot code {code} is used by several products; give the GTIN")
    return lots[0]


def lot_query(producer_id: Optional[int] = None, q: Optional[str] = None, recalled: Optional[bool] = None) -> Select:
    stmt = select(Lot).order_by(Lot.id.desc())
    if producer_id is not None:
        stmt = stmt.where(Lot.producer_id == producer_id)
    if q:
        stmt = stmt.where(Lot.code.contains(q))
    if recalled is not None:
        stmt = stmt.where(Lot.recalled_at.is_not(None) if recalled else Lot.recalled_at.is_(None))
    return stmt


def recall_lot(lot: Lot, reason: str, actor_id: Optional[int] = None) -> Lot:
    """A regulator's recall: scan pages show the notice at once; an EPCIS recall event is recorded;
    ``greenfin.signals.lot_recalled`` is announced (the market withdraws the lot's offers)."""
    if not (reason or "").strip():
        raise ValidationFailed("Invalid recall", {"reason": ["is required"]})
    if lot.recalled_at is not None:
        raise Conflict("the lot is already recalled")
    lot.recalled_at, lot.recall_reason, lot.recalled_by_id = utcnow(), reason.strip(), actor_id
    record_event(lot, "recall", {"event_time": lot.recalled_at, "reference": f"recall-{lot.id}"})
    db.session.flush()
    record_audit("trace.lot.recall", "trace_lot", lot.id, before={"recalled_at": None},
                 after={"recalled_at": lot.recalled_at, "reason": lot.recall_reason}, party_id=lot.producer_id)
    invalidate_lot_cache(lot.id)
    signals.announce(signals.lot_recalled, entity_type="trace_lot", entity_id=lot.id, party_id=lot.producer_id,
                     lot_id=lot.id, recalled_on=today(), reason=lot.recall_reason)
    return lot


# ---------------------------------------------------------------- tracing


def _walk(lot_id: int, max_depth: int, forward: bool) -> list[Lot]:
    """The lots reached from a lot through its inputs: what went into it (backward) or what it
    went into (forward), breadth first, each once."""
    from_column = LotInput.input_lot_id if forward else LotInput.lot_id
    found, frontier, seen = [], [lot_id], {lot_id}
    for _ in range(max_depth):
        rows = db.session.scalars(select(LotInput).where(from_column.in_(frontier))).all()
        frontier = []
        for r in rows:
            other_id, other = (r.lot_id, r.lot) if forward else (r.input_lot_id, r.input_lot)
            if other_id not in seen:
                seen.add(other_id)
                found.append(other)
                frontier.append(other_id)
        if not frontier:
            break
    return found


def trace_lot(lot: Lot, max_depth: int = 10) -> dict:
    """Backward (parcels, input lots) and forward (events, lots made from it) from a lot."""
    backward, forward = _walk(lot.id, max_depth, forward=False), _walk(lot.id, max_depth, forward=True)
    parcels = {p.id: p for lt in [lot] + backward for p in lt.parcels}
    shipments = [e for lt in [lot] + forward for e in lot_events(lt.id) if e.kind in ("shipping", "receiving",
                                                                                        "retail", "transformation")]
    return {"lot": lot, "backward": backward, "forward": forward, "parcels": list(parcels.values()),
            "shipments": shipments}


KDE_COLUMNS = ("traceability_lot_code", "gtin", "product", "quantity", "unit", "event", "date", "ship_from",
               "ship_to", "lot_code_source", "reference_document", "event_id")


def kde_rows(lot: Lot) -> list[dict]:
    """Key data elements of every event of the lot and the lots traced from it, sorted by date."""
    trace = trace_lot(lot)
    rows = []
    for lt in [lot] + trace["backward"] + trace["forward"]:
        source = lt.producer
        for e in lot_events(lt.id):
            rows.append({
                "traceability_lot_code": lt.code, "gtin": lt.product.gtin, "product": lt.product.name,
                "quantity": format((e.quantity if e.quantity is not None else lt.quantity).normalize(), "f"),
                "unit": lt.unit,
                "event": e.kind, "date": e.event_time.astimezone(CHINA_TZ).date().isoformat(),
                "ship_from": e.ship_from.name if e.ship_from else "", "ship_to": e.ship_to.name if e.ship_to else "",
                "lot_code_source": f"{source.name} ({source.identifier_display})",
                "reference_document": e.reference_document or "", "event_id": e.event_hash,
            })
    rows.sort(key=lambda r: (r["date"], r["traceability_lot_code"], r["event"]))
    return rows
