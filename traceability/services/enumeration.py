"""Serial guessing on the public scan route: counting unrecognised codes per client network,
flagging a network to the regulators, and what the review of the flags shows."""
from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Optional

from flask import current_app
from sqlalchemy import Select, func, select

from greenfin.core.services import audit_query, record_audit
from greenfin.errors import ValidationFailed
from greenfin.extensions import db
from traceability.models import Lot, Product, Scan
from traceability.scan_rules import network_of
from traceability.services.common import CHINA_TZ, add_error

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
            add_error(errors, name, f"must be between {REVIEW_FIRST_DAY} and {REVIEW_LAST_DAY}")
    if not errors and since and until and until < since:
        add_error(errors, "until", "must not be before since")
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

