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
import gc
import gzip
import hashlib
import io
import json
import multiprocessing
import os
import queue
import traceback
from collections import Counter
from contextlib import closing, contextmanager
from typing import Callable, Iterator, Optional

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.bulk import Row, among, checked, insert_rows, post_rows
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
OVERLAP_ROWS = 20_000  # larger files on PostgreSQL are prepared in a second process (``_prepared_chunks``)
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
        reader = csv.reader(stream)
        header = next(reader, None) or []
        missing = {"party", "rule_code"} - set(header)
        if missing:
            raise ValidationFailed("Invalid file", {"file": [
                f"line 1: missing column(s) {', '.join(sorted(missing))}; expected {', '.join(IMPORT_COLUMNS)}"]})
        rows = sum(1 for row in reader if row)  # the records _records yields: csv.DictReader skips blank rows
    else:
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


def _resolve_parties(refs: set[str], session=None) -> dict[str, int]:
    """Party references (id, unified social credit code, resident ID number) to party ids, in bulk."""
    session = session if session is not None else db.session
    ids, usccs = {}, {}
    for ref in refs:
        if ref.isdigit() and len(ref) < 12:
            ids[int(ref)] = ref
        elif len(ref) == 18:
            usccs[ref.upper()] = ref
    found: dict[str, int] = {}
    if ids:
        found.update({ids[i]: i for i in session.scalars(select(Party.id).where(among(Party.id, list(ids))))})
    if usccs:  # a credit code wins over a resident number of the same spelling, as find_party decides
        found.update({usccs[u]: i for i, u in session.execute(
            select(Party.id, Party.uscc).where(among(Party.uscc, list(usccs))))})
    key, hashes = current_app.config["PII_HASH_KEY"], {}
    for ref in usccs.values():
        if ref not in found:
            try:
                hashes[hash_resident_id(normalise_resident_id(ref), key)] = ref
            except InvalidIdentifier:
                pass
    if hashes:
        found.update({hashes[h]: i for i, h in session.execute(
            select(Party.id, Party.id_hash).where(among(Party.id_hash, list(hashes))))})
    return found


def _shown(ref: str) -> str:
    """A party reference as the error report may keep it: a resident ID number masked (PIPL)."""
    try:
        return mask_resident_id(normalise_resident_id(ref)) if len(ref) == 18 else ref
    except InvalidIdentifier:
        return ref


def _rows_of(chunk: list[tuple[int, Optional[dict], Optional[str]]], session=None) -> list[Row]:
    """A chunk's records as posting requests, checked as far as a row alone tells (``checked``)."""
    parties = _resolve_parties({(r.get("party") or "").strip() for _l, r, _e in chunk if r is not None}, session)
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
        rows.append(checked(Row(line, party_id, record.get("rule_code") or "", row_key(record),
                                effective_date=effective, evidence=evidence,
                                source_id=(record.get("source_id") or "").strip() or None)))
    return rows


def _chunks(content: bytes, fmt: str, size: int) -> Iterator[tuple[int, list]]:
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


def _prepared_here(content: bytes, fmt: str, size: int, start: int) -> Iterator[tuple[int, list[Row]]]:
    for index, chunk in _chunks(content, fmt, size):
        if index >= start:
            yield index, _rows_of(chunk)


def _packed(rows: list[Row]) -> list[tuple]:
    """Rows as plain tuples: a third of a dataclass's unpickling cost (evidence sent once when equal
    to the cleaned evidence, as for every CSV row)."""
    return [(r.line, r.party_id, r.rule_code, r.key, r.effective_date, None if r.evidence == r.clean else r.evidence,
             r.source_id, r.error, r.clean, r.problems, r.code, r.digest) for r in rows]


def _unpacked(items: list[tuple]) -> list[Row]:
    return [Row(line, party, rule_code, key, day, clean if evidence is None else evidence, source_id, error, clean,
                problems, code, digest)
            for line, party, rule_code, key, day, evidence, source_id, error, clean, problems, code, digest in items]


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this process when its parent dies (a killed work horse leaves no orphan)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _send(out, item, parent: int) -> None:
    while True:
        try:
            out.put(item, timeout=1)
            return
        except queue.Full:
            if os.getppid() != parent:
                os._exit(1)


