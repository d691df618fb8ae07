"""Scan page benchmark: requests per second under gunicorn (2 workers) on PostgreSQL.

Prints JSON. In one run, on a throwaway PostgreSQL database, against a gunicorn server of 2
workers with the public pool's settings (docs/deploy.md: gthread workers of one thread, the
rest from gunicorn.conf.py; worker recycling off, so no worker boots again in the middle of
a round), then again with the staff pool's (gunicorn.conf.py's 4 threads a worker):
- the baseline: a trivial public route (``/bench/ping``) added to the same app, so it
  pays the same request overhead (security hooks, i18n) but touches no data;
- the GS1 Digital Link scan route, cycling over many labels, every scan recorded.
Target: the scan rate is at least 50% of the trivial route's. The recorded scans are
counted afterwards to show none was lost.

    .venv/bin/python bench/scan.py [--seconds 4] [--rounds 5] [--clients 8] [--labels 2000]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_BASE = os.environ.get("GREENFIN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
DB_NAME = "greenfin_bench_trace_scan"
PORT = int(os.environ.get("GREENFIN_BENCH_PORT", "8765"))
FEATURES = "greenfin.core,greenfin.auth,credit,greenfin.gep,traceability"


def bench_app():
    """The app gunicorn serves: the real app plus one trivial route for the baseline."""
    from greenfin import create_app
    from greenfin.security import PUBLIC, access

    app = create_app()

    @app.route("/bench/ping")
    @access(PUBLIC)
    def bench_ping():
        return "ok"

    return app


def reset_database() -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    return f"{PG_BASE}/{DB_NAME}"


def drop_database() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    admin.dispose()


def prepare(label_count: int) -> list[str]:
    """Migrate, then register a lot with origin, certificate, events and labels; return scan paths."""
    from datetime import date, timedelta
    from decimal import Decimal

    from flask_migrate import upgrade

    from greenfin import create_app
    from greenfin.core import services as core
    from greenfin.core.identifiers import gtin_check_digit
    from greenfin.uow import commit
    from tests.conftest import make_uscc
    from traceability import services

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        core.ensure_townships()
        party = core.create_party({"kind": "organisation", "name": "广丰区大南镇马家柚种植专业合作社", "uscc": make_uscc("93"),
                                   "township_code": "danan", "village": "古村村"})
        parcel = core.create_parcel({"code": "GF-DAN-0001", "name": "古村村柚园", "holder_id": party.id,
                                     "township_code": "danan", "village": "古村村", "area_ha": Decimal("12.5"),
                                     "land_cover": "orchard", "lat": Decimal("28.49"), "lon": Decimal("118.29"),
                                     "cert_type": "land_contract", "cert_no": "赣(2020)广丰区不动产权第0000001号"})
        brand = services.create_brand({"name": "马家柚", "name_en": "Majia pomelo", "gi_registration": "AGI00957"})
        services.authorise_brand(brand.id, party.id, date(2020, 1, 1))
        body = "0690123456001"
        product = services.create_product({"gtin": body + gtin_check_digit(body), "name": "马家柚鲜果 5kg 礼盒",
                                           "brand_id": brand.id, "owner_id": party.id})
        lot = services.create_lot({"code": "MJY2026-A01", "product_id": product.id, "producer_id": party.id,
                                   "harvest_date": date.today() - timedelta(days=20), "quantity": Decimal(4000),
                                   "parcel_ids": [parcel.id]})
        services.grant_certification({"kind": "green_food", "number": "LB-18-0001", "issuer": "中国绿色食品发展中心",
                                      "scope": "product", "party_id": party.id, "product_id": product.id,
                                      "valid_from": date(2025, 1, 1), "valid_until": date(2028, 1, 1)})
        for kind in ("harvest", "inspection", "grading"):
            services.record_event(lot, kind, {})
        batch = services.create_label_batch(lot, label_count, "a4-3x8")
        services.issue_labels(batch)
        commit()
        paths = []
        for uri, _serial in services.iter_batch_labels(batch):
            parts = urlsplit(uri)
            paths.append(parts.path + "?" + parts.query)
    return paths


def get_scan(path: str, port: int = PORT, timeout: float = 10) -> bool:
    """One scan as a phone makes it, on a connection of its own: True when answered 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"X-Geo-Region": "CN-SH"})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        conn.close()


