"""Compensation services on real GEP accounts: the ΔGEP split, schemes, runs, approval, tracing."""
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from greenfin.compensation import rules as R
from greenfin.compensation import services
from greenfin.compensation.models import CompensationAllocation, CompensationRun
from greenfin.errors import Conflict, Forbidden, ValidationFailed
from greenfin.extensions import db
from greenfin.gep import services as gep
from greenfin.uow import commit

BUDGET = {"code": "T-BUDGET", "title": "Transfer payments", "kind": "budget_split",
          "rules": {"budget": "1000000.00", "weights": {"regulating": "0.7", "quantity": "0.3"}}}


def test_gep_change_splits_exactly_and_the_price_change_is_not_ecological(district):
    report = services.gep_change(2024, 2025)
    assert report.base_prices == "GF-2024" and report.prices == ["GF-2025"]
    stored = {y: sum((a.total for a in gep.year_accounts(y, with_services=False)), Decimal(0)) for y in (2024, 2025)}
    total = report.total
    assert total.quantity + total.price == total.total == stored[2025] - stored[2024]
    for p in report.parcels:
        assert p.change.quantity + p.change.price == p.change.total
    towns = report.by_township()
    # danan and wudu parcels did not change: their quantity effect is only the recreation visitors
    # (a parameter of the version, 11.8 → 12.6 million trips), never the carbon price
    danan = [p for p in report.parcels if p.township_code == "danan"]
    assert towns["danan"].quantity == sum((p.services["recreation"].quantity for p in danan), Decimal(0)) != 0
    assert all(c.quantity == 0 for p in danan for code, c in p.services.items() if code != "recreation")
    assert report.by_service()["carbon_sequestration"].quantity > 0  # the hufeng parcel grew
    carbon_price_effect = report.by_service()["carbon_sequestration"].price
    assert carbon_price_effect < 0  # 97.5 → 72 CNY/t: a fall that reads as price, not as ecology
    assert towns["hufeng"].quantity > towns["danan"].quantity


def test_repricing_unchanged_parcels_gives_zero_quantity_effect(versions, create_parcel):
    for t, c, a in [("danan", "forest", "12"), ("wudu", "wetland", "4")]:
        create_parcel(township_code=t, land_cover=c, area_ha=Decimal(a))
    gep.compute_accounts(2024, versions["GF-2024"])
    repriced = gep.copy_version(versions["GF-2024"], {"code": "T-REPRICE", "title": "carbon only", "year": 2024},
                                {"price_carbon": {"value": "150"}})
    gep.compute_accounts(2025, repriced)
    commit()
    report = services.gep_change(2024, 2025)
    assert all(c.quantity == 0 for c in report.by_township().values())
    assert report.total.price > 0 and report.total.quantity == 0
    assert report.total.price == report.by_service()["carbon_sequestration"].price


def test_scheme_rules_are_checked_and_named(as_user):
    as_user()
    with pytest.raises(ValidationFailed) as exc:
        services.create_scheme({"code": "X", "title": "x", "kind": "budget_split",
                                "rules": {"budget": "-5", "weights": {"regulating": "abc"}}})
    assert {"rules.budget", "rules.weights.regulating"} <= set(exc.value.errors)
    with pytest.raises(ValidationFailed) as exc:
        services.create_scheme({"code": "W", "title": "w", "kind": "water_bet", "rules": {
            "upstream": "danan", "downstream": "danan", "amount": "1", "stations": [],
            "indicators": {"tp": {"baseline": "0.1", "weight": "0.5"}}}})
    assert {"rules.downstream", "rules.stations", "rules.indicators"} <= set(exc.value.errors)


