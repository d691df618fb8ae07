"""EPCIS 2.0 events of a lot's business steps (harvest to retail, packing, processing), stored as
exchanged with indexed columns, and the export of them."""
from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Iterator, Optional
from urllib.parse import quote

from flask import current_app
from sqlalchemy import Select, select

from greenfin.core import partitions
from greenfin.core.models import Party
from greenfin.core.services import record_audit
from greenfin.core.types import utcnow
from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db
from traceability import digital_link as dl
from traceability import epcis
from traceability.models import EpcisEvent, EventLot, Label, Lot, LotInput
from traceability.services.common import is_positive
from traceability.services.event_rules import check_event
from traceability.services.scan_store import invalidate_lot_cache


def _offset(when: datetime) -> str:
    return "+08:00"


def _party_uri(party_id: int) -> str:
    return f"urn:greenfin:party:{party_id}"


def _doc_uri(reference: str) -> str:
    return "urn:greenfin:doc:" + quote(reference, safe="")


def _lot_class(lot: Lot) -> str:
    return dl.lgtin(lot.product.gtin, lot.code)


def _read_point(lot: Lot) -> Optional[dict]:
    if lot.parcels:
        p = lot.parcels[0]
        return {"id": f"geo:{p.lat},{p.lon}"}
    return None


def build_event(lot: Lot, kind: str, data: dict) -> tuple[dict, dict]:
    """The EPCIS event for one of our business steps, and the indexed values to store with it."""
    if kind not in epcis.KIND_VOCAB:
        raise ValidationFailed.field("kind", "unknown event kind")
    etype, action, biz_step, disposition = epcis.KIND_VOCAB[kind]
    when = data.get("event_time") or utcnow()
    if isinstance(when, str):
        when = epcis.parse_time(when)
    if when.tzinfo is None:
        raise ValidationFailed.field("event_time", "must carry a time zone")
    quantity = data.get("quantity")
    errors: dict = {}
    if quantity is not None and not is_positive(quantity):
        errors["quantity"] = ["must be a positive number"]
    lots = [(lot, "output" if kind == "transformation" else "subject")]
    lots += [(i, "input") for i, _q in (data.get("inputs") or [])]
    check_event(lots, biz_step, when, errors=errors)
    if errors:
        raise ValidationFailed("Invalid event", errors)
    event: dict[str, Any] = {"type": etype, "eventTime": epcis.epcis_time(when), "eventTimeZoneOffset": _offset(when)}
    qty = {"epcClass": _lot_class(lot), "quantity": float(quantity if quantity is not None else lot.quantity),
           "uom": lot.unit}
    extra: dict[str, Any] = {"quantity": Decimal(str(qty["quantity"]))}
    if etype == "ObjectEvent":
        event["quantityList"] = [qty]
        if data.get("serials"):
            event["epcList"] = [dl.sgtin(lot.product.gtin, s) for s in data["serials"]]
        event["action"] = action
    elif etype == "AggregationEvent":
        event["parentID"] = data["parent"]
        if data.get("children"):
            event["childEPCs"] = data["children"]
        else:
            event["childQuantityList"] = [qty]
        event["action"] = action
    else:  # TransformationEvent
        inputs = data.get("inputs") or []
        event["inputQuantityList"] = [{"epcClass": _lot_class(i), "quantity": float(q), "uom": i.unit}
                                      for i, q in inputs]
        event["outputQuantityList"] = [qty]
    event["bizStep"] = biz_step
    if kind == "inspection" and data.get("result") == "non_conformant":
        disposition = "non_conformant"
    event["disposition"] = disposition
    read_point = _read_point(lot)
    if read_point:
        event["readPoint"] = read_point
    reference = data.get("reference")
    if reference:
        btt = {"inspection": "testres", "shipping": "desadv", "receiving": "recadv", "transformation": "prodorder",
               "retail": "inv"}.get(kind, "bol")
        event["bizTransactionList"] = [{"type": btt, "bizTransaction": _doc_uri(reference)}]
        extra["reference_document"] = reference
    if data.get("order"):  # a purchase order (the market's order) the step belongs to
        event.setdefault("bizTransactionList", []).append({"type": "po", "bizTransaction": _doc_uri(data["order"])})
        extra.setdefault("reference_document", data["order"])
    ship_from = data.get("ship_from_id") or (lot.producer_id if kind in ("shipping", "receiving") else None)
    ship_to = data.get("ship_to_id")
    if kind in ("shipping", "receiving") and ship_to is None:
        raise ValidationFailed.field("ship_to_id", "shipping and receiving name the other party")
    for pid in (ship_from, ship_to):
        if pid is not None and db.session.get(Party, pid) is None:
            raise ValidationFailed.field("ship_to_id", f"unknown party {pid}")
    if ship_from:
        event["sourceList"] = [{"type": "owning_party", "source": _party_uri(ship_from)}]
        extra["ship_from_id"] = ship_from
    if ship_to:
        event["destinationList"] = [{"type": "owning_party", "destination": _party_uri(ship_to)}]
        extra["ship_to_id"] = ship_to
    if kind == "harvest":
        ilmd = {"gf:origin": [p.code for p in lot.parcels]}
        if lot.harvest_date:
            ilmd["gf:harvestDate"] = lot.harvest_date.isoformat()
        event["ilmd"] = ilmd
    if kind == "transformation":
        event["ilmd"] = {"gf:producedFrom": [i.code for i, _q in (data.get("inputs") or [])]}
    if kind == "grading" and data.get("grade"):
        event["gf:grade"] = str(data["grade"])
    if kind == "inspection" and data.get("note"):
        event["gf:result"] = str(data["note"])[:200]
    event["gf:kind"] = kind
    event["eventID"] = epcis.event_hash(event)
    return event, extra


