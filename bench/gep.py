"""GEP accounting throughput: parcels per second, vectorised (numpy) against a per-parcel Python loop.

Prints JSON. In the same run:
- ``engine``: the formulas alone on 100,000 synthetic parcels with the GF-2025 reference table,
  vectorised over all parcels against ``compute_reference`` called parcel by parcel on a sample
  (the baseline); the two must agree on the sample.
- ``end_to_end``: ``services.compute_accounts`` on a fresh SQLite database holding the same
  parcels (load, compute, round to cents, store accounts and service rows), i.e. what the
  district job does.

    .venv/bin/python bench/gep.py [--parcels 100000] [--sample 2000] [--skip-db]
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from greenfin.gep import engine, reference  # noqa: E402

# Guangfeng's land-cover mix (share of area) for the synthetic district.
MIX = {"forest": 0.55, "orchard": 0.10, "farmland": 0.20, "tea": 0.01, "grassland": 0.02, "wetland": 0.01,
       "water": 0.04, "built": 0.07}


def synthetic_parcels(n: int, seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    covers = rng.choice(list(MIX), size=n, p=list(MIX.values()))
    area = np.round(rng.lognormal(mean=1.2, sigma=0.9, size=n), 4) + 0.01
    measured = rng.random(size=(n, 4)) < 0.6  # 60 % of parcels have measured attributes
    k = np.round(rng.uniform(0.02, 0.04, n), 6)
    ls = np.round(rng.uniform(0.3, 8.0, n), 4)
    npp = np.round(rng.uniform(300, 1100, n), 2)
    yld = np.round(rng.uniform(1, 40, n), 3)
    out = []
    for i in range(n):
        out.append({"area_ha": float(area[i]), "land_cover": str(covers[i]),
                    "k_factor": float(k[i]) if measured[i, 0] else None,
                    "ls_factor": float(ls[i]) if measured[i, 1] else None,
                    "npp": float(npp[i]) if measured[i, 2] else None,
                    "yield_t_ha": float(yld[i]) if measured[i, 3] else None})
    return out


def bench_engine(parcels: list[dict], sample: int, params: dict) -> dict:
    t0 = time.perf_counter()
    arrays = engine.ParcelArrays.from_records(parcels)
    t1 = time.perf_counter()
    result = engine.compute_vectorised(arrays, params)
    t2 = time.perf_counter()
    loop_parcels = parcels[:sample]
    t3 = time.perf_counter()
    reference_out = [engine.compute_reference(p, params) for p in loop_parcels]
    t4 = time.perf_counter()
    worst = 0.0
    for i, out in enumerate(reference_out):
        for code, (_q, v) in out.items():
            worst = max(worst, abs(result[code][1][i] - v) / max(1.0, abs(v)))
    total = sum(v.sum() for _q, v in result.values())
    return {
        "parcels": len(parcels),
        "vectorised_compute_s": round(t2 - t1, 4),
        "vectorised_parcels_per_s": round(len(parcels) / (t2 - t1)),
        "vectorised_with_array_build_parcels_per_s": round(len(parcels) / (t2 - t0)),
        "loop_sample": sample,
        "loop_s": round(t4 - t3, 4),
        "loop_parcels_per_s": round(sample / (t4 - t3)),
        "speedup": round((len(parcels) / (t2 - t1)) / (sample / (t4 - t3)), 1),
        "max_relative_difference_on_sample": worst,
        "district_gep_cny": round(float(total), 2),
        "gep_per_km2_cny": round(float(total) / (arrays.area_ha.sum() / 100), 2),
    }


def bench_end_to_end(parcels: list[dict]) -> dict:
    os.environ.setdefault("GREENFIN_FEATURES", "greenfin.core,greenfin.auth,greenfin.gep")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GREENFIN_INSTANCE"] = tmp
        from flask_migrate import upgrade
        from sqlalchemy import insert

        from greenfin import create_app
        from greenfin.config import TestConfig
        from greenfin.core import services as core
        from greenfin.core.models import Parcel, Party
        from greenfin.extensions import db
        from greenfin.gep import services
        from greenfin.gep.models import GepParcelAttribute

        app = create_app(TestConfig(f"sqlite:///{tmp}/bench.sqlite"))
        with app.app_context():
            upgrade(revision="heads")
            core.ensure_townships()
            versions = {v.code: v for v in services.install_reference_versions()}
            db.session.execute(insert(Party), [{"id": 1, "kind": "firm", "name": "bench", "uscc": "91361103MA35BENCH1",
                                                "township_code": "danan"}])
            townships = [t[0] for t in __import__("greenfin.core.geography", fromlist=["TOWNSHIPS"]).TOWNSHIPS]
            rows, attrs = [], []
            for i, p in enumerate(parcels, start=1):
                rows.append({"id": i, "code": f"B-{i:06d}", "holder_id": 1, "township_code": townships[i % len(townships)],
                             "village": f"村{i % 97}", "area_ha": Decimal(str(p["area_ha"])), "land_cover": p["land_cover"],
                             "lat": Decimal("28.4"), "lon": Decimal("118.2"), "cert_type": "land_contract",
                             "cert_no": f"N{i}"})
                a = {k: (None if p[k] is None else Decimal(str(p[k]))) for k in ("k_factor", "ls_factor", "npp", "yield_t_ha")}
                attrs.append({"parcel_id": i, **a})
            db.session.execute(insert(Parcel), rows)
            db.session.execute(insert(GepParcelAttribute), attrs)
            db.session.commit()
            t0 = time.perf_counter()
            result = services.compute_accounts(2025, versions["GF-2025"])
            db.session.commit()
            t1 = time.perf_counter()
            again = services.compute_accounts(2025, versions["GF-2025"])
            db.session.commit()
            t2 = time.perf_counter()
        return {"parcels": result.parcels, "accounts_created": result.created, "seconds": round(t1 - t0, 2),
                "parcels_per_s": round(result.parcels / (t1 - t0)), "rerun_unchanged": again.unchanged,
                "rerun_seconds": round(t2 - t1, 2), "database": "sqlite"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--skip-db", action="store_true")
    args = parser.parse_args()
    params = {k: v for k, v, *_ in reference.reference_rows(2025)}
    parcels = synthetic_parcels(args.parcels)
    out = {"benchmark": "gep", "engine": bench_engine(parcels, args.sample, params)}
    if not args.skip_db:
        out["end_to_end"] = bench_end_to_end(parcels)
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
