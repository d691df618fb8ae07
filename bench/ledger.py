"""Eco-credit ledger write throughput on PostgreSQL: 8 concurrent writers.

Prints JSON. In the same run, against the same fresh database:
- ``raw``: the baseline, single-row ``INSERT`` + ``COMMIT`` per transaction on plain psycopg
  connections (one per writer), into a table as wide as a posting;
- ``ledger``: ``credit.services.submit_posting`` + ``commit()`` per posting through the
  application (idempotency check, rule lookup, per-account row lock, hash-chain append,
  cached balance update, audit event), writers spread over overlapping accounts.
The raw rate is measured before and after the ledger run; their mean is the baseline.
Afterwards ``verify_ledger`` must pass and no posting may be lost or duplicated.

    .venv/bin/python bench/ledger.py [--writers 8] [--postings 400] [--accounts 32]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
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
    from greenfin.extensions import commit, db

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


def raw_writer(args) -> None:
    import psycopg

    writer, count, start = args
    with psycopg.connect(URL.replace("postgresql+psycopg", "postgresql")) as conn:
        start.wait()
        with conn.cursor() as cur:
            for n in range(count):
                cur.execute("INSERT INTO bench_raw (party_id, rule_code, points, key, hash) VALUES (%s, %s, %s, %s, %s)",
                            (n, "FIRM_DISCLOSURE", 3, f"r{time.monotonic_ns()}-{writer}-{n}", "0" * 64))
                conn.commit()


def ledger_writer(args) -> None:
    writer, count, party_ids, start = args
    from credit import services
    from greenfin.extensions import commit, db

    app = make_app()
    with app.app_context():
        services.get_rule("FIRM_DISCLOSURE")  # warm the connection pool
        db.session.rollback()
        start.wait()
        for n in range(count):
            party_id = party_ids[(writer * 7 + n) % len(party_ids)]
            services.submit_posting(party_id, "FIRM_DISCLOSURE", idempotency_key=f"w{writer}-{n}", review=False)
            commit()
        db.session.remove()
        db.engine.dispose()


def run(target, writers: int, make_args) -> float:
    ctx = mp.get_context("fork")
    start = ctx.Barrier(writers + 1)
    procs = [ctx.Process(target=target, args=(make_args(w, start),)) for w in range(writers)]
    for proc in procs:
        proc.start()
    start.wait()
    began = time.perf_counter()
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a writer failed ({proc.exitcode})")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--postings", type=int, default=400, help="per writer")
    parser.add_argument("--accounts", type=int, default=32)
    args = parser.parse_args()
    reset_database()
    party_ids = prepare(args.accounts)
    total = args.writers * args.postings

    raw_before = run(raw_writer, args.writers, lambda w, s: (w, args.postings, s))
    ledger = run(ledger_writer, args.writers, lambda w, s: (w, args.postings, party_ids, s))
    raw_after = run(raw_writer, args.writers, lambda w, s: (w, args.postings, s))

    from sqlalchemy import func, select

    from credit import services
    from credit.models import CreditPosting
    from greenfin.extensions import db

    app = make_app()
    with app.app_context():
        stored = db.session.scalar(select(func.count(CreditPosting.id)))
        report = services.verify_ledger()
        db.engine.dispose()
    raw_rate = total / ((raw_before + raw_after) / 2)
    ledger_rate = total / ledger
    print(json.dumps({
        "benchmark": "credit ledger postings per second, PostgreSQL",
        "writers": args.writers, "postings_per_writer": args.postings, "accounts": args.accounts,
        "cpus": os.cpu_count(), "load_average_1min_after": round(os.getloadavg()[0], 2),
        "round_trips": {"raw": "BEGIN, INSERT, COMMIT",
                        "ledger": "pool pre-ping, BEGIN, credit_append_posting(), COMMIT"},
        "raw_insert_commit_per_s": round(raw_rate, 1),
        "raw_runs_per_s": [round(total / raw_before, 1), round(total / raw_after, 1)],
        "ledger_postings_per_s": round(ledger_rate, 1),
        "ratio": round(ledger_rate / raw_rate, 3),
        "target_ratio": 0.4,
        "postings_stored": stored, "postings_expected": total,
        "ledger_verifies": report.ok,
    }, indent=2))


if __name__ == "__main__":
    main()
