"""EPCIS capture: ``POST /api/v1/trace/epcis/capture``, ``flask trace import-epcis`` and the capture job.

A document is checked whole before anything is stored (the project's schema of the subset we
accept, well-formed EPC URNs, and that every lot it names is the capturing producer's), then its
events are stored all together; an event already stored (same CBV event hash) is skipped, so
sending a document twice changes nothing. A document of more than ``TRACE_CAPTURE_INLINE_MAX``
events is kept in ``trace_epcis_captures`` and stored by a job.
"""
from __future__ import annotations

from typing import Any, Callable, Optional
from urllib.parse import unquote

from flask import current_app
from sqlalchemy import select

from greenfin.core.services import record_audit
from greenfin.errors import NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.jobs import enqueue
from traceability import epcis
from traceability.models import EpcisCapture, EpcisEvent, Label, Lot, Product
from traceability.services.event_rules import check_event
from traceability.services.events import store_event
from traceability.services.scan_store import invalidate_lot_cache

# The same answer whether the lot does not exist or belongs to another producer.
NOT_YOURS = "names a lot or item that does not exist or is not yours"
_REFUSED = object()


def capture_epcis(document: Any, scope: Optional[int] = None, created_by_id: Optional[int] = None) -> dict:
    """Capture a document for ``scope`` (the capturing producer's party; None: staff, any party).

    Up to ``TRACE_CAPTURE_INLINE_MAX`` events: stored now, ``{"created", "skipped"}``. More: kept
    and stored by a job, ``{"capture_id", "job_id", "events"}``.
    """
    events = _event_count(document)
    if events <= current_app.config["TRACE_CAPTURE_INLINE_MAX"]:
        return import_epcis(document, scope)
    row = EpcisCapture(party_id=scope, created_by_id=created_by_id, events=events, document=document,
                       status="queued")
    db.session.add(row)
    db.session.flush()
    row.job_id = enqueue("traceability.jobs.capture_epcis", {"capture_id": row.id},
                         title=f"EPCIS capture {row.id} ({events} events)", party_id=scope).id
    record_audit("trace.epcis.capture_queued", "trace_epcis_capture", row.id, after={"events": events},
                 party_id=scope)
    return {"capture_id": row.id, "job_id": row.job_id, "events": events}


def _event_count(document: Any) -> int:
    body = document.get("epcisBody") if isinstance(document, dict) else None
    events = body.get("eventList") if isinstance(body, dict) else None
    return len(events) if isinstance(events, list) else 0


