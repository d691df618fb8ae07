"""Public reads on a read replica: the scan page's lot look-ups, the disclosure pages and the public
market catalogue (``docs/deploy.md``, "Read replica").

``DATABASE_REPLICA_URL`` (optional) adds a second SQLAlchemy bind, ``replica``. Without it everything
runs on the primary, as before. With it:

- ``public_read()`` is a context: inside it, the session's plain SELECTs go to the replica
  (``greenfin.extensions.Session``); writes, flushes, ``SELECT ... FOR UPDATE`` and text() statements
  stay on the primary. The scan record itself is written on the primary (its own pool on PostgreSQL,
  ``traceability/services/scan_store.py``) outside the context.
- ``@public_reads`` wraps a read-only page in that context; when the replica fails during the page
  (its connection lost), the page is read again on the primary.
- Before each public read the replica's state is consulted. Its lag (``measure_lag``: the
  replica's replayed WAL position against the primary's positions sampled at earlier checks, or
  the age of its last replayed commit, whichever bound is tighter) is measured at most once per
  ``REPLICA_CHECK_SECONDS`` (default 1) per process. A replica further behind than
  ``REPLICA_MAX_LAG_SECONDS`` (default 5), or down, sends the reads to the primary: each such read
  is counted (``greenfin_replica_fallbacks_total{reason}``, reason ``lag``, ``down`` or ``error``),
  and each change of state is logged once (``greenfin.replica``), not each request.

A read that must see this request's own writes (read-your-writes) does not belong in
``public_read()``: the replica may not have them yet.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from collections import deque
from typing import Callable, Iterable, Iterator, Optional

from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from greenfin.extensions import READ_ENGINE, db
from greenfin.metrics import count_replica_read

log = logging.getLogger(__name__)

BIND_KEY = "replica"

# The lag is bounded from two sides, and the tighter bound is taken (``lag_bound``):
# - LSNs: each check first reads the primary's WAL position (``pg_current_wal_lsn()``, kept with the
#   time it was read, the last ``SAMPLES`` of them); a replica that has replayed past a sample read
#   at ``t`` is at most ``now - t`` behind. An idle primary's position stands still, so a caught-up
#   replica reads as 0, however long ago the last transaction was.
# - time: the replica has everything up to its last replayed commit, so it is at most
#   ``now() - pg_last_xact_replay_timestamp()`` behind (loose when the primary is idle).
# A server not in recovery (e.g. a promoted replica) is 0 behind.
PRIMARY_SQL = text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
REPLICA_SQL = text("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn, "
                   "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8")
SAMPLES = 64


def lag_bound(now: float, samples: Iterable[tuple[float, int]], replay_lsn: Optional[int],
              replay_age: Optional[float]) -> float:
    """The least upper bound on the replica's lag the measurements give (infinity without any)."""
    bounds = [replay_age] if replay_age is not None else []
    reached = [at for at, lsn in samples if replay_lsn is not None and lsn <= replay_lsn]
    if reached:
        bounds.append(now - max(reached))
    return max(0.0, min(bounds)) if bounds else float("inf")


@dataclass(frozen=True)
class State:
    """The replica's state as last measured: usable, or why not (``lag`` / ``down``)."""

    usable: bool
    reason: Optional[str] = None
    lag: Optional[float] = None
    checked_at: float = 0.0


