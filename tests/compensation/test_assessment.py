"""Township assessment: indicator tree, entered values with evidence, scores, alerts, exit audit."""
from decimal import Decimal

import pytest

from greenfin.compensation import services
from greenfin.core import services as core
from greenfin.errors import ValidationFailed
from greenfin.gep import services as gep
from greenfin.uow import commit

TREE = [
    {"code": "E", "name_zh": "生态", "name_en": "Ecology", "weight": "0", "direction": "higher", "rule": "entered",
     "floor": "0", "target": "1", "unit": "-", "department": "区发改委"},
    {"code": "E1", "parent_code": "E", "name_zh": "GEP实物量增长率", "name_en": "GEP quantity growth", "weight": "400",
     "direction": "higher", "rule": "gep_quantity_growth", "floor": "-2", "target": "3", "unit": "%",
     "department": "区统计局"},
    {"code": "E2", "parent_code": "E", "name_zh": "单位面积调节服务价值", "name_en": "Regulating GEP per ha",
     "weight": "300", "direction": "higher", "rule": "gep_regulating_per_ha", "floor": "0", "target": "200000",
     "unit": "CNY/ha", "department": "区统计局"},
    {"code": "E3", "parent_code": "E", "name_zh": "地表水达标率", "name_en": "Surface water compliance",
     "weight": "300", "direction": "higher", "rule": "entered", "floor": "80", "target": "100", "unit": "%",
     "department": "市生态环境局广丰分局"},
]


@pytest.fixture
def tree(as_user):
    as_user()
    for spec in TREE:
        services.create_indicator(spec)
    commit()


def test_indicator_and_value_errors_are_named(tree):
    with pytest.raises(ValidationFailed) as exc:
        services.create_indicator(TREE[1] | {"code": "E1", "floor": "5", "target": "3", "weight": "x"})
    assert {"code", "target", "weight"} <= set(exc.value.errors)
    with pytest.raises(ValidationFailed) as exc:
        services.enter_value("E3", "danan", 2025, "95", "")
    assert "evidence" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.enter_value("E1", "danan", 2025, "95", "doc")
    assert "indicator" in exc.value.errors


def test_scores_rank_and_alert_on_a_quantity_fall(district, tree, create_parcel):
    services.enter_value("E3", "danan", 2025, "100", "环境监测月报 2025-12")
    services.enter_value("E3", "hufeng", 2025, "90", "环境监测月报 2025-12")
    scored = services.score_year(2025)
    commit()
    by = {s.township_code: s for s in scored}
    assert [s.rank for s in scored] == list(range(1, len(scored) + 1))
    assert by["hufeng"].score > by["wudu"].score  # hufeng's parcel grew: the largest quantity growth
    danan = {x["code"]: x for x in by["danan"].details["indicators"]}
    assert danan["E3"]["points"] == "300.00" and danan["E3"]["source"]["evidence"]
    assert {x["code"]: x for x in by["wudu"].details["indicators"]}["E3"]["source"] == {"missing": True}
    assert services.alerts(2025) == []  # no township's quantity fell
    # a parcel shrinks in 2026: its township's quantity effect falls and raises an alert, once
    shrink = [p for p in district if p.township_code == "wudu"][0]
    core.update_parcel(shrink, {"area_ha": shrink.area_ha / 2})
    gep.compute_accounts(2026, gep.get_version("GF-2025"))
    commit()
    services.score_year(2026)
    services.score_year(2026)
    alerts = services.alerts(2026)
    assert [(a.township_code, a.kind) for a in alerts] == [("wudu", "quantity_fall")]
    assert alerts[0].figure < 0
    assert {s.township_code: s for s in services.scores(2026)}["danan"].change is not None


def test_repricing_raises_no_alert(versions, create_parcel, tree):
    create_parcel(township_code="danan", land_cover="forest", area_ha=Decimal("12"))
    gep.compute_accounts(2024, versions["GF-2024"])
    cheaper = gep.copy_version(versions["GF-2024"], {"code": "T-CHEAP", "title": "carbon halves", "year": 2024},
                               {"price_carbon": {"value": "40"}})
    gep.compute_accounts(2025, cheaper)
    commit()
    [score] = services.score_year(2025)
    assert {x["code"]: x for x in score.details["indicators"]}["E1"]["value"] == "0.0000"
    assert services.alerts(2025) == []


def test_exit_audit_values_the_tenure_at_constant_prices(district, tree):
    services.score_year(2025)
    audit = services.exit_audit("hufeng", 2024, 2025, "李书记")
    assert audit["gep_end_constant_prices"] == audit["gep_start"] + audit["quantity_effect"]
    assert audit["gep_end_current_prices"] == audit["gep_end_constant_prices"] + audit["price_effect"]
    assert audit["quantity_effect"] > 0 and audit["base_prices"] == "GF-2024"
    assert [s["year"] for s in audit["scores"]] == [2025]
    from greenfin.compensation.pdf import exit_audit_pdf

    assert exit_audit_pdf(audit, "湖丰镇").startswith(b"%PDF")
    with pytest.raises(ValidationFailed):
        services.exit_audit("hufeng", 2025, 2024, "李书记")


def test_assessment_doors(district, tree, api, runner, client, create_user, login, tmp_path):
    r = api("regulator").post("/api/v1/compensation/assessment/values", json={
        "indicator_code": "E3", "township_code": "danan", "year": 2025, "value": "96", "evidence": "月报"})
    assert r.status_code == 201, r.json
    r = runner.invoke(args=["assessment", "score", "--year", "2025"])
    assert r.exit_code == 0 and "danan" in r.output, r.output
    assert runner.invoke(args=["assessment", "score", "--year", "19"]).exit_code == 2
    scores = api("admin").get("/api/v1/compensation/assessment/scores/2025").json
    assert [s["rank"] for s in scores] == sorted(s["rank"] for s in scores) and scores
    audit = api("admin").get("/api/v1/compensation/assessment/exit-audit?township=hufeng&start_year=2024"
                             "&end_year=2025&official=李").json
    assert Decimal(audit["gep_end_constant_prices"]) == Decimal(audit["gep_start"]) + Decimal(audit["quantity_effect"])
    out = tmp_path / "audit.pdf"
    r = runner.invoke(args=["assessment", "exit-audit", "--township", "hufeng", "--start", "2024", "--end", "2025",
                            "--official", "李书记", "--out", str(out)])
    assert r.exit_code == 0 and out.read_bytes().startswith(b"%PDF"), r.output
    login(create_user("regulator"))
    page = client.get("/assessment?year=2025")
    assert page.status_code == 200 and "E3" in page.get_data(as_text=True)
    pdf = client.get("/assessment/exit-audit.pdf?township=hufeng&start_year=2024&end_year=2025&official=李")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    r = client.post("/assessment/score", data={"year": "2025"}, follow_redirects=True)
    assert r.status_code == 200


def test_the_database_keeps_alerts(district, tree):
    import sqlalchemy as sa

    from greenfin.extensions import db

    shrink = [p for p in district if p.township_code == "wudu"][0]
    core.update_parcel(shrink, {"area_ha": shrink.area_ha / 2})
    gep.compute_accounts(2026, gep.get_version("GF-2025"))
    commit()
    services.score_year(2026)
    commit()
    for statement in ("UPDATE assessment_alerts SET figure = 0", "DELETE FROM assessment_alerts"):
        with pytest.raises(sa.exc.DBAPIError):
            with db.session.begin_nested():
                db.session.execute(sa.text(statement))
