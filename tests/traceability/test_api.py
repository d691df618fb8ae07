"""The traceability REST API: access, scoping, labels job, recall, EPCIS capture."""
import json
from datetime import timedelta

from sqlalchemy import func, select

from greenfin.dates import today as business_today
from greenfin.extensions import db
from tests.traceability.conftest import epcis_document, make_gtin, observe
from traceability.models import Label


def test_producer_registers_product_and_lot(api, create_parcel, create_brand):
    producer = api("producer")
    party_id = producer.user.party_id
    parcel = create_parcel(holder_id=party_id)
    response = producer.post("/api/v1/trace/products", json={"gtin": make_gtin(), "name": "马家柚", "owner_id": party_id})
    assert response.status_code == 201, response.json
    lot = producer.post("/api/v1/trace/lots", json={"code": "MJY-API-1", "product_id": response.json["id"],
                                                    "producer_id": party_id, "quantity": "100",
                                                    "parcel_ids": [parcel.id]})
    assert lot.status_code == 201, lot.json
    assert lot.json["parcel_ids"] == [parcel.id] and lot.json["gtin"] == response.json["gtin"]
    listing = producer.get("/api/v1/trace/lots")
    assert [x["code"] for x in listing.json] == ["MJY-API-1"]


def test_producer_cannot_touch_another_partys_lot(api, create_lot):
    lot = create_lot()
    producer = api("producer")
    assert producer.get(f"/api/v1/trace/lots/{lot.id}").status_code == 404
    assert producer.post(f"/api/v1/trace/lots/{lot.id}/events", json={"kind": "harvest"}).status_code == 404
    assert producer.post("/api/v1/trace/lots", json={"code": "X", "product_id": lot.product_id,
                                                     "producer_id": lot.producer_id, "quantity": "1"}).status_code == 404


def test_invalid_lot_names_the_fields(api, create_product):
    product = create_product()
    response = api("admin").post("/api/v1/trace/lots", json={"code": "有中文", "product_id": product.id,
                                                             "producer_id": product.owner_id, "quantity": "0"})
    assert response.status_code == 422
    assert {"code", "quantity"} <= set(response.json["errors"])


def test_label_batch_job_issues_labels_and_pdf(api, create_lot, drain_jobs, create_user):
    lot = create_lot()
    admin = api("admin")
    response = admin.post(f"/api/v1/trace/lots/{lot.id}/label-batches", json={"count": 30, "layout": "roll-40x30"})
    assert response.status_code == 202, response.json
    drain_jobs()
    job = admin.get(f"/api/v1/jobs/{response.json['job_id']}").json
    assert job["status"] == "finished" and job["progress"] == 100, job
    assert job["result_url"] == f"/trace/batches/{response.json['id']}/sheet.pdf"
    assert db.session.scalar(select(func.count(Label.id)).where(Label.lot_id == lot.id)) == 30


def test_recall_needs_a_regulator(api, create_lot):
    lot = create_lot()
    assert api("loan_officer").post(f"/api/v1/trace/lots/{lot.id}/recall", json={"reason": "x"}).status_code == 403
    response = api("regulator").post(f"/api/v1/trace/lots/{lot.id}/recall", json={"reason": "抽检不合格"})
    assert response.status_code == 200 and response.json["recalled_at"]
    assert api("regulator").post(f"/api/v1/trace/lots/{lot.id}/recall", json={"reason": "x"}).status_code == 409


def test_certificates_api(api, create_lot):
    lot = create_lot()
    regulator = api("regulator")
    body = {"kind": "green_food", "number": "LB-API", "issuer": "中国绿色食品发展中心", "scope": "product",
            "party_id": lot.producer_id, "product_id": lot.product_id,
            "valid_from": (business_today() - timedelta(days=5)).isoformat(),
            "valid_until": (business_today() + timedelta(days=5)).isoformat()}
    created = regulator.post("/api/v1/trace/certifications", json=body)
    assert created.status_code == 201 and created.json["status"] == "valid"
    assert api("producer").post("/api/v1/trace/certifications", json=body).status_code == 403
    revoked = regulator.post(f"/api/v1/trace/certifications/{created.json['id']}/revoke", json={"reason": "撤销"})
    assert revoked.json["status"] == "revoked"


def test_brand_authorisations_are_listed_renewed_and_revoked(api, create_brand, create_party):
    brand, party = create_brand(), create_party()
    regulator, url = api("regulator"), f"/api/v1/trace/brands/{brand.id}/authorisations"
    today = business_today()
    lapsed = regulator.post(url, json={"party_id": party.id, "valid_from": (today - timedelta(days=400)).isoformat(),
                                       "valid_until": (today - timedelta(days=30)).isoformat()})
    assert lapsed.status_code == 201, lapsed.json
    overlapping = regulator.post(url, json={"party_id": party.id, "valid_from": (today - timedelta(days=60)).isoformat()})
    assert overlapping.status_code == 409 and "renewal" in overlapping.json["message"]
    renewal = regulator.post(url, json={"party_id": party.id, "valid_from": (today - timedelta(days=29)).isoformat()})
    assert renewal.status_code == 201, renewal.json
    assert [a["id"] for a in regulator.get(url).json] == [lapsed.json["id"], renewal.json["id"]]
    revoke = f"{url}/{renewal.json['id']}/revoke"
    assert regulator.post(revoke, json={"reason": ""}).status_code == 422
    assert api("producer").post(revoke, json={"reason": "x"}).status_code == 403
    assert api("producer").get(url).status_code == 403
    assert regulator.post(f"/api/v1/trace/brands/{brand.id + 1000}/authorisations/{renewal.json['id']}/revoke",
                          json={"reason": "x"}).status_code == 404
    revoked = regulator.post(revoke, json={"reason": "标签假冒"})
    assert revoked.status_code == 200 and revoked.json["revoked_at"] and revoked.json["revoke_reason"] == "标签假冒"
    assert regulator.post(revoke, json={"reason": "again"}).status_code == 409


def test_epcis_capture_refuses_invalid_and_is_idempotent(api):
    admin = api("admin")
    document = epcis_document(observe("urn:epc:class:lgtin:0614141.077777.987"),
                              observe("https://id.gs1.org/01/70614141123451/10/L2", bizStep="shipping"))
    first = admin.post("/api/v1/trace/epcis/capture", json=document)
    assert first.status_code == 201 and first.json == {"created": 2, "skipped": 0}
    assert admin.post("/api/v1/trace/epcis/capture", json=document).json == {"created": 0, "skipped": 2}
    document["epcisBody"]["eventList"][0]["action"] = "FLY"
    bad = admin.post("/api/v1/trace/epcis/capture", json=document)
    assert bad.status_code == 422 and bad.json["errors"]["epcisBody.eventList.0.action"]


def test_trace_and_scan_stats(api, create_lot, issue_labels, client, edge_proxy):
    from urllib.parse import urlsplit

    from traceability import services

    lot = create_lot()
    batch = issue_labels(lot, 3)
    for uri, _s in services.iter_batch_labels(batch):
        parts = urlsplit(uri)
        client.get(parts.path + "?" + parts.query, headers=edge_proxy("203.0.113.7", region="CN-SH"))
    stats = api("admin").get(f"/api/v1/trace/lots/{lot.id}/scan-stats").json
    assert stats["total"] == 3 and stats["labels_scanned"] == 3 and stats["regions"] == [["上海", 3]]
    assert sum(n for _d, n in stats["daily"]) == 3
    trace = api("admin").get(f"/api/v1/trace/lots/{lot.id}/trace").json
    assert trace["lot"]["code"] == lot.code and len(trace["parcels"]) == 1
