"""The catalogue: brands (with their GI registration), the producers authorised to use them, and
products (GTIN)."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

from sqlalchemy import Select, or_, select

from greenfin.core.identifiers import InvalidIdentifier, normalise_gtin14
from greenfin.core.models import Party
from greenfin.core.services import record_audit, snapshot
from greenfin.core.types import utcnow
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import advisory_lock, db
from traceability.models import Brand, BrandAuthorisation, Product
from traceability.services.common import add_error, check_printable, parse_date, today
from traceability.services.scan_store import invalidate_lot_cache

BRAND_FIELDS = ("name", "name_en", "gi_registration", "gi_authority", "gi_region", "description")


def create_brand(data: dict) -> Brand:
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationFailed("Invalid brand", {"name": ["is required"]})
    errors: dict = {}
    for field, value in (("name", name), ("name_en", data.get("name_en"))):
        check_printable(errors, field, value)
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
        add_error(errors, "brand_id", "unknown brand")
    if db.session.get(Party, party_id) is None:
        add_error(errors, "party_id", "unknown party")
    start = parse_date(valid_from, "valid_from", errors)
    end = parse_date(valid_until, "valid_until", errors, required=False)
    if start and end and end < start:
        add_error(errors, "valid_until", "must not be before valid_from")
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


def brand_query() -> Select:
    return select(Brand).order_by(Brand.id)


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
            add_error(errors, "gtin", "a product with this GTIN exists")
    except InvalidIdentifier as exc:
        gtin = None
        add_error(errors, "gtin", str(exc))
    if not (data.get("name") or "").strip():
        add_error(errors, "name", "is required")
    check_printable(errors, "name", data.get("name"))
    owner_id = data.get("owner_id")
    if db.session.get(Party, owner_id or 0) is None:
        add_error(errors, "owner_id", "unknown party")
    brand_id = data.get("brand_id") or None
    if brand_id is not None:
        if db.session.get(Brand, brand_id) is None:
            add_error(errors, "brand_id", "unknown brand")
        elif owner_id and not brand_authorised(brand_id, owner_id):
            add_error(errors, "brand_id", "the owner is not authorised to use this brand")
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


def product_by_gtin(gtin: str) -> Optional[Product]:
    """The product with this GTIN, or None (for imports that name products by GTIN)."""
    return db.session.scalar(select(Product).where(Product.gtin == (gtin or "").strip()))


def product_query(owner_id: Optional[int] = None) -> Select:
    stmt = select(Product).order_by(Product.id)
    if owner_id is not None:
        stmt = stmt.where(Product.owner_id == owner_id)
    return stmt


def product_usable_by(product: Product, party_id: int) -> bool:
    """A party may make lots of its own products, and of a brand's products while authorised."""
    return product.owner_id == party_id or (product.brand_id is not None and brand_authorised(product.brand_id, party_id))

