"""Scan recording at volume, on monthly partitions (PostgreSQL): small table against large, same run.

Prints JSON. On a throwaway PostgreSQL database (``GREENFIN_BENCH_DB``, default greenfin_bench_scale):
migrate, register a lot with ``--labels`` labels (bench/scan.py's ``prepare``), then
- load ``--small`` scan records spread over the last 24 months and about three a label (``generate_series``, one INSERT per
  million rows) and time ``--calls`` calls of ``trace_record_scan`` (the scan route's one statement)
  on random labels: p50, p99, calls/s (the baseline);
- load up to ``--large`` records and time the same calls again;
- detach the oldest month (``greenfin.core.partitions.detach_partitions``, CONCURRENTLY) and time it;
- the table's size on disk (all partitions and indexes) at each size.
Target (issue #23): p99 at the large size within 1.5x of p99 at the small one; every call recorded.
The defaults fit this machine in about a minute; the issue's 100 M rows is ``--large 100000000``
(about 20 GB of disk with the indexes, at this run's bytes a row).

    .venv/bin/python bench/scale.py [--small 100000] [--large 2000000] [--calls 2000] [--labels 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scan as scan_bench  # noqa: E402  (bench/scan.py: database set-up and the registered lot)

scan_bench.DB_NAME = os.environ.get("GREENFIN_BENCH_DB", "greenfin_bench_scale")
CHUNK = 1_000_000
SCANS_A_LABEL = 3


def codes(paths: list[str]) -> list[tuple[str, str, str]]:
    """(serial, gtin, lot) of each scan path /01/<gtin>/10/<lot>/21/<serial>?s=..."""
    found = []
    for path in paths:
        parts = path.split("?")[0].split("/")
        found.append((unquote(parts[6]), parts[2], unquote(parts[4])))
    return found


def load(conn, rows: int, labels: tuple[int, int], lot_id: int) -> float:
    """Add ``rows`` scan records over the last 24 months; seconds taken. As on a real programme, a label
    is scanned a few times: the records go to ``SCANS_A_LABEL`` times fewer label ids than rows (ids
    from the registered labels on; ids past them stand for the labels of other lots)."""
    start = time.perf_counter()
    low, high = labels[0], max(labels[1], labels[0] + rows // SCANS_A_LABEL)
    for done in range(0, rows, CHUNK):
        conn.execute(
            "INSERT INTO trace_scans (label_id, lot_id, scanned_at, verdict, region, ip_prefix) "
            "SELECT %(low)s + (random() * (%(high)s - %(low)s))::int, %(lot)s, "
            "now() - random() * interval '729 days', 'genuine_repeat', '江西', "
            "'10.' || (g %% 250) || '.' || (g %% 199) || '.0/24' FROM generate_series(1, %(n)s) AS g",
            {"low": low, "high": high, "lot": lot_id, "n": min(CHUNK, rows - done)})
    conn.execute("ANALYZE trace_scans")
    return time.perf_counter() - start


def time_scans(conn, labels: list[tuple[str, str, str]], calls: int) -> dict:
    from traceability import scan_rules

    params = {"networks": scan_rules.NETWORK_LIMIT, "recent": scan_rules.RECENT_WINDOW,
              "history": scan_rules.HISTORY_LIMIT, "window": scan_rules.SPREAD_WINDOW,
              "km": float(scan_rules.SPREAD_KM)}
    rng = random.Random(7)
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
    durations.sort()
    return {"calls": calls, "p50_ms": round(statistics.median(durations), 3),
            "p99_ms": round(durations[int(len(durations) * 0.99) - 1], 3), "calls_per_s": round(calls / elapsed, 1)}


def size(conn) -> dict:
    rows, nbytes = conn.execute(
        "SELECT (SELECT count(*) FROM trace_scans), coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) "
        "FROM pg_inherits i WHERE i.inhparent = 'trace_scans'::regclass").fetchone()
    nbytes = int(nbytes)
    return {"rows": rows, "disk_mb": round(nbytes / 2**20, 1), "bytes_a_row": round(nbytes / max(rows, 1))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=2_000_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--labels", type=int, default=2000)
    args = parser.parse_args()
    import psycopg

    url = scan_bench.reset_database()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("GREENFIN_FEATURES", scan_bench.FEATURES)
    try:
        labels = codes(scan_bench.prepare(args.labels))
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            low, high, lot_id = conn.execute("SELECT min(id), max(id), min(lot_id) FROM trace_labels").fetchone()
            result = {"months": conn.execute("SELECT count(*) FROM pg_inherits "
                                             "WHERE inhparent = 'trace_scans'::regclass").fetchone()[0]}
            load_small = load(conn, args.small, (low, high), lot_id)
            small = time_scans(conn, labels, args.calls) | size(conn) | {"load_s": round(load_small, 1)}
            load_large = load(conn, args.large - size(conn)["rows"], (low, high), lot_id)
            large = time_scans(conn, labels, args.calls) | size(conn) | {"load_s": round(load_large, 1)}
            recorded = conn.execute("SELECT count(*) FROM trace_scans WHERE user_agent = 'bench'").fetchone()[0]
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
            "small": small, "large": large, "p99_ratio": round(large["p99_ms"] / small["p99_ms"], 2),
            "target_p99_ratio": 1.5, "every_call_recorded": recorded == 2 * args.calls,
            "detach": {"partitions": detached, "seconds": round(detach_s, 3)}})
        print(json.dumps(result, indent=2, ensure_ascii=False))
    finally:
        scan_bench.drop_database()


if __name__ == "__main__":
    main()