def test_budget_run_adds_up_approves_and_cannot_change(run_scheme, district, as_user):
    maker = as_user()
    scheme = services.create_scheme(BUDGET)
    run, job = run_scheme(scheme)
    assert job is not None and run.computed_at is not None and run.created_by_id == maker.id
    assert sum(r.amount for r in run.allocations) == Decimal("1000000.00") == run.total
    assert {r.township_code for r in run.allocations} == {"danan", "hufeng", "wudu"}
    # the scheme is locked: edits answer 409, a new version is the way
    with pytest.raises(Conflict):
        services.update_scheme(scheme, {"title": "changed"})
    v2 = services.new_scheme_version(scheme, {"rules": BUDGET["rules"] | {"budget": "2000000.00"}})
    assert v2.version == 2 and not v2.locked
    # maker-checker
    with pytest.raises(Forbidden):
        services.approve_run(run)
    as_user()
    services.approve_run(run)
    commit()
    with pytest.raises(Conflict):
        services.compute_run(run)
    with pytest.raises(Conflict):
        services.approve_run(run)
    # the same scheme and period again: the same run, no new job
    again, job = services.start_run(scheme.id, "2025")
    assert again.id == run.id and job is None


@pytest.mark.parametrize("statement", [
    "UPDATE compensation_runs SET total = 1 WHERE id = :id",
    "DELETE FROM compensation_allocations WHERE run_id = :id",
    "UPDATE compensation_allocations SET amount = 0 WHERE run_id = :id",
])
def test_the_database_refuses_to_change_an_approved_run(run_scheme, district, as_user, statement):
    as_user()
    run, _ = run_scheme(services.create_scheme(BUDGET))
    as_user()
    services.approve_run(run)
    commit()
    with pytest.raises(sa.exc.DBAPIError):
        with db.session.begin_nested():
            db.session.execute(sa.text(statement), {"id": run.id})


def test_every_allocation_row_traces_to_accounts_and_prices_and_recomputes(run_scheme, district, as_user):
    as_user()
    run, _ = run_scheme(services.create_scheme(BUDGET))
    regulating, quantity = {}, {}
    for row in run.allocations:
        src = row.sources
        cited = gep.year_accounts(src["year"], account_ids=src["accounts"])
        assert {a.township_code for a in cited} == {row.township_code}
        assert {a.version for a in cited} == set(src["price_versions"])
        regulating[row.township_code] = sum((a.regulating for a in cited), Decimal(0))
        # quantity effect: the cited year-1 accounts at the base prices minus the cited base accounts
        at_base = gep.revalue_accounts(src["accounts"], src["base_prices"])
        base = gep.revalue_accounts(src["base_accounts"], src["base_prices"])
        quantity[row.township_code] = (sum((sum(v.values(), Decimal(0)) for v in at_base.values()), Decimal(0))
                                       - sum((sum(v.values(), Decimal(0)) for v in base.values()), Decimal(0)))
        assert Decimal(row.basis["regulating"]) == regulating[row.township_code]
        assert Decimal(row.basis["quantity_effect"]) == quantity[row.township_code]
    w = run.scheme.rules["weights"]
    amounts = R.allocate(Decimal("1000000.00"), R.budget_scores(regulating, quantity, Decimal(w["regulating"]),
                                                                 Decimal(w["quantity"])))
    assert {r.township_code: r.amount for r in run.allocations} == amounts


WATER = {"code": "T-RIVER", "title": "Fengxi river bet", "kind": "water_bet", "rules": {
    "upstream": "danan", "downstream": "wudu", "amount": "500000.00", "k0": "1", "threshold": "1",
    "stations": ["S1"], "indicators": {"codmn": {"baseline": "4", "weight": "0.5"}, "tp": {"baseline": "0.1", "weight": "0.5"}}}}


@pytest.mark.parametrize("factor, payer, payee", [("0.99", "wudu", "danan"), ("1.01", "danan", "wudu")])
def test_water_bet_run_pays_the_right_way(run_scheme, as_user, factor, payer, payee):
    as_user()
    f = Decimal(factor)
    csv = "station,date,indicator,value\n" + "".join(
        f"S1,2025-{m:02d}-15,codmn,{4 * f}\nS1,2025-{m:02d}-15,tp,{Decimal('0.1') * f}\n" for m in range(1, 13))
    assert services.import_monitoring(csv) == {"rows": 24, "added": 24, "skipped": 0}
    run, _ = run_scheme(services.create_scheme(WATER))
    [row] = run.allocations
    assert (row.payer, row.payee, row.amount) == (payer, payee, Decimal("500000.00"))
    assert Decimal(row.basis["index"]) == f
    assert len(row.sources["monitoring"]) == 24


