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
import time
import traceback
from collections import Counter
from contextlib import closing, contextmanager
from typing import Callable, Iterator, Optional

from flask import current_app, g, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.bulk import (
    Plan, Row, _lock_accounts, _Rules, among, apply_plan, checked, insert_rows, plan_rows, post_rows, used_keys,
)
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


def _resolve_parties(refs: set[str], session=None) -> dict[str, tuple[int, str]]:
    """Party references (id, unified social credit code, resident ID number) to party ids and
    kinds, in bulk."""
    connection = (session if session is not None else db.session).connection()  # Core: rows, no ORM
    ids, usccs = {}, {}
    for ref in refs:
        if ref.isdigit() and len(ref) < 12:
            ids[int(ref)] = ref
        elif len(ref) == 18:
            usccs[ref.upper()] = ref
    found: dict[str, tuple[int, str]] = {}
    if ids:
        found.update({ids[i]: (i, kind) for i, kind in connection.execute(
            select(Party.id, Party.kind).where(among(Party.id, list(ids))))})
    if usccs:  # a credit code wins over a resident number of the same spelling, as find_party decides
        found.update({usccs[u]: (i, kind) for i, kind, u in connection.execute(
            select(Party.id, Party.kind, Party.uscc).where(among(Party.uscc, list(usccs))))})
    key, hashes = current_app.config["PII_HASH_KEY"], {}
    for ref in usccs.values():
        if ref not in found:
            try:
                hashes[hash_resident_id(normalise_resident_id(ref), key)] = ref
            except InvalidIdentifier:
                pass
    if hashes:
        found.update({hashes[h]: (i, kind) for i, kind, h in connection.execute(
            select(Party.id, Party.kind, Party.id_hash).where(among(Party.id_hash, list(hashes))))})
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
        party = parties.get(party_ref)
        if party is None:
            rows.append(Row(line, None, "", "", error=f"unknown party '{_shown(party_ref)}'"))
            continue
        evidence = {k: record[k].strip() for k in ("document", "inspector", "note") if (record.get(k) or "").strip()}
        rows.append(checked(Row(line, party[0], record.get("rule_code") or "", row_key(record),
                                effective_date=effective, evidence=evidence,
                                source_id=(record.get("source_id") or "").strip() or None, kind=party[1])))
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


def _prepared_here(content: bytes, fmt: str, size: int, start: int) -> Iterator[tuple[int, list[Row], None]]:
    for index, chunk in _chunks(content, fmt, size):
        if index >= start:
            yield index, _rows_of(chunk), None  # no plan: post_rows


def _packed(rows: list[Row]) -> list[tuple]:
    """Rows as plain tuples: a third of a dataclass's unpickling cost (evidence sent once when equal
    to the cleaned evidence, as for every CSV row)."""
    return [(r.line, r.party_id, r.rule_code, r.key, r.effective_date, None if r.evidence == r.clean else r.evidence,
             r.source_id, r.error, r.clean, r.problems, r.code, r.digest, r.kind) for r in rows]


def _unpacked(items: list[tuple]) -> list[Row]:
    return [Row(line, party, rule_code, key, day, clean if evidence is None else evidence, source_id, error, clean,
                problems, code, digest, kind)
            for line, party, rule_code, key, day, evidence, source_id, error, clean, problems, code, digest, kind
            in items]


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


def _prepare_chunks(out, content: bytes, fmt: str, size: int, start: int, planner: dict, parent: int) -> None:
    """The preparing process: read, parse and check chunk after chunk, parties resolved on its own
    connection, each chunk planned (``_Planner``), the rows and the plan sent to the parent."""
    _die_with_parent(parent)
    try:
        db.engine.dispose(close=False)  # forked: the parent's connections stay the parent's
        with Session(db.engine) as session:
            plans = _Planner(session, **planner)
            for index, chunk in _chunks(content, fmt, size):
                if index >= start:
                    rows = _rows_of(chunk, session)
                    plan = plans.plan(index, rows)
                    session.commit()  # the accounts the plan made; no snapshot held meanwhile
                    _send(out, ("chunk", index, _packed(rows), plan), parent)
                    del rows
                    _collect(index)  # the collector is off, as in the parent (_collected_by_hand)
        _send(out, ("end",), parent)
    except BaseException as exc:  # the job fails with the preparing process's error
        _send(out, ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()), parent)


