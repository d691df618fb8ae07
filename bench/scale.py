"""Scan recording at volume, on monthly partitions (PostgreSQL): small table against large, same run.

Prints JSON (progress of the loads on stderr). On a throwaway PostgreSQL database (``GREENFIN_BENCH_DB``,
default greenfin_bench_scale): migrate, register a lot with ``--labels`` labels (bench/scan.py's
``prepare``), start gunicorn on ``GREENFIN_BENCH_PORT`` (default 8771; ``--workers`` workers of one thread,
the public pool's setting), then
- load ``--small`` scan records spread over the last 24 months and about three a label (``generate_series``,
  one INSERT per million rows) and measure (the baseline):
  - ``--calls`` calls of ``trace_record_scan`` (the scan route's one statement) on random labels, one
    connection: p50, p99, calls/s;
  - the scan route itself: ``--route-rounds`` rounds of ``--route-calls`` GETs of the labels' GS1 Digital
    Link URIs over HTTP from ``--clients`` client processes (a new connection each, as phones do):
    each round's p50, p99 and requests/s, and the median round;
  - every call and every answered scan counted in ``trace_scans`` afterwards (by lot and time, on the
    (lot, time) index);
  - the table's rows and size on disk (all partitions and indexes), the gunicorn processes' memory and
    the machine's memory in use;
- load up to ``--large`` records (no chunk started after ``--stop-loading-at HH:MM`` UTC, so a run fits
  its time; the JSON says how many were loaded and at what rate) and measure the same again;
- stop gunicorn, detach the oldest month (``greenfin.core.partitions.detach_partitions``, CONCURRENTLY)
  and time it; drop the database.
Target (issue #23): the route's p99 at the large size within 1.5x of its p99 at the small one; every
scan recorded. The defaults fit this machine in about a minute; the issue's 100 M rows is
``--large 100000000`` (about 21 GB of disk with the indexes, 218 bytes a row).

    .venv/bin/python bench/scale.py [--small 100000] [--large 2000000] [--calls 2000] [--labels 2000]
        [--route-calls 2000] [--route-rounds 3] [--clients 4] [--workers 2] [--stop-loading-at 15:35]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from multiprocessing import Pool
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scan as scan_bench  # noqa: E402  (bench/scan.py: database set-up and the registered lot)

scan_bench.DB_NAME = os.environ.get("GREENFIN_BENCH_DB", "greenfin_bench_scale")
PORT = int(os.environ.get("GREENFIN_BENCH_PORT", "8771"))
CHUNK = 1_000_000
SCANS_A_LABEL = 3


def codes(paths: list[str]) -> list[tuple[str, str, str]]:
    """(serial, gtin, lot) of each scan path /01/<gtin>/10/<lot>/21/<serial>?s=..."""
    found = []
    for path in paths:
        parts = path.split("?")[0].split("/")
        found.append((unquote(parts[6]), parts[2], unquote(parts[4])))
    return found


def load(conn, rows: int, labels: tuple[int, int], lot_id: int,
         stop_at: datetime | None = None) -> tuple[float, int]:
    """Add up to ``rows`` scan records over the last 24 months; (seconds taken, rows added). As on a real
    programme, a label is scanned a few times: the records go to ``SCANS_A_LABEL`` times fewer label ids
    than rows (ids from the registered labels on; ids past them stand for the
    labels of other lots). Stops early, at a chunk's end, once ``stop_at`` (UTC) is passed; each chunk's
    progress and the load rate so far go to stderr."""
    start = time.perf_counter()
    low, high = labels[0], max(labels[1], labels[0] + rows // SCANS_A_LABEL)
    added = 0
    for done in range(0, rows, CHUNK):
        if stop_at and datetime.now(timezone.utc) >= stop_at:
            print(f"load: stop time {stop_at:%H:%M} UTC reached after {added:,} rows", file=sys.stderr, flush=True)
            break
        conn.execute(
            "INSERT INTO trace_scans (label_id, lot_id, scanned_at, verdict, region, ip_prefix) "
            "SELECT %(low)s + (random() * (%(high)s - %(low)s))::int, %(lot)s, "
            "now() - random() * interval '729 days', 'genuine_repeat', '江西', "
            "'10.' || (g %% 250) || '.' || (g %% 199) || '.0/24' FROM generate_series(1, %(n)s) AS g",
            {"low": low, "high": high, "lot": lot_id, "n": min(CHUNK, rows - done)})
        added += min(CHUNK, rows - done)
        elapsed = time.perf_counter() - start
        if added >= CHUNK:
            print(f"load: {added:,} rows in {elapsed:.0f} s ({added / elapsed:,.0f} rows/s) "
                  f"at {datetime.now(timezone.utc):%H:%M:%S} UTC, load {os.getloadavg()[0]:.1f}",
                  file=sys.stderr, flush=True)
    conn.execute("ANALYZE trace_scans")
    return time.perf_counter() - start, added


def time_scans(conn, labels: list[tuple[str, str, str]], lot_id: int, calls: int) -> dict:
    from traceability import scan_rules

    params = {"networks": scan_rules.NETWORK_LIMIT, "recent": scan_rules.RECENT_WINDOW,
              "history": scan_rules.HISTORY_LIMIT, "window": scan_rules.SPREAD_WINDOW,
              "km": float(scan_rules.SPREAD_KM)}
    rng = random.Random(7)
    since = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # loaded records are all older
    durations = []
    started = time.perf_counter()
    for n in range(calls):
        serial, gtin, lot = rng.choice(labels)
        t0 = time.perf_counter()
        verdict = conn.execute(
            "SELECT o_verdict FROM trace_record_scan(%(serial)s, %(gtin)s, %(lot)s, now(), '江西', NULL, NULL, "
            "%(net)s, 'bench', NULL, %(networks)s, %(recent)s, %(history)s, %(window)s, %(km)s)",
            params | {"serial": serial, "gtin": gtin, "lot": lot, "net": f"10.9.{n % 250}.0/24"}).fetchone()[0]
        durations.append((time.perf_counter() - t0) * 1000)
        assert verdict != "not_genuine"
    elapsed = time.perf_counter() - started
    recorded = conn.execute("SELECT count(*) FROM trace_scans WHERE lot_id = %s AND scanned_at >= %s "
                            "AND user_agent = 'bench'", (lot_id, since)).fetchone()[0]
    durations.sort()
    return {"calls": calls, "recorded": recorded, "every_call_recorded": recorded == calls,
            "p50_ms": round(statistics.median(durations), 3),
            "p99_ms": round(durations[int(len(durations) * 0.99) - 1], 3), "calls_per_s": round(calls / elapsed, 1)}


def route_client(args) -> tuple[int, int, list[float]]:
    """One client: GET ``count`` scan paths in turn, one connection each (as phones do); returns
    (answered 200, errors, each request's milliseconds)."""
    paths, count, offset = args
    ok = errors = 0
    durations = []
    for i in range(offset, offset + count):
        t0 = time.perf_counter()
        if scan_bench.get_scan(paths[i % len(paths)], PORT, timeout=30):
            ok += 1
        else:
            errors += 1
        durations.append((time.perf_counter() - t0) * 1000)
    return ok, errors, durations


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * share) - 1, 0)]


