"""Fixed-window rate limits for the public surface and login.

With ``REDIS_URL`` the counters live in Redis (shared by every process);
without it (the embedded single-process mode) they live in this process.
Over the limit, a request gets 429 with a Retry-After header.
"""
from __future__ import annotations

import threading
import time
from functools import wraps
from typing import Callable, Optional

from flask import current_app, request
from werkzeug.exceptions import TooManyRequests

_local: dict[str, tuple[int, float]] = {}
_lock = threading.Lock()


def client_address() -> str:
    """The client's address; behind a trusted proxy set ``PROXY_FIX`` so this is the real one."""
    return request.remote_addr or "unknown"


def counter(key: str, window: int, add: int = 1) -> tuple[int, int]:
    """Add ``add`` to the counter of ``key`` in the current window (``add=0`` only reads it).

    Returns the count and the seconds until the window resets.
    """
    now = time.time()
    reset = int(window - (now % window)) + 1
    full_key = f"greenfin:rl:{key}:{int(now // window)}"
    if current_app.config.get("REDIS_URL"):
        from redis.exceptions import RedisError

        from greenfin.jobs import redis_connection

        try:
            pipe = redis_connection().pipeline()
            pipe.incrby(full_key, add)
            pipe.expire(full_key, window + 1)
            return int(pipe.execute()[0]), reset
        except RedisError:
            pass  # Redis down: fall back to this process's counters
    with _lock:
        count, expires = _local.get(full_key, (0, now + window))
        _local[full_key] = (count + add, expires)
        if len(_local) > 10000:
            for stale in [k for k, (_, exp) in _local.items() if exp < now]:
                _local.pop(stale, None)
    return count + add, reset


def check(name: str, limit: int, window: int, key: Optional[str] = None, add: int = 1) -> None:
    """Count a hit (``add=0``: only look) and raise 429 once more than ``limit`` are used."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    count, retry_after = counter(f"{name}:{key or client_address()}", window, add)
    if count > limit or (add == 0 and count >= limit):
        exc = TooManyRequests(description="Too many requests; try again later")
        exc.retry_after = retry_after
        raise exc


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
