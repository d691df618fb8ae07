"""What the public eco-product catalogue costs, built per request from the records (SQLite, in process).

Prints JSON. For a district of ``--lots`` lots (each from one or two orchards with a GEP account,
a green-food certificate and a graded harvest), in one run, interleaved rounds of:
- baseline: traceability's ``catalogue_lots()`` alone (the lots, parcels, grade, certificates);
- catalogue: ``market.services.catalogue()`` (the same plus orchard GEP and the producer's colour);
- page: ``GET /market/catalogue`` (first page, 25 entries, rendered);
- csv: ``GET /market/catalogue.csv`` (every entry).

    .venv/bin/python bench/catalogue.py [--lots 300] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare(lot_count: int) -> None:
    from datetime import date, timedelta
    from decimal import Decimal

    from flask_migrate import upgrade

    from greenfin import create_app
    from greenfin.core import services as core
    from greenfin.core.geography import TOWNSHIPS
    from greenfin.core.identifiers import gtin_check_digit
    from greenfin.gep import services as gep
    from greenfin.uow import commit
    from tests.conftest import make_uscc
    from traceability import services

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        core.ensure_townships()
        gep.install_reference_versions()
        brand = services.create_brand({"name": "马家柚", "name_en": "Majia pomelo", "gi_registration": "AGI00957"})
        towns = [t[0] for t in TOWNSHIPS]
        producers = []
        for i in range(max(1, lot_count // 5)):
            party = core.create_party({"kind": "organisation", "name": f"马家柚合作社{i:04d}", "uscc": make_uscc("93"),
                                       "township_code": towns[i % len(towns)], "village": "古村村"})
            services.authorise_brand(brand.id, party.id, date(2020, 1, 1))
            body = f"0690123{i:06d}"
            product = services.create_product({"gtin": body + gtin_check_digit(body), "name": "马家柚鲜果 5kg 礼盒",
                                               "brand_id": brand.id, "owner_id": party.id})
            services.grant_certification({"kind": "green_food", "number": f"LB-18-{i:05d}", "issuer": "中国绿色食品发展中心",
                                          "scope": "product", "party_id": party.id, "product_id": product.id,
                                          "valid_from": date(2025, 1, 1), "valid_until": date(2028, 1, 1)})
            producers.append((party, product))
        for n in range(lot_count):
            party, product = producers[n % len(producers)]
            parcels = [core.create_parcel({"code": f"GF-B-{n:05d}-{k}", "name": "柚园", "holder_id": party.id,
                                           "township_code": party.township_code, "village": "古村村",
                                           "area_ha": Decimal("5.5"), "land_cover": "orchard", "lat": Decimal("28.49"),
                                           "lon": Decimal("118.29"), "cert_type": "land_contract",
                                           "cert_no": f"赣(2020)第{n:05d}{k}号"}) for k in range(1 + n % 2)]
            lot = services.create_lot({"code": f"MJY-{n:05d}", "product_id": product.id, "producer_id": party.id,
                                       "harvest_date": date.today() - timedelta(days=20), "quantity": Decimal(4000),
                                       "parcel_ids": [p.id for p in parcels]})
            services.record_event(lot, "grading", {"grade": "特级"})
        commit()
        gep.compute_accounts(2025)
        commit()


def timed(fn, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) * 1000 / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lots", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="market-catalogue-bench-")
    os.environ.update({"GREENFIN_INSTANCE": instance, "RATELIMIT_ENABLED": "0", "LOG_LEVEL": "WARNING",
                       "PUBLIC_BASE_URL": "http://bench.local", "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite"})
    prepare(args.lots)
    from greenfin import create_app
    from greenfin.market import services as market
    from traceability import services as trace

    app = create_app()
    client = app.test_client()
    rows: dict[str, list[float]] = {"baseline": [], "catalogue": [], "page": [], "csv": []}
    entries = 0
    for _ in range(args.rounds):
        with app.app_context():
            rows["baseline"].append(timed(trace.catalogue_lots))
            rows["catalogue"].append(timed(lambda: market.catalogue()))
            entries = len(market.catalogue())
        rows["page"].append(timed(lambda: client.get("/market/catalogue")))
        rows["csv"].append(timed(lambda: client.get("/market/catalogue.csv")))
    median = {k: round(statistics.median(v), 1) for k, v in rows.items()}
    print(json.dumps({"lots": args.lots, "entries": entries, "rounds": args.rounds, "median_ms": median,
                      "catalogue_over_baseline": round(median["catalogue"] / median["baseline"], 2),
                      "load_average": os.getloadavg()[0]}, indent=2))


if __name__ == "__main__":
    main()
