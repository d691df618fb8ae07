"""Helpers shared by the eco-credit modules: settings, the acting user, dates."""
from __future__ import annotations

from calendar import monthrange
from datetime import date
from functools import lru_cache
from typing import Optional

from flask import current_app, g, has_app_context

from greenfin.core.models import User
from greenfin.dates import today as business_today

KINDS = ("firm", "organisation", "individual")
DEFAULTS = {
    "CREDIT_REVIEW_ABOVE": 10,  # positive manual postings above this wait for a regulator
    "CREDIT_PENDING_DAYS": 14,  # pending postings expire after this many days
    "CREDIT_MAX_BACKDATE_DAYS": 3 * 366,
}


def setting(name: str):
    return current_app.config.get(name, DEFAULTS.get(name)) if has_app_context() else DEFAULTS.get(name)


def _actor() -> Optional[User]:
    return g.get("user") if has_app_context() else None


def _actor_label(actor: Optional[User]) -> str:
    if actor is not None:
        return actor.username
    return (g.get("actor_label") if has_app_context() else None) or "system"


@lru_cache(maxsize=4096)  # a bulk intake asks for the same few hundred days again and again
def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def today() -> date:
    """The business date (Asia/Shanghai): greenfin/dates.py."""
    return business_today()
