"""The one home of "now" and "today".

Instants are stored in UTC; business dates (a decision letter's date, a repayment's day, "this
month" of a report, the label quota's day) are the date in Guangfeng: Asia/Shanghai. Every other
module asks here instead of calling ``date.today()`` or ``datetime.now()``, so a page never shows a
letter dated the day before the time printed beside it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def today() -> date:
    """The business date: today's date in Asia/Shanghai."""
    return utcnow().astimezone(BUSINESS_TZ).date()


def business_date(instant: datetime) -> date:
    """The business date of an aware instant."""
    return instant.astimezone(BUSINESS_TZ).date()


def day_start(day: date) -> datetime:
    """The first instant of a business date, as an aware UTC datetime."""
    return datetime.combine(day, time.min, BUSINESS_TZ).astimezone(timezone.utc)
