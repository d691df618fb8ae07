"""What the repeat cookie costs and saves on the scan route, in process (SQLite, Flask's test client).

Prints JSON. In one run, interleaved rounds of three kinds of request over fresh labels:
- baseline: a first scan with the repeat cookie switched off (the code before it);
- first scan: the same, now also signing and setting the label's cookie;
- reload: the same browser opening the label again within the window (cookie read, nothing
  recorded, the lot's recall read).
The scan bench under gunicorn and PostgreSQL is ``bench/scan.py`` (its clients keep no cookies,
so every request there is a first scan: it measures the signing too).

    .venv/bin/python bench/scan_repeat.py [--labels 300] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(client, paths: list[str]) -> float:
    """Milliseconds a request, over ``paths`` in turn."""
    start = time.perf_counter()
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, response.status_code
    return (time.perf_counter() - start) * 1000 / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="trace-repeat-bench-")
    os.environ.update({"GREENFIN_INSTANCE": instance, "RATELIMIT_ENABLED": "0", "LOG_LEVEL": "WARNING",
                       "GREENFIN_FEATURES": "greenfin.core,greenfin.auth,credit,greenfin.gep,traceability",
                       "LABEL_SIGNING_KEY": secrets.token_urlsafe(32), "PUBLIC_BASE_URL": "http://bench.local",
                       "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite"})
    from bench.scan import prepare
    from greenfin import create_app
    from greenfin.extensions import db
    from sqlalchemy import func, select
    from traceability import scan_rules
    from traceability.models import Scan

    paths = prepare(args.labels * 2 * args.rounds)
    app = create_app()
    real_name = scan_rules.repeat_cookie_name
    rows = []
    for n in range(args.rounds):
        chunk = paths[n * 2 * args.labels:(n + 1) * 2 * args.labels]
        off, on = chunk[:args.labels], chunk[args.labels:]
        scan_rules.repeat_cookie_name = lambda serial: None  # the code before the cookie
        baseline = timed(app.test_client(use_cookies=False), off)
        scan_rules.repeat_cookie_name = real_name
        browser = app.test_client()
        first = timed(browser, on)
        reload = timed(browser, on)
        rows.append({"baseline_ms": round(baseline, 3), "first_scan_ms": round(first, 3),
                     "reload_ms": round(reload, 3), "first_vs_baseline": round(first / baseline, 3),
                     "reload_vs_baseline": round(reload / baseline, 3)})
    with app.app_context():
        recorded = db.session.scalar(select(func.count(Scan.id)))
    # The cookie's own cost, against the scan's own HMAC check of the label (same run).
    from datetime import datetime, timezone

    from traceability import digital_link as dl

    now, key, n = datetime.now(timezone.utc), app.config["SECRET_KEY"], 5000
    start = time.perf_counter()
    for _ in range(n):
        dl.verify(app.config["LABEL_SIGNING_KEY"], "06901234560012", "MJY2026-A01", "0123456789ABCDEF", "x" * 12)
    verify_us = (time.perf_counter() - start) * 1e6 / n
    start = time.perf_counter()
    for _ in range(n):
        token = scan_rules.repeat_token(key, "0123456789ABCDEF", "genuine", None, 0, None, now)
    sign_us = (time.perf_counter() - start) * 1e6 / n
    start = time.perf_counter()
    for _ in range(n):
        scan_rules.read_repeat(key, token, "0123456789ABCDEF")
    read_us = (time.perf_counter() - start) * 1e6 / n
    print(json.dumps({
        "benchmark": "scan route in process (SQLite): first scan with the repeat cookie, and a reload, "
                     "against a first scan without it",
        "load_average": [round(x, 2) for x in os.getloadavg()], "labels_per_round": args.labels, "rounds": rows,
        "median_first_vs_baseline": statistics.median(r["first_vs_baseline"] for r in rows),
        "median_reload_vs_baseline": statistics.median(r["reload_vs_baseline"] for r in rows),
        "label_signature_check_us": round(verify_us, 1), "cookie_sign_us": round(sign_us, 1),
        "cookie_read_us": round(read_us, 1),
        "scans_recorded": recorded, "scans_expected": 2 * args.labels * args.rounds,
    }, indent=2))


if __name__ == "__main__":
    main()
