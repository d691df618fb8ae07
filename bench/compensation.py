"""Compensation run throughput: a budget split over a synthetic district, against a per-parcel loop.

Prints JSON. In the same run, on one fresh SQLite database holding ``--parcels`` parcels in 20
townships, accounted for 2024 (GF-2024) and 2025 (GF-2025, 10 % of the parcels grown by 5 %):
- ``run``: ``compute_run`` of a budget-split scheme: each parcel's accounts of both years through
  the gep contract, the 2025 accounts revalued at GF-2024 prices (vectorised), the quantity/price
  split, township scores and the largest-remainder allocation, rows stored with their sources;
- ``per_parcel_loop`` (the baseline): the same split parcel by parcel (latest account of each year
  by its own query, revalued one account at a time) on a sample, extrapolated to the district; the
  sample's quantity effects must equal the run's to the cent.

    .venv/bin/python bench/compensation.py [--parcels 100000] [--sample 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gep import synthetic_parcels  # noqa: E402  (bench/gep.py: the same synthetic district)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1000)
    args = parser.parse_args()
    os.environ["GREENFIN_FEATURES"] = "greenfin.core,greenfin.auth,credit,greenfin.gep,greenfin.compensation"
    parcels = synthetic_parcels(args.parcels)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GREENFIN_INSTANCE"] = tmp
        from flask_migrate import upgrade
        from sqlalchemy import insert, update

        from greenfin import create_app
        from greenfin.compensation import services
        from greenfin.compensation.split import split_change, total_change
        from greenfin.config import TestConfig
        from greenfin.core import services as core
        from greenfin.core.geography import TOWNSHIPS
        from greenfin.core.models import Parcel, Party
        from greenfin.extensions import db
        from greenfin.gep import services as gep
        from greenfin.gep.models import GepParcelAttribute

        app = create_app(TestConfig(f"sqlite:///{tmp}/bench.sqlite"))
        with app.app_context():
            upgrade(revision="heads")
            core.ensure_townships()
            versions = {v.code: v for v in gep.install_reference_versions()}
            db.session.execute(insert(Party), [{"id": 1, "kind": "firm", "name": "bench", "uscc": "91361103MA35BENCH1",
                                                "township_code": "danan"}])
            townships = [t[0] for t in TOWNSHIPS][:20]
            rows, attrs = [], []
            for i, p in enumerate(parcels, start=1):
                rows.append({"id": i, "code": f"B-{i:06d}", "holder_id": 1, "township_code": townships[i % 20],
                             "village": f"村{i % 97}", "area_ha": Decimal(str(p["area_ha"])), "land_cover": p["land_cover"],
                             "lat": Decimal("28.4"), "lon": Decimal("118.2"), "cert_type": "land_contract",
                             "cert_no": f"N{i}"})
                attrs.append({"parcel_id": i, **{k: (None if p[k] is None else Decimal(str(p[k])))
                                                 for k in ("k_factor", "ls_factor", "npp", "yield_t_ha")}})
            db.session.execute(insert(Parcel), rows)
            db.session.execute(insert(GepParcelAttribute), attrs)
            db.session.commit()
            t0 = time.perf_counter()
            gep.compute_accounts(2024, versions["GF-2024"])
            db.session.execute(update(Parcel).where(Parcel.id % 10 == 0).values(area_ha=Parcel.area_ha * Decimal("1.05")))
            gep.compute_accounts(2025, versions["GF-2025"])
            db.session.commit()
            setup = time.perf_counter() - t0

            scheme = services.create_scheme({"code": "BENCH", "title": "bench", "kind": "budget_split", "rules": {
                "budget": "50000000.00", "weights": {"regulating": "0.6", "quantity": "0.4"}}})
            run, _job = services.start_run(scheme.id, "2025")
            t1 = time.perf_counter()
            services.compute_run(run)
            db.session.commit()
            run_seconds = time.perf_counter() - t1
            total = sum((r.amount for r in run.allocations), Decimal(0))

            # baseline: parcel by parcel, on a sample
            report = services.gep_change(2024, 2025)
            vectorised = {p.parcel_id: p.change.quantity for p in report.parcels}
            step = max(1, args.parcels // args.sample)
            sample = list(range(1, args.parcels + 1, step))[:args.sample]
            t2 = time.perf_counter()
            loop = {}
            for parcel_id in sample:
                a0 = gep.latest_account(parcel_id, 2024)
                a1 = gep.latest_account(parcel_id, 2025)
                at_base = gep.revalue_accounts([a1.id], "GF-2024")[a1.id]
                change = total_change(split_change({s.service: s.value for s in a0.services},
                                                   {s.service: s.value for s in a1.services}, at_base).values())
                loop[parcel_id] = change.quantity
            loop_seconds = time.perf_counter() - t2
            agree = all(loop[k] == vectorised[k] for k in sample)
            per_parcel_rate = len(sample) / loop_seconds
            vector_rate = args.parcels / run_seconds
    print(json.dumps({
        "parcels": args.parcels, "townships": 20, "setup_accounting_seconds": round(setup, 1),
        "run": {"seconds": round(run_seconds, 2), "parcels_per_s": round(vector_rate), "rows": len(run.allocations),
                "allocated": str(total), "adds_up_to_budget": total == Decimal("50000000.00")},
        "per_parcel_loop": {"sample": len(sample), "seconds": round(loop_seconds, 2),
                            "parcels_per_s": round(per_parcel_rate),
                            "district_estimate_seconds": round(args.parcels / per_parcel_rate, 1),
                            "quantity_effects_agree": agree},
        "speedup": round(vector_rate / per_parcel_rate, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
