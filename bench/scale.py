"""Scan recording at volume, on monthly partitions (PostgreSQL): small table against large, same run.

Prints JSON (progress of the loads on stderr). Two throwaway PostgreSQL databases, the large one
``GREENFIN_BENCH_DB`` (default greenfin_bench_scale) and the small one the same name with ``_small``;
each is migrated, gets a lot with ``--labels`` labels (bench/scan.py's ``prepare``) and a gunicorn of its
own (ports ``GREENFIN_BENCH_PORT``, default 8771, and the next; ``--workers`` workers of one thread, the
public pool's setting). Then:
- the small database gets ``--small`` scan records spread over the last 24 months and about three a label
  (``generate_series``, one INSERT per million rows); the large one ``--large`` records (``--load month``,
  the default: month by month, each month detached, filled and attached again, so its indexes are built
  by sorting; ``--load insert``: inserts into the indexed table, which slows to about 13 k rows/s past
  40 M rows here; no month or chunk is started after ``--stop-loading-at HH:MM`` UTC, so a run fits its
  time; the JSON says how many rows were loaded and at what rate);
- at each size: ``--calls`` calls of ``trace_record_scan`` (the scan route's one statement) on random
  labels, one connection: p50, p99, calls/s;
- the scan route itself: ``--route-rounds`` rounds at each size, in pairs whose order alternates (small
  then large, large then small...), so that both sizes meet the same machine: a round is ``--route-calls``
  GETs of the labels' GS1 Digital Link URIs over HTTP from ``--clients`` client processes (a new
  connection each, as phones do); each round's p50, p99 and requests/s, the median round at each size,
  and each pair's p99 ratio with their median;
- every call and every answered scan counted in ``trace_scans`` afterwards (by lot and time, on the
  (lot, time) index); each table's rows and size on disk (all partitions and indexes), the gunicorn
  processes' memory and the machine's memory in use;
- both servers stopped, the large table's oldest month detached
  (``greenfin.core.partitions.detach_partitions``, CONCURRENTLY) and timed; both databases dropped.
Target (issue #23): the route's p99 at the large size within 1.5x of its p99 at the small one; every
scan recorded. The defaults fit this machine in about a minute; the issue's 100 M rows is
``--large 100000000`` (about 21 GB of disk with the indexes, 218 bytes a row).

    .venv/bin/python bench/scale.py [--small 100000] [--large 2000000] [--calls 2000] [--labels 2000]
        [--route-calls 2000] [--route-rounds 3] [--clients 4] [--workers 2] [--load month|insert]
        [--stop-loading-at 15:35]
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

DB_LARGE = os.environ.get("GREENFIN_BENCH_DB", "greenfin_bench_scale")
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


def load_by_month(conn, rows: int, labels: tuple[int, int], lot_id: int,
                  stop_at: datetime | None = None) -> tuple[float, int]:
    """``load``'s records, month by month as a restore or an archive reload fills a partitioned table: each
    month is detached, its indexes dropped, its share of the rows inserted in one statement, and attached
    again, which builds the month's indexes by sorting (``maintenance_work_mem`` 1 GB) instead of growing
    them by random inserts across every month at once (``load``'s rate falls to about 13 k rows/s past
    40 M rows on this machine). The months and their indexes are then what the partitioned table holds."""
    start = time.perf_counter()
    low, high = labels[0], max(labels[1], labels[0] + rows // SCANS_A_LABEL)
    window_end = conn.execute("SELECT now()").fetchone()[0]
    window_start = conn.execute("SELECT now() - interval '729 days'").fetchone()[0]
    months = conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'trace_scans'::regclass ORDER BY c.relname").fetchall()
    spans = []
    for name, bound in months:  # FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-02-01 00:00:00+00')
        lower, upper = (datetime.fromisoformat(v) for v in bound.split("'")[1::2])
        lo, hi = max(lower, window_start), min(upper, window_end)
        if hi > lo:
            spans.append((name, bound, lo, hi))
    total = sum((hi - lo).total_seconds() for *_x, lo, hi in spans)
    conn.execute("SET maintenance_work_mem = '1GB'")
    added = 0
    for n, (name, bound, lo, hi) in enumerate(spans):
        if stop_at and datetime.now(timezone.utc) >= stop_at:
            print(f"load: stop time {stop_at:%H:%M} UTC reached after {added:,} rows", file=sys.stderr, flush=True)
            break
        share = rows - added if n == len(spans) - 1 else round(rows * (hi - lo).total_seconds() / total)
        with conn.transaction():
            conn.execute(f"ALTER TABLE trace_scans DETACH PARTITION {name}")
            for (index,) in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", (name,)).fetchall():
                constraint = conn.execute("SELECT conname FROM pg_constraint WHERE conname = %s", (index,)).fetchone()
                conn.execute(f"ALTER TABLE {name} DROP CONSTRAINT {index}" if constraint else f"DROP INDEX {index}")
            conn.execute(
                f"INSERT INTO {name} (id, label_id, lot_id, scanned_at, verdict, region, ip_prefix) "
                "SELECT nextval('trace_scans_id_seq'), %(low)s + (random() * (%(high)s - %(low)s))::int, %(lot)s, "
                "%(lo)s + random() * (%(hi)s::timestamptz - %(lo)s::timestamptz), 'genuine_repeat', '江西', "
                "'10.' || (g %% 250) || '.' || (g %% 199) || '.0/24' FROM generate_series(1, %(n)s) AS g",
                {"low": low, "high": high, "lot": lot_id, "lo": lo, "hi": hi, "n": share})
            conn.execute(f"ALTER TABLE trace_scans ATTACH PARTITION {name} {bound}")
        added += share
        elapsed = time.perf_counter() - start
        print(f"load: {name} +{share:,} rows, {added:,} in {elapsed:.0f} s ({added / elapsed:,.0f} rows/s) "
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


def route_client(args) -> tuple[int, int, list[float]]:
    """One client: GET ``count`` scan paths in turn from gunicorn on ``port``, one connection each (as
    phones do); returns (answered 200, errors, each request's milliseconds)."""
    paths, count, offset, port = args
    ok = errors = 0
    durations = []
    for i in range(offset, offset + count):
        t0 = time.perf_counter()
        if scan_bench.get_scan(paths[i % len(paths)], port, timeout=30):
            ok += 1
        else:
            errors += 1
        durations.append((time.perf_counter() - t0) * 1000)
    return ok, errors, durations


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * share) - 1, 0)]