def time_route(conn, paths: list[str], lot_id: int, calls: int, clients: int, rounds: int) -> dict:
    """The scan route over HTTP (gunicorn, see ``start_server``): ``rounds`` rounds of ``calls`` GETs of
    the labels' Digital Link URIs from ``clients`` client processes. Each round's p50/p99/throughput and
    the median round; the scan records counted before and after (every answered scan recorded?)."""
    since = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # loaded records are all older
    per_round = []
    answered = errors = 0
    for r in range(rounds):
        share = calls // clients
        started = time.perf_counter()
        with Pool(clients) as pool:
            results = pool.map(route_client, [(paths, share, r * 7919 + k * 997) for k in range(clients)])
        elapsed = time.perf_counter() - started
        durations = [d for result in results for d in result[2]]
        answered += sum(result[0] for result in results)
        errors += sum(result[1] for result in results)
        per_round.append({"p50_ms": round(statistics.median(durations), 2),
                          "p99_ms": round(percentile(durations, 0.99), 2),
                          "requests_per_s": round(len(durations) / elapsed, 1)})
    recorded = conn.execute("SELECT count(*) FROM trace_scans WHERE lot_id = %s AND scanned_at >= %s",
                            (lot_id, since)).fetchone()[0]  # the (lot, time) index: this month only
    middle = len(per_round) // 2
    return {"requests": answered + errors, "answered": answered, "errors": errors,
            "scans_recorded": recorded,
            "every_scan_recorded": recorded == answered, "rounds": per_round,
            "p50_ms": sorted(x["p50_ms"] for x in per_round)[middle],
            "p99_ms": sorted(x["p99_ms"] for x in per_round)[middle],
            "requests_per_s": sorted(x["requests_per_s"] for x in per_round)[middle]}


def start_server(workers: int):
    """gunicorn serving the app as the public pool does (gthread, one thread a worker; bench/scan.py),
    worker recycling off, on ``PORT``; waits until it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers),
         "--threads", "1", "--max-requests", "0", "-b", f"127.0.0.1:{PORT}", "--pythonpath",
         f"{ROOT},{ROOT / 'bench'}", "--log-level", "warning", "scan:bench_app()"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited: " + proc.stderr.read().decode()[-2000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/bench/ping")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the gunicorn master and workers), MB."""
    total = 0
    pids = [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def memory(conn, server_pid: int) -> dict:
    """The gunicorn processes' memory, PostgreSQL's backends' (all databases: the server is shared) and
    the machine's memory in use (MemTotal - MemAvailable), MB."""
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":")
        info[key] = int(value.split()[0])
    return {"gunicorn_rss_mb": rss_mb(server_pid),
            "machine_used_mb": round((info["MemTotal"] - info["MemAvailable"]) / 1024),
            "shared_buffers": conn.execute("SHOW shared_buffers").fetchone()[0]}


