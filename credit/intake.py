"""Bulk intake of inspection results, penalty notices and checks: a file in, a job posts it in chunks.

``start_intake`` (the page's import form, ``POST /api/v1/credit/intakes`` and ``flask credit import``)
checks the file's shape (UTF-8, the columns, at least one row), stores it gzip-compressed and starts
the job. ``run_intake`` (the job) reads the stored file as a stream and handles it ``chunk_size``
rows at a time, each chunk one transaction: parties resolved in bulk, every row checked, the good
rows posted by ``credit.bulk.post_rows``, each refused line written to ``credit_intake_errors``
and the intake's counts and ``chunks_done`` moved on, all committed together. A killed worker's
retry skips the chunks already committed; idempotency keys per row (``credit.importer.row_key``)
make a second import of the same file post nothing.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from typing import Callable, Iterator, Optional

from flask import current_app, g
from sqlalchemy import select

from credit.bulk import Row, among, insert_rows, post_rows
from credit.common import _actor, _actor_label
from credit.importer import IMPORT_COLUMNS, parse_date, row_key
from credit.models import CreditIntake, CreditIntakeError
from greenfin.core.identifiers import (
    InvalidIdentifier, hash_resident_id, mask_resident_id, normalise_resident_id,
)
from greenfin.core.models import Party, User
from greenfin.core.services import record_audit
from greenfin.core.types import utcnow
from greenfin.errors import NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.jobs import enqueue
from greenfin.uow import units

CHUNK_SIZE = 5000
FORMATS = ("csv", "jsonl")


# ---------------------------------------------------------------- reading a file


def detect_format(filename: str, text_start: str) -> str:
    name = (filename or "").lower()
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    return "jsonl" if text_start.lstrip("\ufeff \r\n\t").startswith("{") else "csv"


def _records(stream: io.TextIOBase, fmt: str) -> Iterator[tuple[int, Optional[dict], Optional[str]]]:
    """(line, record, error) for each data row; line numbers are the file's own (a CSV header is line 1)."""
    if fmt == "csv":
        reader = csv.DictReader(stream)
        for row in reader:
            if None in row:
                yield reader.line_num, None, "more values than columns"
            else:
                yield reader.line_num, row, None
        return
    for line, text in enumerate(stream, 1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError:
            yield line, None, "not valid JSON"
            continue
        if not isinstance(value, dict):
            yield line, None, "not a JSON object"
            continue
        yield line, {k: ("" if v is None else str(v)) for k, v in value.items() if k in IMPORT_COLUMNS}, None


def _check_shape(text: str, fmt: str) -> int:
    """The file's number of data rows; a file without the columns or rows is refused whole."""
    stream = io.StringIO(text)
    if fmt == "csv":
        header = next(csv.reader(stream), None) or []
        missing = {"party", "rule_code"} - set(header)
        if missing:
            raise ValidationFailed("Invalid file", {"file": [
                f"line 1: missing column(s) {', '.join(sorted(missing))}; expected {', '.join(IMPORT_COLUMNS)}"]})
        stream.seek(0)
    rows = sum(1 for _ in _records(stream, fmt))
    if rows == 0:
        raise ValidationFailed.field("file", "has no rows")
    return rows


# ---------------------------------------------------------------- starting an intake


def start_intake(data: bytes, filename: str, *, fmt: Optional[str] = None, actor: Optional[User] = None,
                 chunk_size: Optional[int] = None, source: str = "csv") -> CreditIntake:
    """Store an uploaded file and start the job that posts it (checked for shape first)."""
    actor = actor if actor is not None else _actor()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.field("file", "is not UTF-8 text")
    fmt = fmt or detect_format(filename, text[:200])
    if fmt not in FORMATS:
        raise ValidationFailed.field("format", "must be csv or jsonl")
    rows = _check_shape(text, fmt)
    size = chunk_size or current_app.config.get("CREDIT_INTAKE_CHUNK", CHUNK_SIZE)
    intake = CreditIntake(
        filename=(filename or "upload")[:255], format=fmt, content=gzip.compress(text.encode("utf-8"), 3),
        sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data), rows_total=rows, chunk_size=size,
        source=source[:32], created_by_id=actor.id if actor else None, created_by=_actor_label(actor),
        created_at=utcnow())
    db.session.add(intake)
    db.session.flush()
    job = enqueue("credit.jobs.run_intake", {"intake_id": intake.id}, title=f"Eco-credit intake {intake.filename}",
                  timeout=4 * 3600, subject=("credit.intake_detail", {"intake_id": intake.id}))
    db.session.flush()  # the job row first: the intake points at it
    intake.job_id = job.id
    record_audit("credit.intake.create", "credit_intake", intake.id,
                 after={"filename": intake.filename, "format": fmt, "rows": rows, "sha256": intake.sha256,
                        "job_id": job.id})
    return intake


def get_intake(intake_id: int) -> CreditIntake:
    intake = db.session.get(CreditIntake, intake_id)
    if intake is None:
        raise NotFound(f"intake {intake_id} not found")
    return intake


def intake_query():
    return select(CreditIntake).order_by(CreditIntake.id.desc())


def intake_errors_query(intake_id: int):
    return select(CreditIntakeError).where(CreditIntakeError.intake_id == intake_id).order_by(CreditIntakeError.line)