def _prepare_chunks(out, content: bytes, fmt: str, size: int, start: int, parent: int) -> None:
    """The preparing process: read, parse and check chunk after chunk, parties resolved on its own
    connection (read only: an intake never creates a party), the prepared rows sent to the parent."""
    _die_with_parent(parent)
    try:
        db.engine.dispose(close=False)  # forked: the parent's connections stay the parent's
        with Session(db.engine) as session:
            for index, chunk in _chunks(content, fmt, size):
                if index >= start:
                    rows = _rows_of(chunk, session)
                    session.rollback()  # no snapshot held while the parent takes the chunk
                    _send(out, ("chunk", index, _packed(rows)), parent)
                    del rows
                    gc.collect()  # the collector is off, as in the parent (_collected_per_chunk)
        _send(out, ("end",), parent)
    except BaseException as exc:  # the job fails with the preparing process's error
        _send(out, ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()), parent)


def _prepared_aside(content: bytes, fmt: str, size: int, start: int) -> Iterator[tuple[int, list[Row]]]:
    """Chunks prepared by a second process while this one posts: at most two wait in the queue."""
    context = multiprocessing.get_context("fork")
    out = context.Queue(maxsize=2)
    child = context.Process(target=_prepare_chunks, args=(out, content, fmt, size, start, os.getpid()),
                            name="intake-prepare", daemon=True)
    child.start()
    try:
        while True:
            try:
                item = out.get(timeout=5)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the intake's preparing process died (exit code {child.exitcode})")
                continue
            if item[0] == "end":
                return
            if item[0] == "error":
                raise RuntimeError(f"preparing the intake's rows failed: {item[1]}\n{item[2]}")
            yield item[1], _unpacked(item[2])
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        out.cancel_join_thread()
        out.close()


def _prepared_chunks(intake: CreditIntake) -> Iterator[tuple[int, list[Row]]]:
    """The intake's chunks from ``chunks_done`` on, as rows ready for ``post_rows``. On PostgreSQL a
    file of more than ``CREDIT_INTAKE_OVERLAP_ROWS`` rows is prepared by a second process while
    this one posts; a smaller file, or SQLite, in this process between chunks."""
    content = db.session.scalar(select(CreditIntake.content).where(CreditIntake.id == intake.id))
    fmt, size, start = intake.format, intake.chunk_size, intake.chunks_done
    aside = (db.session.get_bind().dialect.name == "postgresql"
             and intake.rows_total - start * size > current_app.config.get("CREDIT_INTAKE_OVERLAP_ROWS",
                                                                            OVERLAP_ROWS)
             and not multiprocessing.current_process().daemon)
    return (_prepared_aside if aside else _prepared_here)(content, fmt, size, start)


@contextmanager
def _collected_per_chunk() -> Iterator[None]:
    """Python's cyclic garbage collector once per chunk (``gc.collect()`` in the loops), not every
    few hundred allocations: a chunk makes hundreds of thousands of objects and the automatic passes
    over them cost about a third of the job's CPU. What lived before the job is frozen, so the per-chunk
    pass looks only at what the job made. Everything goes back as it was when the job ends."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def run_intake(intake_id: int, progress: Callable[..., None] = lambda *args: None) -> dict:
    """Post an intake's rows chunk by chunk, each chunk committed with the intake's progress.

    Safe to run again and alongside a stale attempt: each chunk locks the intake row and is
    skipped when ``chunks_done`` is already past it.
    """
    intake = get_intake(intake_id)
    total = intake.rows_total
    actor = db.session.get(User, intake.created_by_id) if intake.created_by_id else None
    g.actor_label, source = intake.created_by, intake.source  # the label of a CLI or system intake
    with _collected_per_chunk(), closing(_prepared_chunks(intake)) as chunks:
        for [(index, rows)] in units(chunks):
            gc.collect()  # the previous chunk's garbage (committed by now)
            intake = db.session.get(CreditIntake, intake_id, with_for_update=True, populate_existing=True)
            if intake.chunks_done != index:
                continue  # committed by an earlier attempt
            outcomes = post_rows(rows, source=source, actor=actor)
            refused = [{"intake_id": intake_id, "line": o.line, "reason": o.reason[:2000]}
                       for o in outcomes if o.status == "refused"]
            if refused:
                insert_rows(CreditIntakeError, refused)
            for status, count in Counter(o.status for o in outcomes).items():
                setattr(intake, status, getattr(intake, status) + count)
            intake.chunks_done, intake.rows_done = index + 1, intake.rows_done + len(rows)
            progress(min(99, 100 * intake.rows_done // max(total, 1)), "posting", intake.rows_done, total)
    intake = db.session.get(CreditIntake, intake_id, populate_existing=True)
    intake.finished_at = utcnow()
    intake.content = b""  # PIPL: the file may hold plain resident ID numbers; kept only while it is posted
    record_audit("credit.intake.finish", "credit_intake", intake.id, after={**counts_of(intake),
                                                                            "rows": intake.rows_done})
    return counts_of(intake)
