"""Helpers shared by the traceability services: field errors, parsing, printable text, today."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from greenfin import dates
from greenfin.dates import BUSINESS_TZ
from greenfin.numbers import read_decimal, to_decimal

CHINA_TZ = BUSINESS_TZ  # Asia/Shanghai (greenfin/dates.py)


def add_error(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


UNPRINTABLE = "holds characters that labels cannot print (rare CJK characters such as Extension B)"


def check_printable(errors: dict, field: str, value: Optional[str]) -> None:
    """Text printed on labels must have glyphs in the label font, or it prints as boxes."""
    from greenfin.pdf import unprintable

    missing = unprintable(value or "")
    if missing:
        add_error(errors, field, UNPRINTABLE)  # a fixed message, so that forms translate it
        add_error(errors, field, missing)


def parse_decimal(value: Any, field: str, errors: dict, positive: bool = True) -> Optional[Decimal]:
    if read_decimal(value) is None:
        add_error(errors, field, "must be a number")
        return None
    result = to_decimal(value)
    if result is None or (positive and result <= 0):
        add_error(errors, field, "must be a positive number")
        return None
    return result


def is_positive(value: Any) -> bool:
    """A finite number above zero (a quantity)."""
    number = to_decimal(value)
    return number is not None and number > 0


def parse_date(value: Any, field: str, errors: dict, required: bool = True) -> Optional[date]:
    if value in (None, ""):
        if required:
            add_error(errors, field, "is required")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        add_error(errors, field, "must be a date YYYY-MM-DD")
        return None


def today() -> date:
    """The business date (greenfin/dates.py)."""
    return dates.today()
