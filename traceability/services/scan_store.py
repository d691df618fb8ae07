"""Where a scan is judged and recorded, and the per-process caches of the scan page.

Two stores answer ``scan(serial, gtin, lot_code, values) -> Seen``: ``_SessionScans`` through the
request's ORM session (SQLite, and while testing), and ``_PooledScans`` on PostgreSQL: one call of
``trace_record_scan`` (migrations ``trace_0002``, ``trace_0006``) on this process's own small pool of
autocommitting connections (``_ScanPool``), on the driver's cursor. Both judge by
``traceability/scan_rules.py``.

Lot facts and rendered lot pages are kept ``LOT_CACHE_SECONDS`` per process; writers call
``invalidate_lot_cache``.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any, NamedTuple, Optional

from flask import current_app
from psycopg.errors import CheckViolation
from sqlalchemy import func, insert, select

from greenfin.core import partitions
from greenfin.extensions import db
from traceability import scan_rules
from traceability.models import Label, Lot, Product, Scan

# The rule (limits, trusted geo, verdict) has its own home: traceability/scan_rules.py.
judge_scan = scan_rules.judge_scan


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
        partitions.ensure_month("trace_scans", values["scanned_at"])  # PostgreSQL: the month exists
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
PG_SCAN = ("SELECT * FROM trace_record_scan(%(serial)s, %(gtin)s, %(lot_code)s, %(scanned_at)s, %(region)s, "
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
            try:
                cursor.execute(PG_SCAN, params)
            except CheckViolation as exc:
                if "no partition" not in str(exc):
                    raise
                # The month's partition is missing (partitions-ensure has not run for months): the
                # statement failed whole, nothing was recorded. Make the month and scan again.
                # (committed at once on this autocommit connection; its audit event with the request)
                partitions.make_month("trace_scans", partitions.month_of(params["scanned_at"]), cursor, by="scan")
                cursor.execute(PG_SCAN, params)
            return Seen(*cursor.fetchone())
        except dialect.loaded_dbapi.Error as exc:
            dead = dialect.is_disconnect(exc, self.dbapi_conn.dbapi_connection, cursor)
            if dead:
                self.dbapi_conn.invalidate(exc)
            raise DBAPIError.instance(PG_SCAN, params, exc, dialect.loaded_dbapi.Error,
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


def open_scan_store():
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


def as_utc(value: Optional[datetime]) -> Optional[datetime]:
    """Rows read through the driver carry the connection's time zone; the ORM's carry UTC."""
    return value.astimezone(timezone.utc) if value is not None else None


# ---------------------------------------------------------------- caches

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



def cached_lot_view(lot_id: int, build):
    """A lot's facts for the scan page (``build()``), kept LOT_CACHE_SECONDS in this process."""
    return _cached(_LOT_CACHE, lot_id, build)
