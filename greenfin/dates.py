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


def utc_today() -> date:
    """Today's date in UTC: the eco-credit ledger's days (a checkpoint covers a UTC day), not a business date."""
    return utcnow().date()


def business_date(instant: datetime) -> date:
    """The business date of an aware instant."""
    return instant.astimezone(BUSINESS_TZ).date()


def day_start(day: date) -> datetime:
    """The first instant of a business date, as an aware UTC datetime."""
    return datetime.combine(day, time.min, BUSINESS_TZ).astimezone(timezone.utc)


# ---------------------------------------------------------------- display (pages, PDFs, files for people)
# Every date and time a person reads is in the business timezone; pages use the Jinja filters
# ``local_date``, ``local_datetime`` and ``local_time`` (registered in greenfin/i18n.py).


def local(instant: datetime) -> datetime:
    """An instant in Asia/Shanghai; a naive value is taken as UTC (how instants are stored)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(BUSINESS_TZ)


def local_date(value) -> str:
    """``YYYY-MM-DD``: a date as it is, an instant as its business date."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = local(value).date()
    return value.isoformat()


def local_datetime(value, seconds: bool = False) -> str:
    """``YYYY-MM-DD HH:MM`` (``:SS`` with ``seconds``) in Asia/Shanghai."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return local_date(value)
    return local(value).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_time(value, seconds: bool = False) -> str:
    """``HH:MM`` (``:SS``) of an instant in Asia/Shanghai."""
    if value is None or value == "":
        return ""
    return local(value).strftime("%H:%M:%S" if seconds else "%H:%M")
