"""The eco-credit REST API: idempotency keys, review, reversals, ratings workflow, public disclosure."""
from datetime import timedelta

from sqlalchemy import func, select

from credit import services
from credit.models import CreditPosting, Rating, RatingRun
from greenfin.core.models import Party
from greenfin.core.types import utcnow
from greenfin.dates import today as business_today
from greenfin.extensions import db
from tests.conftest import make_resident_id


def posting_body(party, rule="GREEN_TREE_PLANTING", **extra):
    return {"party_id": party.id, "rule_code": rule, "evidence": {"inspector": "王巡查"}} | extra


def test_post_posting_requires_idempotency_key(api, create_party):
    party = create_party(kind="individual")
    response = api("regulator").post("/api/v1/credit/postings", json=posting_body(party))
    assert response.status_code == 422
    assert "idempotency_key" in response.json["errors"]


def test_post_posting_replays_and_conflicts(api, create_party):
    party = create_party(kind="individual")
    client = api("regulator")
    headers = {"Idempotency-Key": "req-1"}
    first = client.post("/api/v1/credit/postings", json=posting_body(party), headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "posted" and first.json["posting"]["points"] == 3
    again = client.post("/api/v1/credit/postings", json=posting_body(party), headers=headers)
    assert again.status_code == 200 and again.json["replayed"] is True
    assert again.json["posting"]["id"] == first.json["posting"]["id"]
    other = client.post("/api/v1/credit/postings", json=posting_body(party, "GREEN_RIVER_PATROL"), headers=headers)
    assert other.status_code == 409 and other.json["code"] == "idempotency_conflict"
    assert db.session.scalar(select(func.count(CreditPosting.id)).where(CreditPosting.party_id == party.id)) == 1


def test_negative_posting_is_pending_then_approved_by_another_regulator(api, create_party):
    party = create_party(kind="individual")
    clerk, reviewer = api("regulator"), api("regulator")
    response = clerk.post("/api/v1/credit/postings", json=posting_body(party, "VIOL_STRAW_BURNING"),
                          headers={"Idempotency-Key": "burn-1"})
    assert response.status_code == 202 and response.json["status"] == "pending"
    pending_id = response.json["pending"]["id"]
    assert [p["id"] for p in reviewer.get("/api/v1/credit/pending").json] == [pending_id]
    assert clerk.post(f"/api/v1/credit/pending/{pending_id}/approve", json={}).status_code == 403
    approved = reviewer.post(f"/api/v1/credit/pending/{pending_id}/approve", json={"note": "照片清楚"})
    assert approved.status_code == 201 and approved.json["points"] == -10
    account = reviewer.get(f"/api/v1/credit/parties/{party.id}/account").json
    assert account["balance"] == -10 and account["postings"] == 1


def test_reversal_api_refuses_second_reversal(api, create_party, post):
    party = create_party(kind="individual")
    original = post(party, "GREEN_TREE_PLANTING")
    client = api("regulator")
    url = f"/api/v1/credit/postings/{original.id}/reversal"
    first = client.post(url, json={"reason": "录错"}, headers={"Idempotency-Key": "rv-1"})
    assert first.status_code == 201 and first.json["posting"]["reverses_id"] == original.id
    assert client.post(url, json={"reason": "录错"}, headers={"Idempotency-Key": "rv-1"}).status_code == 200
    second = client.post(url, json={"reason": "again"}, headers={"Idempotency-Key": "rv-2"})
    assert second.status_code == 409
    reversal_id = first.json["posting"]["id"]
    assert client.post(f"/api/v1/credit/postings/{reversal_id}/reversal", json={"reason": "x"},
                       headers={"Idempotency-Key": "rv-3"}).status_code == 409


def test_producer_cannot_post_and_sees_own_postings(api, create_party, post):
    producer = api("producer")
    own = db.session.get(Party, producer.user.party_id)
    other = create_party()
    post(own, "FIRM_DISCLOSURE")
    post(other, "FIRM_DISCLOSURE")
    assert producer.post("/api/v1/credit/postings", json=posting_body(own, "FIRM_DISCLOSURE"),
                         headers={"Idempotency-Key": "p"}).status_code == 403
    listing = producer.get("/api/v1/credit/postings").json
    assert {p["party_id"] for p in listing} == {own.id}
    assert producer.get(f"/api/v1/credit/parties/{other.id}/account").status_code == 404


def test_account_as_of(api, create_party, post):
    party = create_party(kind="individual")
    day = business_today() - timedelta(days=30)
    post(party, "GREEN_TREE_PLANTING", effective_date=day)
    post(party, "GREEN_RIVER_PATROL")
    body = api("loan_officer").get(f"/api/v1/credit/parties/{party.id}/account?as_of={day - timedelta(days=1)}").json
    assert (body["balance"], body["balance_as_of"], body["score"]) == (6, 0, 0)


def test_rating_run_workflow_over_api(api, create_party, drain_jobs):
    party = create_party()
    first, second = api("regulator"), api("regulator")
    run = first.post("/api/v1/credit/rating-runs", json={"period": "2026-Q3"})
    assert run.status_code == 202 and run.json["job_url"].startswith("/api/v1/jobs/")
    drain_jobs()
    job = first.get(run.json["job_url"]).json
    assert job["status"] == "finished", job
    rating = first.get(f"/api/v1/credit/ratings?party_id={party.id}&period=2026-Q3").json[0]
    override = first.post(f"/api/v1/credit/ratings/{rating['id']}/overrides",
                          json={"to_colour": "yellow", "reason": "现场检查"}).json
    assert first.post(f"/api/v1/credit/overrides/{override['id']}/decision", json={"approve": True}).status_code == 403
    assert second.post(f"/api/v1/credit/overrides/{override['id']}/decision", json={"approve": True}).status_code == 200
    noticed = first.post(f"/api/v1/credit/ratings/{rating['id']}/approve")
    assert noticed.status_code == 200 and noticed.json["state"] == "notice" and noticed.json["colour"] == "yellow"
    assert first.post(f"/api/v1/credit/ratings/{rating['id']}/publish").status_code == 409
    assert api("loan_officer").get(f"/api/v1/credit/parties/{party.id}/rating").status_code == 404


def test_objection_idempotency_key_replays_and_conflicts(api, create_party, regulators):
    producer = api("producer")
    party_id = producer.user.party_id
    run = RatingRun(period_id=services.get_or_create_period("2026-Q3").id, created_by="t")
    db.session.add(run)
    db.session.flush()
    services.rate_all(run)
    rating = db.session.scalar(select(Rating).where(Rating.party_id == party_id))
    services.approve_rating(rating.id, actor=regulators[0])
    db.session.commit()
    url = f"/api/v1/credit/ratings/{rating.id}/objections"
    one = producer.post(url, json={"text": "已整改"}, headers={"Idempotency-Key": "obj-1"})
    two = producer.post(url, json={"text": "已整改"}, headers={"Idempotency-Key": "obj-1"})
    assert one.status_code == 201 and two.status_code == 201 and two.json["id"] == one.json["id"]
    assert two.headers.get("Idempotent-Replayed") == "true"
    assert producer.post(url, json={"text": "别的"}, headers={"Idempotency-Key": "obj-1"}).status_code == 409
    assert len(producer.get("/api/v1/credit/objections").json) == 1


def test_public_ratings_need_no_token_and_mask_individuals(client, create_party, regulators):
    number = make_resident_id()
    person = create_party(kind="individual", name="吴玉兰", resident_id=number)
    run = RatingRun(period_id=services.get_or_create_period("2026-Q3").id, created_by="t")
    db.session.add(run)
    db.session.flush()
    services.rate_all(run)
    rating = db.session.scalar(select(Rating).where(Rating.party_id == person.id))
    services.approve_rating(rating.id, actor=regulators[0], now=utcnow() - timedelta(days=16))
    services.publish_rating(rating.id)
    db.session.commit()
    assert client.get("/api/v1/credit/public/ratings?q=吴玉兰").json == []  # probe item 12: no name oracle
    body = client.get(f"/api/v1/credit/public/ratings?q={number}").json
    assert [r["name"] for r in body] == ["吴*兰"]
    assert "*" in body[0]["identifier"]
    confirm = client.get(f"/api/v1/credit/public/ratings/{rating.certificate_code}")
    assert confirm.status_code == 200 and confirm.json["colour"] == "blue"
    assert client.get("/api/v1/credit/public/ratings/nope").status_code == 404


def test_rules_api_admin_revises_with_audit(api):
    admin = api("admin")
    today = business_today()
    response = admin.post("/api/v1/credit/rules/GREEN_RIVER_PATROL/versions",
                          json={"effective_from": str(today + timedelta(days=1)), "points": 4})
    assert response.status_code == 201 and response.json["version"] == 2
    versions = admin.get("/api/v1/credit/rules/GREEN_RIVER_PATROL/versions").json
    assert [v["points"] for v in versions] == [3, 4]
    audit = admin.get("/api/v1/audit-events?action=credit.rule").json
    assert audit[0]["action"] == "credit.rule.revise"
    assert api("regulator").post("/api/v1/credit/rules/GREEN_RIVER_PATROL/versions",
                                 json={"effective_from": str(today), "points": 5}).status_code == 403


def test_rules_catalogue_is_paginated(api):
    import json

    admin = api("admin")
    first = admin.get("/api/v1/credit/rules?page_size=5")
    total = json.loads(first.headers["X-Pagination"])["total"]
    assert first.status_code == 200 and len(first.json) == 5 and total > 5
    every = [r["code"] for p in range(1, -(-total // 20) + 1)
             for r in admin.get(f"/api/v1/credit/rules?page={p}&page_size=20").json]
    assert len(every) == len(set(every)) == total  # one version of each rule in force, none twice
    today = business_today()
    admin.post("/api/v1/credit/rules/GREEN_RIVER_PATROL/versions",
               json={"effective_from": str(today + timedelta(days=1)), "points": 4})
    history = admin.get("/api/v1/credit/rules?history=true&page_size=1")
    assert json.loads(history.headers["X-Pagination"])["total"] == total + 1


def test_verify_endpoint(api, create_party, post):
    post(create_party(kind="individual"), "GREEN_TREE_PLANTING")
    body = api("regulator").get("/api/v1/credit/ledger/verify").json
    assert body["ok"] is True and body["postings"] >= 1