def store_event(event: dict, kind: str, lots: Iterable[tuple[Lot, str]], party_id: Optional[int],
                source: str = "local", extra: Optional[dict] = None,
                event_id: Optional[str] = None) -> tuple[EpcisEvent, bool]:
    """Store an event unless one with the same event hash exists; returns (row, created).

    A caller that passes ``event_id`` has computed the hash and found it new (capture does so a
    thousand events at a time).
    """
    if event_id is None:
        event_id = epcis.event_hash(event)
        existing = db.session.scalar(select(EpcisEvent).where(EpcisEvent.event_hash == event_id))
        if existing is not None:
            return existing, False
    extra = extra or {}
    event_time = epcis.parse_time(event["eventTime"])
    partitions.ensure_month("trace_epcis_events", event_time)  # PostgreSQL: the event's month exists
    row = EpcisEvent(event_hash=event_id, event_type=event["type"], kind=kind,
                     event_time=event_time, biz_step=event.get("bizStep"),
                     disposition=event.get("disposition"), party_id=party_id, document=event, source=source,
                     ship_from_id=extra.get("ship_from_id"), ship_to_id=extra.get("ship_to_id"),
                     reference_document=extra.get("reference_document"), quantity=extra.get("quantity"))
    db.session.add(row)
    db.session.flush()
    seen = set()
    for lot, role in lots:
        if lot.id not in seen:
            seen.add(lot.id)
            db.session.add(EventLot(event_id=row.id, lot_id=lot.id, role=role))
    return row, True


def record_event(lot: Lot, kind: str, data: dict) -> EpcisEvent:
    """Record one business step of a lot as an EPCIS event."""
    if kind == "packing":
        return pack_lot(lot, data)
    if kind == "transformation":
        raise ValidationFailed.field("kind", "use transform_lot for transformations")
    event, extra = build_event(lot, kind, data)
    row, created = store_event(event, kind, [(lot, "subject")], lot.producer_id, extra=extra)
    if not created:
        raise Conflict("this event is already recorded")
    record_audit("trace.event.record", "trace_epcis_event", row.id, after={"kind": kind, "lot_id": lot.id,
                                                                           "event_hash": row.event_hash},
                 party_id=lot.producer_id)
    invalidate_lot_cache(lot.id)
    return row


