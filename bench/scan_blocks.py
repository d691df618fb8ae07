"""What honouring network blocks adds to a scan: ``scan_rules.network_blocked`` over the blocks in
force, against the verdict rule every scan already runs (``judge_scan`` on a label's history), in
the same run and process. Pure rules, no database: the blocks in force are read once per
LOT_CACHE_SECONDS per process (traceability/services/enumeration.py ``active_blocks``), so a scan
pays only this check.

Each measured call checks two networks, one not blocked and one blocked (with N blocks in force:
0, 10, 1000, 100000), so both answers are paid for. Target: under half the verdict rule's cost.

Prints JSON.  .venv/bin/python bench/scan_blocks.py [--calls 20000]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from traceability import scan_rules  # noqa: E402


def per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    calls = parser.parse_args().calls
    now = datetime.now(timezone.utc)
    history = [SimpleNamespace(scanned_at=now - timedelta(hours=i), region="江西", lat=None, lon=None,
                               ip_prefix=f"10.0.{i % 7}.0/24") for i in range(20)]
    first = history[-1]
    baseline = per_call(lambda: scan_rules.judge_scan(first, history, now, "10.0.9.0/24", "江西", None, None, False),
                        calls)
    result = {"calls": calls, "baseline_judge_scan_us": round(baseline, 3)}
    for count in (0, 10, 1000, 100000):
        blocks = {scan_rules.network_of(f"198.{i // 65536}.{i // 256 % 256}.{i % 256}"):
                  [(now - timedelta(days=1), now + timedelta(days=6))] for i in range(count)}
        blocked = next(iter(blocks), "10.0.9.0/24")
        cost = per_call(lambda: scan_rules.network_blocked("10.0.9.0/24", blocks, now)
                        or scan_rules.network_blocked(blocked, blocks, now), calls)
        result[f"network_blocked_{count}_blocks_us"] = round(cost, 3)
        result[f"ratio_to_baseline_{count}_blocks"] = round(cost / baseline, 3)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
