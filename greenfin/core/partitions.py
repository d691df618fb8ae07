"""Monthly partitions of the tables that grow with every scan (PostgreSQL; SQLite keeps plain tables).

The partitioned tables are found in the catalogue (``pg_partitioned_table``), so a package that
declares one in its migration needs nothing here. Each month is a partition named
``<table>_pYYYYMM`` covering that UTC calendar month (migrations trace_0009, trace_0009_events).

- ``ensure_partitions(ahead)`` creates this month's and the next ``ahead`` months' partitions
  through ``greenfin_ensure_month_partition``, a SECURITY DEFINER function: the application role,
  which owns nothing, may run it (the scheduled job ``partitions-ensure``) and can do nothing else.
- ``ensure_month(table, instant)`` makes the month of one row before it is written, for tables whose
  rows carry any past time (EPCIS events) and for scans through the ORM session; once a unit of work,
  through the same function. (The scan pool makes a missing month when its insert fails for want of
  one: traceability/services/scan_store.py.)
- ``detach_partitions(before)`` detaches every month before ``before`` with
  ``DETACH PARTITION ... CONCURRENTLY``: scans go on meanwhile (it waits for the transactions
  using the table instead of locking them out). It cannot run in a transaction, so it uses its own
  autocommit connection, and it needs the tables' owner (``DATABASE_URL=$MIGRATION_DATABASE_URL``).
  A detached month is a plain table, to dump, drop and later restore (docs/deploy.md, Partitions).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Optional

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from greenfin import dates
from greenfin.core.services import record_audit
from greenfin.errors import ValidationFailed
from greenfin.extensions import db

AHEAD = 3  # months kept ahead of the current one
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    month: date
    attached: bool
    detach_pending: bool = False


def _postgres(session=None) -> bool:
    return (session or db.session).get_bind().dialect.name == "postgresql"


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def current_month() -> date:
    """The UTC month of now: partitions are UTC calendar months."""
    now = dates.utcnow()
    return date(now.year, now.month, 1)


def parse_month(value: str, field: str = "before") -> date:
    found = _MONTH.match(value or "")
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValidationFailed.field(field, f"{value!r} is not a month written YYYY-MM")
    return date(int(found.group(1)), int(found.group(2)), 1)


def partitioned_tables() -> list[str]:
    """The range-partitioned tables of the current schema."""
    if not _postgres():
        return []
    return list(db.session.scalars(text(
        "SELECT c.relname FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND pt.partstrat = 'r' ORDER BY c.relname")))


def list_partitions(table: str | None = None) -> list[Partition]:
    """Every monthly partition, attached or detached (a plain table still named like one)."""
    found = []
    for parent in ([table] if table else partitioned_tables()):
        rows = db.session.execute(text(
            "SELECT c.relname, i.inhrelid IS NOT NULL, coalesce(i.inhdetachpending, false) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname ~ ('^' || :parent || '_p[0-9]{6}$') "
            "ORDER BY c.relname"), {"parent": parent}).all()
        for name, attached, pending in rows:
            stamp = name[-6:]
            found.append(Partition(parent, name, date(int(stamp[:4]), int(stamp[4:]), 1), attached, pending))
    return found


def ensure_partitions(ahead: int = AHEAD) -> list[str]:
    """Create the partitions of this month and the next ``ahead`` months where missing; safe to run twice."""
    if ahead < 0 or ahead > 24:
        raise ValidationFailed.field("ahead", "months ahead must be between 0 and 24")
    created = []
    first = current_month()
    for table in partitioned_tables():
        for step in range(ahead + 1):
            name = make_month(table, add_months(first, step))
            if name:
                created.append(name)
    return created


def month_of(instant: datetime) -> date:
    """The first day of the UTC month of ``instant``: the partition it belongs to."""
    moment = instant.astimezone(timezone.utc)
    return date(moment.year, moment.month, 1)


def make_month(table: str, month: date, cursor=None, **note) -> Optional[str]:
    """Create the partition of ``table`` for ``month`` where missing, through the definer function, on
    the session or on a driver ``cursor`` of another connection; audited when made (``note`` added to
    the event). Its name, or None when it existed."""
    if cursor is None:
        name = db.session.scalar(text("SELECT greenfin_ensure_month_partition(:table, :month)"),
                                 {"table": table, "month": month})
    else:
        cursor.execute("SELECT greenfin_ensure_month_partition(%s, %s)", (table, month))
        name = cursor.fetchone()[0]
    if name is not None:
        record_audit("database.partition_created", "partition", name,
                     after={"table": table, "month": month.strftime("%Y-%m"), **note})
    return name


_KNOWN = "partition_months"  # in the session's info: months this unit of work found or made


@event.listens_for(Session, "after_soft_rollback")
def _forget_months(session, previous_transaction) -> None:
    """A rollback (a savepoint's too) may undo a month made in it: look again."""
    session.info.pop(_KNOWN, None)


def ensure_month(table: str, instant: datetime) -> None:
    """Make the partition of ``table`` for the UTC month of ``instant`` if it is missing, before a row
    of that month is written (EPCIS events carry any past event time). Nothing on SQLite."""
    if not _postgres():
        return
    month = month_of(instant)
    known = db.session.info.setdefault(_KNOWN, set())
    if (table, month) in known:
        return
    make_month(table, month)
    known.add((table, month))


def detach_partitions(before: str) -> list[str]:
    """Detach (CONCURRENTLY) every attached monthly partition of a month before ``before`` (YYYY-MM)."""
    limit = parse_month(before)
    if not _postgres():
        raise ValidationFailed.field("before", "partitions exist on PostgreSQL only")
    if limit > current_month():
        raise ValidationFailed.field("before", f"{before} has not begun: only past months can be detached")
    due = [p for p in list_partitions() if p.attached and p.month < limit]
    if not due:
        return []
    quote = db.session.get_bind().dialect.identifier_preparer.quote
    # DETACH ... CONCURRENTLY refuses to run inside a transaction block: a connection of its own.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for partition in due:
            # A detach interrupted half-way (detach pending) is completed with FINALIZE.
            mode = "FINALIZE" if partition.detach_pending else "CONCURRENTLY"
            connection.execute(text(f"ALTER TABLE {quote(partition.table)} DETACH PARTITION "
                                    f"{quote(partition.name)} {mode}"))
    for partition in due:
        record_audit("database.partition_detached", "partition", partition.name,
                     after={"table": partition.table, "month": partition.month.strftime("%Y-%m")})
    return [p.name for p in due]
