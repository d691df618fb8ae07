"""Scans, ledger postings and a label job through 2 gunicorn processes and 2 rq workers at once.

Afterwards nothing is lost or duplicated: every answered scan is recorded once, every posting
key is posted once (retries replay), the label job's labels exist once each, the ledger verifies.
"""
from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from greenfin.dates import today as business_today
from greenfin.core import services as core
from greenfin.core.identifiers import gtin_check_digit
from greenfin.extensions import db
from greenfin.uow import commit
from greenfin.stack import http
from tests.conftest import make_uscc

pytestmark = [pytest.mark.multiprocess, pytest.mark.no_db_isolation]


@pytest.fixture(scope="module")
def producer_lot(stack):
    from traceability import services as trace

    with stack["app"].app_context():
        party = core.create_party({"kind": "firm", "name": "压力测试马家柚果业公司", "uscc": make_uscc("91"),
                                   "township_code": "danan", "village": "古村村"})
        parcel = core.create_parcel({"code": f"LD-{uuid.uuid4().hex[:8]}", "holder_id": party.id,
                                     "township_code": "danan", "area_ha": Decimal("8.5"), "land_cover": "orchard",
                                     "lat": Decimal("28.49"), "lon": Decimal("118.29"), "cert_type": "land_contract",
                                     "cert_no": "赣(2021)广丰区不动产权第0000099号"})
        brand = trace.create_brand({"name": f"马家柚{uuid.uuid4().hex[:4]}", "name_en": "Majia pomelo"})
        trace.authorise_brand(brand.id, party.id, date(2020, 1, 1))
        body = "069" + str(uuid.uuid4().int)[:10]
        product = trace.create_product({"gtin": body + gtin_check_digit(body), "name": "马家柚鲜果",
                                        "brand_id": brand.id, "owner_id": party.id})
        lot = trace.create_lot({"code": f"LD{uuid.uuid4().hex[:8].upper()}", "product_id": product.id,
                                "producer_id": party.id, "harvest_date": business_today() - timedelta(days=10),
                                "quantity": Decimal(1000), "parcel_ids": [parcel.id]})
        batch = trace.create_label_batch(lot, 200, "a4-3x8")
        trace.issue_labels(batch)
        producer = core.create_user({"username": f"load-{uuid.uuid4().hex[:6]}", "role": "producer",
                                     "password": "stack-password-1", "party_id": party.id})
        token = core.issue_token(producer, "load")[1]
        commit()
        paths = [urlsplit(uri)._replace(scheme="", netloc="").geturl() for uri, _ in trace.iter_batch_labels(batch)]
        result = {"party_id": party.id, "lot_id": lot.id, "paths": paths, "token": token}
        db.session.remove()
    return result


def test_scans_postings_and_label_job_together(stack, producer_lot):
    from credit.integrity import verify_ledger
    from credit.models import CreditPosting
    from greenfin.job_model import Job
    from traceability.models import Label, LabelBatch, Scan

    base, regulator = stack["url"], stack["tokens"]["regulator"]
    keys = [f"load-{uuid.uuid4().hex}" for _ in range(60)]

    def scan(path):
        return http("GET", base + path, headers={"Accept": "application/json"})[0]

    def post(key):  # every key is sent twice: the retry must replay, not post again
        codes = []
        for _ in range(2):
            codes.append(http("POST", base + "/api/v1/credit/postings", regulator,
                              {"party_id": producer_lot["party_id"], "rule_code": "FIRM_DISCLOSURE",
                               "idempotency_key": key})[0])
        return codes

    with ThreadPoolExecutor(max_workers=8) as pool:
        job_status, job_body, _ = http("POST", base + f"/api/v1/trace/lots/{producer_lot['lot_id']}/label-batches",
                                       producer_lot["token"], {"count": 60, "layout": "a4-3x8"})
        scans = pool.map(scan, producer_lot["paths"] * 2)
        postings = pool.map(post, keys)
        scan_codes, posting_codes = list(scans), list(postings)

    assert job_status == 202, job_body
    batch = json.loads(job_body)
    assert set(scan_codes) == {200}
    assert all(codes[0] in (200, 201) and codes[1] in (200, 201) for codes in posting_codes), posting_codes

    deadline = time.time() + 120
    with stack["app"].app_context():
        while time.time() < deadline:
            db.session.expire_all()
            job = db.session.get(Job, db.session.get(LabelBatch, batch["id"]).job_id)
            if job.status in ("finished", "failed"):
                break
            time.sleep(0.5)
        assert job.status == "finished", job.error
        assert db.session.scalar(select(func.count(Label.id)).where(Label.batch_id == batch["id"])) == 60
        assert db.session.scalar(select(func.count(Scan.id)).where(Scan.lot_id == producer_lot["lot_id"])) == \
            len(scan_codes)
        stored = db.session.scalars(select(CreditPosting.idempotency_key)
                                    .where(CreditPosting.idempotency_key.in_(keys))).all()
        assert sorted(stored) == sorted(keys), "each key posted exactly once"
        report = verify_ledger()
        assert report.ok, report.problems[:5]
        db.session.remove()