def intake_errors_csv(intake_id: int) -> str:
    """The error report: one line per refused row, ``line,reason``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "reason"])
    for error in db.session.scalars(intake_errors_query(intake_id)):
        writer.writerow([error.line, error.reason])
    return out.getvalue()


def counts_of(intake: CreditIntake) -> dict:
    return {"posted": intake.posted, "pending": intake.pending, "duplicate": intake.duplicate,
            "refused": intake.refused}


# ---------------------------------------------------------------- the job


def _resolve_parties(refs: set[str]) -> dict[str, int]:
    """Party references (id, unified social credit code, resident ID number) to party ids, in bulk."""
    ids, usccs = {}, {}
    for ref in refs:
        if ref.isdigit() and len(ref) < 12:
            ids[int(ref)] = ref
        elif len(ref) == 18:
            usccs[ref.upper()] = ref
    found: dict[str, int] = {}
    if ids:
        found.update({ids[i]: i for i in db.session.scalars(select(Party.id).where(among(Party.id, list(ids))))})
    if usccs:  # a credit code wins over a resident number of the same spelling, as find_party decides
        found.update({usccs[u]: i for i, u in db.session.execute(
            select(Party.id, Party.uscc).where(among(Party.uscc, list(usccs))))})
    key, hashes = current_app.config["PII_HASH_KEY"], {}
    for ref in usccs.values():
        if ref not in found:
            try:
                hashes[hash_resident_id(normalise_resident_id(ref), key)] = ref
            except InvalidIdentifier:
                pass
    if hashes:
        found.update({hashes[h]: i for i, h in db.session.execute(
            select(Party.id, Party.id_hash).where(among(Party.id_hash, list(hashes))))})
    return found


def _shown(ref: str) -> str:
    """A party reference as the error report may keep it: a resident ID number masked (PIPL)."""
    try:
        return mask_resident_id(normalise_resident_id(ref)) if len(ref) == 18 else ref
    except InvalidIdentifier:
        return ref


def _rows_of(chunk: list[tuple[int, Optional[dict], Optional[str]]]) -> list[Row]:
    parties = _resolve_parties({(r.get("party") or "").strip() for _l, r, _e in chunk if r is not None})
    rows = []
    for line, record, error in chunk:
        if error is not None:
            rows.append(Row(line, None, "", "", error=error))
            continue
        party_ref = (record.get("party") or "").strip()
        try:
            effective = parse_date(record.get("effective_date") or "")
        except ValueError:
            rows.append(Row(line, None, "", "", error=f"effective_date '{record.get('effective_date')}' "
                                                      "is not YYYY-MM-DD"))
            continue
        party_id = parties.get(party_ref)
        if party_id is None:
            rows.append(Row(line, None, "", "", error=f"unknown party '{_shown(party_ref)}'"))
            continue
        evidence = {k: record[k].strip() for k in ("document", "inspector", "note") if (record.get(k) or "").strip()}
        rows.append(Row(line, party_id, record.get("rule_code") or "", row_key(record), effective_date=effective,
                        evidence=evidence, source_id=(record.get("source_id") or "").strip() or None))
    return rows


def _chunks(intake_id: int, fmt: str, size: int) -> Iterator[tuple[int, list]]:
    content = db.session.scalar(select(CreditIntake.content).where(CreditIntake.id == intake_id))
    stream = io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(content)), encoding="utf-8-sig", newline="")
    chunk: list = []
    index = 0
    for record in _records(stream, fmt):
        chunk.append(record)
        if len(chunk) == size:
            yield index, chunk
            index, chunk = index + 1, []
    if chunk:
        yield index, chunk


def run_intake(intake_id: int, progress: Callable[..., None] = lambda *args: None) -> dict:
    """Post an intake's rows chunk by chunk, each chunk committed with the intake's progress.

    Safe to run again and alongside a stale attempt: each chunk locks the intake row and is
    skipped when ``chunks_done`` is already past it.
    """
    intake = get_intake(intake_id)
    fmt, size, total = intake.format, intake.chunk_size, intake.rows_total
    actor = db.session.get(User, intake.created_by_id) if intake.created_by_id else None
    g.actor_label, source = intake.created_by, intake.source  # the label of a CLI or system intake
    for [(index, chunk)] in units(_chunks(intake_id, fmt, size)):
        intake = db.session.get(CreditIntake, intake_id, with_for_update=True, populate_existing=True)
        if intake.chunks_done != index:
            continue  # committed by an earlier attempt
        outcomes = post_rows(_rows_of(chunk), source=source, actor=actor)
        refused = [{"intake_id": intake_id, "line": o.line, "reason": o.reason[:2000]}
                   for o in outcomes if o.status == "refused"]
        if refused:
            insert_rows(CreditIntakeError, refused)
        for outcome in outcomes:
            setattr(intake, outcome.status, getattr(intake, outcome.status) + 1)
        intake.chunks_done, intake.rows_done = index + 1, intake.rows_done + len(chunk)
        progress(min(99, 100 * intake.rows_done // max(total, 1)), "posting", intake.rows_done, total)
    intake = db.session.get(CreditIntake, intake_id, populate_existing=True)
    intake.finished_at = utcnow()
    intake.content = b""  # PIPL: the file may hold plain resident ID numbers; kept only while it is posted
    record_audit("credit.intake.finish", "credit_intake", intake.id, after={**counts_of(intake),
                                                                            "rows": intake.rows_done})
    return counts_of(intake)
