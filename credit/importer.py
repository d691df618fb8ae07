"""Reading import rows: columns, party references, dates and each row's idempotency key.

The bulk intake (``credit.intake``) and ``flask credit post`` use these.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Optional

from greenfin.errors import DomainError

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
IMPORT_COLUMNS = ("party", "rule_code", "effective_date", "document", "inspector", "note", "source_id")

def parse_date(value: str) -> Optional[date]:
    value = (value or "").strip()
    if not value:
        return None
    if not _DAY.fullmatch(value):
        raise ValueError(f"{value!r} is not YYYY-MM-DD")
    return date.fromisoformat(value)  # a tenth of strptime's cost; still refuses 2026-13-40


def describe(exc: DomainError) -> str:
    if getattr(exc, "errors", None):
        return "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in exc.errors.items())
    return exc.message


def row_key(row: dict) -> str:
    """A row's idempotency key: its source_id, else a digest of what identifies it."""
    if (row.get("source_id") or "").strip():
        return "csv:" + row["source_id"].strip()
    content = "|".join((row.get(c) or "").strip() for c in ("party", "rule_code", "effective_date", "document"))
    return "csv:" + hashlib.sha256(content.encode()).hexdigest()[:32]
