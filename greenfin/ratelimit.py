"""Rate limits: Flask-Limiter, configured for GreenFin.

- Moving windows (``limits``' moving-window strategy): a client never gets twice its limit across
  a window boundary, and a test that sends N+1 requests sees the refusal at the same request
  whatever the clock says.
- Storage: Redis at ``REDIS_URL`` (every process shares the counts), else this process's memory
  (``make demo``); when Redis stops answering, the limiter falls back to memory until it is back.
- Headers: ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` on the
  limited routes; ``Retry-After`` only on a refusal (429), with the wait in seconds.
- Declarations: ``@rate_limited(name, limit, window)`` on a view or API method; routes that name
  the same limit share its count (the disclosure page and its API). ``RATELIMIT_<NAME>`` ("3/60":
  requests/seconds) overrides a limit; ``RATELIMIT_ENABLED`` switches every limit off or on.

The refusal itself (a translated page or a JSON error saying how long to wait) is built by the
error handlers (``greenfin.errors``) from :func:`wait_seconds` and :func:`throttled_message`.
"""
from __future__ import annotations

import ipaddress
import math
import time
from datetime import timedelta
from typing import Callable, Optional

from flask import Flask, current_app, g
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage

#: The client's address; behind a trusted proxy set ``PROXY_FIX_HOPS`` so this is the real one.
client_address = get_remote_address

limiter = Limiter(key_func=client_address, strategy="moving-window", headers_enabled=True,
                  in_memory_fallback_enabled=True, key_prefix="greenfin")
_spare = MemoryStorage()  # counts of :func:`counter` while the configured storage is unreachable


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


def configured(name: str, limit: int, window: int) -> Callable[[], str]:
    """The limit ``name`` as Flask-Limiter reads it per request: ``RATELIMIT_<NAME>`` or the default."""

    def value() -> str:
        override = current_app.config.get(f"RATELIMIT_{name.upper()}")
        amount, seconds = override.split("/") if override else (limit, window)
        return f"{int(amount)} per {int(seconds)} seconds"

    return value


def rate_limited(name: str, limit: int, window: int = 60, methods: tuple[str, ...] = ("GET", "POST"), **options):
    """Declare a limit on a view: at most ``limit`` requests per ``window`` seconds per client
    address (``key_func``: another key), counted under ``name`` by every route that declares it."""
    return limiter.shared_limit(configured(name, limit, window), scope=name, methods=list(methods), **options)


def wait_seconds() -> Optional[int]:
    """Seconds until the limit that refused this request lets the client in again."""
    refused = limiter.current_limit
    if refused is None:
        return None
    return max(1, math.ceil(refused.window.reset_time - time.time()))


def wait_text(seconds: int) -> str:
    """A wait in words in the page language ("45 seconds", "7分钟"), minutes rounded up."""
    seconds = max(1, int(seconds))
    if seconds >= 60:
        seconds = -(-seconds // 60) * 60
    return format_timedelta(timedelta(seconds=seconds), threshold=1)


def throttled_message(seconds: Optional[int]) -> str:
    """The message of a 429, with the wait when it is known (in the request's language)."""
    if not seconds:
        return _("Too many requests. Please try again later.")
    return _("Too many requests. Please try again in %(wait)s.", wait=wait_text(seconds))


def counter(key: str, window: int, add: int = 1) -> tuple[int, int]:
    """Add ``add`` to the count of ``key`` in its fixed window of ``window`` seconds (``add=0``: only
    read it), kept in the limiter's storage; returns the count and the seconds until the window ends."""
    try:
        return _count(limiter.limiter.storage, f"greenfin/count/{key}", window, add)
    except Exception:  # Redis down (any error of its client): count in this process until it is back
        current_app.logger.warning("rate-limit storage unreachable, counting in this process")
        return _count(_spare, f"greenfin/count/{key}", window, add)


def _count(storage, key: str, window: int, add: int) -> tuple[int, int]:
    count = storage.incr(key, window, amount=add) if add else storage.get(key)
    return count, max(1, math.ceil(storage.get_expiry(key) - time.time()))


def reset() -> None:
    """Forget every count (tests, and ``flask`` shells after a load test)."""
    limiter.reset()
    _spare.reset()


def init_ratelimit(app: Flask) -> None:
    # Redis when configured (shared by every process), else this process's memory.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    # The extension is always installed; the RATELIMIT_ENABLED switch is read per request (the
    # rate-limit tests turn it on in a running app), so Flask-Limiter must not read it at start.
    switch = app.config.get("RATELIMIT_ENABLED", True)

    @app.after_request
    def retry_after_only_when_asked(response):
        # Runs after Flask-Limiter's hook (registered before it): Flask-Limiter writes Retry-After
        # (its window's reset) on every answer of a limited route; keep only the one the app set.
        own = g.pop("greenfin_retry_after", None)
        if own is not None:
            response.headers["Retry-After"] = own
        else:
            response.headers.pop("Retry-After", None)
        return response

    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    app.config["RATELIMIT_ENABLED"] = switch

    @app.after_request
    def remember_retry_after(response):
        # Runs before Flask-Limiter's hook: the wait of a 429 (this limiter's or the login
        # throttle's) or a 503, as the app answered it.
        if "Retry-After" in response.headers:
            g.greenfin_retry_after = response.headers["Retry-After"]
        return response


@limiter.request_filter
def _switched_off() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)
