"""Eco-credit ledger write throughput on PostgreSQL: 8 concurrent writers.

Prints JSON. In the same run, against the same fresh database:
- ``raw``: the baseline, single-row ``INSERT`` + ``COMMIT`` per transaction on plain psycopg
  connections (one per writer), into a table as wide as a posting;
- ``ledger``: ``credit.services.submit_posting`` + ``commit()`` per posting through the
  application (idempotency check, rule lookup, per-account row lock, hash-chain append,
  cached balance update, audit event), writers spread over overlapping accounts.
The raw rate is measured before and after the ledger run; their mean is the baseline.
Afterwards ``verify_ledger`` must pass and no posting may be lost or duplicated.

Each writer also reports the CPU time it used and, when PostgreSQL runs on this machine,
the CPU time of its server process (``/proc``), read outside the timed loop: the JSON gives
both per transaction, so a run shows where the time goes. ``--floors`` adds two reference
runs at the same concurrency: ``credit_append_posting`` called on bare psycopg (the database's
part of a posting) and an empty unit of work through the application (``SELECT 1`` +
``commit()``: what the Flask-SQLAlchemy session costs before any posting logic).

    .venv/bin/python bench/ledger.py [--writers 8] [--postings 400] [--accounts 32] [--floors]

``--bulk`` measures the bulk intake instead (``credit.intake``: a CSV through the intake job,
posted in chunks of 5,000, each one transaction, the next chunk read, checked and planned by a
second process meanwhile): ``--rows`` rows (default 1,000,000) for
``--accounts`` firms (default 20,000), 10 % refused (a rule not for firms) and 5 % exact
duplicates of earlier rows. In the same run: a raw ``COPY`` of the same rows into an unindexed
table (the floor), and today's single posting rate (``submit_posting`` + ``commit()``, one writer).
It prints the seconds per 100,000 rows from the first to the last chunk and the process's
resident memory at each 100,000 rows, the CPU time per row of the posting process, of the
preparing process and of the posting process's PostgreSQL backend (the preparing process's
backend is gone when it is read), how many plans the job refused, then checks the counts,
``verify_ledger`` and that each posting has exactly one audit event.

    .venv/bin/python bench/ledger.py --bulk [--rows 1000000] [--accounts 20000]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GREENFIN_INSTANCE", tempfile.mkdtemp(prefix="greenfin-bench-"))

PG_BASE = os.environ.get("GREENFIN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("GREENFIN_BENCH_PG_DB", "greenfin_bench_ledger")
URL = f"{PG_BASE}/{DB_NAME}"


def make_app():
    from greenfin import create_app
    from greenfin.config import Config

    config = Config()
    config.SQLALCHEMY_DATABASE_URI = URL
    config.REDIS_URL = None
    return create_app(config)


def reset_database() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()


def prepare(accounts: int) -> list[int]:
    from flask_migrate import upgrade

    from greenfin.core import services as core
    from greenfin.core.identifiers import uscc_check_char
    from greenfin.extensions import db
    from greenfin.uow import commit

    app = make_app()
    with app.app_context():
        upgrade(revision="heads")
        core.ensure_townships()
        ids = []
        for i in range(accounts):
            body = "91361103" + f"{i:09d}"
            ids.append(core.create_party({"kind": "firm", "name": f"基准企业{i:03d}", "uscc": body + uscc_check_char(body),
                                          "township_code": "danan"}).id)
        commit()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, party_id int, rule_code text, "
                                 "points int, key text UNIQUE, hash text, recorded_at timestamptz DEFAULT now())")
        db.engine.dispose()
    return ids


def server_cpu(pid: int) -> float | None:
    """CPU seconds used so far by a PostgreSQL server process, when it runs on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """The writer's and its server process's CPU time over the timed loop (read outside it)."""

    def __init__(self, backend_pid: int) -> None:
        self.backend_pid = backend_pid
        self.client, self.server = time.process_time(), server_cpu(backend_pid)

    def report(self, cpu) -> None:
        server = server_cpu(self.backend_pid)
        cpu.put((time.process_time() - self.client,
                 None if server is None or self.server is None else server - self.server))


