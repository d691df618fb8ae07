"""Login throttling: keyed on (account, client network), with exponential backoff.

Following the OWASP Authentication Cheat Sheet, wrong passwords do not lock an account for
everyone: they slow down the network they come from. Per (account, client network):

- the first ``FREE_FAILURES`` failures cost nothing;
- each further failure makes that network wait ``BASE_DELAY * 2**k`` seconds (k = 0, 1, 2, ...)
  before its next try for that account, at most ``MAX_DELAY``; a wait refuses the try (429)
  before the password is looked at;
- a successful sign-in clears that network's failures for the account; every failure of an
  account is forgotten ``MEMORY`` seconds after its last one.

A stranger guessing from another network therefore never delays the owner. Unknown login names
are throttled the same way as real ones, so waits reveal no names. Admins can lift every wait on
an account (:func:`unlock_account`: page, API and CLI; audited).

This is an account rule, not a rate limit, and stays hand-written: its wait grows with each
failure of one (account, network) pair, success forgives, and admins list and lift the waits of
one account; a rate limiter counts requests per key and offers none of that. The two plain rate
limits of the login form are Flask-Limiter declarations on the view (``greenfin/auth/__init__.py``):
``RATELIMIT_LOGIN`` posts per address, and at most ``NETWORK_LIMIT`` failed sign-ins (any
accounts) per network in a moving ``NETWORK_WINDOW`` (password spraying).

Strike records live in Redis when ``REDIS_URL`` is set (every process sees them), else in this process.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Optional

from flask import current_app

FREE_FAILURES = 5
BASE_DELAY = 2          # seconds, doubling with each failure past the free ones
MAX_DELAY = 15 * 60
MEMORY = 24 * 3600      # failures are forgotten a day after the account's last one
NETWORK_LIMIT = 100     # failed sign-ins per network and moving window, any accounts
NETWORK_WINDOW = 15 * 60

PREFIX = "greenfin:rl:"
_local: dict[str, tuple[dict, float]] = {}  # record key -> (field -> (strikes, last), expires)
_lock = threading.Lock()


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def network_limit() -> str:
    """The failed sign-ins one network may have, for Flask-Limiter (read per request)."""
    return f"{NETWORK_LIMIT} per {NETWORK_WINDOW} seconds"


def account_key(username: Optional[str]) -> str:
    return "login:" + (username or "").strip().lower()[:64]


def delay_after(failures: int) -> int:
    """Seconds a network waits after its ``failures``-th failure on one account."""
    if failures < FREE_FAILURES:
        return 0
    return min(BASE_DELAY * 2 ** (failures - FREE_FAILURES), MAX_DELAY)


# ---------------------------------------------------------------- strike records
# A record holds, per field (a client network), how many strikes it has and when the last one
# came. The whole record is forgotten ``memory`` seconds after its last strike.


def _redis():
    """The Redis connection when one is configured, else None."""
    if not current_app.config.get("REDIS_URL"):
        return None
    from greenfin.jobs import redis_connection

    return redis_connection()


def strike(key: str, field: str, memory: int) -> tuple[int, float]:
    """Add a strike to ``field`` of record ``key``; returns its strikes and the time of this one."""
    now = time.time()
    redis = _redis()
    if redis is not None:
        from redis.exceptions import RedisError

        try:
            pipe = redis.pipeline()  # MULTI/EXEC: the count and the time move together
            pipe.hincrby(PREFIX + key, field, 1)
            pipe.hset(PREFIX + key, f"{field}|t", repr(now))
            pipe.expire(PREFIX + key, memory)
            return int(pipe.execute()[0]), now
        except RedisError:
            pass  # Redis down: keep the record in this process
    with _lock:
        record, expires = _local.get(PREFIX + key, ({}, 0))
        record = dict(record) if expires >= now else {}
        count = record.get(field, (0, now))[0] + 1
        record[field] = (count, now)
        _local[PREFIX + key] = (record, now + memory)
        if len(_local) > 10000:
            for stale in [k for k, (_, exp) in _local.items() if exp < now]:
                _local.pop(stale, None)
    return count, now


def strikes(key: str) -> dict[str, tuple[int, float]]:
    """Every field of record ``key``: its strikes and the time of the last one."""
    redis = _redis()
    if redis is not None:
        from redis.exceptions import RedisError

        try:
            raw = {k.decode(): v.decode() for k, v in redis.hgetall(PREFIX + key).items()}
            return {f: (int(n), float(raw.get(f"{f}|t", 0))) for f, n in raw.items() if not f.endswith("|t")}
        except RedisError:
            pass
    with _lock:
        record, expires = _local.get(PREFIX + key, ({}, 0))
        return dict(record) if expires >= time.time() else {}


def forget(key: str, field: Optional[str] = None) -> int:
    """Drop one field of record ``key`` (or the whole record); returns how many fields were dropped."""
    redis = _redis()
    if redis is not None:
        from redis.exceptions import RedisError

        try:
            if field is None:
                count = sum(1 for f in redis.hkeys(PREFIX + key) if not f.endswith(b"|t"))
                redis.delete(PREFIX + key)
                return count
            return redis.hdel(PREFIX + key, field, f"{field}|t") // 2
        except RedisError:
            pass
    with _lock:
        record, expires = _local.pop(PREFIX + key, ({}, 0))
        if expires < time.time():
            return 0
        if field is None:
            return len(record)
        record = dict(record)
        dropped = 1 if record.pop(field, None) else 0
        if record:
            _local[PREFIX + key] = (record, expires)
        return dropped


# ---------------------------------------------------------------- the rule


def _account_wait(record: dict, network: str, now: float) -> int:
    failures, last = record.get(network, (0, now))
    return max(0, math.ceil(last + delay_after(failures) - now))


def login_wait(username: str, network: str) -> int:
    """Seconds ``network`` must wait before it may try a password for ``username`` (0: try now)."""
    if not _enabled():
        return 0
    return _account_wait(strikes(account_key(username)), network, time.time())


def note_failure(username: str, network: str) -> int:
    """Count a wrong password from ``network``; returns the wait now in force (0: none)."""
    if not _enabled():
        return 0
    failures, _at = strike(account_key(username), network, MEMORY)
    if delay_after(failures) >= MAX_DELAY:
        current_app.logger.warning("sign-in throttled at the longest wait for one account from %s", network)
    return login_wait(username, network)


def note_success(username: str, network: str) -> None:
    """The right password from ``network``: its failures on this account are forgiven."""
    if _enabled():
        forget(account_key(username), network)


def throttled_networks(username: str) -> list[dict]:
    """The networks with failures on this account: failures and the wait in force (admin pages)."""
    now = time.time()
    record = strikes(account_key(username))
    rows = [{"network": network, "failures": failures, "wait": _account_wait(record, network, now)}
            for network, (failures, _last) in record.items()]
    return sorted(rows, key=lambda r: (-r["wait"], -r["failures"], r["network"]))


def unlock_account(user) -> int:
    """Lift every wait and forget every failure on ``user``'s account (audited); returns how many
    networks had failures."""
    from greenfin.core.services import record_audit

    networks = [row["network"] for row in throttled_networks(user.username)]
    cleared = forget(account_key(user.username))
    record_audit("user.unlock", "user", user.id, before={"throttled_networks": networks},
                 after={"throttled_networks": []}, party_id=user.party_id)
    return cleared
