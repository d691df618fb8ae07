"""Business functions of traceability. They add and flush, never commit."""
from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Iterator, NamedTuple, Optional
from urllib.parse import quote

from flask import current_app
from sqlalchemy import Select, and_, func, insert, or_, select

from greenfin.core.identifiers import InvalidIdentifier, normalise_gtin14
from greenfin.core.models import Parcel, Party
from greenfin.core.services import audit_query, record_audit, snapshot
from greenfin.core.types import utcnow
from greenfin import dates, signals
from greenfin.dates import BUSINESS_TZ
from greenfin.dates import today as business_today
from greenfin.errors import Conflict, DomainError, NotFound, ValidationFailed
from greenfin.extensions import advisory_lock, db
from greenfin.metrics import count_scan
from greenfin.registry import contract
from greenfin.signals import announce
from traceability import digital_link as dl
from traceability import epcis, scan_rules
from traceability.models import (
    CERT_KINDS, CERT_SCOPES, LOT_UNITS, Brand, BrandAuthorisation, Certification, EpcisEvent, EventLot, Label,
    LabelBatch, Lot, LotInput, Product, Scan,
)

CHINA_TZ = BUSINESS_TZ  # Asia/Shanghai (greenfin/dates.py)
CERT_KIND_LABELS = {"green_food": "绿色食品", "organic": "有机产品", "gi": "地理标志", "test_report": "检测报告"}


# ---------------------------------------------------------------- optional links to other packages


def _guarded(call, *args):
    """Another package's read for the public scan page: a failure there must not break the page.

    Runs in a savepoint so that a failed statement does not abort the request's transaction.
    """
    import logging

    try:
        with db.session.begin_nested():
            return call(*args)
    except Exception:  # noqa: BLE001  (logged; the page shows the item as unavailable)
        logging.getLogger(__name__).exception("%s failed for the scan page", getattr(call, "__name__", call))
        return None


def credit_colour(party_id: int) -> Optional[str]:
    credit = contract("credit")
    if credit is None or not hasattr(credit, "current_rating"):
        return None
    rating = _guarded(credit.current_rating, party_id)
    return getattr(rating, "colour", None) if rating is not None else None


def gep_summary(parcel_id: int) -> Optional[dict]:
    gep = contract("greenfin.gep")
    if gep is None or not hasattr(gep, "scan_summary"):
        return None
    return _guarded(gep.scan_summary, parcel_id)


def _gep_brief(parcel_id: int) -> Optional[dict]:
    summary = gep_summary(parcel_id)
    if not summary:
        return None
    return {"year": summary.get("year"), "total_value": str(summary.get("total_value")),
            "value_per_ha": str(summary.get("value_per_ha")),
            "top_services": [{"name_zh": s.get("name_zh"), "name_en": s.get("name_en"), "share": str(s.get("share"))}
                             for s in summary.get("top_services", [])]}


def _announce_certification(signal, cert: Certification, **facts) -> None:
    """Tell the packages that care (eco-credit points); a refusal there is audited, the
    certificate still stands (greenfin/signals.py)."""
    announce(signal, entity_type="trace_certification", entity_id=cert.id, party_id=cert.party_id,
             certification_id=cert.id, kind=cert.kind, **facts)


# ---------------------------------------------------------------- helpers