def route_round(size: "Size", calls: int, clients: int, seed: int) -> dict:
    """One round of the scan route: ``calls`` GETs of the size's Digital Link URIs from ``clients``
    client processes; p50, p99, requests/s, answered and errors."""
    share = calls // clients
    started = time.perf_counter()
    with Pool(clients) as pool:
        results = pool.map(route_client, [(size.paths, share, seed * 7919 + k * 997, size.port)
                                          for k in range(clients)])
    elapsed = time.perf_counter() - started
    durations = [d for result in results for d in result[2]]
    return {"p50_ms": round(statistics.median(durations), 2), "p99_ms": round(percentile(durations, 0.99), 2),
            "requests_per_s": round(len(durations) / elapsed, 1),
            "answered": sum(r[0] for r in results), "errors": sum(r[1] for r in results)}


def summary(rounds: list[dict], recorded: int) -> dict:
    """The route's rounds at one size: the median round's figures; every answered scan recorded?"""
    middle = len(rounds) // 2
    answered = sum(r["answered"] for r in rounds)
    return {"requests": answered + sum(r["errors"] for r in rounds), "answered": answered,
            "errors": sum(r["errors"] for r in rounds), "scans_recorded": recorded,
            "every_scan_recorded": recorded == answered,
            "rounds": [{k: r[k] for k in ("p50_ms", "p99_ms", "requests_per_s")} for r in rounds],
            **{k: sorted(r[k] for r in rounds)[middle] for k in ("p50_ms", "p99_ms", "requests_per_s")}}