def hammer(args) -> tuple[int, int]:
    """One client: GET the paths in turn until the deadline; returns (ok, errors)."""
    paths, deadline, offset = args
    ok = errors = 0
    i = offset
    while time.time() < deadline:
        if get_scan(paths[i % len(paths)]):
            ok += 1
        else:
            errors += 1
        i += 1
    return ok, errors


def measure(paths: list[str], seconds: float, clients: int) -> dict:
    deadline = time.time() + seconds
    with Pool(clients) as pool:
        results = pool.map(hammer, [(paths, deadline, k * 997) for k in range(clients)])
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return {"requests": ok, "errors": errors, "requests_per_s": round(ok / seconds, 1)}


def wait_ready(proc) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited: " + proc.stderr.read().decode()[-2000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/bench/ping")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def run_server(paths: list[str], threads: int, args) -> dict:
    """gunicorn with 2 workers of ``threads`` threads: interleaved rounds of the two routes."""
    from sqlalchemy import create_engine, text

    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", "2", "--threads", str(threads),
         "--max-requests", "0",  # no worker recycling mid-round: a restart is noise, not scan cost
         "-b", f"127.0.0.1:{PORT}", "--pythonpath",
         f"{ROOT},{ROOT / 'bench'}", "--log-level", "warning", "scan:bench_app()"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(proc)
        measure(["/bench/ping"], 1, args.clients)  # warm both workers
        measure(paths, 1, args.clients)
        engine = create_engine(os.environ["DATABASE_URL"])
        with engine.connect() as conn:
            before = conn.execute(text("select count(*) from trace_scans")).scalar()
        # Interleaved rounds: the machine's load changes from second to second, so each
        # round compares the two routes over neighbouring intervals; the median ratio is reported.
        rounds = []
        for _ in range(args.rounds):
            trivial = measure(["/bench/ping"], args.seconds, args.clients)
            scan = measure(paths, args.seconds, args.clients)
            rounds.append({"trivial_per_s": trivial["requests_per_s"], "scan_per_s": scan["requests_per_s"],
                           "scan_requests": scan["requests"], "errors": trivial["errors"] + scan["errors"],
                           "ratio": round(scan["requests_per_s"] / trivial["requests_per_s"], 3)})
        with engine.connect() as conn:
            recorded = conn.execute(text("select count(*) from trace_scans")).scalar() - before
        engine.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    middle = len(rounds) // 2
    return {"threads_per_worker": threads, "rounds": rounds,
            "scan_requests_answered": sum(r["scan_requests"] for r in rounds), "scans_recorded": recorded,
            "median_trivial_per_s": sorted(r["trivial_per_s"] for r in rounds)[middle],
            "median_scan_per_s": sorted(r["scan_per_s"] for r in rounds)[middle],
            "median_ratio": sorted(r["ratio"] for r in rounds)[middle], "target_ratio": 0.5}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--labels", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="trace-bench-")
    os.environ.update({"GREENFIN_INSTANCE": instance, "GREENFIN_FEATURES": FEATURES, "RATELIMIT_ENABLED": "0",
                       "LABEL_SIGNING_KEY": secrets.token_urlsafe(32),
                       "PUBLIC_BASE_URL": f"http://127.0.0.1:{PORT}", "LOG_LEVEL": "WARNING"})
    os.environ["DATABASE_URL"] = reset_database()
    try:
        paths = prepare(args.labels)
        # The public pool serves the scan route in production (docs/deploy.md): one thread a
        # worker. The staff pool (gunicorn.conf.py's default, 4 threads) for comparison.
        servers = {"public_pool": run_server(paths, 1, args), "staff_pool": run_server(paths, 4, args)}
    finally:
        drop_database()
    print(json.dumps({
        "benchmark": "scan page under gunicorn (2 gthread workers, gunicorn.conf.py) on PostgreSQL",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "clients": args.clients, "seconds_per_measure": args.seconds, "labels": len(paths),
        **servers,
    }, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
