"""The GEP REST API: access rules, parcel GEP, accounts, totals, runs, versions."""
from decimal import Decimal

from sqlalchemy import func, select

from greenfin.job_model import Job
from greenfin.extensions import db
from greenfin.uow import commit
from greenfin.gep import services
from greenfin.gep.models import GepAccount


def test_current_gep_of_parcel(api, versions, gep_parcel):
    parcel = gep_parcel()
    officer = api("loan_officer")
    assert officer.get(f"/api/v1/gep/parcels/{parcel.id}/current").status_code == 404
    account = services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    commit()
    body = officer.get(f"/api/v1/gep/parcels/{parcel.id}/current").json
    assert body == {"value": str(account.total), "account_id": account.id, "year": 2025, "price_version": "GF-2025"}


def test_producer_sees_only_own_parcel_gep(api, versions, gep_parcel):
    producer = api("producer")
    mine = gep_parcel(holder_id=producer.user.party_id)
    other = gep_parcel()
    services.compute_accounts(2025, versions["GF-2025"], parcel_ids=[mine.id, other.id])
    commit()
    assert producer.get(f"/api/v1/gep/parcels/{mine.id}/summary").status_code == 200
    assert producer.get(f"/api/v1/gep/parcels/{other.id}/summary").status_code == 404
    other_account = services.latest_account(other.id)
    assert producer.get(f"/api/v1/gep/accounts/{other_account.id}").status_code == 404
    assert producer.get("/api/v1/gep/totals?year=2025").status_code == 403


def test_compute_parcel_account_via_api(api, versions, gep_parcel):
    parcel = gep_parcel()
    regulator = api("regulator")
    response = regulator.post(f"/api/v1/gep/parcels/{parcel.id}/accounts", json={"year": 2025, "prices": "GF-2024"})
    assert response.status_code == 201, response.json
    assert response.json["price_version"] == "GF-2024"
    assert {s["service"] for s in response.json["services"]} >= {"fruit", "climate_regulation", "recreation"}
    assert response.json["inputs"]["version"] == "GF-2024" and response.json["reproducible"] is True
    listing = regulator.get(f"/api/v1/gep/parcels/{parcel.id}/accounts")
    assert [a["id"] for a in listing.json] == [response.json["id"]]


def test_compute_rejects_bad_year_and_unknown_version(api, versions, gep_parcel):
    parcel = gep_parcel()
    admin = api("admin")
    bad = admin.post(f"/api/v1/gep/parcels/{parcel.id}/accounts", json={"year": 1800})
    assert bad.status_code == 422 and "year" in bad.json["errors"]
    unknown = admin.post(f"/api/v1/gep/parcels/{parcel.id}/accounts", json={"year": 2025, "prices": "nope"})
    assert unknown.status_code == 404 and unknown.json["code"] == "not_found"
    assert api("loan_officer").post(f"/api/v1/gep/parcels/{parcel.id}/accounts", json={"year": 2025}).status_code == 403


def test_run_job_accounts_district(api, versions, gep_parcel, drain_jobs):
    parcels = [gep_parcel(), gep_parcel(land_cover="farmland"), gep_parcel(township_code="hujiao")]
    response = api("regulator").post("/api/v1/gep/runs", json={"year": 2025, "prices": "GF-2025"})
    assert response.status_code == 202, response.json
    drain_jobs()
    db.session.expire_all()
    job = db.session.get(Job, response.json["id"])
    assert job.status == "finished", job.error
    assert job.result["created"] == 3 and job.result["version"] == "GF-2025"
    assert db.session.scalar(select(func.count(GepAccount.id)).where(
        GepAccount.parcel_id.in_([p.id for p in parcels]))) == 3


def test_totals_and_services_endpoints(api, versions, gep_parcel):
    a, b = gep_parcel(), gep_parcel(township_code="hujiao")
    services.compute_accounts(2024, versions["GF-2024"], parcel_ids=[a.id, b.id])
    services.compute_accounts(2025, versions["GF-2025"], parcel_ids=[a.id, b.id])
    commit()
    officer = api("loan_officer")
    rows = officer.get("/api/v1/gep/totals?year=2025&level=township").json
    assert {r["key"] for r in rows} == {"danan", "hujiao"}
    for r in rows:
        assert sum(Decimal(v) for v in r["shares"].values()) == Decimal("100.00")
        assert Decimal(r["change"]) == Decimal(r["total"]) - Decimal(r["previous"])
    [district] = officer.get("/api/v1/gep/totals?year=2025&level=district").json
    assert Decimal(district["total"]) == sum(Decimal(r["total"]) for r in rows)
    by_service = officer.get("/api/v1/gep/services?year=2025").json
    assert sum(Decimal(r["value"]) for r in by_service) == Decimal(district["total"])
    assert officer.get("/api/v1/gep/totals?year=2025&level=county").status_code == 422


def test_versions_copy_and_edit(api, versions):
    admin = api("admin")
    listing = admin.get("/api/v1/gep/versions")
    assert [v["code"] for v in listing.json] == ["GF-2025", "GF-2024"]
    assert '"total": 2' in listing.headers["X-Pagination"]
    assert [v["code"] for v in admin.get("/api/v1/gep/versions?page=2&page_size=1").json] == ["GF-2024"]
    detail = admin.get("/api/v1/gep/versions/GF-2025").json
    carbon = next(p for p in detail["parameters"] if p["key"] == "price_carbon")
    assert carbon["unit"] == "CNY/tCO₂" and carbon["source"] and carbon["year"] == 2025
    created = admin.post("/api/v1/gep/versions", json={
        "source": "GF-2025", "code": "GF-2025-r1", "title": "revised carbon price",
        "changes": {"price_carbon": {"value": "80", "source": "CEA mean 2025 H2", "year": 2025}}})
    assert created.status_code == 201, created.json
    assert created.json["based_on"] == "GF-2025"
    edited = admin.patch("/api/v1/gep/versions/GF-2025-r1/parameters/price_oxygen", json={"value": "650"})
    assert edited.status_code == 200 and Decimal(edited.json["value"]) == Decimal("650")
    assert api("regulator").patch("/api/v1/gep/versions/GF-2025-r1/parameters/price_oxygen",
                                  json={"value": "1"}).status_code == 403
    unknown = admin.post("/api/v1/gep/versions", json={"source": "GF-2025", "code": "X", "changes": {"nope": {"value": 1}}})
    assert unknown.status_code == 422


def test_locked_version_edit_is_409(api, versions, gep_parcel):
    parcel = gep_parcel()
    services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    commit()
    response = api("admin").patch("/api/v1/gep/versions/GF-2025/parameters/price_carbon", json={"value": "1"})
    assert response.status_code == 409 and response.json["code"] == "conflict"


def test_attributes_put_and_get(api, gep_parcel):
    parcel = gep_parcel()
    regulator = api("regulator")
    assert regulator.get(f"/api/v1/gep/parcels/{parcel.id}/attributes").status_code == 404
    response = regulator.put(f"/api/v1/gep/parcels/{parcel.id}/attributes", json={"k_factor": "0.5"})
    assert response.status_code == 422 and "k_factor" in response.json["errors"]
    response = regulator.put(f"/api/v1/gep/parcels/{parcel.id}/attributes", json={"k_factor": "0.031", "npp": 700})
    assert response.status_code == 200
    assert Decimal(response.json["k_factor"]) == Decimal("0.031")
