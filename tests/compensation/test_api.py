"""The compensation API, pages and CLI: one verb behind each door."""
from decimal import Decimal

from greenfin.extensions import db
from tests.compensation.test_services import BUDGET


def test_api_runs_a_scheme_approves_and_refuses_changes(district, api, drain_jobs):
    maker, checker = api("regulator"), api("admin")
    r = maker.post("/api/v1/compensation/schemes", json=BUDGET)
    assert r.status_code == 201, r.json
    scheme_id = r.json["id"]
    r = maker.post("/api/v1/compensation/runs", json={"scheme_id": scheme_id, "period": "2025"},
                   headers={"Idempotency-Key": "run-1"})
    assert r.status_code == 202, r.json
    run_id = r.json["id"]
    drain_jobs()
    again = maker.post("/api/v1/compensation/runs", json={"scheme_id": scheme_id, "period": "2025"})
    assert again.status_code == 202 and again.json["id"] == run_id
    detail = maker.get(f"/api/v1/compensation/runs/{run_id}").json
    assert sum(Decimal(a["amount"]) for a in detail["allocations"]) == Decimal("1000000.00")
    assert all(a["sources"]["accounts"] for a in detail["allocations"])
    assert maker.post(f"/api/v1/compensation/runs/{run_id}/approve").status_code == 403  # maker-checker
    assert maker.get(f"/api/v1/compensation/runs/{run_id}/payments.csv").status_code == 409
    assert checker.post(f"/api/v1/compensation/runs/{run_id}/approve").status_code == 200
    assert checker.post(f"/api/v1/compensation/runs/{run_id}/approve").status_code == 409
    assert checker.post(f"/api/v1/compensation/runs/{run_id}/recompute").status_code == 409
    assert maker.patch(f"/api/v1/compensation/schemes/{scheme_id}", json={"title": "x"}).status_code == 409
    csv = maker.get(f"/api/v1/compensation/runs/{run_id}/payments.csv")
    assert csv.status_code == 200 and csv.data.decode().count("\n") == 1 + len(detail["allocations"])


def test_api_names_bad_rules(api):
    r = api("regulator").post("/api/v1/compensation/schemes", json={
        "code": "B", "title": "b", "kind": "per_hectare", "rules": {"rates": {"forest": "1.001", "moon": "3"}}})
    assert r.status_code == 422
    assert {"rules.rates.forest", "rules.rates.moon"} <= set(r.json["errors"])


def test_api_change_split_and_producer_refused(district, api):
    r = api("regulator").get("/api/v1/compensation/change?base_year=2024&year=2025")
    assert r.status_code == 200
    t = r.json["total"]
    assert Decimal(t["quantity"]) + Decimal(t["price"]) == Decimal(t["total"])
    assert api("producer").get("/api/v1/compensation/change?base_year=2024&year=2025").status_code == 403


def test_pages_show_the_split_and_a_run(district, client, create_user, login, run_scheme, as_user):
    from greenfin.compensation import services

    as_user()
    run, _ = run_scheme(services.create_scheme(BUDGET))
    user = create_user("regulator")
    login(user)
    page = client.get("/compensation?year=2025")
    assert page.status_code == 200 and "T-BUDGET" in page.get_data(as_text=True)
    assert "生态损害" in client.get("/compensation", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    page = client.get(f"/compensation/runs/{run.id}").get_data(as_text=True)
    assert "1,000,000.00" in page
    pdf = client.get(f"/compensation/runs/{run.id}/notice/danan.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    r = client.post(f"/compensation/runs/{run.id}/approve", follow_redirects=True)  # not confirmed: refused
    assert r.status_code == 200
    db.session.expire_all()
    assert not services.get_run(run.id).approved
    r = client.post(f"/compensation/runs/{run.id}/approve", data={"confirm": "y"}, follow_redirects=True)
    assert r.status_code == 200
    db.session.expire_all()
    assert services.get_run(run.id).approved


def test_cli_run_approve_report(district, runner, create_user, tmp_path, drain_jobs):
    from greenfin.compensation import services

    maker, checker = create_user("regulator"), create_user("admin")
    services.create_scheme(BUDGET)
    db.session.commit()
    r = runner.invoke(args=["compensation", "run", "--scheme", "T-BUDGET", "--period", "2025", "--by", maker.username,
                                 "--no-wait"])
    assert r.exit_code == 0, r.output
    run_id = int(r.output.split()[1].rstrip(":"))
    drain_jobs()
    r = runner.invoke(args=["compensation", "approve", str(run_id), "--by", maker.username])
    assert r.exit_code == 2 and "error" in r.output
    r = runner.invoke(args=["compensation", "approve", str(run_id), "--by", checker.username])
    assert r.exit_code == 0, r.output
    out = tmp_path / "pay.csv"
    r = runner.invoke(args=["compensation", "report", str(run_id), "--out", str(out)])
    assert r.exit_code == 0 and out.read_text().startswith("run,scheme")
    r = runner.invoke(args=["compensation", "run", "--scheme", "T-BUDGET", "--period", "20x5"])
    assert r.exit_code == 2


def test_pages_chart_the_signed_quantity_effect(versions, create_parcel, client, create_user, login):
    from greenfin.core import services as core
    from greenfin.gep import services as gep
    from greenfin.uow import commit

    grow, shrink = (create_parcel(township_code=t, land_cover="forest", area_ha=Decimal("10")) for t in ("danan", "wudu"))
    gep.compute_accounts(2024, versions["GF-2024"])
    core.update_parcel(grow, {"area_ha": Decimal("12")})
    core.update_parcel(shrink, {"area_ha": Decimal("5")})
    gep.compute_accounts(2025, versions["GF-2025"])
    commit()
    login(create_user("regulator"))
    html = client.get("/compensation?year=2025").get_data(as_text=True)
    from greenfin.charts import PALETTE

    assert "<svg" in html and 'style="' not in html  # drawn by greenfin/charts.py, nothing inline (CSP)
    assert PALETTE["red"] in html and PALETTE["green"] in html  # a falling and a rising township
    assert "Alert" in html or "预警" in html
