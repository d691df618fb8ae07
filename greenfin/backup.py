"""Consistent backup and restore of the whole database and the instance keys.

``flask --app greenfin backup --out FILE`` writes a gzip'd JSON-lines file: a header
(schema revisions, instance keys), then every row of every table in foreign-key
order, read inside one snapshot transaction (REPEATABLE READ on PostgreSQL), so
the copy is consistent while the platform keeps running.

``flask --app greenfin restore FILE`` migrates an EMPTY database to the same
revisions, inserts the rows in the same order, moves the sequences past the
restored ids and writes the instance keys, so ledger chains and label
signatures verify afterwards. The file holds secrets: it is created mode 0600.
"""
from __future__ import annotations

import base64
import gzip
import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Table, func, select, text

from greenfin.config import GENERATED_KEYS
from greenfin.extensions import db

FORMAT = "greenfin-backup/1"
BATCH = 1000


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        if tag == "$d":
            return Decimal(raw)
        if tag == "$dt":
            return datetime.fromisoformat(raw)
        if tag == "$date":
            return date.fromisoformat(raw)
        if tag == "$b":
            return base64.b64decode(raw)
    return value


def tables() -> list[Table]:
    return [t for t in db.metadata.sorted_tables]


def _revisions(conn) -> list[str]:
    return sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))


def iter_backup() -> Iterator[dict]:
    engine = db.engine
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":  # one snapshot for every table
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield {"format": FORMAT, "dialect": engine.dialect.name, "revisions": _revisions(conn),
                   "keys": {k: current_app.config[k] for k in GENERATED_KEYS},
                   "tables": [t.name for t in tables()]}
            for table in tables():
                order = list(table.primary_key.columns) or list(table.columns)[:1]
                result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                    select(table).order_by(*order))
                for row in result.mappings():
                    yield {"t": table.name, "r": {k: _encode(v) for k, v in row.items()}}


def write_backup(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
        for record in iter_backup():
            if "t" in record:
                counts[record["t"]] = counts.get(record["t"], 0) + 1
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return counts


class RestoreError(click.ClickException):
    pass


def restore_backup(path: Path) -> dict[str, int]:
    from flask_migrate import upgrade

    with gzip.open(path, "rt", encoding="utf-8") as fh:
        header = json.loads(fh.readline())
        if header.get("format") != FORMAT:
            raise RestoreError(f"{path} is not a GreenFin backup")
        upgrade(revision="heads")
        known = {t.name: t for t in tables()}
        missing = set(header["tables"]) - set(known)
        if missing:
            raise RestoreError(f"this code has no table for {sorted(missing)}; restore with the matching release")
        with db.engine.begin() as conn:
            if _revisions(conn) != header["revisions"]:
                raise RestoreError(f"schema revisions differ: backup {header['revisions']}, database {_revisions(conn)}")
            for name in ("users", "parties"):
                if conn.execute(select(func.count()).select_from(known[name])).scalar():
                    raise RestoreError(f"the database is in use (table {name} has rows); restore needs an empty one")
            # Reference rows that migrations insert (townships, catalogues) come from the backup instead.
            for table in reversed(tables()):
                conn.execute(table.delete())
            suspended = _suspend_triggers(conn, list(known))
            counts: dict[str, int] = {}
            batch: list[dict] = []
            current: Table | None = None
            for line in fh:
                record = json.loads(line)
                table = known[record["t"]]
                if current is not None and table is not current and batch:
                    conn.execute(current.insert(), batch)
                    batch = []
                current = table
                batch.append({k: _decode(v) for k, v in record["r"].items()})
                counts[table.name] = counts.get(table.name, 0) + 1
                if len(batch) >= BATCH:
                    conn.execute(current.insert(), batch)
                    batch = []
            if batch:
                conn.execute(current.insert(), batch)
            _resume_triggers(conn, suspended)
            if conn.dialect.name == "postgresql":
                for table in known.values():
                    pk = list(table.primary_key.columns)
                    if len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
                        conn.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                            f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))
    _restore_keys(header["keys"])
    return counts


def _suspend_triggers(conn, names: list[str]):
    """The tables' owner restores rows as they were: guard triggers that check a row against the
    rows inserted before it (the carbon ledger's chain and block rules) stay off until every row is
    back, inside the restore's transaction. ``carbon verify`` / ``credit verify`` check the result."""
    if conn.dialect.name == "postgresql":
        for name in names:
            conn.execute(text(f'ALTER TABLE "{name}" DISABLE TRIGGER USER'))
        return names
    triggers = list(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")))
    for name, _sql in triggers:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    return triggers


def _resume_triggers(conn, suspended) -> None:
    if conn.dialect.name == "postgresql":
        for name in suspended:
            conn.execute(text(f'ALTER TABLE "{name}" ENABLE TRIGGER USER'))
        return
    for _name, sql in suspended:
        conn.execute(text(sql))


def _restore_keys(keys: dict[str, str]) -> None:
    instance = Path(current_app.config.get("INSTANCE_PATH", current_app.instance_path))
    instance.mkdir(parents=True, exist_ok=True)
    for name, value in keys.items():
        if os.environ.get(name):
            if os.environ[name] != value:
                click.echo(f"warning: {name} in the environment differs from the backup's; set it to the backup's value",
                           err=True)
            continue
        path = instance / name.lower()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        current_app.config[name] = value


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path):
    """Write a consistent snapshot of the database and instance keys to OUT (gzip, mode 0600)."""
    counts = write_backup(out)
    click.echo(f"backup written to {out}: {sum(counts.values())} rows in {len(counts)} tables")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(path: Path):
    """Restore a backup into an EMPTY database (migrated first) and restore the instance keys."""
    counts = restore_backup(path)
    click.echo(f"restored {sum(counts.values())} rows in {len(counts)} tables")


def init_backup(app) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
