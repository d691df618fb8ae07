"""The one Decimal parser: numbers that people and files send, read exactly (never through a float).

``to_decimal`` gives a finite Decimal or None; ``parse_decimal`` does the same and records the
problem under the field's name, for services that collect every bad field before refusing.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from greenfin.errors import N_


def read_decimal(value: Any) -> Optional[Decimal]:
    """The Decimal a value spells (NaN and infinity included), or None."""
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        return None


def to_decimal(value: Any) -> Optional[Decimal]:
    """A finite Decimal from a number or its text; None for anything else (NaN and infinity too)."""
    number = read_decimal(value)
    return number if number is not None and number.is_finite() else None


def parse_decimal(value: Any, field: str, errors: dict) -> Optional[Decimal]:
    """``to_decimal``, recording "must be a number" / "must be a finite number" under ``field``."""
    number = read_decimal(value)
    if number is None:
        errors.setdefault(field, []).append(N_("must be a number"))
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append(N_("must be a finite number"))
        return None
    return number