def raw_writer(args) -> None:
    import psycopg

    writer, count, start, cpu = args
    with psycopg.connect(URL.replace("postgresql+psycopg", "postgresql")) as conn:
        start.wait()
        meter = CpuMeter(conn.info.backend_pid)
        with conn.cursor() as cur:
            for n in range(count):
                cur.execute("INSERT INTO bench_raw (party_id, rule_code, points, key, hash) VALUES (%s, %s, %s, %s, %s)",
                            (n, "FIRM_DISCLOSURE", 3, f"r{time.monotonic_ns()}-{writer}-{n}", "0" * 64))
                conn.commit()
        meter.report(cpu)


def ledger_writer(args) -> None:
    writer, count, party_ids, start, cpu = args
    from sqlalchemy import text

    from credit import services
    from greenfin.extensions import db
    from greenfin.uow import commit

    app = make_app()
    with app.app_context():
        services.get_rule("FIRM_DISCLOSURE")  # warm the connection pool
        backend_pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.rollback()
        start.wait()
        meter = CpuMeter(backend_pid)
        for n in range(count):
            party_id = party_ids[(writer * 7 + n) % len(party_ids)]
            services.submit_posting(party_id, "FIRM_DISCLOSURE", idempotency_key=f"w{writer}-{n}", review=False)
            commit()
        meter.report(cpu)
        db.session.remove()
        db.engine.dispose()


def function_writer(args) -> None:
    """Floor: the append function on bare psycopg, with the body the application would send."""
    import psycopg

    from credit.ledger import body_json
    from greenfin.core.types import utcnow

    writer, count, party_ids, start, cpu = args
    with psycopg.connect(URL.replace("postgresql+psycopg", "postgresql")) as conn:
        start.wait()
        meter = CpuMeter(conn.info.backend_pid)
        for n in range(count):
            key = f"f{writer}-{n}"
            body = body_json(party_id=party_ids[(writer * 7 + n) % len(party_ids)], rule_code="FIRM_DISCLOSURE",
                             effective_date=utcnow().date(), recorded_at=utcnow(), evidence={}, entered_by_id=None,
                             entered_by="system", approved_by_id=None, source="manual", source_id=key,
                             idempotency_key=key, request_hash="0" * 64, reverses_id=None, reason=None)
            conn.execute("SELECT * FROM credit_append_posting(%s, NULL, NULL)", (body,)).fetchone()
            conn.commit()
        meter.report(cpu)


def empty_writer(args) -> None:
    """Floor: an empty unit of work through the application's session (SELECT 1 + commit())."""
    from sqlalchemy import text

    from greenfin.extensions import db
    from greenfin.uow import commit

    _writer, count, _party_ids, start, cpu = args
    app = make_app()
    with app.app_context():
        backend_pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.rollback()
        start.wait()
        meter = CpuMeter(backend_pid)
        for _n in range(count):
            db.session.execute(text("SELECT 1")).one()
            commit()
        meter.report(cpu)
        db.session.remove()
        db.engine.dispose()


def run(target, writers: int, make_args) -> tuple[float, dict]:
    """Seconds from the start signal until every writer is done, and CPU microseconds per transaction."""
    ctx = mp.get_context("fork")
    start, cpu = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [ctx.Process(target=target, args=(make_args(w, start) + (cpu,),)) for w in range(writers)]
    for proc in procs:
        proc.start()
    try:
        start.wait(timeout=300)  # a writer that dies before the start would otherwise leave us waiting
    except threading.BrokenBarrierError:
        for proc in procs:
            proc.terminate()
        raise SystemExit("a writer failed before the start") from None
    began = time.perf_counter()
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a writer failed ({proc.exitcode})")
    elapsed = time.perf_counter() - began
    used = [cpu.get() for _ in procs]
    return elapsed, used


