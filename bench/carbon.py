"""Carbon registry on PostgreSQL: transfer throughput and ``carbon verify`` over a large ledger.

Prints JSON. In the same run, against the same fresh database:
- ``raw``: the baseline, single-row ``INSERT`` + ``COMMIT`` per transaction on a plain psycopg
  connection, into a table as wide as a ledger entry;
- ``transfers``: ``greenfin.carbon.services.transfer_units`` + ``commit()`` per transfer through
  the application (party, account and block look-ups, then one call of the function
  ``carbon_move_units``: project chain lock, block lock, state check, hash-chain append, block split
  or move under the database's triggers, audit event), over ``--holders`` holders: each transfer moves
  a random part (or all) of a random holder's block to another holder at a price;
- ``verify``: ``carbon verify`` (every chain recomputed, the blocks replayed) over a ledger of
  ``--verify-rows`` entries, bulk-loaded as the owner with the triggers bypassed (a valid chain of
  splits and moves, built by the same hashing code), then timed.
The raw rate is measured before and after the transfer run; their mean is the baseline. Afterwards
the transfer ledger must verify and the tonnes add up.

    .venv/bin/python bench/carbon.py [--transfers 100000] [--holders 1000] [--verify-rows 1000000]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GREENFIN_INSTANCE", tempfile.mkdtemp(prefix="greenfin-bench-"))

PG_BASE = os.environ.get("GREENFIN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("GREENFIN_BENCH_PG_DB", "greenfin_bench_carbon")
URL = f"{PG_BASE}/{DB_NAME}"
PSYCOPG_URL = URL.replace("postgresql+psycopg", "postgresql")


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


def parties(core, count: int, prefix: str) -> list[int]:
    from greenfin.core.identifiers import uscc_check_char

    out = []
    for i in range(count):
        body = f"91361103{prefix}{i:08d}"
        out.append(core.create_party({"kind": "firm", "name": f"碳票持有人{prefix}{i:05d}",
                                      "uscc": body + uscc_check_char(body), "township_code": "danan"}).id)
    return out


def project_with_units(services, core, owner_id: int, code: str, tonnes: int):
    parcel = core.create_parcel({"code": f"B-{code}", "holder_id": owner_id, "township_code": "danan",
                                 "area_ha": "900", "land_cover": "forest", "lat": "28.40", "lon": "118.20",
                                 "cert_type": "forest_rights", "cert_no": f"林权{code}"})
    project = services.create_project({"code": code, "name": "基准项目", "method": "CCER-14-001-V01", "owner_id": owner_id,
                                       "crediting_start": date(2015, 1, 1), "crediting_end": date(2040, 12, 31),
                                       "parcel_ids": [parcel.id], "buffer_share": "0"})
    report = services.submit_report(project, {"vintage": 2024, "verified_tonnes": str(tonnes), "verifier": "bench",
                                              "document": "bench"})
    services.decide_report(report, True)
    services.issue_report(report)
    return project


def raw_rate(count: int) -> float:
    import psycopg

    with psycopg.connect(PSYCOPG_URL) as conn:
        with conn.cursor() as cur:
            began = time.perf_counter()
            for n in range(count):
                cur.execute("INSERT INTO bench_raw (project_id, seq, op, serial_start, serial_end, amount, hash) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s)", (1, n, "transfer", n, n + 1, 15, "0" * 64))
                conn.commit()
            return count / (time.perf_counter() - began)


def transfer_run(app, count: int, holder_ids: list[int], project_id: int, rng: random.Random) -> dict:
    from sqlalchemy import func, select

    from greenfin.carbon import services
    from greenfin.carbon.models import CarbonBlock
    from greenfin.extensions import db
    from greenfin.uow import commit

    with app.app_context():
        account_party = {services.ledger_account_of(p): p for p in holder_ids}
        held: dict[int, list[int]] = {p: [] for p in holder_ids}  # party -> block ids (available)
        sizes: dict[int, int] = {}
        for block in db.session.scalars(select(CarbonBlock).where(CarbonBlock.project_id == project_id,
                                                                  CarbonBlock.state == "available")):
            party = account_party.get(block.account_id)
            if party is not None:
                held[party].append(block.id)
                sizes[block.id] = block.quantity
        db.session.rollback()
        splits = 0
        began = time.perf_counter()
        for n in range(count):
            seller = rng.choice(holder_ids)
            while not held[seller]:
                seller = rng.choice(holder_ids)
            block_id = rng.choice(held[seller])
            buyer = rng.choice(holder_ids)
            while buyer == seller:
                buyer = rng.choice(holder_ids)
            size = sizes[block_id]
            quantity = size if size == 1 or rng.random() < 0.5 else rng.randint(1, size - 1)
            entry = services.transfer_units({"block_id": block_id, "quantity": quantity, "to_party_id": buyer,
                                             "unit_price": "15.00", "from_party_id": seller})
            moved = entry.result_block.id
            commit()
            if quantity == size:
                held[seller].remove(block_id)
                del sizes[block_id]
            else:
                sizes[block_id] = size - quantity
                splits += 1
            held[buyer].append(moved)
            sizes[moved] = quantity
        elapsed = time.perf_counter() - began
        report = services.verify_ledger()
        blocks = db.session.scalar(select(func.count(CarbonBlock.id)))
        row = services.totals(project_id)[0]
        db.session.remove()
    assert report.ok, report.problems[:5]
    assert row["issued"] == row["available"], row
    return {"transfers": count, "splits": splits, "seconds": round(elapsed, 2), "per_second": round(count / elapsed, 1),
            "blocks_after": blocks, "verify_ok": report.ok}


def bulk_ledger(app, rows: int, owner_id: int, account_ids: list[int], rng: random.Random) -> int:
    """A valid chain of ``rows`` entries (one issue, then random splits and moves), loaded with COPY as the
    tables' owner with the triggers bypassed; the blocks table is the replay's result."""
    import psycopg

    from greenfin.carbon.ledger import canonical_entry, chain_hash
    from greenfin.carbon.models import GENESIS_HASH, CarbonEntry
    from greenfin.carbon import services
    from greenfin.core import services as core
    from greenfin.extensions import db
    from greenfin.uow import commit

    with app.app_context():
        project = services.create_project({
            "code": "VERIFY1M", "name": "校验基准", "method": "VM0047", "owner_id": owner_id,
            "crediting_start": date(2015, 1, 1), "crediting_end": date(2040, 12, 31), "buffer_share": "0",
            "parcel_ids": [core.create_parcel({"code": "B-VERIFY", "holder_id": owner_id, "township_code": "danan",
                                               "area_ha": "900", "land_cover": "forest", "lat": "28.40",
                                               "lon": "118.20", "cert_type": "forest_rights",
                                               "cert_no": "林权V"}).id]})
        commit()
        project_id = project.id
        first_entry = (db.session.scalar(db.text("SELECT COALESCE(MAX(id), 0) FROM carbon_entries")) or 0) + 1
        first_block = (db.session.scalar(db.text("SELECT COALESCE(MAX(id), 0) FROM carbon_blocks")) or 0) + 1
        db.session.remove()
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    entries = io.StringIO()
    live: dict[int, list] = {}  # block id -> [start, end, account, entry id]
    prev, entry_id, block_id = GENESIS_HASH, first_entry, first_block
    total = rows * 4

    def emit(seq, op, start, end, source, frm, to):
        nonlocal prev
        e = CarbonEntry(id=entry_id, project_id=project_id, seq=seq, op=op, vintage=2024, serial_start=start,
                        serial_end=end, quantity=end - start + 1, source_block_id=source, from_account_id=frm,
                        to_account_id=to, to_state="available", recorded_at=now, actor="bench", prev_hash=prev,
                        unit_price=None if op == "issue" else Decimal("15.00"))
        if e.unit_price is not None:
            e.amount = (e.unit_price * e.quantity).quantize(Decimal("0.01"))
        e.hash = chain_hash(prev, canonical_entry(e))
        entries.write("\t".join(str(v) if v is not None else "\\N" for v in (
            e.id, project_id, seq, op, 2024, start, end, e.quantity, source, frm, to, "available",
            e.unit_price, e.amount, now.isoformat(), "bench", prev, e.hash)) + "\n")
        prev = e.hash

    emit(1, "issue", 1, total, None, None, account_ids[0])
    live[block_id] = [1, total, account_ids[0], entry_id]
    ids = [block_id]
    block_id += 1
    for seq in range(2, rows + 1):
        entry_id += 1
        source = ids[rng.randrange(len(ids))]
        start, end, account, _e = live[source]
        to = rng.choice(account_ids)
        if end > start and rng.random() < 0.7:
            cut = rng.randint(start, end - 1)
            emit(seq, "transfer", start, cut, source, account, to)
            live[source] = [cut + 1, end, account, entry_id]
            live[block_id] = [start, cut, to, entry_id]
            ids.append(block_id)
            block_id += 1
        else:
            emit(seq, "transfer", start, end, source, account, to)
            live[source] = [start, end, to, entry_id]
    blocks = io.StringIO()
    for bid, (start, end, account, eid) in live.items():
        blocks.write(f"{bid}\t{project_id}\t2024\t{start}\t{end}\t{account}\tavailable\t\\N\t{eid}\n")
    with psycopg.connect(PSYCOPG_URL) as conn:
        conn.execute("SET session_replication_role = replica")  # the owner's bulk load: triggers bypassed
        with conn.cursor() as cur:
            with cur.copy("COPY carbon_entries (id, project_id, seq, op, vintage, serial_start, serial_end, quantity, "
                          "source_block_id, from_account_id, to_account_id, to_state, unit_price, amount, recorded_at, "
                          "actor, prev_hash, hash) FROM STDIN") as copy:
                copy.write(entries.getvalue())
            with cur.copy("COPY carbon_blocks (id, project_id, vintage, serial_start, serial_end, account_id, state, "
                          "application_id, entry_id) FROM STDIN") as copy:
                copy.write(blocks.getvalue())
            cur.execute("UPDATE carbon_projects SET entry_count = %s, last_hash = %s WHERE id = %s",
                        (rows, prev, project_id))
            cur.execute("SELECT setval('carbon_entries_id_seq', (SELECT MAX(id) FROM carbon_entries))")
            cur.execute("SELECT setval('carbon_blocks_id_seq', (SELECT MAX(id) FROM carbon_blocks))")
        conn.commit()
    return len(live)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=100_000)
    parser.add_argument("--holders", type=int, default=1000)
    parser.add_argument("--verify-rows", type=int, default=1_000_000)
    parser.add_argument("--raw", type=int, default=5000, help="raw INSERT+COMMIT transactions, before and after")
    args = parser.parse_args()
    rng = random.Random(2026)
    reset_database()
    from flask_migrate import upgrade

    from greenfin.carbon import ledger, services
    from greenfin.core import services as core
    from greenfin.extensions import db
    from greenfin.uow import commit

    app = make_app()
    with app.app_context():
        upgrade(revision="heads")
        core.ensure_townships()
        holder_ids = parties(core, args.holders, "1")
        project = project_with_units(services, core, holder_ids[0], "BENCH1", args.holders * 1000)
        block = db.session.scalars(services.block_query(project_id=project.id)).one()
        for party in holder_ids[1:]:  # seed every holder with 1,000 t (not timed)
            services.transfer_units({"block_id": block.id, "quantity": 1000, "to_party_id": party, "unit_price": "10"})
        accounts = [ledger.holder_account(p).id for p in holder_ids[:50]]
        commit()
        project_id = project.id
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, project_id int, seq int, op text, "
                                 "serial_start int, serial_end int, amount numeric(18,2), hash text, "
                                 "recorded_at timestamptz DEFAULT now())")
        db.session.remove()
        db.engine.dispose()
    result = {"database": "postgresql", "holders": args.holders}
    if args.transfers:
        raw_before = raw_rate(args.raw)
        transfers = transfer_run(app, args.transfers, holder_ids, project_id, rng)
        raw_after = raw_rate(args.raw)
        baseline = (raw_before + raw_after) / 2
        result |= {"raw_insert_commit_per_second": {"before": round(raw_before, 1), "after": round(raw_after, 1),
                                                    "mean": round(baseline, 1)},
                   "transfers": transfers, "transfer_vs_raw": round(transfers["per_second"] / baseline, 3)}
    if args.verify_rows:
        loaded = time.perf_counter()
        blocks = bulk_ledger(app, args.verify_rows, holder_ids[0], accounts, rng)
        load_seconds = time.perf_counter() - loaded
        with app.app_context():
            from sqlalchemy import func, select

            from greenfin.carbon.models import CarbonEntry

            entries = db.session.scalar(select(func.count(CarbonEntry.id)))
            began = time.perf_counter()
            report = services.verify_ledger()
            elapsed = time.perf_counter() - began
            db.session.remove()
        result["verify"] = {"entries": entries, "blocks": report.blocks, "bulk_blocks": blocks,
                            "load_seconds": round(load_seconds, 1), "seconds": round(elapsed, 1),
                            "entries_per_second": round(entries / elapsed), "ok": report.ok}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
