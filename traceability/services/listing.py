"""The public listing of lots for other packages (the market's eco-product catalogue): plain
values only, no models, and no personal identifiers (an individual producer's name is left out)."""
from __future__ import annotations

from typing import Optional

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from greenfin.core.models import Parcel
from greenfin.extensions import db
from traceability.models import BrandAuthorisation, EpcisEvent, EventLot, Lot, lot_parcels
from traceability.services.certifications import certifications_of_lots
from traceability.services.common import today


def _grades(lot_ids: list[int]) -> dict[int, str]:
    """Each lot's latest quality grade (its grading events, ``gf:grade``)."""
    rows = db.session.execute(select(EventLot.lot_id, EpcisEvent.document)
                              .join(EpcisEvent, EpcisEvent.id == EventLot.event_id)
                              .where(EventLot.lot_id.in_(lot_ids), EpcisEvent.kind == "grading")
                              .order_by(EpcisEvent.event_time, EpcisEvent.id)).all()
    return {lot_id: doc["gf:grade"] for lot_id, doc in rows if doc and doc.get("gf:grade")}


def _authorisations(pairs: set[tuple[int, int]], day) -> dict[tuple[int, int], Optional[BrandAuthorisation]]:
    """For each (brand, producer): the authorisation in force on ``day``, else the latest, else None."""
    if not pairs:
        return {}
    rows = db.session.scalars(select(BrandAuthorisation).where(
        BrandAuthorisation.brand_id.in_({b for b, _p in pairs}), BrandAuthorisation.party_id.in_({p for _b, p in pairs}))
        .order_by(BrandAuthorisation.valid_from.desc(), BrandAuthorisation.id.desc())).all()
    out = {}
    for pair in pairs:
        mine = [a for a in rows if (a.brand_id, a.party_id) == pair]
        out[pair] = next((a for a in mine if a.active_on(day)), mine[0] if mine else None)
    return out


def catalogue_lots(*, township: Optional[str] = None, product_id: Optional[int] = None) -> list[dict]:
    """Every lot with an origin parcel (of ``township``, of ``product_id`` when given), oldest first:
    {lot_id, lot_code, gtin, product_id, product, product_en, quantity (Decimal), unit, harvest_date,
    grade, recalled, producer_id, rights_holder (None for an individual), rights_holder_kind,
    producer_township, brand ({name, name_en, gi_registration, gi_authority, status: active | lapsed |
    revoked | none, valid_until}) or None, certifications [{kind, number, issuer, valid_from,
    valid_until, status}], parcels [{parcel_id, code, name, township, village, area_ha}],
    information (the lot's public page, the resolver's gs1:pip target)}.
    Certificate and authorisation status are as of today."""
    stmt = (select(Lot).options(selectinload(Lot.parcels), selectinload(Lot.producer)).order_by(Lot.id)
            .where(Lot.id.in_(select(lot_parcels.c.lot_id))))
    if township:
        stmt = stmt.where(Lot.id.in_(select(lot_parcels.c.lot_id).join(Parcel, Parcel.id == lot_parcels.c.parcel_id)
                                     .where(Parcel.township_code == township)))
    if product_id:
        stmt = stmt.where(Lot.product_id == product_id)
    return _entries(db.session.scalars(stmt).all())


def lot_facts(lot_ids: list[int], lock: bool = False) -> dict[int, dict]:
    """What a market needs to know of lots (any lot, with or without origin parcels), as
    ``catalogue_lots`` gives it, by lot id; an unknown id is left out. ``lock``: the lots' rows are
    locked until the transaction ends (PostgreSQL ``SELECT ... FOR UPDATE``), so that what is taken
    from a lot is decided one transaction at a time."""
    if not lot_ids:
        return {}
    stmt = (select(Lot).options(selectinload(Lot.parcels), selectinload(Lot.producer)).order_by(Lot.id)
            .where(Lot.id.in_(lot_ids)))
    if lock:
        stmt = stmt.with_for_update(of=Lot)
    return {entry["lot_id"]: entry for entry in _entries(db.session.scalars(stmt).all())}


def _entries(lots) -> list[dict]:
    grades = _grades([lot.id for lot in lots]) if lots else {}
    day = today()
    certificates = certifications_of_lots(lots)
    authorisations = _authorisations({(lot.product.brand_id, lot.producer_id) for lot in lots
                                      if lot.product.brand_id is not None}, day)
    base = current_app.config["PUBLIC_BASE_URL"]
    out = []
    for lot in lots:
        product, brand, producer = lot.product, lot.product.brand, lot.producer
        recalled = lot.recalled_at is not None
        brand_info = None
        if brand is not None:
            auth = authorisations[(brand.id, lot.producer_id)]
            status = ("none" if auth is None else "revoked" if auth.revoked_at is not None
                      else "active" if auth.active_on(day) else "lapsed")
            brand_info = {"name": brand.name, "name_en": brand.name_en, "gi_registration": brand.gi_registration,
                          "gi_authority": brand.gi_authority, "status": status,
                          "valid_until": auth.valid_until if auth else None}
        out.append({
            "lot_id": lot.id, "lot_code": lot.code, "gtin": product.gtin, "product_id": product.id,
            "product": product.name, "product_en": product.name_en, "quantity": lot.quantity, "unit": lot.unit,
            "harvest_date": lot.harvest_date, "grade": grades.get(lot.id), "recalled": recalled,
            "producer_id": producer.id, "rights_holder_kind": producer.kind,
            "rights_holder": None if producer.kind == "individual" else producer.name,
            "producer_township": producer.township_code, "brand": brand_info,
            "certifications": [{"kind": c.kind, "number": c.number, "issuer": c.issuer, "valid_from": c.valid_from,
                                "valid_until": c.valid_until,
                                "status": "not_applicable" if recalled else c.status_on(day)}
                               for c in certificates[lot.id]],
            "information": f"{base}/trace/public/lots/{lot.id}",  # resolver_views.lot_page
            "parcels": [{"parcel_id": p.id, "code": p.code, "name": p.name, "township": p.township_code,
                         "village": p.village, "area_ha": p.area_ha, "lat": p.lat, "lon": p.lon}
                        for p in lot.parcels],
        })
    return out