class Replica:
    """One app's replica: its engine and the cached result of the last lag check."""

    def __init__(self, app: Flask, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.max_lag = float(app.config.get("REPLICA_MAX_LAG_SECONDS", 5))
        self.interval = float(app.config.get("REPLICA_CHECK_SECONDS", 1))
        self.clock = clock
        self.checks = 0  # lag checks run (the tests count them)
        self.samples: deque[tuple[float, int]] = deque(maxlen=SAMPLES)  # (when, primary's WAL position)
        self._state: Optional[State] = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        return db.engines[BIND_KEY]

    def measure_lag(self) -> float:
        """Seconds the replica may be behind the primary (0 on a database that does not replicate)."""
        if self.engine.dialect.name != "postgresql":
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return 0.0
        try:
            with db.engine.connect() as conn:
                sampled_at = self.clock()
                self.samples.append((sampled_at, int(conn.execute(PRIMARY_SQL).scalar_one())))
        except DBAPIError as exc:  # the primary's position unknown: the replica's own bound alone
            log.debug("replica check: primary WAL position unavailable: %s", exc)
        with self.engine.connect() as conn:
            in_recovery, replay_lsn, replay_age = conn.execute(REPLICA_SQL).one()
        if not in_recovery:
            return 0.0
        return lag_bound(self.clock(), self.samples, None if replay_lsn is None else int(replay_lsn), replay_age)

    def state(self) -> State:
        """The replica's state, measured again when the last check is older than the interval."""
        state = self._state
        if state is not None and self.clock() - state.checked_at < self.interval:
            return state
        with self._lock:  # one thread checks; the others wait for its answer
            state = self._state
            if state is None or self.clock() - state.checked_at >= self.interval:
                state = self._set(self._check())
        return state

    def _check(self) -> State:
        self.checks += 1
        try:
            lag = self.measure_lag()
        except DBAPIError as exc:
            log.debug("replica check failed: %s", exc)
            return State(False, "down", None, self.clock())
        if lag > self.max_lag:
            return State(False, "lag", lag, self.clock())
        return State(True, None, lag, self.clock())

    def _set(self, state: State) -> State:
        before, self._state = self._state, state
        if before is None and state.usable:
            return state
        if before is None or before.usable != state.usable or before.reason != state.reason:
            if state.usable:
                log.warning("replica: public reads back on the replica (lag %.1f s)", state.lag,
                            extra={"replica_state": "ok", "replica_lag_seconds": state.lag})
            else:
                log.warning("replica: public reads on the primary (%s%s)", state.reason,
                            "" if state.lag is None else f", lag {state.lag:.1f} s > {self.max_lag:g} s",
                            extra={"replica_state": state.reason, "replica_lag_seconds": state.lag})
        return state

    def mark_down(self, exc: BaseException) -> None:
        """The replica failed during a read: the primary answers until the next check."""
        with self._lock:
            self._set(State(False, "down", None, self.clock()))
        log.warning("replica: a public read failed on the replica (%s); read again on the primary",
                    exc.__class__.__name__, extra={"replica_state": "error"})


def init_replica(app: Flask) -> None:
    """Add the ``replica`` bind when ``DATABASE_REPLICA_URL`` is set (before ``db.init_app``)."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    options: dict = {"url": url}
    if url.startswith("postgresql"):
        # A replica that does not answer must not hold a request long: give up connecting quickly.
        options["connect_args"] = {"connect_timeout": int(app.config.get("REPLICA_CONNECT_TIMEOUT", 2))}
    binds = dict(app.config.get("SQLALCHEMY_BINDS") or {})
    binds[BIND_KEY] = options
    app.config["SQLALCHEMY_BINDS"] = binds
    app.extensions["greenfin_replica"] = Replica(app)


def replica_of(app: Flask) -> Optional[Replica]:
    return app.extensions.get("greenfin_replica")


def read_engine() -> Optional[Engine]:
    """The engine a public read should use now: the replica's, or None (the primary), counted."""
    replica = replica_of(current_app)
    if replica is None:
        return None
    state = replica.state()
    count_replica_read(None if state.usable else state.reason)
    return replica.engine if state.usable else None


@contextmanager
def public_read() -> Iterator[bool]:
    """Plain reads inside go to the replica when one is configured and fresh enough; yields whether
    they do. Nested uses keep the outer choice. A connection error inside marks the replica down
    (the primary answers until the next check) and is raised."""
    if READ_ENGINE.get() is not None:
        yield True
        return
    engine = read_engine()
    if engine is None:
        yield False
        return
    token = READ_ENGINE.set(engine)
    try:
        yield True
    except DBAPIError as exc:
        # A lost connection, a server shutting down, a read cancelled by replay (a recovery conflict).
        if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
            replica_of(current_app).mark_down(exc)
        raise
    finally:
        READ_ENGINE.reset(token)


def public_reads(view: Callable) -> Callable:
    """A read-only public page on the replica (``public_read()``); when the replica fails during
    the page, the session is rolled back (a public page writes nothing) and the page read again on
    the primary, counted as a fallback for ``error``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if READ_ENGINE.get() is not None:  # already inside a public read
            return view(*args, **kwargs)
        on_replica = False
        try:
            with public_read() as on_replica:
                return view(*args, **kwargs)
        except DBAPIError:
            if not on_replica or replica_of(current_app).state().usable:
                raise  # not the replica's failure (it was not used, or it still answers)
            db.session.rollback()
            count_replica_read("error")
            return view(*args, **kwargs)

    wrapped.public_reads = True
    return wrapped
