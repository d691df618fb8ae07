"""Scans: check a scanned code and record it (through the scan store), the lot's public view
shown on the scan page, where a scan came from, and a lot's scan statistics."""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

from flask import current_app
from sqlalchemy import func, insert, select

from greenfin.core.identifiers import InvalidIdentifier
from greenfin.core.types import utcnow
from greenfin.extensions import db
from greenfin.ratelimit import client_address
from greenfin.metrics import count_scan
from traceability import digital_link as dl
from traceability import scan_rules
from traceability.models import Label, Lot, LotInput, Product, Scan
from traceability.services.catalogue import brand_authorised
from traceability.services.certifications import lot_certifications
from traceability.services.common import CHINA_TZ, today
from traceability.services.enumeration import active_blocks, note_unrecognised_scan
from traceability.services.events import lot_events
from traceability.services.links import credit_colour, credit_colours, gep_brief
from traceability.services.lots import get_lot
from traceability.services.scan_store import as_utc, cached_lot_view, open_scan_store

network_of = scan_rules.network_of


def scan_label(gtin: str, lot_code: str, serial: str, signature: Optional[str], meta: dict) -> dict:
    """Check a scanned code and record the scan. Bad signature and unknown serial answer alike."""
    values = dict(scanned_at=utcnow(), region=meta.get("region"), lat=meta.get("lat"), lon=meta.get("lon"),
                  ip_prefix=meta.get("ip_prefix"), user_agent=(meta.get("user_agent") or "")[:128] or None,
                  path=(meta.get("path") or "")[:160], label_id=None, lot_id=None)
    if scan_rules.network_blocked(values["ip_prefix"], active_blocks(values["scanned_at"]), values["scanned_at"]):
        # Barred after serial guessing: the code is not checked; the scan is recorded as such.
        db.session.execute(insert(Scan), [values | {"verdict": "blocked", "reason": "network_blocked"}])
        count_scan("blocked")
        return {"verdict": "blocked", "reason": "network_blocked"}
    try:
        gtin, lot_code, serial = dl.parse_path_values(gtin, lot_code, serial)
        signed = dl.verify(current_app.config["LABEL_SIGNING_KEY"], gtin, lot_code, serial, signature)
    except InvalidIdentifier:
        signed = False
    store = open_scan_store()
    try:
        seen = store.scan(serial if signed else None, gtin, lot_code, values)
    finally:
        store.close()
    count_scan(seen.verdict)
    if seen.verdict == "not_genuine":
        return {"verdict": "not_genuine", "reason": None}
    return {"verdict": seen.verdict, "reason": seen.reason, "previous_scans": seen.previous_scans,
            "first_scan_at": as_utc(seen.first_scan_at), "first_scan_region": seen.first_scan_region,
            "lot_id": seen.lot_id, "serial": serial, "recalled_at": as_utc(seen.recalled_at),
            "recall_reason": seen.recall_reason}


def resolve_scan(gtin: str, lot_code: str, serial: str, signature: Optional[str], request) -> dict:
    """The public scan route's verb: check the code and record the scan (``scan_label``); a code
    not recognised also counts against the client's network, flagging serial guessing to the
    regulators (``note_unrecognised_scan``). The answer is the same either way.

    The same browser opening the same genuine label again within ``scan_rules.REPEAT_WINDOW``
    (its signed cookie, ``scan_rules.read_repeat``) is not a new scan: nothing is recorded and the
    answer is ``repeat_scan``'s. A genuine answer carries ``repeat_cookie`` (name, value) to set.
    """
    secret = current_app.config["SECRET_KEY"]
    name = scan_rules.repeat_cookie_name(serial)
    earlier = scan_rules.read_repeat(secret, request.cookies.get(name), serial) if name else None
    if earlier is not None:
        repeat = repeat_scan(gtin, lot_code, serial, signature, earlier)
        if repeat is not None:
            return repeat
    result = scan_label(gtin, lot_code, serial, signature, scan_meta(request))
    if result["verdict"] == "blocked":  # a blocked network's codes are not checked: nothing to count or remember
        return result
    if result["verdict"] == "not_genuine":
        note_unrecognised_scan(client_address(), request.path)
        return result
    result["repeat"] = False
    if name:
        result["repeat_cookie"] = (name, scan_rules.repeat_token(
            secret, serial, result["verdict"], result["reason"], result["previous_scans"], result["first_scan_at"],
            utcnow()))
    return result