def start_server(workers: int, port: int, url: str):
    """gunicorn serving the app on ``url``'s database as the public pool does (gthread, one thread a worker;
    bench/scan.py), worker recycling off, on ``port``; waits until it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers),
         "--threads", "1", "--max-requests", "0", "-b", f"127.0.0.1:{port}", "--pythonpath",
         f"{ROOT},{ROOT / 'bench'}", "--log-level", "warning", "scan:bench_app()"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ | {"DATABASE_URL": url})
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited: " + proc.stderr.read().decode()[-2000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/ping")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


class Size:
    """One size of the table: its own database (migrated, a lot with labels registered), gunicorn on its
    own port and a connection for the loads and the function calls."""

    def __init__(self, db_name: str, port: int, labels: int, workers: int) -> None:
        import psycopg

        self.db_name, self.port = db_name, port
        scan_bench.DB_NAME = db_name
        self.url = scan_bench.reset_database()
        os.environ["DATABASE_URL"] = self.url
        self.paths = scan_bench.prepare(labels)
        self.labels = codes(self.paths)
        self.server = start_server(workers, port, self.url)
        self.conn = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        self.low, self.high, self.lot_id = self.conn.execute(
            "SELECT min(id), max(id), min(lot_id) FROM trace_labels").fetchone()
        route_client((self.paths, 200, 0, port))  # warm the workers

    def stop(self) -> None:
        if self.server is not None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(timeout=30)
            self.server = None

    def close(self) -> None:
        self.stop()
        self.conn.close()
        scan_bench.DB_NAME = self.db_name
        scan_bench.drop_database()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=2_000_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--labels", type=int, default=2000)
    parser.add_argument("--route-calls", type=int, default=2000, help="GETs of the scan route a round")
    parser.add_argument("--route-rounds", type=int, default=3, help="rounds at each size, in pairs")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (one thread each)")
    parser.add_argument("--load", choices=("month", "insert"), default="month",
                        help="the large load: month by month, indexes built on attach (load_by_month), or "
                             "inserts into the indexed table (load)")
    parser.add_argument("--stop-loading-at", help="HH:MM UTC today: load no further chunk after it")
    args = parser.parse_args()

    stop_at = None
    if args.stop_loading_at:
        hour, minute = map(int, args.stop_loading_at.split(":"))
        stop_at = datetime.now(timezone.utc).replace(hour=hour, minute=minute, second=0, microsecond=0)
    os.environ.update({"GREENFIN_INSTANCE": tempfile.mkdtemp(prefix="scale-bench-"), "RATELIMIT_ENABLED": "0",
                       "LABEL_SIGNING_KEY": secrets.token_urlsafe(32), "LOG_LEVEL": "WARNING",
                       "PUBLIC_BASE_URL": f"http://127.0.0.1:{PORT}"})
    os.environ.setdefault("GREENFIN_FEATURES", scan_bench.FEATURES)
    result = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    sizes: list[Size] = []
    try:
        small = Size(DB_LARGE + "_small", PORT + 1, args.labels, args.workers)
        sizes.append(small)
        large = Size(DB_LARGE, PORT, args.labels, args.workers)
        sizes.append(large)
        result["months"] = large.conn.execute("SELECT count(*) FROM pg_inherits "
                                              "WHERE inhparent = 'trace_scans'::regclass").fetchone()[0]
        load_small, _ = load(small.conn, args.small, (small.low, small.high), small.lot_id)
        loader = load_by_month if args.load == "month" else load
        load_large, added = loader(large.conn, args.large, (large.low, large.high), large.lot_id, stop_at)
        since = {s.db_name: s.conn.execute("SELECT clock_timestamp()").fetchone()[0] for s in sizes}
        functions = {s.db_name: time_scans(s.conn, s.labels, s.lot_id, args.calls) for s in sizes}
        rounds: dict[str, list[dict]] = {s.db_name: [] for s in sizes}
        for r in range(args.route_rounds):  # in pairs, the order alternating: both sizes meet the same machine
            for s in (sizes if r % 2 == 0 else sizes[::-1]):
                rounds[s.db_name].append(route_round(s, args.route_calls, args.clients, r))
        report = {}
        for s, load_s in ((small, load_small), (large, load_large)):
            recorded = s.conn.execute("SELECT count(*) FROM trace_scans WHERE lot_id = %s AND scanned_at >= %s "
                                      "AND user_agent IS DISTINCT FROM 'bench'", (s.lot_id, since[s.db_name])
                                      ).fetchone()[0]  # the (lot, time) index: this month only
            report[s.db_name] = {"function": functions[s.db_name], "route": summary(rounds[s.db_name], recorded)} \
                | size(s.conn) | memory(s.conn, s.server.pid) | {"load_s": round(load_s, 1)}
        small_report, large_report = report[small.db_name], report[large.db_name]
        large_report |= {"rows_loaded": added, "load_rows_per_s": round(added / load_large)}
        paired = sorted(round(b["p99_ms"] / a["p99_ms"], 2) for a, b in zip(rounds[small.db_name],
                                                                            rounds[large.db_name]))
        for s in sizes:
            s.stop()
        from greenfin import create_app
        from greenfin.core import partitions
        from greenfin.uow import commit

        os.environ["DATABASE_URL"] = large.url
        app = create_app()
        with app.app_context():
            oldest = min(p.month for p in partitions.list_partitions("trace_scans"))
            t0 = time.perf_counter()
            detached = partitions.detach_partitions(f"{partitions.add_months(oldest, 1):%Y-%m}")
            detach_s = time.perf_counter() - t0
            commit()
        result.update({
            "small": small_report, "large": large_report,
            "route_p99_ratio": round(large_report["route"]["p99_ms"] / small_report["route"]["p99_ms"], 2),
            "route_p99_ratio_each_pair": paired, "route_p99_ratio_median_pair": paired[len(paired) // 2],
            "function_p99_ratio": round(large_report["function"]["p99_ms"] / small_report["function"]["p99_ms"], 2),
            "target_p99_ratio": 1.5,
            "every_call_recorded": all(x["function"]["every_call_recorded"] for x in (small_report, large_report)),
            "every_scan_recorded": all(x["route"]["every_scan_recorded"] for x in (small_report, large_report)),
            "detach": {"partitions": detached, "seconds": round(detach_s, 3)},
            "load_average_after": [round(x, 2) for x in os.getloadavg()]})
        print(json.dumps(result, indent=2, ensure_ascii=False))
    finally:
        for s in sizes:
            s.close()


if __name__ == "__main__":
    main()
