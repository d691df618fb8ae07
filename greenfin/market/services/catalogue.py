"""Market business functions: the package's published contract. Today the public eco-product
catalogue (目录清单) and its coverage; offers, demand and orders come later (docs/market.md).

The catalogue is built from what other packages record, read only through their contracts:
traceability (``catalogue_lots``: lots, parcels, grade, certificates, GI authorisation), gep
(``current_parcel_gep``, ``accounted_parcel_ids``) and credit (``current_rating``: the producer's
colour). Without gep or credit the entries go without GEP or colour; traceability is required.
Nothing here writes: the catalogue is a view of the records, never a copy that could drift.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Optional

from sqlalchemy import select

from greenfin.core.models import Parcel
from greenfin.core.services import list_townships
from greenfin.errors import N_, ValidationFailed
from greenfin.extensions import db
from greenfin.registry import contract, require

CSV_COLUMNS = ("lot", "gtin", "product", "product_en", "quantity", "unit", "grade", "harvest_date", "recalled",
               "township", "village", "parcel", "parcel_name", "area_ha", "gep_year", "gep_value",
               "rights_holder", "producer_colour", "brand", "gi_registration", "gi_authorisation",
               "gi_valid_until", "certifications")


def certification_kinds() -> tuple[str, ...]:
    """The certificate kinds a catalogue can be filtered by (traceability's enumeration)."""
    return tuple(require("traceability").CERT_KIND_LABELS)


def products() -> list[tuple[int, str, Optional[str]]]:
    """(id, name, English name) of the products, for the product filter."""
    return [(p.id, p.name, p.name_en) for p in db.session.scalars(require("traceability").product_query(None))]


def validate_filters(*, township: Optional[str] = None, product: Optional[int] = None,
                     certification: Optional[str] = None, q: Optional[str] = None) -> dict:
    """The filters of a catalogue request, checked: an unknown township, product or certificate
    kind is a field error that names it (never an empty list that looks like "nothing found")."""
    errors: dict[str, list] = {}
    if township and township not in {t.code for t in list_townships()}:
        errors["township"] = [N_("no township %(code)s", code=township)]
    if product and product not in {p[0] for p in products()}:
        errors["product"] = [N_("no product %(id)s", id=product)]
    if certification and certification not in certification_kinds():
        errors["certification"] = [N_("no certificate kind %(kind)s", kind=certification)]
    if q is not None and len(q) > 64:
        errors["q"] = [N_("at most %(n)s characters", n=64)]
    if errors:
        raise ValidationFailed("The catalogue filters are not valid", errors)
    return {"township": township or None, "product": product or None, "certification": certification or None,
            "q": (q or "").strip() or None}


def catalogue(*, township: Optional[str] = None, product: Optional[int] = None,
              certification: Optional[str] = None, q: Optional[str] = None, figures: bool = True) -> list[dict]:
    """The eco-product catalogue: one entry per lot and origin parcel, filtered (``township`` of the
    parcel, ``product`` id, ``certification`` kind valid today on the lot, ``q`` in the product,
    lot, GTIN or parcel). Each entry: lot, product, quantity, grade, recall, the parcel and its
    township, rights holder (no individual's name), GI brand and authorisation status, certificates
    with validity, and (``figures``; a page adds them to its own entries only: ``add_figures``)
    the orchard's GEP (latest account) and the producer's colour."""
    filters = validate_filters(township=township, product=product, certification=certification, q=q)
    entries = []
    for lot in require("traceability").catalogue_lots(township=filters["township"], product_id=filters["product"]):
        if filters["certification"] and not any(c["kind"] == filters["certification"] and c["status"] == "valid"
                                                for c in lot["certifications"]):
            continue
        for parcel in lot["parcels"]:
            if filters["township"] and parcel["township"] != filters["township"]:
                continue
            if filters["q"] and not _matches(filters["q"], lot, parcel):
                continue
            entries.append({
                "lot_id": lot["lot_id"], "lot": lot["lot_code"], "gtin": lot["gtin"], "product_id": lot["product_id"],
                "product": lot["product"], "product_en": lot["product_en"], "quantity": lot["quantity"],
                "unit": lot["unit"], "grade": lot["grade"], "harvest_date": lot["harvest_date"],
                "recalled": lot["recalled"], "parcel_id": parcel["parcel_id"], "parcel": parcel["code"],
                "parcel_name": parcel["name"], "township": parcel["township"], "village": parcel["village"],
                "area_ha": parcel["area_ha"], "gep_year": None, "gep_value": None,
                "rights_holder": lot["rights_holder"], "rights_holder_kind": lot["rights_holder_kind"],
                "producer_id": lot["producer_id"], "producer_colour": None, "brand": lot["brand"],
                "certifications": lot["certifications"], "information": lot["information"],
            })
    return add_figures(entries) if figures else entries


def add_figures(entries: list[dict]) -> list[dict]:
    """Fill in each entry's orchard GEP (gep's latest account) and producer colour (credit), once per
    parcel and producer; without gep or credit they stay empty."""
    gep, credit = contract("greenfin.gep"), contract("credit")
    colours: dict[int, Optional[str]] = {}
    accounts: dict[int, object] = {}
    for e in entries:
        if credit is not None and e["producer_id"] not in colours:
            colours[e["producer_id"]] = getattr(credit.current_rating(e["producer_id"]), "colour", None)
        if gep is not None and e["parcel_id"] not in accounts:
            accounts[e["parcel_id"]] = gep.current_parcel_gep(e["parcel_id"])
        account = accounts.get(e["parcel_id"])
        e.update(producer_colour=colours.get(e["producer_id"]), gep_year=getattr(account, "year", None),
                 gep_value=getattr(account, "value", None))
    return entries


def _matches(q: str, lot: dict, parcel: dict) -> bool:
    needle = q.casefold()
    return any(needle in (value or "").casefold() for value in
               (lot["product"], lot["product_en"], lot["lot_code"], lot["gtin"], parcel["code"], parcel["name"]))


def csv_rows(entries: Iterable[dict]) -> Iterable[dict]:
    """The catalogue as CSV rows (``CSV_COLUMNS``): codes for other systems, exact decimals."""
    for e in entries:
        brand = e["brand"] or {}
        yield {"lot": e["lot"], "gtin": e["gtin"], "product": e["product"], "product_en": e["product_en"] or "",
               "quantity": _plain(e["quantity"]), "unit": e["unit"], "grade": e["grade"] or "",
               "harvest_date": e["harvest_date"] or "", "recalled": "yes" if e["recalled"] else "no",
               "township": e["township"], "village": e["village"] or "", "parcel": e["parcel"],
               "parcel_name": e["parcel_name"] or "", "area_ha": _plain(e["area_ha"]), "gep_year": e["gep_year"] or "",
               "gep_value": "" if e["gep_value"] is None else f"{e['gep_value']:.2f}",
               "rights_holder": e["rights_holder"] or "", "producer_colour": e["producer_colour"] or "",
               "brand": brand.get("name", ""), "gi_registration": brand.get("gi_registration") or "",
               "gi_authorisation": brand.get("status", ""), "gi_valid_until": brand.get("valid_until") or "",
               "certifications": "; ".join(f"{c['kind']} {c['number']} {c['valid_from']}..{c['valid_until']} "
                                           f"{c['status']}" for c in e["certifications"])}


def _plain(value) -> str:
    return "" if value is None else format(Decimal(value).normalize(), "f")


def coverage() -> dict:
    """The regulators' coverage: which parcels with a GEP account have catalogue entries.

    {"accounted": n, "covered": n, "share": Decimal percent or None, "missing": [{parcel_id, code,
    township, village, area_ha}] (accounted, no entry), "uncounted": n (entries on parcels without
    an account)}. Without gep there is nothing to measure against: accounted 0."""
    gep = contract("greenfin.gep")
    accounted = gep.accounted_parcel_ids() if gep is not None else set()
    listed = {e["parcel_id"] for e in catalogue(figures=False)}
    covered = accounted & listed
    missing_ids = sorted(accounted - listed)
    missing = []
    for chunk in range(0, len(missing_ids), 500):
        ids = missing_ids[chunk:chunk + 500]
        missing += [{"parcel_id": p.id, "code": p.code, "township": p.township_code, "village": p.village,
                     "area_ha": p.area_ha}
                    for p in db.session.scalars(select(Parcel).where(Parcel.id.in_(ids)).order_by(Parcel.id))]
    share = (Decimal(len(covered) * 100) / len(accounted)).quantize(Decimal("0.1")) if accounted else None
    return {"accounted": len(accounted), "covered": len(covered), "share": share, "missing": missing,
            "uncounted": len(listed - accounted)}
