"""Login throttling: keyed on (account, client network), with exponential backoff.

Following the OWASP Authentication Cheat Sheet, wrong passwords do not lock an account for
everyone: they slow down the network they come from. Per (account, client network):

- the first ``FREE_FAILURES`` failures cost nothing;
- each further failure makes that network wait ``BASE_DELAY * 2**k`` seconds (k = 0, 1, 2, ...)
  before its next try for that account, at most ``MAX_DELAY``; a wait refuses the try (429)
  before the password is looked at;
- a successful sign-in clears that network's failures for the account; every failure of an
  account is forgotten ``MEMORY`` seconds after its last one.

A stranger guessing from another network therefore never delays the owner. Beside it, one
network may fail at most ``NETWORK_LIMIT`` sign-ins (any accounts) per ``NETWORK_WINDOW``
seconds: past that, sign-ins from that network wait for the window's end (password spraying).
The per-address rate limit on the login form (``RATELIMIT_LOGIN``) stays as it was.

Unknown login names are throttled the same way as real ones, so waits reveal no names.
Admins can lift every wait on an account (:func:`unlock_account`: page, API and CLI; audited).
Counters live in Redis when ``REDIS_URL`` is set (every process sees them), else in this process.
"""
from __future__ import annotations

import math
import time
from typing import Optional

from flask import current_app

from greenfin import ratelimit

FREE_FAILURES = 5
BASE_DELAY = 2          # seconds, doubling with each failure past the free ones
MAX_DELAY = 15 * 60
MEMORY = 24 * 3600      # failures are forgotten a day after the account's last one
NETWORK_LIMIT = 100     # failed sign-ins per network and window, any accounts
NETWORK_WINDOW = 15 * 60


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def account_key(username: Optional[str]) -> str:
    return "login:" + (username or "").strip().lower()[:64]


def delay_after(failures: int) -> int:
    """Seconds a network waits after its ``failures``-th failure on one account."""
    if failures < FREE_FAILURES:
        return 0
    return min(BASE_DELAY * 2 ** (failures - FREE_FAILURES), MAX_DELAY)


def _network_counter(network: str, add: int) -> tuple[int, int]:
    return ratelimit.counter(f"login-net:{network}", NETWORK_WINDOW, add)


def _account_wait(record: dict, network: str, now: float) -> int:
    failures, last = record.get(network, (0, now))
    return max(0, math.ceil(last + delay_after(failures) - now))


def login_wait(username: str, network: str) -> int:
    """Seconds ``network`` must wait before it may try a password for ``username`` (0: try now)."""
    if not _enabled():
        return 0
    failed, reset = _network_counter(network, 0)
    if failed >= NETWORK_LIMIT:
        return reset
    return _account_wait(ratelimit.strikes(account_key(username)), network, time.time())


def note_failure(username: str, network: str) -> int:
    """Count a wrong password from ``network``; returns the wait now in force (0: none)."""
    if not _enabled():
        return 0
    _network_counter(network, 1)
    failures, _at = ratelimit.strike(account_key(username), network, MEMORY)
    if delay_after(failures) >= MAX_DELAY:
        current_app.logger.warning("sign-in throttled at the longest wait for one account from %s", network)
    return login_wait(username, network)


def note_success(username: str, network: str) -> None:
    """The right password from ``network``: its failures on this account are forgiven."""
    if _enabled():
        ratelimit.forget(account_key(username), network)


def throttled_networks(username: str) -> list[dict]:
    """The networks with failures on this account: failures and the wait in force (admin pages)."""
    now = time.time()
    record = ratelimit.strikes(account_key(username))
    rows = [{"network": network, "failures": failures, "wait": _account_wait(record, network, now)}
            for network, (failures, _last) in record.items()]
    return sorted(rows, key=lambda r: (-r["wait"], -r["failures"], r["network"]))


def unlock_account(user) -> int:
    """Lift every wait and forget every failure on ``user``'s account (audited); returns how many
    networks had failures."""
    from greenfin.core.services import record_audit

    networks = [row["network"] for row in throttled_networks(user.username)]
    cleared = ratelimit.forget(account_key(user.username))
    record_audit("user.unlock", "user", user.id, before={"throttled_networks": networks},
                 after={"throttled_networks": []}, party_id=user.party_id)
    return cleared