def _errors_add(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


UNPRINTABLE = "holds characters that labels cannot print (rare CJK characters such as Extension B)"


def _check_printable(errors: dict, field: str, value: Optional[str]) -> None:
    """Text printed on labels must have glyphs in the label font, or it prints as boxes."""
    from greenfin.pdf import unprintable

    missing = unprintable(value or "")
    if missing:
        _errors_add(errors, field, UNPRINTABLE)  # a fixed message, so that forms translate it
        _errors_add(errors, field, missing)


def _decimal(value: Any, field: str, errors: dict, positive: bool = True) -> Optional[Decimal]:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        _errors_add(errors, field, "must be a number")
        return None
    if not result.is_finite() or (positive and result <= 0):
        _errors_add(errors, field, "must be a positive number")
        return None
    return result


def _positive(value: Any) -> bool:
    """A finite number above zero (a quantity)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return False
    return number.is_finite() and number > 0


def _date(value: Any, field: str, errors: dict, required: bool = True) -> Optional[date]:
    if value in (None, ""):
        if required:
            _errors_add(errors, field, "is required")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        _errors_add(errors, field, "must be a date YYYY-MM-DD")
        return None


def today() -> date:
    return business_today()


# ---------------------------------------------------------------- brands and products

BRAND_FIELDS = ("name", "name_en", "gi_registration", "gi_authority", "gi_region", "description")


def create_brand(data: dict) -> Brand:
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationFailed("Invalid brand", {"name": ["is required"]})
    errors: dict = {}
    for field, value in (("name", name), ("name_en", data.get("name_en"))):
        _check_printable(errors, field, value)
    if errors:
        raise ValidationFailed("Invalid brand", errors)
    if db.session.scalar(select(Brand.id).where(Brand.name == name)):
        raise ValidationFailed("Invalid brand", {"name": ["a brand with this name exists"]})
    brand = Brand(**{k: data.get(k) for k in BRAND_FIELDS} | {"name": name})
    db.session.add(brand)
    db.session.flush()
    record_audit("trace.brand.create", "trace_brand", brand.id, after=snapshot(brand, BRAND_FIELDS))
    return brand


def authorise_brand(brand_id: int, party_id: int, valid_from: Any, valid_until: Any = None) -> BrandAuthorisation:
    errors: dict = {}
    if db.session.get(Brand, brand_id) is None:
        _errors_add(errors, "brand_id", "unknown brand")
    if db.session.get(Party, party_id) is None:
        _errors_add(errors, "party_id", "unknown party")
    start = _date(valid_from, "valid_from", errors)
    end = _date(valid_until, "valid_until", errors, required=False)
    if start and end and end < start:
        _errors_add(errors, "valid_until", "must not be before valid_from")
    if errors:
        raise ValidationFailed("Invalid authorisation", errors)
    advisory_lock(f"trace_brand_authorisation:{brand_id}:{party_id}")  # authorisations of one pair take turns
    # A renewal is a new period; it may not overlap one that stands (revoked ones do not).
    overlapping = db.session.scalar(select(BrandAuthorisation).where(
        BrandAuthorisation.brand_id == brand_id, BrandAuthorisation.party_id == party_id,
        BrandAuthorisation.revoked_at.is_(None),
        or_(BrandAuthorisation.valid_until.is_(None), BrandAuthorisation.valid_until >= start),
        *([BrandAuthorisation.valid_from <= end] if end else [])).limit(1))
    if overlapping is not None:
        until = overlapping.valid_until.isoformat() if overlapping.valid_until else "open-ended"
        raise Conflict(f"this producer is already authorised for the brand from {overlapping.valid_from.isoformat()} "
                       f"to {until}: a renewal starts after that period ends")
    auth = BrandAuthorisation(brand_id=brand_id, party_id=party_id, valid_from=start, valid_until=end)
    db.session.add(auth)
    db.session.flush()
    record_audit("trace.brand.authorise", "trace_brand_authorisation", auth.id,
                 after={"brand_id": brand_id, "party_id": party_id, "valid_from": start, "valid_until": end},
                 party_id=party_id)
    invalidate_lot_cache()
    return auth


def get_brand(brand_id: int) -> Brand:
    brand = db.session.get(Brand, brand_id)
    if brand is None:
        raise NotFound(f"brand {brand_id} not found")
    return brand


PRODUCT_FIELDS = ("gtin", "name", "name_en", "brand_id", "owner_id", "net_content")


def create_product(data: dict) -> Product:
    errors: dict = {}
    try:
        gtin = normalise_gtin14(str(data.get("gtin") or ""))
        if db.session.scalar(select(Product.id).where(Product.gtin == gtin)):
            _errors_add(errors, "gtin", "a product with this GTIN exists")
    except InvalidIdentifier as exc:
        gtin = None
        _errors_add(errors, "gtin", str(exc))
    if not (data.get("name") or "").strip():
        _errors_add(errors, "name", "is required")
    _check_printable(errors, "name", data.get("name"))
    owner_id = data.get("owner_id")
    if db.session.get(Party, owner_id or 0) is None:
        _errors_add(errors, "owner_id", "unknown party")
    brand_id = data.get("brand_id") or None
    if brand_id is not None:
        if db.session.get(Brand, brand_id) is None:
            _errors_add(errors, "brand_id", "unknown brand")
        elif owner_id and not brand_authorised(brand_id, owner_id):
            _errors_add(errors, "brand_id", "the owner is not authorised to use this brand")
    if errors:
        raise ValidationFailed("Invalid product", errors)
    product = Product(gtin=gtin, name=data["name"].strip(), name_en=data.get("name_en"), brand_id=brand_id,
                      owner_id=owner_id, net_content=data.get("net_content"))
    db.session.add(product)
    db.session.flush()
    record_audit("trace.product.create", "trace_product", product.id, after=snapshot(product, PRODUCT_FIELDS),
                 party_id=owner_id)
    return product


def get_brand_authorisation(brand_id: int, auth_id: int) -> BrandAuthorisation:
    auth = db.session.get(BrandAuthorisation, auth_id)
    if auth is None or auth.brand_id != brand_id:
        raise NotFound(f"authorisation {auth_id} of brand {brand_id} not found")
    return auth


def revoke_brand_authorisation(auth: BrandAuthorisation, reason: str) -> BrandAuthorisation:
    """Withdraw a producer's right to the brand (e.g. after counterfeit labels); kept on record."""
    if auth.revoked_at is not None:
        raise Conflict("the authorisation is already revoked")
    if not (reason or "").strip():
        raise ValidationFailed("Invalid revocation", {"reason": ["is required"]})
    auth.revoked_at, auth.revoke_reason = utcnow(), reason.strip()
    record_audit("trace.brand.revoke", "trace_brand_authorisation", auth.id, before={"revoked_at": None},
                 after={"revoked_at": auth.revoked_at, "reason": auth.revoke_reason}, party_id=auth.party_id)
    invalidate_lot_cache()
    return auth


def brand_authorisations(brand_id: int) -> list[BrandAuthorisation]:
    get_brand(brand_id)
    return list(db.session.scalars(select(BrandAuthorisation).where(BrandAuthorisation.brand_id == brand_id)
                                   .order_by(BrandAuthorisation.party_id, BrandAuthorisation.valid_from)))


def brand_authorised(brand_id: int, party_id: int, day: Optional[date] = None) -> bool:
    auths = db.session.scalars(select(BrandAuthorisation).where(
        BrandAuthorisation.brand_id == brand_id, BrandAuthorisation.party_id == party_id))
    return any(auth.active_on(day or today()) for auth in auths)


def get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(f"product {product_id} not found")
    return product


def product_query(owner_id: Optional[int] = None) -> Select:
    stmt = select(Product).order_by(Product.id)
    if owner_id is not None:
        stmt = stmt.where(Product.owner_id == owner_id)
    return stmt


# ---------------------------------------------------------------- lots

LOT_FIELDS = ("code", "product_id", "producer_id", "harvest_date", "quantity", "unit")


def product_usable_by(product: Product, party_id: int) -> bool:
    """A party may make lots of its own products, and of a brand's products while authorised."""
    return product.owner_id == party_id or (product.brand_id is not None and brand_authorised(product.brand_id, party_id))


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
        _errors_add(errors, "code", str(exc))
    product = db.session.get(Product, data.get("product_id") or 0)
    if product is not None and scope is not None and not product_usable_by(product, scope):
        product = None
    if product is None:
        _errors_add(errors, "product_id", "unknown product")
    producer_id = data.get("producer_id")
    if db.session.get(Party, producer_id or 0) is None:
        _errors_add(errors, "producer_id", "unknown producer")
    elif product is not None and product.brand_id is None and product.owner_id != producer_id:
        _errors_add(errors, "producer_id", "the product belongs to another party")
    if product is not None and code and db.session.scalar(
            select(Lot.id).where(Lot.product_id == product.id, Lot.code == code)):
        _errors_add(errors, "code", "this lot code exists for the product")
    if product is not None and product.brand_id and producer_id and not brand_authorised(product.brand_id, producer_id):
        _errors_add(errors, "producer_id", "the producer is not authorised to use the product's brand")
    quantity = _decimal(data.get("quantity"), "quantity", errors)
    unit = data.get("unit") or "KGM"
    if unit not in LOT_UNITS:
        _errors_add(errors, "unit", "must be one of " + ", ".join(LOT_UNITS))
    harvest = _date(data.get("harvest_date"), "harvest_date", errors, required=False)
    if harvest and harvest > today():
        _errors_add(errors, "harvest_date", "is in the future")
    parcel_ids = list(dict.fromkeys(data.get("parcel_ids") or []))
    parcels = []
    for pid in parcel_ids:
        parcel = db.session.get(Parcel, pid)
        if parcel is None or parcel.holder_id != producer_id:  # one answer: another's parcel is not revealed
            _errors_add(errors, "parcel_ids", f"parcel {pid} is unknown or not held by the producer")
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


def get_lot(lot_id: int) -> Lot:
    lot = db.session.get(Lot, lot_id)
    if lot is None:
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
    """A regulator's recall: scan pages show the notice at once; an EPCIS recall event is recorded."""
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
    return lot


# ---------------------------------------------------------------- certifications

CERT_FIELDS = ("kind", "number", "issuer", "scope", "party_id", "product_id", "parcel_id", "valid_from",
               "valid_until", "document_url")


def grant_certification(data: dict) -> Certification:
    """Record a certificate; posts TRACE_CERT_GRANTED points to the holder's eco-credit ledger."""
    errors: dict = {}
    kind, scope = data.get("kind"), data.get("scope")
    if kind not in CERT_KINDS:
        _errors_add(errors, "kind", "must be one of " + ", ".join(CERT_KINDS))
    if scope not in CERT_SCOPES:
        _errors_add(errors, "scope", "must be one of " + ", ".join(CERT_SCOPES))
    number = (data.get("number") or "").strip()
    if not number:
        _errors_add(errors, "number", "is required")
    elif kind in CERT_KINDS and db.session.scalar(
            select(Certification.id).where(Certification.kind == kind, Certification.number == number)):
        _errors_add(errors, "number", "a certificate of this kind with this number exists")
    if not (data.get("issuer") or "").strip():
        _errors_add(errors, "issuer", "is required")
    party_id = data.get("party_id")
    if db.session.get(Party, party_id or 0) is None:
        _errors_add(errors, "party_id", "unknown holder")
    product_id, parcel_id = data.get("product_id") or None, data.get("parcel_id") or None
    if scope == "product":
        product = db.session.get(Product, product_id or 0)
        if product is None:
            _errors_add(errors, "product_id", "a product certificate names its product")
        parcel_id = None
    elif scope == "parcel":
        parcel = db.session.get(Parcel, parcel_id or 0)
        if parcel is None:
            _errors_add(errors, "parcel_id", "a parcel certificate names its parcel")
        elif party_id and parcel.holder_id != party_id:
            _errors_add(errors, "parcel_id", "the parcel is not held by the certificate holder")
        product_id = None
    elif scope == "producer":
        product_id = parcel_id = None
    start = _date(data.get("valid_from"), "valid_from", errors)
    end = _date(data.get("valid_until"), "valid_until", errors)
    if start and end and end < start:
        _errors_add(errors, "valid_until", "must not be before valid_from")
    if errors:
        raise ValidationFailed("Invalid certificate", errors)
    cert = Certification(kind=kind, number=number, issuer=data["issuer"].strip(), scope=scope, party_id=party_id,
                         product_id=product_id, parcel_id=parcel_id, valid_from=start, valid_until=end,
                         document_url=data.get("document_url") or None)
    db.session.add(cert)
    db.session.flush()
    record_audit("trace.cert.grant", "trace_certification", cert.id, after=snapshot(cert, CERT_FIELDS),
                 party_id=party_id)
    if cert.status_on(today()) == "valid":
        _announce_certification(signals.certification_granted, cert, granted_on=today())
    invalidate_lot_cache()
    return cert


def revoke_certification(cert: Certification, reason: str) -> Certification:
    if cert.revoked_at is not None:
        raise Conflict("the certificate is already revoked")
    if not (reason or "").strip():
        raise ValidationFailed("Invalid revocation", {"reason": ["is required"]})
    cert.revoked_at, cert.revoke_reason = utcnow(), reason.strip()
    _lapse(cert)
    record_audit("trace.cert.revoke", "trace_certification", cert.id, before={"revoked_at": None},
                 after={"revoked_at": cert.revoked_at, "reason": cert.revoke_reason}, party_id=cert.party_id)
    invalidate_lot_cache()
    return cert


def _lapse(cert: Certification) -> None:
    if cert.lapsed_at is None:
        cert.lapsed_at = utcnow()
        _announce_certification(signals.certification_lapsed, cert, lapsed_on=today())


def lapse_expired_certifications(day: Optional[date] = None) -> list[Certification]:
    """Post TRACE_CERT_LAPSED once for every certificate that expired; safe to run again."""
    day = day or today()
    certs = db.session.scalars(select(Certification).where(
        Certification.valid_until < day, Certification.lapsed_at.is_(None))).all()
    for cert in certs:
        _lapse(cert)
        record_audit("trace.cert.lapse", "trace_certification", cert.id, after={"valid_until": cert.valid_until},
                     party_id=cert.party_id)
    db.session.flush()
    invalidate_lot_cache()
    return list(certs)


def get_certification(cert_id: int) -> Certification:
    cert = db.session.get(Certification, cert_id)
    if cert is None:
        raise NotFound(f"certificate {cert_id} not found")
    return cert


def certification_query(party_id: Optional[int] = None) -> Select:
    stmt = select(Certification).order_by(Certification.id.desc())
    if party_id is not None:
        stmt = stmt.where(Certification.party_id == party_id)
    return stmt


def lot_certifications(lot: Lot) -> list[Certification]:
    parcel_ids = [p.id for p in lot.parcels]
    conds = [and_(Certification.scope == "product", Certification.product_id == lot.product_id),
             and_(Certification.scope == "producer", Certification.party_id == lot.producer_id)]
    if parcel_ids:
        conds.append(and_(Certification.scope == "parcel", Certification.parcel_id.in_(parcel_ids)))
    return list(db.session.scalars(select(Certification).where(or_(*conds)).order_by(Certification.kind,
                                                                                     Certification.id)))


def cert_marks(lot: Lot) -> str:
    day = today()
    kinds = []
    for cert in lot_certifications(lot):
        if cert.kind != "test_report" and cert.status_on(day) == "valid" and cert.kind not in kinds:
            kinds.append(cert.kind)
    return " · ".join(CERT_KIND_LABELS[k] for k in kinds)


# ---------------------------------------------------------------- EPCIS events


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
    event: dict[str, Any] = {"type": etype, "eventTime": epcis.epcis_time(when), "eventTimeZoneOffset": _offset(when)}
    quantity = data.get("quantity")
    if quantity is not None and not _positive(quantity):
        raise ValidationFailed.field("quantity", "must be a positive number")
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
    row = EpcisEvent(event_hash=event_id, event_type=event["type"], kind=kind,
                     event_time=epcis.parse_time(event["eventTime"]), biz_step=event.get("bizStep"),
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
        if not _positive(qty):
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
    return list(db.session.scalars(select(EpcisEvent).join(EventLot).where(EventLot.lot_id == lot_id)
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


# ---------------------------------------------------------------- labels

LABEL_LIMIT = 100_000


class LabelQuotaExceeded(DomainError):
    """A producer asked for more labels than are left of its allowance for the business day."""

    status = 429
    code = "label_quota_exceeded"

    def __init__(self, remaining: int, limit: int):
        self.remaining, self.limit = remaining, limit
        super().__init__(f"Daily label quota: {remaining:,} of {limit:,} labels remain today",
                         {"count": [f"at most {remaining:,} more labels today (quota {limit:,} a day)"]})


def labels_issued_today(producer_id: int) -> int:
    """Labels of the producer's lots in the batches created this business day (Asia/Shanghai)."""
    return db.session.scalar(select(func.coalesce(func.sum(LabelBatch.count), 0)).join(Lot).where(
        Lot.producer_id == producer_id, LabelBatch.created_at >= dates.day_start(dates.today()))) or 0


def _check_label_quota(producer_id: int, count: int) -> None:
    limit = current_app.config["TRACE_LABELS_PER_DAY"]
    advisory_lock(f"trace_label_quota:{producer_id}")  # one producer's requests take turns
    remaining = max(0, limit - labels_issued_today(producer_id))
    if count > remaining:
        raise LabelQuotaExceeded(remaining, limit)


def create_label_batch(lot: Lot, count: int, layout: str, created_by_id: Optional[int] = None,
                       scope: Optional[int] = None) -> LabelBatch:
    """A batch of ``count`` labels for the lot. A producer (``scope``) is held to the daily quota
    (``TRACE_LABELS_PER_DAY``, counting every batch of its lots that day); staff and the CLI are not."""
    from traceability.pdf import LAYOUTS

    errors: dict = {}
    if not isinstance(count, int) or not 1 <= count <= LABEL_LIMIT:
        _errors_add(errors, "count", f"must be 1 to {LABEL_LIMIT:,}")
    if layout not in LAYOUTS:
        _errors_add(errors, "layout", "must be one of " + ", ".join(LAYOUTS))
    if lot.recalled_at is not None:
        _errors_add(errors, "lot_id", "the lot is recalled: no new labels")
    if errors:
        raise ValidationFailed("Invalid label batch", errors)
    if scope is not None:
        _check_label_quota(lot.producer_id, count)
    batch = LabelBatch(lot_id=lot.id, count=count, layout=layout, created_by_id=created_by_id)
    db.session.add(batch)
    db.session.flush()
    record_audit("trace.labels.create", "trace_label_batch", batch.id,
                 after={"lot_id": lot.id, "count": count, "layout": layout}, party_id=lot.producer_id)
    return batch


def start_label_sheet(lot: Lot, count: int, layout: str, title: str, created_by_id: Optional[int] = None,
                      scope: Optional[int] = None) -> LabelBatch:
    """Issue a batch of labels and draw its sheet in a job on the low-priority queue."""
    from greenfin.jobs import enqueue

    batch = create_label_batch(lot, count, layout, created_by_id=created_by_id, scope=scope)
    batch.job_id = enqueue("traceability.jobs.render_label_sheet", {"batch_id": batch.id}, title=title,
                           party_id=lot.producer_id).id
    return batch


def issue_labels(batch: LabelBatch, progress=None, chunk: int = 5000, rng=None) -> int:
    """Create the batch's serials and signatures (bulk inserts). Safe to call again: tops up only.

    ``rng`` (a seeded random.Random) makes serials reproducible: for demo data only.
    """
    lot = batch.lot
    key = current_app.config["LABEL_SIGNING_KEY"]
    have = db.session.scalar(select(func.count(Label.id)).where(Label.batch_id == batch.id)) or 0
    missing = batch.count - have
    now = utcnow()
    done = 0
    while missing > 0:
        n = min(chunk, missing)
        serials = dl.new_serials(n) if rng is None else list(dict.fromkeys(
            "".join(rng.choice(dl.SERIAL_ALPHABET) for _ in range(dl.SERIAL_LENGTH)) for _ in range(n)))
        clash = set(db.session.scalars(select(Label.serial).where(Label.serial.in_(serials))))
        serials = [s for s in serials if s not in clash]
        db.session.execute(insert(Label), [
            {"serial": s, "signature": dl.sign(key, lot.product.gtin, lot.code, s), "lot_id": lot.id,
             "batch_id": batch.id, "created_at": now} for s in serials])
        missing -= len(serials)
        done += len(serials)
        if progress:
            progress(done)
    return done


def iter_batch_labels(batch: LabelBatch, chunk: int = 2000) -> Iterator[tuple[str, str]]:
    """(uri, serial) of a batch's labels, read in chunks."""
    base = current_app.config["PUBLIC_BASE_URL"]
    gtin, code = batch.lot.product.gtin, batch.lot.code
    last = 0
    while True:
        rows = db.session.execute(select(Label.id, Label.serial, Label.signature)
                                  .where(Label.batch_id == batch.id, Label.id > last)
                                  .order_by(Label.id).limit(chunk)).all()
        if not rows:
            return
        for row_id, serial, signature in rows:
            last = row_id
            yield dl.label_uri(base, gtin, code, serial, signature), serial


def label_text(lot: Lot):
    from traceability.pdf import LabelText

    brand = lot.product.brand
    return LabelText(product=lot.product.name, lot=lot.code,
                     harvest_date=lot.harvest_date.isoformat() if lot.harvest_date else "—",
                     marks=cert_marks(lot), brand=f"{brand.name} {brand.name_en or ''}".strip() if brand else "")


def render_batch_pdf(batch: LabelBatch, out, progress=None) -> int:
    from traceability.pdf import render_label_sheet

    return render_label_sheet(out, batch.layout, label_text(batch.lot), iter_batch_labels(batch),
                              total=batch.count, progress=progress)


def batch_query(lot_id: Optional[int] = None, producer_id: Optional[int] = None) -> Select:
    stmt = select(LabelBatch).order_by(LabelBatch.id.desc())
    if lot_id is not None:
        stmt = stmt.where(LabelBatch.lot_id == lot_id)
    if producer_id is not None:
        stmt = stmt.join(Lot).where(Lot.producer_id == producer_id)
    return stmt


def get_batch(batch_id: int) -> LabelBatch:
    batch = db.session.get(LabelBatch, batch_id)
    if batch is None:
        raise NotFound(f"label batch {batch_id} not found")
    return batch


# ---------------------------------------------------------------- scans

# The rule (limits, trusted geo, verdict) has its own home: traceability/scan_rules.py.
judge_scan, network_of = scan_rules.judge_scan, scan_rules.network_of


class Seen(NamedTuple):
    """What a scan store found and recorded: the verdict, and for a genuine label its facts."""

    verdict: str
    reason: Optional[str] = None
    label_id: Optional[int] = None
    lot_id: Optional[int] = None
    previous_scans: int = 0
    first_scan_at: Optional[datetime] = None
    first_scan_region: Optional[str] = None
    recalled_at: Optional[datetime] = None
    recall_reason: Optional[str] = None


_LOOKUP = None


def _lookup_statements():
    """The label with its lot's recall state; its first scan; its recent scans (newest first);
    how many scans it has (at most HISTORY_LIMIT counted). Built once."""
    global _LOOKUP
    if _LOOKUP is None:
        from sqlalchemy import bindparam

        label = bindparam("label_id")
        columns = (Scan.scanned_at, Scan.region, Scan.lat, Scan.lon, Scan.ip_prefix)
        _LOOKUP = (
            select(Label.id, Label.lot_id, Lot.code, Lot.recalled_at, Lot.recall_reason, Product.gtin)
            .join(Lot, Label.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
            .where(Label.serial == bindparam("serial")),
            select(*columns).where(Scan.label_id == label).order_by(Scan.scanned_at, Scan.id).limit(1),
            select(*columns).where(Scan.label_id == label, Scan.scanned_at >= bindparam("since"))
            .order_by(Scan.scanned_at.desc(), Scan.id.desc()).limit(scan_rules.HISTORY_LIMIT),
            select(func.count()).select_from(
                select(Scan.id).where(Scan.label_id == label).limit(scan_rules.HISTORY_LIMIT).subquery()))
    return _LOOKUP


class _SessionScans:
    """A scan through the request's ORM session (SQLite, and while testing): the label and its
    scans read, judged by ``judge_scan`` and the scan inserted; the request commits."""

    def scan(self, serial: Optional[str], gtin: str, lot_code: str, values: dict) -> Seen:
        find_label, find_first, find_recent, count = _lookup_statements()
        label = db.session.execute(find_label, {"serial": serial}).first() if serial else None
        if not (label and label.gtin == gtin and label.code == lot_code):
            db.session.execute(insert(Scan), [values | {"verdict": "not_genuine", "reason": "unknown"}])
            return Seen("not_genuine")
        at = values["scanned_at"]
        first = db.session.execute(find_first, {"label_id": label.id}).first()
        recent = db.session.execute(find_recent, {"label_id": label.id,
                                                  "since": at - scan_rules.RECENT_WINDOW}).all() if first else []
        previous = db.session.scalar(count, {"label_id": label.id}) if first else 0
        verdict, reason = judge_scan(first, recent, at, values["ip_prefix"], values["region"], values["lat"],
                                     values["lon"], label.recalled_at is not None)
        db.session.execute(insert(Scan), [values | {"label_id": label.id, "lot_id": label.lot_id, "path": None,
                                                    "verdict": verdict, "reason": reason}])
        return Seen(verdict, reason, label.id, label.lot_id, previous, first and first.scanned_at,
                    first and first.region, label.recalled_at, label.recall_reason)

    def close(self) -> None:
        pass


# On PostgreSQL outside tests a scan is one call of trace_record_scan (migration trace_0006):
# the same look-up and judgement as _SessionScans in one statement and one round trip, the
# scans of one label taken one at a time, and synchronous_commit off for that transaction only.
_PG_SCAN = ("SELECT * FROM trace_record_scan(%(serial)s, %(gtin)s, %(lot_code)s, %(scanned_at)s, %(region)s, "
            "%(lat)s, %(lon)s, %(ip_prefix)s, %(user_agent)s, %(path)s, %(networks)s, %(recent)s, %(history)s, "
            "%(window)s, %(km)s)")


def pg_scan_params(serial: Optional[str], gtin: str, lot_code: str, values: dict) -> dict:
    return values | {"serial": serial, "gtin": gtin, "lot_code": lot_code, "networks": scan_rules.NETWORK_LIMIT,
                     "recent": scan_rules.RECENT_WINDOW, "history": scan_rules.HISTORY_LIMIT,
                     "window": scan_rules.SPREAD_WINDOW, "km": float(scan_rules.SPREAD_KM)}


class _ScanPool:
    """This process's own small pool of autocommitting connections for scans, without the
    per-checkout pre-ping (a connection the server has closed is noticed without a round trip)."""

    def __init__(self, url):
        from sqlalchemy import create_engine

        self.engine = create_engine(url, pool_pre_ping=False, pool_size=2, max_overflow=4,
                                    isolation_level="AUTOCOMMIT")


class _PooledScans:
    """A scan on one connection of the scan pool, on the driver's cursor.

    A pooled connection whose socket is readable while idle has been closed by the server (a
    restart, a terminated backend): the pool is emptied and a fresh connection used, before
    anything is sent. A statement that fails is not retried (it may have recorded the scan);
    driver errors are raised as SQLAlchemy's, so a lost database answers 503 like everywhere else.
    """

    def __init__(self, pool: _ScanPool):
        self.pool, self.dbapi_conn = pool, pool.engine.raw_connection()
        if _closed_by_server(self.dbapi_conn.dbapi_connection):
            self.dbapi_conn.invalidate()
            pool.engine.dispose()
            self.dbapi_conn = pool.engine.raw_connection()

    def scan(self, serial: Optional[str], gtin: str, lot_code: str, values: dict) -> Seen:
        from sqlalchemy.exc import DBAPIError

        params = pg_scan_params(serial, gtin, lot_code, values)
        dialect = self.pool.engine.dialect
        cursor = self.dbapi_conn.cursor()
        try:
            cursor.execute(_PG_SCAN, params)
            return Seen(*cursor.fetchone())
        except dialect.loaded_dbapi.Error as exc:
            dead = dialect.is_disconnect(exc, self.dbapi_conn.dbapi_connection, cursor)
            if dead:
                self.dbapi_conn.invalidate(exc)
            raise DBAPIError.instance(_PG_SCAN, params, exc, dialect.loaded_dbapi.Error,
                                      connection_invalidated=dead, dialect=dialect) from exc
        finally:
            cursor.close()

    def close(self) -> None:
        self.dbapi_conn.close()


def _closed_by_server(connection) -> bool:
    """An idle connection has nothing to read unless the server said goodbye (or closed it)."""
    import select as select_

    try:
        return bool(select_.select([connection.pgconn.socket], [], [], 0)[0])
    except (OSError, ValueError, AttributeError):
        return True


_SCAN_POOL_LOCK = threading.Lock()


def _scan_store():
    """Where this scan is judged and recorded. ``TRACE_SCAN_POOL`` (default: on, except while
    testing) uses the scan pool on PostgreSQL; otherwise, and on SQLite, the ORM session."""
    app = current_app._get_current_object()
    pool = app.extensions.get("trace_scan_pool", False)
    if pool is False:
        with _SCAN_POOL_LOCK:  # gthread workers: one pool per app and process
            pool = app.extensions.get("trace_scan_pool", False)
            if pool is False:
                pool = None
                if app.config.get("TRACE_SCAN_POOL", not app.testing) and db.engine.dialect.name == "postgresql":
                    pool = _ScanPool(db.engine.url)
                app.extensions["trace_scan_pool"] = pool
    return _PooledScans(pool) if pool is not None else _SessionScans()


def _as_utc(value: Optional[datetime]) -> Optional[datetime]:
    """Rows read through the driver carry the connection's time zone; the ORM's carry UTC."""
    return value.astimezone(timezone.utc) if value is not None else None


def scan_label(gtin: str, lot_code: str, serial: str, signature: Optional[str], meta: dict) -> dict:
    """Check a scanned code and record the scan. Bad signature and unknown serial answer alike."""
    values = dict(scanned_at=utcnow(), region=meta.get("region"), lat=meta.get("lat"), lon=meta.get("lon"),
                  ip_prefix=meta.get("ip_prefix"), user_agent=(meta.get("user_agent") or "")[:128] or None,
                  path=(meta.get("path") or "")[:160], label_id=None, lot_id=None)
    try:
        gtin, lot_code, serial = dl.parse_path_values(gtin, lot_code, serial)
        signed = dl.verify(current_app.config["LABEL_SIGNING_KEY"], gtin, lot_code, serial, signature)
    except InvalidIdentifier:
        signed = False
    store = _scan_store()
    try:
        seen = store.scan(serial if signed else None, gtin, lot_code, values)
    finally:
        store.close()
    count_scan(seen.verdict)
    if seen.verdict == "not_genuine":
        return {"verdict": "not_genuine", "reason": None}
    return {"verdict": seen.verdict, "reason": seen.reason, "previous_scans": seen.previous_scans,
            "first_scan_at": _as_utc(seen.first_scan_at), "first_scan_region": seen.first_scan_region,
            "lot_id": seen.lot_id, "serial": serial, "recalled_at": _as_utc(seen.recalled_at),
            "recall_reason": seen.recall_reason}


# Lot facts for the scan page change rarely; each process keeps them a few seconds.
# The recall state is never cached: it is read with the label on every scan.
_LOT_CACHE: dict[int, tuple[float, dict]] = {}
_PAGE_CACHE: dict[tuple, tuple[float, Any]] = {}
LOT_CACHE_SECONDS = 10.0


def invalidate_lot_cache(lot_id: Optional[int] = None) -> None:
    """Forget cached lot facts (this process; other processes refresh within LOT_CACHE_SECONDS)."""
    if lot_id is None:
        _LOT_CACHE.clear()
        _PAGE_CACHE.clear()
    else:
        _LOT_CACHE.pop(lot_id, None)
        for key in [k for k in _PAGE_CACHE if k[0] == lot_id]:
            _PAGE_CACHE.pop(key, None)


def _cached(cache: dict, key, build):
    """``build()``, kept LOT_CACHE_SECONDS in this process under ``key`` (never while testing)."""
    hit = cache.get(key)
    now = time.monotonic()
    if hit and now - hit[0] < LOT_CACHE_SECONDS and not current_app.testing:
        return hit[1]
    value = build()
    cache[key] = (now, value)
    return value


def cached_fragment(key: tuple, build):
    """A lot's rendered page (or its parts), kept like the lot facts; ``key`` starts with the lot id."""
    return _cached(_PAGE_CACHE, key, build)


def lot_public_view(lot_id: int) -> dict:
    return _cached(_LOT_CACHE, lot_id, lambda: _build_lot_view(get_lot(lot_id)))


def _build_lot_view(lot: Lot) -> dict:
    product, brand, producer = lot.product, lot.product.brand, lot.producer
    day = today()
    certs = [{"kind": c.kind, "number": c.number, "issuer": c.issuer, "scope": c.scope,
              "valid_from": c.valid_from.isoformat(), "valid_until": c.valid_until.isoformat(),
              "status": c.status_on(day)} for c in lot_certifications(lot)]
    origin = []
    for p in lot.parcels:
        origin.append({"parcel_id": p.id, "code": p.code, "name": p.name, "township_zh": p.township.name_zh,
                       "township_en": p.township.name_en, "village": p.village, "lat": str(p.lat),
                       "lon": str(p.lon), "area_ha": str(p.area_ha), "gep": _gep_brief(p.id)})
    events: list[dict] = []
    for e in lot_events(lot.id):
        item = {"kind": e.kind, "time": e.event_time.astimezone(CHINA_TZ).isoformat(), "biz_step": e.biz_step,
                "disposition": e.disposition, "ship_to": e.ship_to.name if e.ship_to else None,
                "reference": e.reference_document, "count": 1}
        last = events[-1] if events else None
        if last and (last["kind"], last["time"][:10], last["ship_to"]) == (item["kind"], item["time"][:10],
                                                                           item["ship_to"]):
            last["count"] += 1  # e.g. one packing event per carton: one line on the timeline
        else:
            events.append(item)
    authorised = brand is not None and brand_authorised(brand.id, lot.producer_id, day)
    inputs = [{"code": li.input_lot.code, "product": li.input_lot.product.name}
              for li in db.session.scalars(select(LotInput).where(LotInput.lot_id == lot.id))]
    return {
        "lot": {"code": lot.code, "harvest_date": lot.harvest_date.isoformat() if lot.harvest_date else None,
                "quantity": str(lot.quantity), "unit": lot.unit, "inputs": inputs},
        "product": {"name": product.name, "name_en": product.name_en, "gtin": product.gtin,
                    "net_content": product.net_content},
        "brand": {"name": brand.name, "name_en": brand.name_en, "gi_registration": brand.gi_registration,
                  "gi_authority": brand.gi_authority, "gi_region": brand.gi_region,
                  "authorised": authorised} if brand else None,
        "producer": {"name": producer.name, "township_zh": producer.township.name_zh,
                     "township_en": producer.township.name_en, "village": producer.village,
                     "credit_colour": credit_colour(producer.id)},
        "origin": origin,
        "certifications": certs,
        "events": events,
    }


def scan_meta(request) -> dict:
    """Where a scan came from: the client's network, and region and coordinates only as the
    configured edge proxy tells them (``scan_rules.trusted_geo``; no precise location is asked for)."""
    meta = scan_rules.trusted_geo(request.environ, request.headers, current_app.config.get("TRACE_GEO_PROXIES", ""))
    meta.update(user_agent=request.headers.get("User-Agent"), path=request.path,
                ip_prefix=network_of(request.remote_addr or ""))
    return meta


# ---------------------------------------------------------------- serial guessing

ENUMERATION_ACTION = "trace.scan.enumeration_suspected"
ENUMERATION_THRESHOLD = 10   # codes not recognised from one address in one window
ENUMERATION_WINDOW = 600     # seconds; fixed windows, counted like the rate limits
REVIEW_FIRST_DAY, REVIEW_LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
_PROBED = re.compile(r"^/01/([^/]*)(?:/10/([^/]*))?")


def _probed(path: str) -> tuple[Optional[str], Optional[str]]:
    """The GTIN and lot code of a scanned path, as sent (they need not exist)."""
    match = _PROBED.match(path or "")
    if not match:
        return None, None
    return (match.group(1) or None), (match.group(2) or None)


def note_unrecognised_scan(client: str, path: str):
    """Count a code not recognised from ``client``'s network; at the threshold, flag serial guessing.

    Many unrecognised codes from one network (the /24 or /48 that scan records keep; the full
    address is neither counted under nor recorded) look like serial guessing. The caller's answer
    does not change (it must not learn anything); the regulators get one audit event per network
    and window, naming the code probed (GTIN and lot). Returns the event, or None.
    """
    from greenfin.ratelimit import counter

    network = network_of(client) or "unknown"  # kept no finer than the scan records keep it
    misses, _reset = counter(f"scan-miss:{network}", ENUMERATION_WINDOW)
    if misses != ENUMERATION_THRESHOLD:
        return None
    start = int(time.time() // ENUMERATION_WINDOW) * ENUMERATION_WINDOW
    gtin, lot = _probed(path)
    current_app.logger.warning("possible serial enumeration from %s", network)
    return record_audit(ENUMERATION_ACTION, "scan_client", network, after={
        "unrecognised_codes_in_10_minutes": misses, "last_path": (path or "")[:160],
        "gtin": gtin[:32] if gtin else None, "lot": lot[:32] if lot else None,
        "window_start": datetime.fromtimestamp(start, timezone.utc)})


def _china_day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)


def enumeration_flag_query(since: Optional[date] = None, until: Optional[date] = None) -> Select:
    """Serial-guessing flags, newest first; ``since`` and ``until`` are days in China time, both included."""
    errors: dict = {}
    for name, day in (("since", since), ("until", until)):
        if day is not None and not REVIEW_FIRST_DAY <= day <= REVIEW_LAST_DAY:
            _errors_add(errors, name, f"must be between {REVIEW_FIRST_DAY} and {REVIEW_LAST_DAY}")
    if not errors and since and until and until < since:
        _errors_add(errors, "until", "must not be before since")
    if errors:
        raise ValidationFailed("Invalid date range", errors)
    return audit_query(action=ENUMERATION_ACTION,
                       since=_china_day_start(since) if since else None,
                       until=_china_day_start(until + timedelta(days=1)) if until else None)


def enumeration_flags(events: Iterable) -> list[dict]:
    """What the review shows of each flag (audit events of ENUMERATION_ACTION).

    The probed code's GTIN and lot, with the product and brand when the GTIN is ours; and
    how many codes were not recognised: the scan records from the client's network (the /24 or
    /48 they keep) in the flag's 10-minute window, never fewer than were counted when it was raised.
    """
    items = []
    for event in events:
        after = event.after or {}
        path = str(after.get("last_path") or "")
        gtin, lot = (after.get("gtin"), after.get("lot")) if "gtin" in after else _probed(path)
        try:
            start = datetime.fromisoformat(after["window_start"])
        except (KeyError, TypeError, ValueError):  # recorded before the window was: the one it fell in
            stamp = int(event.occurred_at.timestamp() // ENUMERATION_WINDOW) * ENUMERATION_WINDOW
            start = datetime.fromtimestamp(stamp, timezone.utc)
        end = start + timedelta(seconds=ENUMERATION_WINDOW)
        network = network_of(event.entity_id)
        seen = db.session.scalar(select(func.count(Scan.id)).where(
            Scan.label_id.is_(None), Scan.verdict == "not_genuine", Scan.ip_prefix == network,
            Scan.scanned_at >= start, Scan.scanned_at < end)) if network else 0
        counted = after.get("unrecognised_codes_in_10_minutes")
        items.append({"id": event.id, "occurred_at": event.occurred_at, "client": event.entity_id,
                      "network": network, "gtin": gtin, "lot": lot, "lot_id": None, "product": None,
                      "product_en": None, "brand": None, "brand_id": None, "last_path": path or None,
                      "unrecognised_codes": max(seen or 0, counted if isinstance(counted, int) else 0),
                      "window_start": start, "window_end": end})
    gtins = {item["gtin"] for item in items if item["gtin"]}
    if gtins:
        products = {p.gtin: p for p in db.session.scalars(select(Product).where(Product.gtin.in_(gtins)))}
        codes = {item["lot"] for item in items if item["lot"]}
        lots = {(product_id, code): lot_id for lot_id, product_id, code in db.session.execute(
            select(Lot.id, Lot.product_id, Lot.code).where(
                Lot.product_id.in_([p.id for p in products.values()]), Lot.code.in_(codes)))} if codes else {}
        for item in items:
            product = products.get(item["gtin"])
            if product is None:
                continue
            item.update(product=product.name, product_en=product.name_en,
                        lot_id=lots.get((product.id, item["lot"])))
            if product.brand is not None:
                item.update(brand=product.brand.name, brand_id=product.brand_id)
    return items


def scan_statistics(lot_id: int, days: int = 30) -> dict:
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(select(Scan.scanned_at, Scan.region, Scan.verdict)
                              .where(Scan.lot_id == lot_id, Scan.scanned_at >= since)).all()
    daily: dict[str, int] = {}
    regions: dict[str, int] = {}
    verdicts: dict[str, int] = {}
    for at, region, verdict in rows:
        key = at.astimezone(CHINA_TZ).date().isoformat()
        daily[key] = daily.get(key, 0) + 1
        regions[region or "—"] = regions.get(region or "—", 0) + 1
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    start = (utcnow() - timedelta(days=days - 1)).astimezone(CHINA_TZ).date()
    series = [((start + timedelta(days=i)).isoformat(), daily.get((start + timedelta(days=i)).isoformat(), 0))
              for i in range(days)]
    total = db.session.scalar(select(func.count(Scan.id)).where(Scan.lot_id == lot_id)) or 0
    labels = db.session.scalar(select(func.count(Label.id)).where(Label.lot_id == lot_id)) or 0
    scanned = db.session.scalar(select(func.count(func.distinct(Scan.label_id))).where(Scan.lot_id == lot_id)) or 0
    return {"daily": series, "regions": sorted(regions.items(), key=lambda kv: -kv[1]),
            "verdicts": verdicts, "total": total, "labels": labels, "labels_scanned": scanned}


# ---------------------------------------------------------------- tracing


def trace_lot(lot: Lot, max_depth: int = 10) -> dict:
    """Backward (parcels, input lots) and forward (events, lots made from it) from a lot."""
    backward, forward = [], []
    frontier, seen = [lot.id], {lot.id}
    for _ in range(max_depth):
        rows = db.session.scalars(select(LotInput).where(LotInput.lot_id.in_(frontier))).all()
        frontier = []
        for r in rows:
            if r.input_lot_id not in seen:
                seen.add(r.input_lot_id)
                backward.append(r.input_lot)
                frontier.append(r.input_lot_id)
        if not frontier:
            break
    frontier, seen_f = [lot.id], {lot.id}
    for _ in range(max_depth):
        rows = db.session.scalars(select(LotInput).where(LotInput.input_lot_id.in_(frontier))).all()
        frontier = []
        for r in rows:
            if r.lot_id not in seen_f:
                seen_f.add(r.lot_id)
                forward.append(r.lot)
                frontier.append(r.lot_id)
        if not frontier:
            break
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
