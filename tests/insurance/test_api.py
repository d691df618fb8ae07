"""The insurance API: writes with per-field errors, idempotent retries, producers see their own."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from greenfin.extensions import db
from greenfin.insurance import services
from greenfin.insurance.models import InsurancePolicy, WeatherObservation
from tests.insurance.conftest import FROST, import_season


def test_create_product_and_refuse_bad_terms(api):
    admin = api("admin")
    body = dict(FROST, code="API-FROST")
    made = admin.post("/api/v1/insurance/products", json=body)
    assert made.status_code == 201, made.json
    assert made.json["version"] == 1 and made.json["sum_insured_per_ha"] == "10000.00"
    bad = admin.post("/api/v1/insurance/products", json=dict(body, exit="0", premium_rate="2", peril="hail"))
    assert bad.status_code == 422
    assert {"peril"} <= set(bad.json["errors"])
    bad = admin.post("/api/v1/insurance/products", json=dict(body, exit="0", premium_rate="2"))
    assert bad.status_code == 422 and {"exit", "premium_rate"} <= set(bad.json["errors"])
    assert api("loan_officer").post("/api/v1/insurance/products", json=body).status_code == 403


def test_weather_import_answers_the_report_and_a_retry_is_answered_once(api, create_station):
    station = create_station(code="API-ST")
    admin = api("admin")
    csv = f"station,date,tmin,tmax,precipitation\n{station.code},2025-01-01,1,8,0\n{station.code},2025-01-03,x,8,0\n"
    headers = {"Idempotency-Key": "weather-2025-01"}
    first = admin.post("/api/v1/insurance/weather", json={"csv": csv}, headers=headers)
    assert first.status_code == 200
    assert first.json["created"] == 1 and first.json["errors"][0]["line"] == 3
    again = admin.post("/api/v1/insurance/weather", json={"csv": csv}, headers=headers)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json == first.json
    assert db.session.scalar(select(func.count(WeatherObservation.id))) == 1


def test_issue_policy_evaluate_and_decide_claims(api, frost_setup, create_parcel, drain_jobs):
    station, product, parcels, policies = frost_setup
    maker, checker = api("insurer"), api("insurer")
    parcel = create_parcel()
    current = services.create_product(dict(FROST, code="API-NOW"))
    db.session.commit()
    made = maker.post("/api/v1/insurance/policies", json={"product_id": current.id, "parcel_id": parcel.id,
                                                          "season": 2090}, headers={"Idempotency-Key": "pol-1"})
    assert made.status_code == 201 and made.json["premium"] == "4400.00"
    again = maker.post("/api/v1/insurance/policies", json={"product_id": current.id, "parcel_id": parcel.id,
                                                           "season": 2090}, headers={"Idempotency-Key": "pol-1"})
    assert again.json["id"] == made.json["id"]
    assert db.session.scalar(select(func.count(InsurancePolicy.id)).where(InsurancePolicy.parcel_id == parcel.id)) == 1
    twice = maker.post("/api/v1/insurance/policies", json={"product_id": current.id, "parcel_id": parcel.id,
                                                           "season": 2090})
    assert twice.status_code == 409 and "parcel_id" in twice.json["errors"]
    missing = maker.post("/api/v1/insurance/policies", json={"product_id": current.id, "parcel_id": 10 ** 8,
                                                             "season": 2090})
    assert missing.status_code == 422 and "parcel_id" in missing.json["errors"]
    import_season(station, {date(2025, 12, 20): -3.5})
    job = maker.post("/api/v1/insurance/evaluations", json={"as_of": "2025-12-23"})
    assert job.status_code == 202
    drain_jobs()
    claims = maker.get("/api/v1/insurance/claims?status=pending").json
    assert len(claims) == 2 and claims[0]["amount"] == "16500.00"
    claim_id = claims[0]["id"]
    assert maker.post(f"/api/v1/insurance/claims/{claim_id}/decision", json={"action": "approve"}).status_code == 409
    assert maker.post(f"/api/v1/insurance/claims/{claim_id}/decision", json={"action": "propose"}).status_code == 200
    assert maker.post(f"/api/v1/insurance/claims/{claim_id}/decision", json={"action": "approve"}).status_code == 409
    paid = checker.post(f"/api/v1/insurance/claims/{claim_id}/decision", json={"action": "approve"})
    assert paid.status_code == 200 and paid.json["status"] == "paid" and paid.json["to_holder"] == "16500.00"
    fund = checker.get("/api/v1/insurance/fund").json
    assert fund["claims"] == "16500.00"


def test_producer_sees_only_its_own_policies(api, frost_setup, create_user):
    _station, _product, parcels, policies = frost_setup
    owner = api(user=create_user("producer", party=parcels[0].holder))
    listed = owner.get("/api/v1/insurance/policies").json
    assert [p["id"] for p in listed] == [policies[0].id]
    assert owner.get(f"/api/v1/insurance/policies/{policies[1].id}").status_code == 404
    assert owner.post("/api/v1/insurance/evaluations", json={}).status_code == 403


def test_backtest_needs_twenty_seasons(api, frost_setup):
    station, product, _parcels, _policies = frost_setup
    import_season(station)
    answer = api("loan_officer").get(f"/api/v1/insurance/backtest?product_id={product.id}&station_id={station.id}")
    assert answer.status_code == 422
    assert "at least 20 are needed" in answer.json["errors"]["station_id"][0]