def _prepared_aside(content: bytes, fmt: str, size: int, start: int,
                    planner: dict) -> Iterator[tuple[int, list[Row], Optional[Plan]]]:
    """Chunks prepared and planned by a second process while this one posts: at most two wait in
    the queue."""
    context = multiprocessing.get_context("fork")
    out = context.Queue(maxsize=2)
    child = context.Process(target=_prepare_chunks, args=(out, content, fmt, size, start, planner, os.getpid()),
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
            yield item[1], _unpacked(item[2]), item[3]
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        out.cancel_join_thread()
        out.close()


def _prepared_chunks(intake: CreditIntake, planner: dict) -> Iterator[tuple[int, list[Row], Optional[Plan]]]:
    """The intake's chunks from ``chunks_done`` on, as rows ready for ``post_rows``. On PostgreSQL a
    file of more than ``CREDIT_INTAKE_OVERLAP_ROWS`` rows is prepared by a second process while
    this one posts, each chunk with its plan (``_Planner``, ``credit.bulk.apply_plan``); a smaller
    file, or SQLite, in this process between chunks."""
    content = db.session.scalar(select(CreditIntake.content).where(CreditIntake.id == intake.id))
    fmt, size, start = intake.format, intake.chunk_size, intake.chunks_done
    aside = (db.session.get_bind().dialect.name == "postgresql"
             and intake.rows_total - start * size > current_app.config.get("CREDIT_INTAKE_OVERLAP_ROWS",
                                                                            OVERLAP_ROWS)
             and not multiprocessing.current_process().daemon)
    if aside:
        return _prepared_aside(content, fmt, size, start, planner)
    return _prepared_here(content, fmt, size, start)


GC_EVERY_CHUNKS = 20


def _collect(index: int) -> None:
    """The cyclic garbage collector's pass, every ``GC_EVERY_CHUNKS`` chunks (100,000 rows): a
    chunk leaves a few dozen small cycles (statement parameters), and a pass costs 10–15 ms of CPU
    however little it finds, a quarter of a chunk's own Python."""
    if index % GC_EVERY_CHUNKS == 0:
        gc.collect()


@contextmanager
def _collected_by_hand() -> Iterator[None]:
    """Python's cyclic garbage collector by hand (``_collect`` in the loops), not every few hundred
    allocations: a chunk makes hundreds of thousands of objects and the automatic passes over them
    cost about a third of the job's CPU. What lived before the job is frozen, so a pass looks only
    at what the job made. Everything goes back as it was when the job ends."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


class _Planner:
    """The preparing process's plans (``credit.bulk.plan_rows``): the ledger as it will be once the
    chunks before are posted. Accounts and keys the chunks still in flight moved are followed here;
    the rest read from the database (chunks before ``chunks_done`` are committed). When the posting
    process refuses a plan (``fallbacks`` moves: the ledger moved otherwise, e.g. a posting from
    elsewhere), the planner waits until the chunks before are committed, so that it reads them all
    from the database."""

    def __init__(self, session: Session, intake_id: int, fallbacks, **who) -> None:
        self.session, self.intake_id, self.fallbacks, self.who = session, intake_id, fallbacks, who
        self.seen = fallbacks.value
        self.heads: dict[int, dict] = {}  # party id -> account, with the last chunk that moved it
        self.keys: dict[int, dict[str, str]] = {}  # chunk -> the keys its plan made used

    def _done(self) -> Optional[int]:
        return self.session.scalar(select(CreditIntake.chunks_done).where(CreditIntake.id == self.intake_id))

    def plan(self, index: int, rows: list[Row]) -> Optional[Plan]:
        done = self._done()
        if done is None:  # an intake not committed yet (a test's transaction): the parent posts
            return None
        if self.fallbacks.value != self.seen:  # what it followed may be wrong: wait, then read it all
            self.seen = self.fallbacks.value
            while done < index:
                time.sleep(0.02)
                done = self._done()
        for old in [i for i in self.keys if i < done]:
            del self.keys[old]
        for party in [p for p, account in self.heads.items() if account["chunk"] < done]:
            del self.heads[party]
        used = used_keys(rows, self.session)
        for i in range(done, index):
            used.update(self.keys.get(i, {}))
        plan = plan_rows(rows, rules=_Rules((r.code for r in rows if r.error is None), self.session), used=used,
                         heads=lambda parties: self._heads(parties, index), **self.who)
        self.keys[index] = {rows[i].key: rows[i].digest for i, o in enumerate(plan.outcomes)
                            if o is None or o.status == "pending"}
        return plan

    def _heads(self, parties: list[int], index: int) -> dict[int, dict]:
        missing = [p for p in parties if p not in self.heads]
        if missing:
            self.heads.update(_lock_accounts(missing, utcnow(), session=self.session, lock=False))
        for party in parties:
            self.heads[party]["chunk"] = index
        return {party: self.heads[party] for party in parties}


def run_intake(intake_id: int, progress: Callable[..., None] = lambda *args: None) -> dict:
    """Post an intake's rows chunk by chunk, each chunk committed with the intake's progress.

    Safe to run again and alongside a stale attempt: each chunk locks the intake row and is
    skipped when ``chunks_done`` is already past it.
    """
    intake = get_intake(intake_id)
    total = intake.rows_total
    actor = db.session.get(User, intake.created_by_id) if intake.created_by_id else None
    g.actor_label, source = intake.created_by, intake.source  # the label of a CLI or system intake
    fallbacks = multiprocessing.get_context("fork").RawValue("i", 0)  # plans refused (only this process writes)
    planner = {"intake_id": intake_id, "fallbacks": fallbacks, "actor_id": actor.id if actor else None,
               "label": _actor_label(actor), "source": source,
               "request_id": g.get("request_id") if has_request_context() else None}
    with _collected_by_hand(), closing(_prepared_chunks(intake, planner)) as chunks:
        for [(index, rows, plan)] in units(chunks):
            _collect(index)  # the previous chunks' garbage (committed by now)
            intake = db.session.get(CreditIntake, intake_id, with_for_update=True, populate_existing=True)
            if intake.chunks_done != index:
                continue  # committed by an earlier attempt
            outcomes = apply_plan(rows, plan, source=source, actor=actor) if plan is not None else None
            if outcomes is None:
                if plan is not None:
                    fallbacks.value += 1
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
    record_audit("credit.intake.finish", "credit_intake", intake.id, after={
        **counts_of(intake), "rows": intake.rows_done, "plans_refused": fallbacks.value})
    return counts_of(intake)
