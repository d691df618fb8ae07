"""Mixed-workload load test against 1, 2 and 4 gunicorn worker processes on PostgreSQL and Redis.

Prints JSON. Setup: a throwaway PostgreSQL database is migrated and seeded with the demo
district; then, for each worker count, a stack (gunicorn + 2 rq workers) is started and
client processes drive a closed loop for a fixed time with this mix:

    80 %  consumer scans of demo labels (GS1 Digital Link route; every scan recorded)
     8 %  API reads (parties list, public ratings)
     7 %  API writes (eco-credit postings with fresh idempotency keys)
     2 %  label jobs (a 20-label batch printed by an rq worker)
     2 %  scoring (an application scored by the champion model)
     1 %  batch-scoring jobs (a 200-row applicants CSV uploaded, scored by an rq worker)

Reported per worker count: throughput (requests/s), p50 and p99 latency (ms) overall and for
scans, and errors; the batch-scoring jobs by final status; and the scaling relative to one
process. The client processes share the machine with the servers, so on a 2-core machine the
curve flattens early: run the clients on another host for a cleaner curve.

    .venv/bin/python bench/load.py [--seconds 15] [--clients 2] [--threads 8] [--workers 1,2,4]

The database (``GREENFIN_BENCH_LOAD_DB``, default ``greenfin_bench_load``) is dropped and rebuilt,
and the Redis database (``GREENFIN_BENCH_REDIS_URL``) flushed: give a second run beside a first
its own names.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from multiprocessing import Pool
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_BASE = os.environ.get("GREENFIN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("GREENFIN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
DB_NAME = os.environ.get("GREENFIN_BENCH_LOAD_DB", "greenfin_bench_load")
BATCH_ROWS = 200
KINDS = ("scan", "api_read", "api_write", "label_job", "scoring", "score_batch")


def prepare(instance: Path) -> dict:
    """Migrate and seed a fresh database; return the material the clients need."""
    from redis import Redis
    from sqlalchemy import select

    from greenfin.core import services
    from greenfin.core.models import User
    from greenfin.extensions import db
    from tests.conftest import migrated_app, reset_postgres

    Redis.from_url(REDIS_URL).flushdb()
    url = reset_postgres(DB_NAME)
    app = migrated_app(url, instance=instance, TESTING=False, PUBLIC_BASE_URL="http://bench.local")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    with app.app_context():
        from credit.models import CreditRule
        from greenfin.lending.models import Application
        from traceability.models import LabelBatch, Lot
        from traceability.services import iter_batch_labels

        tokens = {}
        for role in ("loan_officer", "producer", "regulator"):
            user = db.session.scalar(select(User).where(User.role == role).order_by(User.id))
            tokens[role] = services.issue_token(user, "bench")[1]
        scans = []
        for batch in db.session.scalars(select(LabelBatch)):
            scans += [urlsplit(uri)._replace(scheme="", netloc="").geturl() for uri, _s in iter_batch_labels(batch)]
        producer = db.session.scalar(select(User).where(User.role == "producer").order_by(User.id))
        lot_ids = [lot.id for lot in db.session.scalars(select(Lot).where(
            Lot.producer_id == producer.party_id, Lot.recalled_at.is_(None)))]
        rule = db.session.scalar(select(CreditRule.code).where(CreditRule.code == "GREEN_WASTE_SORTING")) or \
            db.session.scalar(select(CreditRule.code).where(CreditRule.points > 0, CreditRule.points < 10))
        from greenfin.core.models import Party

        parties = [p for p in db.session.scalars(select(Party.id).where(Party.kind == "individual"))]
        applications = list(db.session.scalars(select(Application.id).where(
            Application.status.in_(("submitted", "scored", "referred")))))
        db.session.commit()
        db.engine.dispose()
    from greenfin.lending.synthetic import generate_book

    # A few applicants files as the bank would upload them: the loan book's columns without the outcome.
    batches = [multipart({"file": (f"applicants-{seed}.csv", generate_book(BATCH_ROWS, seed=seed).drop(
        columns=["defaulted"]).to_csv(index=False).encode())}) for seed in range(4)]
    return {"database_url": url, "tokens": tokens, "scans": scans, "lot_ids": lot_ids, "rule": rule,
            "parties": parties, "applications": applications, "score_batches": batches}


def multipart(files: dict[str, tuple[str, bytes]]) -> tuple[str, bytes]:
    """(content type, body) of a multipart/form-data upload."""
    boundary = uuid.uuid4().hex
    parts = []
    for field, (name, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
                     f"Content-Type: text/csv\r\n\r\n".encode() + data + b"\r\n")
    return f"multipart/form-data; boundary={boundary}", b"".join(parts) + f"--{boundary}--\r\n".encode()


def batch_jobs(database_url: str, since: datetime, wait: float = 60) -> dict[str, int]:
    """The batch-scoring jobs created since ``since`` by status, once none is queued or running
    (or ``wait`` seconds passed)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    deadline = time.time() + wait
    try:
        while True:
            with engine.connect() as conn:
                counts = dict(conn.execute(text(
                    "SELECT status, count(*) FROM jobs WHERE func = 'greenfin.lending.jobs.score_batch' "
                    "AND created_at >= :since GROUP BY status"), {"since": since}).all())
            if not (counts.get("queued") or counts.get("started")) or time.time() > deadline:
                return counts
            time.sleep(0.5)
    finally:
        engine.dispose()


