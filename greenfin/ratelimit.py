"""Fixed-window rate limits for the public surface and login, and the strike records of login throttling.

With ``REDIS_URL`` the counters live in Redis (shared by every process);
without it (the embedded single-process mode) they live in this process.
Over the limit, a request gets 429 with a Retry-After header and, on pages,
a translated message that says how long to wait.
"""
from __future__ import annotations

import ipaddress
import threading
import time
from datetime import timedelta
from functools import wraps
from typing import Any, Callable, Optional

from flask import current_app, request
from flask_babel import format_timedelta
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

# key -> (count, expires) for counters, (dict of strikes, expires) for strike records
_local: dict[str, tuple[Any, float]] = {}
_lock = threading.Lock()
PREFIX = "greenfin:rl:"


def client_address() -> str:
    """The client's address; behind a trusted proxy set ``PROXY_FIX`` so this is the real one."""
    return request.remote_addr or "unknown"


def client_network() -> str:
    """The client's network: its /24 (IPv4) or /64 (IPv6, one subscriber's usual share)."""
    try:
        address = ipaddress.ip_address(client_address())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def wait_text(seconds: int) -> str:
    """A wait in words in the page language ("45 seconds", "7分钟"), minutes rounded up."""
    seconds = max(1, int(seconds))
    if seconds >= 60:
        seconds = -(-seconds // 60) * 60
    return format_timedelta(timedelta(seconds=seconds), threshold=1)


def throttled_message(seconds: Optional[int]) -> str:
    """The pages' message for a 429, with the wait when it is known."""
    if not seconds:
        return _("Too many requests. Please try again later.")
    return _("Too many requests. Please try again in %(wait)s.", wait=wait_text(seconds))


def _redis():
    """The Redis connection when one is configured, else None."""
    if not current_app.config.get("REDIS_URL"):
        return None
    from greenfin.jobs import redis_connection

    return redis_connection()


def counter(key: str, window: int, add: int = 1) -> tuple[int, int]:
    """Add ``add`` to the counter of ``key`` in the current window (``add=0`` only reads it).

    Returns the count and the seconds until the window resets.
    """
    now = time.time()
    reset = int(window - (now % window)) + 1
    full_key = f"{PREFIX}{key}:{int(now // window)}"
    if current_app.config.get("REDIS_URL"):
        from redis.exceptions import RedisError

        try:
            pipe = _redis().pipeline()
            pipe.incrby(full_key, add)
            pipe.expire(full_key, window + 1)
            return int(pipe.execute()[0]), reset
        except RedisError:
            pass  # Redis down: fall back to this process's counters
    with _lock:
        count, expires = _local.get(full_key, (0, now + window))
        _local[full_key] = (count + add, expires)
        _drop_stale(now)
    return count + add, reset


def _drop_stale(now: float) -> None:
    if len(_local) > 10000:
        for stale in [k for k, (_, exp) in _local.items() if exp < now]:
            _local.pop(stale, None)


# ---------------------------------------------------------------- strike records
# A record holds, per field (e.g. a client network), how many strikes it has and when the last
# one came. The whole record is forgotten ``memory`` seconds after its last strike.


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
            pass
    with _lock:
        record, expires = _local.get(PREFIX + key, ({}, 0))
        record = dict(record) if expires >= now else {}
        count = record.get(field, (0, now))[0] + 1
        record[field] = (count, now)
        _local[PREFIX + key] = (record, now + memory)
        _drop_stale(now)
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


def check(name: str, limit: int, window: int, key: Optional[str] = None, add: int = 1) -> None:
    """Count a hit (``add=0``: only look) and raise 429 once more than ``limit`` are used."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    count, retry_after = counter(f"{name}:{key or client_address()}", window, add)
    if count > limit or (add == 0 and count >= limit):
        raise too_many(retry_after)


def too_many(retry_after: int) -> TooManyRequests:
    """A 429 that says how long to wait (the API's message is English, pages translate it)."""
    exc = TooManyRequests(description=f"Too many requests; try again in {retry_after} seconds")
    exc.retry_after = retry_after
    return exc


def rate_limited(name: str, limit: int, window: int = 60, methods: tuple[str, ...] = ("GET", "POST")) -> Callable:
    """Decorate a view: at most ``limit`` requests per ``window`` seconds per client address.

    The limit can be overridden with the config key ``RATELIMIT_<NAME>`` as "limit/window".
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if request.method in methods:
                override = current_app.config.get(f"RATELIMIT_{name.upper()}")
                lim, win = (int(x) for x in override.split("/")) if override else (limit, window)
                check(name, lim, win)
            return view(*args, **kwargs)

        return wrapper

    return decorate