def run_capture(capture_id: int, progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """The job's work: store a kept document, or record why it is refused. Safe to run again."""
    row = db.session.get(EpcisCapture, capture_id)
    if row is None:
        raise NotFound(f"capture {capture_id} not found")
    if row.status != "queued":
        return row.result or {}
    try:
        result = import_epcis(row.document, row.party_id, progress=progress)
        row.status = "stored"
    except ValidationFailed as exc:  # checked before anything was stored
        result = {"created": 0, "skipped": 0, "message": exc.summary, "errors": exc.errors}
        row.status = "refused"
        record_audit("trace.epcis.capture_refused", "trace_epcis_capture", row.id,
                     after={"errors": len(exc.errors)}, party_id=row.party_id)
    row.result = result
    return result


def import_epcis(document: Any, scope: Optional[int] = None, progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Check a whole document, then store its events: all or nothing, idempotent by event hash."""
    errors = epcis.document_errors(document)
    if errors:
        raise ValidationFailed("The document is not valid EPCIS 2.0", errors)
    events = [{k: v for k, v in e.items() if k != "@context"} for e in document["epcisBody"]["eventList"]]
    lots = _Lots(scope)
    named = [lots.named(event, f"epcisBody.eventList.{n}") for n, event in enumerate(events)]
    if lots.errors:
        raise ValidationFailed("The document names lots that are not yours", lots.errors)
    _check_events(events, named)
    hashes = [epcis.event_hash(event) for event in events]
    stored = set()
    for i in range(0, len(hashes), 1000):
        chunk = hashes[i:i + 1000]
        stored.update(db.session.scalars(select(EpcisEvent.event_hash).where(EpcisEvent.event_hash.in_(chunk))))
    created = skipped = 0
    for n, (event, event_id, its_lots) in enumerate(zip(events, hashes, named), start=1):
        if event_id in stored:
            skipped += 1
        else:
            stored.add(event_id)
            store_event(event, _kind(event, scope), its_lots, scope,
                        source="import", event_id=event_id)
            created += 1
        if progress and n % 1000 == 0:
            progress(n, len(events))
    record_audit("trace.epcis.import", "trace_epcis_document", str(document.get("id") or "-")[:64],
                 after={"created": created, "skipped": skipped}, party_id=scope)
    invalidate_lot_cache()
    return {"created": created, "skipped": skipped}


def _check_events(events: list[dict], named: list[list[tuple[Lot, str]]]) -> None:
    """The event rules of every entry door (``event_rules.check_event``): not in the future, and
    in CBV step order for each of our lots, counting the document's own earlier events."""
    errors: dict[str, list[str]] = {}
    pending: dict = {}
    for n, (event, its_lots) in enumerate(zip(events, named)):
        found = check_event(its_lots, event.get("bizStep"), epcis.parse_time(event["eventTime"]),
                            field=f"epcisBody.eventList.{n}.eventTime", pending=pending)
        for field, messages in found.items():
            if len(errors) < epcis.ERROR_LIMIT:
                errors[field] = messages
    if errors:
        raise ValidationFailed("The document holds events that cannot have happened", errors)


def _kind(event: dict, scope: Optional[int]) -> str:
    """Our business step when the event says it (``gf:kind``); a recall is a regulator's act,
    so a producer's "recall" is kept as a partner event."""
    kind = event.get("gf:kind")
    if kind not in epcis.KIND_VOCAB or (kind == "recall" and scope is not None):
        return "imported"
    return kind


class _Lots:
    """The lots a document names, checked against the capturing producer.

    An identifier of one of our products (its GTIN is ours) must name a lot (LGTIN) or a label
    (SGTIN) that exists and, for a producer, is theirs; otherwise the field gets NOT_YOURS.
    Identifiers of other companies' products name nothing of ours and are stored as sent.
    """

    def __init__(self, scope: Optional[int]):
        self.scope = scope
        self.errors: dict[str, list[str]] = {}
        self._cache: dict[str, Any] = {}

    def named(self, event: dict, where: str) -> list[tuple[Lot, str]]:
        """The lots of ours an event names, each with its role: ``input`` (a transformation's
        input), ``output`` (its output) or ``subject``."""
        found: list[tuple[Lot, str]] = []
        for field, value in epcis.identifiers(event, where):
            uri = epcis.canonical_uri(value)
            if uri not in self._cache:
                self._cache[uri] = self._resolve(uri)
            lot = self._cache[uri]
            if lot is _REFUSED:
                if len(self.errors) < epcis.ERROR_LIMIT:
                    self.errors[field] = [NOT_YOURS]
            elif lot is not None and lot not in [f[0] for f in found]:
                key = field[len(where) + 1:]
                found.append((lot, "input" if key.startswith("input") else
                              "output" if key.startswith("output") else "subject"))
        return found

    def _resolve(self, uri: str) -> Any:
        gtin, key, value = _digital_link(uri)
        if key not in ("10", "21"):
            return None
        product_id = db.session.scalar(select(Product.id).where(Product.gtin == gtin))
        if product_id is None:
            return None  # not one of our products
        if key == "10":
            lot = db.session.scalar(select(Lot).where(Lot.product_id == product_id, Lot.code == value))
        else:
            lot = db.session.scalar(select(Lot).join(Label, Label.lot_id == Lot.id)
                                    .where(Label.serial == value, Lot.product_id == product_id))
        if self.scope is not None and (lot is None or lot.producer_id != self.scope):
            return _REFUSED
        return lot


def _digital_link(uri: str) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(GTIN, "10" or "21", lot code or serial) of a GS1 Digital Link URI; Nones otherwise."""
    parts = uri.split("?", 1)[0].split("/")
    if "01" not in parts:
        return None, None, None
    i = parts.index("01")
    if len(parts) < i + 4:
        return parts[i + 1] if len(parts) > i + 1 else None, None, None
    return parts[i + 1], parts[i + 2], unquote(parts[i + 3])
