"""GEP services: accounts, versions, collateral value, scan summary, totals."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db
from greenfin.uow import commit
from greenfin.gep import engine, services
from greenfin.gep.models import GepAccount


def test_compute_account_stores_services_and_totals(versions, gep_parcel):
    parcel = gep_parcel(attributes={"yield_t_ha": "30", "k_factor": "0.03", "ls_factor": "2"}, area_ha=Decimal("10"))
    account = services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    commit()
    values = {s.service: s.value for s in account.services}
    # Pomelo: 10 ha × 30 t/ha × 3000 CNY/t
    assert values["fruit"] == Decimal("900000.00")
    assert account.total == sum(values.values())
    assert account.total == account.provisioning + account.regulating + account.cultural
    assert account.inputs["yield_t_ha"] == 30.0 and "yield_t_ha" not in account.inputs["defaults"]
    assert "npp" in account.inputs["defaults"]
    assert versions["GF-2025"].locked


def test_current_parcel_gep_is_latest_account(versions, gep_parcel):
    parcel = gep_parcel()
    assert services.current_parcel_gep(parcel.id) is None
    services.compute_parcel_account(parcel.id, 2024, versions["GF-2024"])
    latest = services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    commit()
    current = services.current_parcel_gep(parcel.id)
    assert current == services.ParcelGep(value=latest.total, account_id=latest.id, year=2025, price_version="GF-2025")
    assert isinstance(current.value, Decimal)


def test_compute_twice_adds_nothing(versions, gep_parcel):
    parcel = gep_parcel()
    first = services.compute_accounts(2025, versions["GF-2025"], parcel_ids=[parcel.id])
    second = services.compute_accounts(2025, versions["GF-2025"], parcel_ids=[parcel.id])
    commit()
    assert (first.created, second.created, second.unchanged) == (1, 0, 1)
    assert db.session.scalar(select(func.count(GepAccount.id)).where(GepAccount.parcel_id == parcel.id)) == 1


def test_new_price_version_keeps_old_account(versions, gep_parcel):
    parcel = gep_parcel()
    old = services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    old_id, old_total = old.id, old.total
    dearer = services.copy_version(versions["GF-2025"], {"code": "GF-2025b"},
                                   {"price_carbon": {"value": 200, "source": "test price", "year": 2025}})
    new = services.compute_parcel_account(parcel.id, 2025, dearer)
    commit()
    db.session.expire_all()
    kept = services.get_account(old_id)
    assert kept.total == old_total and kept.version.code == "GF-2025"
    assert new.id != old_id and new.total > old_total
    assert services.current_parcel_gep(parcel.id).account_id == new.id


def test_update_parameter_refused_once_version_used(versions, gep_parcel):
    parcel = gep_parcel()
    services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    with pytest.raises(Conflict):
        services.update_parameter(versions["GF-2025"], "price_carbon", {"value": 1})


def test_update_parameter_audited_on_unused_version(versions):
    from greenfin.core.models import AuditEvent

    param = services.update_parameter(versions["GF-2024"], "price_carbon", {"value": "99.5", "source": "CEA 2024"})
    commit()
    assert param.value == Decimal("99.5")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "gep.parameter.update"))
    assert Decimal(event.before["value"]) == Decimal("97.5") and Decimal(event.after["value"]) == Decimal("99.5")


def test_update_parameter_rejects_negative(versions):
    with pytest.raises(ValidationFailed):
        services.update_parameter(versions["GF-2024"], "price_carbon", {"value": "-1"})


def test_reproduce_account_from_stored_inputs(versions, gep_parcel):
    parcel = gep_parcel(attributes={"npp": "900", "ls_factor": "5.5"}, land_cover="forest", area_ha=Decimal("123.4567"),
                        cert_type="forest_rights")
    account = services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    # Later changes to the parcel do not change what the stored inputs reproduce.
    services.set_attributes(parcel, {"npp": "100"})
    commit()
    reproduced = services.reproduce_account(account)
    stored = {s.service: s.value for s in account.services}
    assert {k: v for k, v in reproduced.items() if v} == stored


def test_changed_attributes_add_new_account(versions, gep_parcel):
    parcel = gep_parcel()
    services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    services.set_attributes(parcel, {"yield_t_ha": "40"})
    result = services.compute_accounts(2025, versions["GF-2025"], parcel_ids=[parcel.id])
    assert result.created == 1
    assert db.session.scalar(select(func.count(GepAccount.id)).where(GepAccount.parcel_id == parcel.id)) == 2


def test_scan_summary_shares_sum_to_100(versions, gep_parcel):
    parcel = gep_parcel()
    assert services.scan_summary(parcel.id) is None
    services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    summary = services.scan_summary(parcel.id)
    assert summary["year"] == 2025
    assert sum(c["share"] for c in summary["categories"]) == Decimal("100.00")
    assert summary["top_services"][0]["code"] == "fruit"
    assert summary["top_services"][0]["name_zh"] == "水果(马家柚)"
    assert summary["value_per_ha"] == (summary["total_value"] / Decimal("5.5")).quantize(Decimal("0.01"))


def test_totals_by_township_and_village(versions, gep_parcel):
    a = gep_parcel(township_code="danan", village="古村村")
    b = gep_parcel(township_code="danan", village="大南村")
    c = gep_parcel(township_code="hujiao", village="壶峤村", lat=Decimal("28.51"), lon=Decimal("118.24"))
    services.compute_accounts(2025, versions["GF-2025"], parcel_ids=[a.id, b.id, c.id])
    commit()
    townships = {r["key"]: r for r in services.totals(2025, "township")}
    assert set(townships) == {"danan", "hujiao"}
    assert townships["danan"]["parcels"] == 2
    villages = services.totals(2025, "village", township="danan")
    assert {r["key"] for r in villages} == {"古村村", "大南村"}
    district = services.district_total(2025)
    assert district["total"] == townships["danan"]["total"] + townships["hujiao"]["total"]
    assert sum(district["shares"].values()) == Decimal("100.00")
    by_service = services.service_totals(2025)
    assert sum(r["value"] for r in by_service) == district["total"]


def test_year_over_year_change(versions, gep_parcel):
    parcel = gep_parcel()
    a24 = services.compute_parcel_account(parcel.id, 2024, versions["GF-2024"])
    a25 = services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    commit()
    [row] = services.year_over_year(2025, "township")
    assert row["previous"] == a24.total and row["change"] == a25.total - a24.total
    assert row["change_pct"] == (row["change"] / a24.total * 100).quantize(Decimal("0.01"))


def test_shares_all_zero():
    assert services.shares({"a": Decimal(0), "b": Decimal(0)}) == {"a": Decimal("0.00"), "b": Decimal("0.00")}


def test_compute_without_parcels_leaves_version_editable(versions):
    result = services.compute_accounts(2025, versions["GF-2025"], township="shaoyang")
    assert result.parcels == 0 and not versions["GF-2025"].locked


def test_unknown_parcel_is_not_found(versions):
    from greenfin.errors import NotFound

    with pytest.raises(NotFound):
        services.compute_accounts(2025, versions["GF-2025"], parcel_ids=[999999])


def test_stored_values_match_reference_formulas(versions, create_party, create_parcel):
    """Through the database: every stored service value is the per-parcel reference value rounded to cents."""
    import random

    rng = random.Random(11)
    holder = create_party()
    parcels = []
    for i in range(25):
        cover = rng.choice(engine.COVERS)
        parcel = create_parcel(holder_id=holder.id, land_cover=cover,
                               area_ha=Decimal(str(round(rng.uniform(0.05, 900), 4))))
        attrs = {}
        if rng.random() < 0.5:
            attrs["npp"] = Decimal(str(round(rng.uniform(100, 1200), 2)))
        if rng.random() < 0.5:
            attrs["ls_factor"] = Decimal(str(round(rng.uniform(0, 12), 4)))
        if attrs:
            services.set_attributes(parcel, attrs)
        parcels.append(parcel)
    result = services.compute_accounts(2024, versions["GF-2024"], parcel_ids=[p.id for p in parcels])
    assert result.created == 25
    params = versions["GF-2024"].values()
    for parcel in parcels:
        account = services.latest_account(parcel.id)
        attrs = services.get_attributes(parcel.id)
        record = {"area_ha": float(parcel.area_ha), "land_cover": parcel.land_cover,
                  "npp": float(attrs.npp) if attrs and attrs.npp is not None else None,
                  "ls_factor": float(attrs.ls_factor) if attrs and attrs.ls_factor is not None else None}
        expected = {code: Decimal(round(v * 100)) / 100 for code, (_q, v) in engine.compute_reference(record, params).items()}
        stored = {s.service: s.value for s in account.services}
        assert stored == {k: v for k, v in expected.items() if v or k in stored}
        assert account.total == sum(stored.values())


def test_verify_account_detects_tampering(versions, gep_parcel):
    parcel = gep_parcel()
    account = services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    commit()
    assert services.verify_account(account)
    account.services[0].value += Decimal("0.01")
    assert not services.verify_account(account)


def test_start_gep_run_resolves_default_version_and_township_name(versions):
    from greenfin.core.models import Township

    job = services.start_gep_run(2025, None, db.session.get(Township, "hujiao").name_zh)
    assert job.kwargs == {"year": 2025, "version_code": services.default_version(2025).code, "township": "hujiao"}
    assert job.title == f"GEP 2025 ({services.default_version(2025).code}) hujiao"


def test_start_gep_run_refuses_unknown_version_or_township_before_queueing(versions):
    from greenfin.errors import NotFound
    from greenfin.job_model import Job

    before = db.session.scalar(select(func.count()).select_from(Job))
    with pytest.raises(NotFound):
        services.start_gep_run(2025, "NO-SUCH", None)
    with pytest.raises(NotFound):
        services.start_gep_run(2025, None, "atlantis")
    assert db.session.scalar(select(func.count()).select_from(Job)) == before