def size(conn) -> dict:
    """Rows (counted up to 20 M; past that ANALYZE's estimate, a count would read the whole table) and
    bytes on disk of every month with its indexes."""
    estimate, nbytes = conn.execute(
        "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0), coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'trace_scans'::regclass").fetchone()
    counted = estimate < 20_000_000
    rows = conn.execute("SELECT count(*) FROM trace_scans").fetchone()[0] if counted else int(estimate)
    nbytes = int(nbytes)
    return {"rows": rows, "rows_counted": counted, "disk_mb": round(nbytes / 2**20, 1),
            "bytes_a_row": round(nbytes / max(rows, 1))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=2_000_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--labels", type=int, default=2000)
    parser.add_argument("--route-calls", type=int, default=2000, help="GETs of the scan route a round")
    parser.add_argument("--route-rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (one thread each)")
    parser.add_argument("--stop-loading-at", help="HH:MM UTC today: load no further chunk after it")
    args = parser.parse_args()
    import psycopg

    stop_at = None
    if args.stop_loading_at:
        hour, minute = map(int, args.stop_loading_at.split(":"))
        stop_at = datetime.now(timezone.utc).replace(hour=hour, minute=minute, second=0, microsecond=0)
    os.environ.update({"GREENFIN_INSTANCE": tempfile.mkdtemp(prefix="scale-bench-"), "RATELIMIT_ENABLED": "0",
                       "LABEL_SIGNING_KEY": secrets.token_urlsafe(32), "LOG_LEVEL": "WARNING",
                       "PUBLIC_BASE_URL": f"http://127.0.0.1:{PORT}"})
    os.environ.setdefault("GREENFIN_FEATURES", scan_bench.FEATURES)
    url = scan_bench.reset_database()
    os.environ["DATABASE_URL"] = url
    server = None
    result = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        paths = scan_bench.prepare(args.labels)
        labels = codes(paths)
        server = start_server(args.workers)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            low, high, lot_id = conn.execute("SELECT min(id), max(id), min(lot_id) FROM trace_labels").fetchone()
            result["months"] = conn.execute("SELECT count(*) FROM pg_inherits "
                                            "WHERE inhparent = 'trace_scans'::regclass").fetchone()[0]
            route_client((paths, 200, 0))  # warm the workers

            def measure(load_s: float) -> dict:
                function = time_scans(conn, labels, lot_id, args.calls)
                route = time_route(conn, paths, lot_id, args.route_calls, args.clients, args.route_rounds)
                return {"function": function, "route": route} | size(conn) | memory(conn, server.pid) | {
                    "load_s": round(load_s, 1), "load_average": [round(x, 2) for x in os.getloadavg()]}

            load_small, _ = load(conn, args.small, (low, high), lot_id)
            small = measure(load_small)
            print(json.dumps({"small": small}, ensure_ascii=False), file=sys.stderr, flush=True)
            load_large, added = load(conn, args.large - small["rows"], (low, high), lot_id, stop_at)
            large = measure(load_large) | {"rows_loaded": added, "load_rows_per_s": round(added / load_large)}
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        server = None
        from greenfin import create_app
        from greenfin.core import partitions
        from greenfin.uow import commit

        app = create_app()
        with app.app_context():
            oldest = min(p.month for p in partitions.list_partitions("trace_scans"))
            t0 = time.perf_counter()
            detached = partitions.detach_partitions(f"{partitions.add_months(oldest, 1):%Y-%m}")
            detach_s = time.perf_counter() - t0
            commit()
        result.update({
            "small": small, "large": large,
            "route_p99_ratio": round(large["route"]["p99_ms"] / small["route"]["p99_ms"], 2),
            "function_p99_ratio": round(large["function"]["p99_ms"] / small["function"]["p99_ms"], 2),
            "target_p99_ratio": 1.5,
            "every_call_recorded": all(x["function"]["every_call_recorded"] for x in (small, large)),
            "every_scan_recorded": small["route"]["every_scan_recorded"] and large["route"]["every_scan_recorded"],
            "detach": {"partitions": detached, "seconds": round(detach_s, 3)},
            "load_average_after": [round(x, 2) for x in os.getloadavg()]})
        print(json.dumps(result, indent=2, ensure_ascii=False))
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        scan_bench.drop_database()


if __name__ == "__main__":
    main()