def pack_lot(lot: Lot, data: dict) -> EpcisEvent:
    """Packing: items into cartons (AggregationEvents), cartons onto a pallet.

    Labelled items are packed by their serials (``per_carton`` each); without labels the
    lot's quantity is packed as a class-level quantity into one carton.
    """
    per_carton = int(data.get("per_carton") or 6)
    max_cartons = int(data.get("max_cartons") or 20)
    if per_carton < 1 or max_cartons < 1:
        raise ValidationFailed.field("per_carton", "must be at least 1")
    when = data.get("event_time") or utcnow()
    serials = list(db.session.scalars(select(Label.serial).where(Label.lot_id == lot.id).order_by(Label.id)
                                      .limit(per_carton * max_cartons)))
    base = int.from_bytes(secrets.token_bytes(4), "big")
    cartons = []
    rows = []
    groups = [serials[i:i + per_carton] for i in range(0, len(serials), per_carton)] or [[]]
    for n, group in enumerate(groups):
        carton = dl.sscc(lot.product.gtin, base + n + 1)
        cartons.append(carton)
        children = [dl.sgtin(lot.product.gtin, s) for s in group]
        event, extra = build_event(lot, "packing", {"event_time": when, "parent": carton, "children": children,
                                                    "quantity": data.get("quantity"),
                                                    "reference": data.get("reference")})
        rows.append(store_event(event, "packing", [(lot, "subject")], lot.producer_id, extra=extra)[0])
    pallet = dl.sscc(lot.product.gtin, base)
    event, extra = build_event(lot, "packing", {"event_time": when, "parent": pallet, "children": cartons,
                                                "quantity": data.get("quantity"), "reference": data.get("reference")})
    row, _ = store_event(event, "packing", [(lot, "subject")], lot.producer_id, extra=extra)
    record_audit("trace.event.pack", "trace_lot", lot.id, after={"cartons": len(cartons), "pallet": pallet},
                 party_id=lot.producer_id)
    invalidate_lot_cache(lot.id)
    return row


def transform_lot(inputs: list[tuple[Lot, Decimal]], output: Lot, data: dict) -> EpcisEvent:
    """Pomelo into pomelo tea or candied peel: input lots consumed, the output lot produced."""
    if not inputs:
        raise ValidationFailed.field("inputs", "at least one input lot")
    for lot, qty in inputs:
        if lot.id == output.id:
            raise ValidationFailed.field("inputs", "a lot cannot be made from itself")
        if not is_positive(qty):
            raise ValidationFailed.field("inputs", "input quantities must be positive")
        if db.session.get(LotInput, (output.id, lot.id)) is None:
            db.session.add(LotInput(lot_id=output.id, input_lot_id=lot.id, quantity=Decimal(str(qty))))
    event, extra = build_event(output, "transformation", data | {"inputs": inputs})
    row, created = store_event(event, "transformation",
                               [(output, "output")] + [(lot, "input") for lot, _q in inputs], output.producer_id,
                               extra=extra)
    record_audit("trace.event.transform", "trace_lot", output.id,
                 after={"inputs": [(lot.code, str(q)) for lot, q in inputs], "event_hash": row.event_hash},
                 party_id=output.producer_id)
    invalidate_lot_cache()
    return row


def lot_events(lot_id: int) -> list[EpcisEvent]:
    return list(db.session.scalars(select(EpcisEvent).join(EventLot, EventLot.event_id == EpcisEvent.id).where(EventLot.lot_id == lot_id)
                                   .order_by(EpcisEvent.event_time, EpcisEvent.id)))


def event_query(lot_id: Optional[int] = None, party_id: Optional[int] = None) -> Select:
    stmt = select(EpcisEvent).order_by(EpcisEvent.event_time.desc(), EpcisEvent.id.desc())
    if lot_id is not None:
        stmt = stmt.where(EpcisEvent.id.in_(select(EventLot.event_id).where(EventLot.lot_id == lot_id)))
    if party_id is not None:
        stmt = stmt.where(EpcisEvent.party_id == party_id)
    return stmt


def iter_export_events(lot_id: Optional[int] = None, batch: int = 1000) -> Iterator[dict]:
    """Every stored event as exchanged, oldest first, fetched in batches (memory stays flat)."""
    last = 0
    while True:
        stmt = select(EpcisEvent.id, EpcisEvent.document).where(EpcisEvent.id > last).order_by(EpcisEvent.id)
        if lot_id is not None:
            stmt = stmt.where(EpcisEvent.id.in_(select(EventLot.event_id).where(EventLot.lot_id == lot_id)))
        rows = db.session.execute(stmt.limit(batch)).all()
        if not rows:
            return
        for row_id, document in rows:
            last = row_id
            yield document


def export_epcis(out, lot_id: Optional[int] = None) -> int:
    return epcis.write_document(out, iter_export_events(lot_id), utcnow(),
                                sender=current_app.config.get("PUBLIC_BASE_URL"))

