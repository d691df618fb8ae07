"""Serial guessing on the public scan route: counting unrecognised codes per client network,
flagging a network to the regulators, what the review of the flags shows, and the regulators'
actions on a flag: acknowledge it with a note, block the network from scanning for a period
(honoured by ``scan_rules.network_blocked`` on every scan), lift a block."""
from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Optional

from flask import current_app
from sqlalchemy import Select, func, select

from greenfin.core.models import AuditEvent
from greenfin.core.services import audit_query, record_audit
from greenfin.core.types import utcnow
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from traceability.models import Lot, NetworkBlock, Product, Scan
from traceability.scan_rules import network_of
from traceability.services.common import CHINA_TZ, add_error

ENUMERATION_ACTION = "trace.scan.enumeration_suspected"
ACKNOWLEDGE_ACTION = "trace.scan.enumeration_acknowledged"
BLOCK_DAYS = (1, 7, 30, 90)  # the periods a network may be blocked for
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
                      "window_start": start, "window_end": end, "acknowledged": None, "blocked_until": None})
    _add_reviews(items)
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



# ---------------------------------------------------------------- acting on a flag


def get_flag(event_id: int) -> AuditEvent:
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.action != ENUMERATION_ACTION:
        raise NotFound(f"serial-guessing flag {event_id} not found")
    return event


def _note(note: Optional[str], field: str = "note") -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationFailed.field(field, N_("write a note: what was found or decided"))
    if len(note) > 2000:
        raise ValidationFailed.field(field, N_("at most 2000 characters"))
    return note


def acknowledge_flag(event_id: int, note: str):
    """A regulator has looked at a flag: acknowledged with a note (an audit event on the flag)."""
    note = _note(note)
    flag = get_flag(event_id)
    if _acknowledgements([flag.id]).get(flag.id):
        raise Conflict(N_("This flag is acknowledged already."))
    return record_audit(ACKNOWLEDGE_ACTION, "scan_flag", flag.id, after={"note": note, "network": flag.entity_id})


def block_network(network: str, days: int, note: str, *, flag_id: Optional[int] = None,
                  actor_id: Optional[int] = None, now: Optional[datetime] = None) -> NetworkBlock:
    """Bar a client network from the scan route for ``days`` (one of BLOCK_DAYS): its scans are
    answered "paused" and not checked. A flag named by ``flag_id`` gives the network and is
    acknowledged with the same note."""
    errors: dict = {}
    if flag_id is not None:
        network = get_flag(flag_id).entity_id
    kept = network_of((network or "").strip())
    if kept is None:
        add_error(errors, "network", N_("write an IPv4 or IPv6 address or network, e.g. 203.0.113.0/24"))
    if days not in BLOCK_DAYS:
        add_error(errors, "days", N_("must be 1, 7, 30 or 90 days"))
    try:
        note = _note(note)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(N_("The block was not made"), errors)
    now = now or utcnow()
    if db.session.scalar(block_query(current_only=True, now=now).where(NetworkBlock.network == kept).limit(1)):
        raise Conflict(N_("This network is blocked already."))
    block = NetworkBlock(network=kept, starts_at=now, ends_at=now + timedelta(days=days), note=note,
                         flag_event_id=flag_id, created_by_id=actor_id)
    db.session.add(block)
    db.session.flush()
    record_audit("trace.scan.network_blocked", "trace_network_block", block.id,
                 after={"network": kept, "until": block.ends_at, "note": note, "flag": flag_id})
    if flag_id is not None and not _acknowledgements([flag_id]).get(flag_id):
        record_audit(ACKNOWLEDGE_ACTION, "scan_flag", flag_id, after={"note": note, "network": kept,
                                                                      "blocked_until": block.ends_at})
    forget_blocks()
    return block


def lift_block(block_id: int, note: str, *, actor_id: Optional[int] = None,
               now: Optional[datetime] = None) -> NetworkBlock:
    """End a block before its time (a false alarm, a shop's Wi-Fi): scans are checked again."""
    note = _note(note)
    block = db.session.get(NetworkBlock, block_id)
    if block is None:
        raise NotFound(f"block {block_id} not found")
    now = now or utcnow()
    if block.lifted_at is not None or block.ends_at <= now:
        raise Conflict(N_("This block is over already."))
    block.lifted_at, block.lifted_by_id, block.lift_note = now, actor_id, note
    db.session.flush()
    record_audit("trace.scan.network_unblocked", "trace_network_block", block.id,
                 before={"until": block.ends_at}, after={"lifted_at": now, "note": note, "network": block.network})
    forget_blocks()
    return block


def block_query(current_only: bool = False, now: Optional[datetime] = None):
    stmt = select(NetworkBlock).order_by(NetworkBlock.starts_at.desc(), NetworkBlock.id.desc())
    if current_only:
        stmt = stmt.where(NetworkBlock.lifted_at.is_(None), NetworkBlock.ends_at > (now or utcnow()))
    return stmt


_BLOCKS: dict = {}


def active_blocks(now: Optional[datetime] = None) -> dict[str, list[tuple[datetime, datetime]]]:
    """The blocks in force, network -> periods ``(starts_at, ends_at)``: kept a few seconds per
    process (like the scan page's lot facts), so a scan costs no query; this process forgets them
    at once when it blocks or lifts (others within LOT_CACHE_SECONDS)."""
    from traceability.services.scan_store import _cached

    def load():
        found: dict[str, list[tuple[datetime, datetime]]] = {}
        for net, starts, ends in db.session.execute(
                select(NetworkBlock.network, NetworkBlock.starts_at, NetworkBlock.ends_at).where(
                    NetworkBlock.lifted_at.is_(None), NetworkBlock.ends_at > (now or utcnow()))):
            found.setdefault(net, []).append((_aware(starts), _aware(ends)))
        return found

    return _cached(_BLOCKS, "active", load)


def forget_blocks() -> None:
    _BLOCKS.clear()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _acknowledgements(flag_ids: list[int]) -> dict[int, AuditEvent]:
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == ACKNOWLEDGE_ACTION, AuditEvent.entity_type == "scan_flag",
        AuditEvent.entity_id.in_([str(i) for i in flag_ids])).order_by(AuditEvent.id)).all()
    return {int(e.entity_id): e for e in events}


def _add_reviews(items: list[dict]) -> None:
    """What was done about each flag: its acknowledgement, and a block of its network in force."""
    if not items:
        return
    acks = _acknowledgements([item["id"] for item in items])
    networks = {item["network"] for item in items if item["network"]}
    blocks = {}
    if networks:
        for block in db.session.scalars(block_query(current_only=True).where(NetworkBlock.network.in_(networks))):
            blocks.setdefault(block.network, block)
    for item in items:
        ack = acks.get(item["id"])
        if ack is not None:
            item["acknowledged"] = {"by": ack.actor_label, "at": ack.occurred_at, "note": (ack.after or {}).get("note")}
        block = blocks.get(item["network"])
        if block is not None:
            item["blocked_until"] = block.ends_at
            item["block_id"] = block.id