def repeat_scan(gtin: str, lot_code: str, serial: str, signature: Optional[str], earlier: dict) -> Optional[dict]:
    """The answer to a repeat (reload, language switch): what the browser was shown, with the
    lot's recall read now; no scan is recorded. None when the code does not check out (then it is
    scanned as usual and answered "not recognised")."""
    try:
        gtin, lot_code, serial = dl.parse_path_values(gtin, lot_code, serial)
        if not dl.verify(current_app.config["LABEL_SIGNING_KEY"], gtin, lot_code, serial, signature):
            return None
    except InvalidIdentifier:
        return None
    row = db.session.execute(select(Lot.id, Lot.recalled_at, Lot.recall_reason).join(Label, Label.lot_id == Lot.id)
                             .where(Label.serial == serial)).first()
    if row is None:
        return None
    verdict, reason = scan_rules.judge_repeat(earlier, row.recalled_at is not None)
    return {"verdict": verdict, "reason": reason, "previous_scans": earlier["previous_scans"],
            "first_scan_at": earlier["first_scan_at"], "first_scan_region": None, "lot_id": row.id,
            "serial": serial, "recalled_at": as_utc(row.recalled_at), "recall_reason": row.recall_reason,
            "repeat": True, "scanned_at": earlier["scanned_at"]}


def resolve_label(gtin: str, lot_code: str, serial: str, signature: Optional[str]) -> Optional[int]:
    """The resolver's check of a label (a linkset or link-type request, not a consumer's scan):
    the lot id of a label issued here with a valid signature, else None. Nothing is recorded as a
    scan; a code not recognised still counts against the client's network like a scan's
    (``note_unrecognised_scan``), so the resolver is no way around the serial-guessing watch."""
    lot_id = None
    try:
        gtin, lot_code, serial = dl.parse_path_values(gtin, lot_code, serial)
        if dl.verify(current_app.config["LABEL_SIGNING_KEY"], gtin, lot_code, serial, signature):
            lot_id = db.session.scalar(select(Lot.id).join(Label, Label.lot_id == Lot.id)
                                       .join(Product, Product.id == Lot.product_id)
                                       .where(Label.serial == serial, Lot.code == lot_code, Product.gtin == gtin))
    except InvalidIdentifier:
        pass
    if lot_id is None:
        from flask import request

        note_unrecognised_scan(client_address(), request.path)
    return lot_id


def lot_open_view(lot_id: int) -> dict:
    """What anyone may see of a lot without holding one of its labels (the resolver's link targets,
    the public catalogue): the scan page's facts less personal identifiers, i.e. an individual
    producer's name and the parties goods were shipped to."""
    view = lot_public_view(lot_id)
    producer = dict(view["producer"])
    if producer.get("kind") == "individual":
        producer["name"] = None
    return view | {"producer": producer, "events": [e | {"ship_to": None} for e in view["events"]]}


def lot_recall_status(lot_id: int) -> dict:
    """Whether a lot is recalled (the resolver's gs1:recallStatus), read now, not from a cache."""
    lot = get_lot(lot_id)
    return {"lot": lot.code, "gtin": lot.product.gtin, "recalled": lot.recalled_at is not None,
            "recalled_at": as_utc(lot.recalled_at).isoformat() if lot.recalled_at else None,
            "reason": lot.recall_reason}


def lot_public_view(lot_id: int) -> dict:
    """What the scan page shows of a lot, kept a few seconds per process (the scan store's cache)."""
    return cached_lot_view(lot_id, lambda: build_lot_view(get_lot(lot_id)))


def build_lot_view(lot: Lot) -> dict:
    product, brand, producer = lot.product, lot.product.brand, lot.producer
    day = today()
    recalled = lot.recalled_at is not None
    # A recalled lot's certificates do not vouch for it: shown as not applicable, never "valid".
    certs = [{"kind": c.kind, "number": c.number, "issuer": c.issuer, "scope": c.scope,
              "valid_from": c.valid_from.isoformat(), "valid_until": c.valid_until.isoformat(),
              "status": "not_applicable" if recalled else c.status_on(day)} for c in lot_certifications(lot)]
    origin = []
    for p in lot.parcels:
        origin.append({"parcel_id": p.id, "code": p.code, "name": p.name, "township_zh": p.township.name_zh,
                       "township_en": p.township.name_en, "village": p.village, "lat": str(p.lat),
                       "lon": str(p.lon), "area_ha": str(p.area_ha), "gep": gep_brief(p.id)})
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
                "quantity": str(lot.quantity), "unit": lot.unit, "inputs": inputs, "recalled": recalled},
        "product": {"name": product.name, "name_en": product.name_en, "gtin": product.gtin,
                    "net_content": product.net_content},
        "brand": {"name": brand.name, "name_en": brand.name_en, "gi_registration": brand.gi_registration,
                  "gi_authority": brand.gi_authority, "gi_region": brand.gi_region,
                  "authorised": authorised} if brand else None,
        "producer": {"name": producer.name, "kind": producer.kind, "township_zh": producer.township.name_zh,
                     "township_en": producer.township.name_en, "village": producer.village,
                     "credit_colour": credit_colour(producer.id)},
        "colours": credit_colours(),
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

