"""Certificates (Green Food, organic, GI, test reports) of a product, a producer or a parcel:
granting, revocation, expiry, and which of them a lot carries. Granting and lapsing are announced
as signals (greenfin/signals.py)."""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import Select, and_, or_, select

from greenfin import signals
from greenfin.core.models import Parcel, Party
from greenfin.core.services import record_audit, snapshot
from greenfin.core.types import utcnow
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from traceability.labels import CERT_KIND
from traceability.models import CERT_KINDS, CERT_SCOPES, Certification, Lot, Product
from traceability.services.common import add_error, parse_date, today
from traceability.services.links import announce_certification
from traceability.services.scan_store import invalidate_lot_cache

# The marks printed on a label are Chinese, as on the packaging (labels: traceability/labels.py).
CERT_KIND_LABELS = {kind: zh for kind, (zh, _en) in CERT_KIND.items()}

CERT_FIELDS = ("kind", "number", "issuer", "scope", "party_id", "product_id", "parcel_id", "valid_from",
               "valid_until", "document_url")


def grant_certification(data: dict) -> Certification:
    """Record a certificate; posts TRACE_CERT_GRANTED points to the holder's eco-credit ledger."""
    errors: dict = {}
    kind, scope = data.get("kind"), data.get("scope")
    if kind not in CERT_KINDS:
        add_error(errors, "kind", "must be one of " + ", ".join(CERT_KINDS))
    if scope not in CERT_SCOPES:
        add_error(errors, "scope", "must be one of " + ", ".join(CERT_SCOPES))
    number = (data.get("number") or "").strip()
    if not number:
        add_error(errors, "number", "is required")
    elif kind in CERT_KINDS and db.session.scalar(
            select(Certification.id).where(Certification.kind == kind, Certification.number == number)):
        add_error(errors, "number", "a certificate of this kind with this number exists")
    if not (data.get("issuer") or "").strip():
        add_error(errors, "issuer", "is required")
    party_id = data.get("party_id")
    if db.session.get(Party, party_id or 0) is None:
        add_error(errors, "party_id", "unknown holder")
    product_id, parcel_id = data.get("product_id") or None, data.get("parcel_id") or None
    if scope == "product":
        product = db.session.get(Product, product_id or 0)
        if product is None:
            add_error(errors, "product_id", "a product certificate names its product")
        parcel_id = None
    elif scope == "parcel":
        parcel = db.session.get(Parcel, parcel_id or 0)
        if parcel is None:
            add_error(errors, "parcel_id", "a parcel certificate names its parcel")
        elif party_id and parcel.holder_id != party_id:
            add_error(errors, "parcel_id", "the parcel is not held by the certificate holder")
        product_id = None
    elif scope == "producer":
        product_id = parcel_id = None
    start = parse_date(data.get("valid_from"), "valid_from", errors)
    end = parse_date(data.get("valid_until"), "valid_until", errors)
    if start and end and end < start:
        add_error(errors, "valid_until", "must not be before valid_from")
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
        announce_certification(signals.certification_granted, cert, granted_on=today())
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
        announce_certification(signals.certification_lapsed, cert, lapsed_on=today())


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
    return certifications_of_lots([lot])[lot.id]


def certifications_of_lots(lots: list[Lot]) -> dict[int, list[Certification]]:
    """The certificates each lot carries (by kind, then id): those of its product, of its producer
    and of its origin parcels. One query for any number of lots."""
    out: dict[int, list[Certification]] = {lot.id: [] for lot in lots}
    if not lots:
        return out
    product_ids = {lot.product_id for lot in lots}
    party_ids = {lot.producer_id for lot in lots}
    parcel_ids = {p.id for lot in lots for p in lot.parcels}
    conds = [and_(Certification.scope == "product", Certification.product_id.in_(product_ids)),
             and_(Certification.scope == "producer", Certification.party_id.in_(party_ids))]
    if parcel_ids:
        conds.append(and_(Certification.scope == "parcel", Certification.parcel_id.in_(parcel_ids)))
    certs = db.session.scalars(select(Certification).where(or_(*conds)).order_by(Certification.kind,
                                                                                 Certification.id)).all()
    for lot in lots:
        own_parcels = {p.id for p in lot.parcels}
        out[lot.id] = [c for c in certs
                       if (c.scope == "product" and c.product_id == lot.product_id)
                       or (c.scope == "producer" and c.party_id == lot.producer_id)
                       or (c.scope == "parcel" and c.parcel_id in own_parcels)]
    return out


def cert_marks(lot: Lot) -> str:
    day = today()
    kinds = []
    for cert in lot_certifications(lot):
        if cert.kind != "test_report" and cert.status_on(day) == "valid" and cert.kind not in kinds:
            kinds.append(cert.kind)
    return " · ".join(CERT_KIND_LABELS[k] for k in kinds)

