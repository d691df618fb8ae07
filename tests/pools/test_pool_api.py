"""The pools REST API: status codes, error shape, nothing stored on bad input, jobs, files."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from greenfin.dates import today as business_today
from greenfin.extensions import db
from greenfin.pools.models import Pool, PoolCut, PoolMembership, ServicerReport


def assert_error(response, status):
    assert response.status_code == status, response.json
    assert set(response.json) == {"status", "code", "message", "errors"}


@pytest.fixture
def officer(api):
    return api("loan_officer")


@pytest.fixture
def pool_id(officer, create_party):
    bank = create_party(sector="banking")
    response = officer.post("/api/v1/pools", json={"code": "API-1", "name": "API pool", "originator_id": bank.id,
                                                   "criteria": {"max_obligor_share": None, "max_township_share": None}})
    assert response.status_code == 201, response.json
    return response.json["id"]


def recent_loan(create_loan, **kw):
    return create_loan(disbursed_on=business_today() - timedelta(days=5), **kw)


def test_create_pool_with_bad_rates_is_422_and_stores_nothing(officer, create_party):
    bank = create_party()
    response = officer.post("/api/v1/pools", json={"code": "X", "name": "x", "originator_id": bank.id,
                                                   "structure": {"servicer_fee": "-0.5"},
                                                   "criteria": {"max_obligor_share": "2"}})
    assert_error(response, 422)
    assert {"structure.servicer_fee", "criteria.max_obligor_share"} <= set(response.json["errors"])
    assert db.session.scalar(select(func.count()).select_from(Pool)) == 0


def test_unknown_pool_is_404(officer):
    assert_error(officer.get("/api/v1/pools/9999"), 404)
    assert_error(officer.post("/api/v1/pools/9999/loans", json={"loan_ids": [1]}), 404)


def test_add_loans_statuses(officer, pool_id, create_loan, create_party, api):
    good = recent_loan(create_loan)
    late = create_loan(disbursed_on=date(2025, 2, 1))
    created = officer.post(f"/api/v1/pools/{pool_id}/loans", json={"loan_ids": [good.id], "reason": "first"})
    assert created.status_code == 201 and created.json[0]["loan_number"] == good.number
    assert_error(officer.post(f"/api/v1/pools/{pool_id}/loans", json={"loan_ids": [123456]}), 404)
    refused = officer.post(f"/api/v1/pools/{pool_id}/loans", json={"loan_ids": [late.id]})
    assert_error(refused, 422)
    assert refused.json["code"] == "ineligible"
    assert any("days past due" in m for m in refused.json["errors"][f"loan {late.number}"])
    other = officer.post("/api/v1/pools", json={"code": "API-2", "name": "other",
                                                "originator_id": create_party().id}).json["id"]
    twice = officer.post(f"/api/v1/pools/{other}/loans", json={"loan_ids": [good.id]})
    assert_error(twice, 409)
    assert db.session.scalar(select(func.count()).select_from(PoolMembership)) == 1
    # Regulators read but do not change pools.
    regulator = api("regulator")
    assert regulator.get(f"/api/v1/pools/{pool_id}/loans").status_code == 200
    assert_error(regulator.post(f"/api/v1/pools/{pool_id}/loans", json={"loan_ids": [good.id]}), 403)


def test_producers_have_no_access(api, pool_id):
    assert_error(api("producer").get(f"/api/v1/pools/{pool_id}"), 403)


def test_cut_publish_tape_and_immutability(officer, pool_id, create_loan):
    loan = recent_loan(create_loan, collateral_value="300000")
    officer.post(f"/api/v1/pools/{pool_id}/loans", json={"loan_ids": [loan.id]})
    cut = officer.post(f"/api/v1/pools/{pool_id}/cuts", json={"note": "closing"})
    assert cut.status_code == 201 and cut.json["status"] == "draft"
    cut_id = cut.json["id"]
    published = officer.post(f"/api/v1/pools/{pool_id}/cuts/{cut_id}/publish")
    assert published.json["status"] == "published"
    assert_error(officer.post(f"/api/v1/pools/{pool_id}/cuts/{cut_id}/publish"), 409)
    assert_error(officer.delete(f"/api/v1/pools/{pool_id}/cuts/{cut_id}"), 409)
    tape = officer.get(f"/api/v1/pools/{pool_id}/cuts/{cut_id}/tape.csv")
    assert tape.status_code == 200 and tape.mimetype == "text/csv"
    assert loan.number in tape.get_data(as_text=True)
    detail = officer.get(f"/api/v1/pools/{pool_id}/cuts/{cut_id}").json
    assert detail["lines"][0]["loan_number"] == loan.number
    assert db.session.scalar(select(func.count()).select_from(PoolCut)) == 1


def test_projection_endpoint(officer, pool_id, create_loan):
    loan = recent_loan(create_loan)
    officer.post(f"/api/v1/pools/{pool_id}/loans", json={"loan_ids": [loan.id]})
    ok = officer.get(f"/api/v1/pools/{pool_id}/projection?cpr=0.06&cdr=0.02&severity=0.4&months=30")
    assert ok.status_code == 200, ok.json
    assert ok.json["source"] == "live" and len(ok.json["months"]) == 30
    assert {t["name"] for t in ok.json["tranches"]} == {"A", "B", "C"}
    bad = officer.get(f"/api/v1/pools/{pool_id}/projection?cpr=-0.06")
    assert_error(bad, 422)
    assert "cpr" in bad.json["errors"]
    assert_error(officer.get(f"/api/v1/pools/{pool_id}/projection?cdr=1.5"), 422)


def test_report_job_and_pdf(officer, pool_id, create_loan, pay_through, drain_jobs):
    loan = create_loan(disbursed_on=date(2026, 1, 10))
    pay_through(loan, date(2026, 9, 30))
    officer.post(f"/api/v1/pools/{pool_id}/loans", json={"loan_ids": [loan.id], "added_on": "2026-06-30"})
    assert_error(officer.post(f"/api/v1/pools/{pool_id}/reports", json={"month": "2026-08"}), 422)  # no cut yet
    officer.post(f"/api/v1/pools/{pool_id}/cuts", json={"as_of": "2026-06-30", "publish": True})
    assert_error(officer.post(f"/api/v1/pools/{pool_id}/reports", json={"month": "August"}), 422)
    assert_error(officer.get(f"/api/v1/pools/{pool_id}/reports/2026-08"), 404)
    accepted = officer.post(f"/api/v1/pools/{pool_id}/reports", json={"month": "2026-08"})
    assert accepted.status_code == 202, accepted.json
    drain_jobs()
    job = officer.get(accepted.json["status_url"]).json
    assert job["status"] == "finished", job
    assert job["result_url"] == f"/pools/{pool_id}/reports/2026-08"
    report = officer.get(f"/api/v1/pools/{pool_id}/reports/2026-08")
    assert report.status_code == 200 and report.json["figures"]["loan_count_end"] == 1
    pdf = officer.get(f"/api/v1/pools/{pool_id}/reports/2026-08/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert db.session.scalar(select(func.count()).select_from(ServicerReport)) == 1


def test_statistics_candidates_remove_and_substitute(officer, pool_id, create_loan):
    a = recent_loan(create_loan, amount="100000")
    b = recent_loan(create_loan, amount="50000")
    late = create_loan(disbursed_on=date(2025, 2, 1))
    officer.post(f"/api/v1/pools/{pool_id}/loans", json={"loan_ids": [a.id]})
    stats = officer.get(f"/api/v1/pools/{pool_id}/statistics").json
    assert stats["headline"]["count"] == 1 and stats["headline"]["total_balance"] == 100000
    assert set(stats["strata"]) == {"product", "township", "colour", "ltv", "dpd", "remaining_term"}
    found = {c["loan_id"]: c for c in officer.get(f"/api/v1/pools/{pool_id}/candidates?page_size=100").json}
    assert found[b.id]["eligible"] and not found[late.id]["eligible"] and a.id not in found
    assert_error(officer.post(f"/api/v1/pools/{pool_id}/substitutions",
                              json={"out_loan_id": a.id, "in_loan_id": late.id, "reason": "swap"}), 422)
    swapped = officer.post(f"/api/v1/pools/{pool_id}/substitutions",
                           json={"out_loan_id": a.id, "in_loan_id": b.id, "reason": "prepaid"})
    assert swapped.status_code == 201 and swapped.json["loan_id"] == b.id
    assert_error(officer.post(f"/api/v1/pools/{pool_id}/loans/{a.id}/remove", json={"reason": "x"}), 404)
    assert_error(officer.post(f"/api/v1/pools/{pool_id}/loans/{b.id}/remove", json={}), 422)
    removed = officer.post(f"/api/v1/pools/{pool_id}/loans/{b.id}/remove", json={"reason": "repurchased"})
    assert removed.status_code == 200 and removed.json["removed_on"] == business_today().isoformat()
    assert officer.get(f"/api/v1/pools/{pool_id}/loans").json == []


def test_candidates_are_paginated_and_judged_as_in_the_full_list(officer, pool_id, create_loan):
    loans = [recent_loan(create_loan, amount="60000") for _ in range(3)] + [create_loan(disbursed_on=date(2025, 2, 1))
                                                                          for _ in range(2)]
    url = f"/api/v1/pools/{pool_id}/candidates"
    full = officer.get(f"{url}?page_size=100")
    assert '"total": 5' in full.headers["X-Pagination"] and [c["loan_id"] for c in full.json] == [l.id for l in loans]
    page = officer.get(f"{url}?page=2&page_size=2")
    assert page.status_code == 200 and '"total": 5' in page.headers["X-Pagination"]
    assert page.json == full.json[2:4]  # a loan is judged against the pool, not against its page
    assert [c["eligible"] for c in full.json] == [True, True, True, False, False]
    assert len(officer.get(url).json) == 5  # the default page (10) holds them all


def test_patch_pool_with_bad_structure_is_422(officer, pool_id):
    response = officer.patch(f"/api/v1/pools/{pool_id}", json={"structure": {"cleanup_call": "1.5"}})
    assert_error(response, 422)
    assert "structure.cleanup_call" in response.json["errors"]
    officer.patch(f"/api/v1/pools/{pool_id}", json={"structure": {"cleanup_call": "0.05"}})
    ok = officer.patch(f"/api/v1/pools/{pool_id}", json={"structure": {"principal_mode": "sequential"}})
    assert ok.status_code == 200 and ok.json["structure"]["principal_mode"] == "sequential"
    assert ok.json["structure"]["cleanup_call"] == "0.05"  # a partial change keeps the rest
    assert ok.json["criteria"]["max_obligor_share"] is None