def test_monitoring_import_is_all_or_nothing_and_names_the_line(as_user):
    with pytest.raises(ValidationFailed) as exc:
        services.import_monitoring("station,date,indicator,value\nS1,2025-01-01,tp,0.1\nS1,2025-13-01,tp,x\n")
    assert "line 3" in exc.value.errors
    assert db.session.scalar(sa.text("select count(*) from compensation_monitoring")) == 0


def test_per_hectare_run_pays_protected_area(run_scheme, district, as_user):
    as_user()
    scheme = services.create_scheme({"code": "T-HA", "title": "forest and wetland", "kind": "per_hectare",
                                     "rules": {"rates": {"forest": "150.00", "wetland": "300.00"}}})
    run, _ = run_scheme(scheme)
    amounts = {r.township_code: r.amount for r in run.allocations}
    assert amounts == {"danan": Decimal("1800.00"), "hufeng": Decimal("1800.00") + Decimal("1200.00")}


def test_eco_job_run_posts_eco_credit_points_on_approval(run_scheme, as_user, create_party):
    ranger = create_party(kind="individual", name="护林员")
    as_user()
    scheme = services.create_scheme({"code": "T-JOBS", "title": "rangers", "kind": "eco_jobs", "rules": {
        "monthly_pay": "800.00", "jobs": [{"party_id": ranger.id, "role": "ranger", "months": 12,
                                           "township_code": "danan"}]}})
    run, _ = run_scheme(scheme)
    assert run.allocations[0].amount == Decimal("9600.00")
    as_user()
    services.approve_run(run)
    commit()
    from credit import services as credit

    rows = db.session.execute(sa.text("select source_id from credit_postings where party_id = :p and source = 'compensation'"),
                              {"p": ranger.id}).scalars().all()
    assert rows == [f"{run.id}:1"]
    assert credit is not None


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

COVERS = ["forest", "orchard", "farmland", "tea", "grassland", "wetland", "water", "built"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["danan", "wudu", "hufeng"]), st.sampled_from(COVERS),
                          st.decimals(min_value="0.1", max_value="500", places=2),
                          st.sampled_from(["same", "grow", "shrink", "cover", "gone"])), min_size=1, max_size=6))
def test_gep_change_adds_up_on_generated_accounts(versions, create_parcel, parcels):
    """Generated parcels accounted in two years with two price versions (areas, covers changed, one gone)."""
    from greenfin.core import services as core
    from greenfin.gep.models import GepAccount

    made = [(create_parcel(township_code=t, land_cover=c, area_ha=a), how) for t, c, a, how in parcels]
    gep.compute_accounts(2030, versions["GF-2024"], parcel_ids=[p.id for p, _ in made])
    kept = []
    for p, how in made:
        if how == "grow":
            core.update_parcel(p, {"area_ha": p.area_ha * 2})
        elif how == "shrink":
            core.update_parcel(p, {"area_ha": (p.area_ha / 2).quantize(Decimal("0.01")) or Decimal("0.01")})
        elif how == "cover":
            core.update_parcel(p, {"land_cover": "forest" if p.land_cover != "forest" else "wetland"})
        if how != "gone":
            kept.append(p.id)
    if kept:
        gep.compute_accounts(2031, versions["GF-2025"], parcel_ids=kept)
    report = services.gep_change(2030, 2031, base_prices="GF-2024")
    stored = {y: db.session.scalar(select(sa.func.sum(GepAccount.total)).where(GepAccount.year == y)) or Decimal(0)
              for y in (2030, 2031)}
    total = report.total
    assert total.quantity + total.price == total.total == stored[2031] - stored[2030]
    for p in report.parcels:
        assert p.change.quantity + p.change.price == p.change.total
    for p, how in made:
        line = next(x for x in report.parcels if x.parcel_id == p.id)
        if how == "gone":
            assert line.change.quantity == -line.change.before and line.change.price == 0
