"""Batch import of inspection results and penalty notices (page and ``flask credit import``).

Each row alone and idempotent per row: a bad row leaves nothing behind (its savepoint is rolled
back); good rows stay in the unit of work, which the caller's wrapper commits.
"""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from credit.ledger import submit_posting
from greenfin.core.identifiers import InvalidIdentifier, normalise_resident_id
from greenfin.core.models import Party
from greenfin.core.services import find_party_by_resident_id
from greenfin.errors import DomainError
from greenfin.extensions import db

IMPORT_COLUMNS = ("party", "rule_code", "effective_date", "document", "inspector", "note", "source_id")

def find_party(ref: str) -> Optional[Party]:
    """A party by id, unified social credit code or resident ID number."""
    ref = (ref or "").strip()
    if ref.isdigit() and len(ref) < 12:
        return db.session.get(Party, int(ref))
    if len(ref) == 18:
        party = db.session.scalar(select(Party).where(Party.uscc == ref.upper()))
        if party is not None:
            return party
        try:
            return find_party_by_resident_id(normalise_resident_id(ref))
        except InvalidIdentifier:
            return None
    return None


def parse_date(value: str) -> Optional[date]:
    value = (value or "").strip()
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%d").date()


def describe(exc: DomainError) -> str:
    if getattr(exc, "errors", None):
        return "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in exc.errors.items())
    return exc.message


def _row_key(row: dict) -> str:
    if (row.get("source_id") or "").strip():
        return "csv:" + row["source_id"].strip()
    content = "|".join((row.get(c) or "").strip() for c in ("party", "rule_code", "effective_date", "document"))
    return "csv:" + hashlib.sha256(content.encode()).hexdigest()[:32]


def import_rows(text: str) -> tuple[dict, list[str]]:
    """Import inspection results and penalty notices; each row alone, idempotent per row.

    Returns counts and one message per bad row (with its line number). A bad row
    leaves nothing behind (its savepoint is rolled back); good rows stay in the
    unit of work for the caller to commit.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"party", "rule_code"} - set(reader.fieldnames or [])
    if missing:
        return {"posted": 0, "pending": 0, "duplicate": 0, "bad": 1}, [
            f"line 1: missing column(s) {', '.join(sorted(missing))}; expected {', '.join(IMPORT_COLUMNS)}"]
    counts = {"posted": 0, "pending": 0, "duplicate": 0, "bad": 0}
    errors: list[str] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            counts["bad"] += 1
            errors.append(f"line {line}: more values than columns")
            continue
        try:
            effective = parse_date(row.get("effective_date") or "")
        except ValueError:
            counts["bad"] += 1
            errors.append(f"line {line}: effective_date '{row.get('effective_date')}' is not YYYY-MM-DD")
            continue
        party = find_party(row.get("party") or "")
        if party is None:
            counts["bad"] += 1
            errors.append(f"line {line}: unknown party '{(row.get('party') or '').strip()}'")
            continue
        evidence = {k: row[k].strip() for k in ("document", "inspector", "note") if (row.get(k) or "").strip()}
        for attempt in (1, 2):
            savepoint = db.session.begin_nested()
            try:
                result = submit_posting(party.id, row.get("rule_code") or "", idempotency_key=_row_key(row),
                                                 effective_date=effective, evidence=evidence, source="csv",
                                                 source_id=(row.get("source_id") or "").strip() or None)
                savepoint.commit()
                break
            except IntegrityError:  # a concurrent import of the same row won: the retry replays it
                savepoint.rollback()
                if attempt == 2:
                    raise
            except DomainError as exc:
                savepoint.rollback()
                result = exc
                break
        if isinstance(result, DomainError):
            counts["bad"] += 1
            errors.append(f"line {line}: {describe(result)}")
            continue
        counts["duplicate" if result.replayed else result.status] += 1
    return counts, errors