def cpu_per_transaction(used: list, transactions: int) -> dict:
    client = sum(u[0] for u in used)
    server = None if any(u[1] is None for u in used) else sum(u[1] for u in used)
    return {"client_us": round(client / transactions * 1e6),
            "server_us": None if server is None else round(server / transactions * 1e6)}


def prepare_bulk(accounts: int) -> list[str]:
    """Migrated database with ``accounts`` firms inserted in one statement; their credit codes."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from greenfin.core import services as core
    from greenfin.core.identifiers import uscc_check_char
    from greenfin.core.models import Party
    from greenfin.core.types import utcnow
    from greenfin.extensions import db
    from greenfin.uow import commit

    app = make_app()
    codes = []
    with app.app_context():
        upgrade(revision="heads")
        core.ensure_townships()
        rows = []
        for i in range(accounts):
            body = "91361103" + f"{i:09d}"
            codes.append(body + uscc_check_char(body))
            rows.append({"kind": "firm", "name": f"基准企业{i:05d}", "uscc": codes[-1], "township_code": "danan",
                         "created_at": utcnow()})
        db.session.execute(insert(Party.__table__), rows)
        from credit import services

        services.ensure_rule_catalogue()
        commit()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE UNLOGGED TABLE bench_copy (party text, rule_code text, effective_date date, "
                                 "document text, inspector text, note text, source_id text)")
            conn.exec_driver_sql("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, party_id int, rule_code text, "
                                 "points int, key text UNIQUE, hash text, recorded_at timestamptz DEFAULT now())")
        db.engine.dispose()
    return codes


def bulk_file(rows: int, codes: list[str]) -> tuple[bytes, dict]:
    """The intake CSV: 85 % good, 10 % refused (GREEN_WASTE_SORTING is not for firms), 5 % repeats."""
    import random
    from datetime import date, timedelta

    rng = random.Random(17)
    lines = ["party,rule_code,effective_date,document,inspector,note,source_id"]
    made: list[str] = []
    expect = {"posted": 0, "refused": 0, "duplicate": 0}
    start = date(2026, 1, 1)
    for n in range(rows):
        draw = rng.random()
        if draw < 0.05 and made:
            lines.append(made[rng.randrange(len(made))])
            expect["duplicate"] += 1
            continue
        rule = "GREEN_WASTE_SORTING" if draw < 0.15 else rng.choice(("FIRM_DISCLOSURE", "FIRM_EMISSIONS_COMPLIANT"))
        day = start + timedelta(days=rng.randrange(300))
        line = f"{codes[rng.randrange(len(codes))]},{rule},{day.isoformat()},GF-JC-{n:07d},巡查员{n % 97},,BULK-{n}"
        lines.append(line)
        if rule == "GREEN_WASTE_SORTING":
            expect["refused"] += 1
        else:
            expect["posted"] += 1
            made.append(line)
    return ("\n".join(lines) + "\n").encode("utf-8"), expect


def copy_baseline(data: bytes) -> float:
    """Seconds for a raw COPY of the same rows into an unindexed table (one transaction)."""
    import psycopg

    with psycopg.connect(URL.replace("postgresql+psycopg", "postgresql")) as conn:
        began = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                for start in range(0, len(data), 1 << 20):
                    copy.write(data[start:start + (1 << 20)])
        conn.commit()
        return time.perf_counter() - began


def single_rate(codes: list[str], count: int) -> float:
    """Today's single posting rate: ``submit_posting`` + ``commit()`` per posting, one writer."""
    from sqlalchemy import select

    from credit import services
    from greenfin.core.models import Party
    from greenfin.extensions import db
    from greenfin.uow import commit

    app = make_app()
    with app.app_context():
        ids = list(db.session.scalars(select(Party.id).order_by(Party.id).limit(500)))
        began = time.perf_counter()
        for n in range(count):
            services.submit_posting(ids[n % len(ids)], "FIRM_DISCLOSURE", idempotency_key=f"single-{n}", review=False)
            commit()
        elapsed = time.perf_counter() - began
        db.session.remove()
        db.engine.dispose()
    return count / elapsed


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the intake's preparing process)."""
    times = os.times()
    return times.children_user + times.children_system


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main_bulk(args) -> None:
    from sqlalchemy import func, select

    from credit import services
    from credit.models import CreditPosting
    from greenfin.core.models import AuditEvent
    from greenfin.extensions import db
    from greenfin.job_model import Job
    from greenfin.uow import units

    reset_database()
    codes = prepare_bulk(args.accounts)
    data, expect = bulk_file(args.rows, codes)
    copy_s = copy_baseline(data)
    singles = single_rate(codes, args.singles)

    import credit.intake as intake_module

    marks: list[tuple[int, float, float]] = []
    step = 100_000 if args.rows >= 200_000 else max(args.rows // 10, 1)
    original = intake_module.run_intake

    def timed_run(intake_id, progress):
        def tick(percent, stage=None, done=None, total=None):
            done = done or 0
            if not marks or done // step > marks[-1][0] // step:
                marks.append((done, time.perf_counter(), rss_mb()))
            progress(percent, stage, done, total)
        return original(intake_id, progress=tick)

    intake_module.run_intake = timed_run
    app = make_app()
    with app.app_context():
        backends = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        db.session.execute(select(func.count(Job.id))).one()
        db.session.commit()
        with db.engine.connect() as probe:
            before = {pid: server_cpu(pid) for (pid,) in probe.exec_driver_sql(backends)}
        began, cpu_began, children_began = time.perf_counter(), time.process_time(), children_cpu()
        marks.append((0, began, rss_mb()))
        for (_,) in units([None]):  # committed: the job runs inline (no REDIS_URL) after the commit
            intake = services.start_intake(data, "bulk.csv")
            intake_id, job_id = intake.id, intake.job_id
        elapsed, client_cpu = time.perf_counter() - began, time.process_time() - cpu_began
        preparing_cpu = children_cpu() - children_began  # the intake's preparing process, joined by now
        with db.engine.connect() as probe:
            after = {pid: server_cpu(pid) for (pid,) in probe.exec_driver_sql(backends)}
        server = sum((cpu or 0) - (before.get(pid) or 0) for pid, cpu in after.items())
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        intake = services.get_intake(intake_id)
        counts = services.counts_of(intake)
        report = services.verify_ledger()
        finish = db.session.scalar(select(AuditEvent.after).where(
            AuditEvent.action == "credit.intake.finish", AuditEvent.entity_id == str(intake_id)))
        postings = db.session.scalar(select(func.count(CreditPosting.id)).where(CreditPosting.source == "csv"))
        audits = db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "credit.posting.create", AuditEvent.entity_id.in_(
                select(func.cast(CreditPosting.id, db.String)).where(CreditPosting.source == "csv"))))
        db.session.remove()
        db.engine.dispose()
    per_step = [round(b[1] - a[1], 2) for a, b in zip(marks, marks[1:])]
    rate = args.rows / elapsed
    print(json.dumps({
        "benchmark": "credit bulk intake (CSV through the intake job), PostgreSQL",
        "rows": args.rows, "accounts": args.accounts, "chunk": intake.chunk_size,
        "cpus": os.cpu_count(), "load_average_1min_after": round(os.getloadavg()[0], 2),
        "job_status": job.status, "seconds": round(elapsed, 1), "rows_per_s": round(rate, 1),
        "posted_per_s": round(counts["posted"] / elapsed, 1), "target_posted_per_s": 10_000,
        "plans_refused": (finish or {}).get("plans_refused"),
        "copy_unindexed_rows_per_s": round(args.rows / copy_s, 1), "ratio_to_copy": round(rate / (args.rows / copy_s), 3),
        "single_postings_per_s": round(singles, 1), "ratio_to_single": round(rate / singles, 1),
        "cpu_us_per_row": {"client": round((client_cpu + preparing_cpu) / args.rows * 1e6),
                           "client_posting_process": round(client_cpu / args.rows * 1e6),
                           "client_preparing_process": round(preparing_cpu / args.rows * 1e6),
                           "server": round(server / args.rows * 1e6)},
        f"seconds_per_{step}_rows": per_step,
        f"rss_mb_at_each_{step}_rows": [round(m[2]) for m in marks],
        "counts": counts, "expected": {**expect, "pending": 0},
        "postings_stored": postings, "audit_events_for_them": audits, "ledger_verifies": report.ok,
    }, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bulk", action="store_true", help="measure the bulk intake (see above)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="--bulk: rows in the file")
    parser.add_argument("--singles", type=int, default=2000, help="--bulk: single postings for the reference rate")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--postings", type=int, default=400, help="per writer")
    parser.add_argument("--accounts", type=int, default=32)
    parser.add_argument("--floors", action="store_true",
                        help="also time the append function on bare psycopg and an empty unit of work in the app")
    args = parser.parse_args()
    if args.bulk:
        if args.accounts == 32:
            args.accounts = 20_000
        return main_bulk(args)
    reset_database()
    party_ids = prepare(args.accounts)
    total = args.writers * args.postings

    raw_before, raw_cpu = run(raw_writer, args.writers, lambda w, s: (w, args.postings, s))
    ledger, ledger_cpu = run(ledger_writer, args.writers, lambda w, s: (w, args.postings, party_ids, s))
    raw_after, raw_cpu_after = run(raw_writer, args.writers, lambda w, s: (w, args.postings, s))
    floors = {}
    if args.floors:
        for name, target in (("append_function_on_psycopg", function_writer),
                             ("empty_unit_of_work_in_app", empty_writer)):
            elapsed, used = run(target, args.writers, lambda w, s: (w, args.postings, party_ids, s))
            floors[name] = {"per_s": round(total / elapsed, 1), "cpu_per_transaction": cpu_per_transaction(used, total)}

    from sqlalchemy import func, select

    from credit import services
    from credit.models import CreditPosting
    from greenfin.extensions import db

    app = make_app()
    with app.app_context():
        stored = db.session.scalar(select(func.count(CreditPosting.id)).where(CreditPosting.idempotency_key.like("w%")))
        report = services.verify_ledger()
        pre_ping = app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping", False)
        db.engine.dispose()
    raw_rate = total / ((raw_before + raw_after) / 2)
    ledger_rate = total / ledger
    result = {
        "benchmark": "credit ledger postings per second, PostgreSQL",
        "writers": args.writers, "postings_per_writer": args.postings, "accounts": args.accounts,
        "cpus": os.cpu_count(), "load_average_1min_after": round(os.getloadavg()[0], 2),
        "round_trips": {"raw": "BEGIN, INSERT, COMMIT",
                        "ledger": ("pool pre-ping, " if pre_ping else "") + "BEGIN, credit_append_posting(), COMMIT"},
        "raw_insert_commit_per_s": round(raw_rate, 1),
        "raw_runs_per_s": [round(total / raw_before, 1), round(total / raw_after, 1)],
        "ledger_postings_per_s": round(ledger_rate, 1),
        "ratio": round(ledger_rate / raw_rate, 3),
        "target_ratio": 0.4,
        "cpu_per_transaction": {"raw": cpu_per_transaction(raw_cpu + raw_cpu_after, 2 * total),
                                "ledger": cpu_per_transaction(ledger_cpu, total)},
        "postings_stored": stored, "postings_expected": total,
        "ledger_verifies": report.ok,
    }
    if floors:
        result["floors"] = floors
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