def client(args) -> list[tuple[str, int, float]]:
    """One client process: threads with keep-alive connections, a closed loop until the deadline."""
    base, material, seconds, threads, seed = args
    host, port = urlsplit(base).hostname, urlsplit(base).port
    deadline = time.time() + seconds
    results: list[tuple[str, int, float]] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        rng = random.Random(seed * 100 + n)
        conn = http.client.HTTPConnection(host, port, timeout=60)
        officer = {"Authorization": f"Bearer {material['tokens']['loan_officer']}"}
        regulator = {"Authorization": f"Bearer {material['tokens']['regulator']}"}
        producer = {"Authorization": f"Bearer {material['tokens']['producer']}"}
        local = []
        while time.time() < deadline:
            roll = rng.random()
            body, headers, method = None, {}, "GET"
            if roll < 0.80:
                kind, path = "scan", rng.choice(material["scans"])
            elif roll < 0.88:
                kind, headers = "api_read", officer
                path = rng.choice(["/api/v1/parties?page_size=20", "/api/v1/credit/public/ratings?page_size=20"])
            elif roll < 0.95:
                kind, method, headers, path = "api_write", "POST", regulator, "/api/v1/credit/postings"
                body = {"party_id": rng.choice(material["parties"]), "rule_code": material["rule"],
                        "idempotency_key": uuid.uuid4().hex, "evidence": {"note": "load test"}}
            elif roll < 0.97 and material["lot_ids"]:
                kind, method, headers = "label_job", "POST", producer
                path = f"/api/v1/trace/lots/{rng.choice(material['lot_ids'])}/label-batches"
                body = {"count": 20, "layout": "a4-3x8"}
            elif roll < 0.99:
                kind, method, headers = "scoring", "POST", officer
                path = f"/api/v1/lending/applications/{rng.choice(material['applications'])}/score"
            else:
                kind, method, path = "score_batch", "POST", "/api/v1/lending/score-batches"
                content_type, upload = rng.choice(material["score_batches"])
                headers = {**officer, "Content-Type": content_type}
            data = json.dumps(body).encode() if body is not None else None
            if data is not None:
                headers = {**headers, "Content-Type": "application/json"}
            elif kind == "score_batch":
                data = upload
            started = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers={**headers, "Accept": "text/html"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 599
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
            local.append((kind, status, (time.perf_counter() - started) * 1000))
        with lock:
            results.extend(local)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()

    from greenfin.stack import running_stack

    instance = Path(tempfile.mkdtemp(prefix="greenfin-load-"))
    material = prepare(instance)
    runs = []
    for workers in [int(w) for w in args.workers.split(",")]:
        with running_stack(material["database_url"], REDIS_URL, instance, web_workers=workers, rq_workers=2,
                           threads=4, extra_env={"PUBLIC_BASE_URL": "http://bench.local"}) as base:
            run_started = datetime.now(timezone.utc)
            with Pool(args.clients) as pool:
                chunks = pool.map(client, [(str(base), material, args.seconds, args.threads, i)
                                           for i in range(args.clients)])
            jobs = batch_jobs(material["database_url"], run_started)
        results = [r for chunk in chunks for r in chunk]
        ok = [r for r in results if r[1] < 400]
        scans = [r[2] for r in results if r[0] == "scan" and r[1] < 400]
        runs.append({
            "workers": workers,
            "requests": len(results),
            "throughput_rps": round(len(results) / args.seconds, 1),
            "p50_ms": percentile([r[2] for r in ok], 0.50),
            "p99_ms": percentile([r[2] for r in ok], 0.99),
            "scan_p50_ms": percentile(scans, 0.50),
            "scan_p99_ms": percentile(scans, 0.99),
            "by_kind": {k: sum(1 for r in results if r[0] == k) for k in KINDS},
            "score_batch_jobs": jobs,
            "errors": sum(1 for r in results if r[1] >= 400),
            "errors_by_kind": {f"{k}:{st}": sum(1 for r in results if r[0] == k and r[1] == st)
                               for k, st in sorted({(r[0], r[1]) for r in results if r[1] >= 400})},
        })
    base_rate = runs[0]["throughput_rps"] or 1
    for run in runs:
        run["scaling_vs_1"] = round(run["throughput_rps"] / base_rate, 2)
    print(json.dumps({"benchmark": "mixed load", "seconds_per_run": args.seconds,
                      "client_processes": args.clients, "threads_per_client": args.threads,
                      "cpu_count": os.cpu_count(), "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
