"""Insurance pages in Chinese and English, the forms' feedback, and the public payout event page."""
from __future__ import annotations

import io
import re
from datetime import date

from flask import g

from greenfin.extensions import db
from greenfin.insurance import services
from tests.insurance.conftest import import_season


def _paid_event(frost_setup, create_user):
    station, product, parcels, policies = frost_setup
    import_season(station, {date(2025, 12, 20): -5.1, date(2025, 12, 21): -3.3})
    services.evaluate_policies(date(2025, 12, 23))
    claims = list(db.session.scalars(services.claim_query()))
    g.user = create_user("insurer")
    services.propose_claim(claims[0])
    g.user = create_user("admin")
    services.approve_claim(claims[0], paid_on=date(2025, 12, 28))
    g.pop("user", None)
    db.session.commit()
    return db.session.scalar(services.event_query())


def test_public_event_page_shows_readings_and_totals_without_personal_data(client, frost_setup, create_user):
    event = _paid_event(frost_setup, create_user)
    _station, _product, parcels, policies = frost_setup
    html = client.get(f"/insurance/events/{event.code}").get_data(as_text=True)
    assert "霜冻" in html and "-5.1" in html and "33,000.00" in html and "2025-12-20" in html
    for secret in (parcels[0].holder.name, parcels[0].code, policies[0].number, parcels[0].cert_no):
        assert secret not in html
    english = client.get(f"/insurance/events/{event.code}?lang=en").get_data(as_text=True)
    assert "Frost (daily minimum temperature)" in english and "Policies paid" in english
    listing = client.get("/insurance/events").get_data(as_text=True)
    assert event.code in listing and parcels[0].holder.name not in listing
    pdf = client.get(f"/insurance/events/{event.code}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert parcels[0].holder.name.encode() not in pdf.data
    missing = client.get("/insurance/events/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.get_data(as_text=True)


def test_dashboard_claims_and_policy_pages(client, login, frost_setup, create_user):
    _paid_event(frost_setup, create_user)
    login(create_user("insurer"))
    html = client.get("/insurance/").get_data(as_text=True)
    assert "气象指数保险" in html and "保险基金" in html and "测试霜冻指数" in html
    assert 'style="' not in html and re.search(r"<script(?![^>]*\bsrc=)", html) is None  # nothing inline (CSP)
    claims = client.get("/insurance/claims").get_data(as_text=True)
    assert "已赔付" in claims and "提议赔付" in claims
    paid = db.session.scalar(services.claim_query(status="paid"))
    page = client.get(f"/insurance/policies/{paid.policy_id}?lang=en").get_data(as_text=True)
    assert "Central government" in page and "1,540.00" in page and "Paid out" in page


def test_claim_decisions_by_form_give_feedback(client, login, frost_setup, create_user):
    station, *_rest = frost_setup
    import_season(station, {date(2025, 12, 20): -3.5})
    services.evaluate_policies(date(2025, 12, 23))
    db.session.commit()
    claim = db.session.scalar(services.claim_query())
    login(create_user("insurer"))
    done = client.post(f"/insurance/claims/{claim.id}/decide", data={"action": "propose", "note": "核实"},
                       follow_redirects=True)
    assert "另一人复核" in done.get_data(as_text=True)
    refused = client.post(f"/insurance/claims/{claim.id}/decide", data={"action": "approve"}, follow_redirects=True)
    assert "提议人以外的另一人" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert services.get_claim(claim.id).status == "proposed"


def test_weather_upload_lists_bad_rows_and_keeps_good_ones(client, login, create_station, create_user):
    station = create_station(code="T-UP")
    login(create_user("admin"))
    csv = f"station,date,tmin,tmax,precipitation\n{station.code},2025-01-01,1,8,0\n{station.code},2025-01-02,9,8,0\n"
    html = client.post("/insurance/weather", data={"file": (io.BytesIO(csv.encode()), "w.csv")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "导入 1 条观测" in html and "tmax: is below tmin" in html
    assert services.observation_span(station.id)[2] == 1


def test_issue_policy_form_shows_errors_again(client, login, frost_setup, create_user, create_parcel):
    login(create_user("insurer"))
    forest = create_parcel(land_cover="forest")
    product = frost_setup[1]
    html = client.post("/insurance/policies", data={"product_id": product.id, "parcel_id": forest.id, "season": 2090},
                       follow_redirects=True).get_data(as_text=True)
    assert "保单无效" in html and "insures orchard parcels" in html


def test_backtest_page_charts_and_tabulates(client, login, create_user, frost_setup):
    from greenfin.insurance import synthetic

    station, product, *_rest = frost_setup
    rows = synthetic.series(station.code, date(1995, 1, 1), date(2025, 11, 30), seed=5, offset=-2)
    services.import_observations(synthetic.to_csv(rows))
    db.session.commit()
    login(create_user("loan_officer"))
    html = client.get(f"/insurance/backtest?product_id={product.id}&station_id={station.id}").get_data(as_text=True)
    assert "<svg" in html and "期望损失" in html and "合成" not in html  # a test station, not marked synthetic
    # seasons 1995/96 to 2024/25 are complete; 2025/26 has no readings yet
    assert "<td>1995</td>" in html and "<td>2024</td>" in html and "<td>2025</td>" not in html


def test_a_new_product_version_from_the_product_page(client, login, create_user, create_index_product):
    product = create_index_product(code="T-PAGE")
    login(create_user("insurer"))
    page = client.get(f"/insurance/products/{product.id}").get_data(as_text=True)
    assert "-3:0.30; -5:0.60; -7:1" in page and "新版本" in page
    form = {"trigger": "-2", "exit": "-6", "tiers": "-2:0.25; -4:0.5; -6:1", "sum_insured_per_ha": "32000",
            "premium_rate": "0.07", "loading": "1.5", "central": "0.35", "provincial": "0.25", "county": "0.25",
            "farmer": "0.15"}
    bad = client.post(f"/insurance/products/{product.id}", data=form | {"exit": "-1", "farmer": "0.2"},
                      follow_redirects=True).get_data(as_text=True)
    assert "未创建" in bad and "must be colder than the trigger" in bad and "add up to 1" in bad
    assert [p.version for p in services.list_products("T-PAGE")] == [1]
    done = client.post(f"/insurance/products/{product.id}", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已创建 T-PAGE 第 2 版" in done
    latest = services.find_product("T-PAGE")
    assert (latest.version, latest.trigger, latest.tiers[1]) == (2, -2, {"level": "-4", "share": "0.5"})
    assert services.find_product("T-PAGE", 1).trigger == -3  # the first version is unchanged


def test_regulators_supervise_the_insurance_book_but_do_not_decide_claims(client, login, frost_setup, create_user):
    station, *_rest = frost_setup
    import_season(station, {date(2025, 12, 20): -3.5})
    services.evaluate_policies(date(2025, 12, 23))
    db.session.commit()
    claim = db.session.scalar(services.claim_query())
    login(create_user("regulator"))
    assert client.get("/insurance/claims").status_code == 200
    assert f"/insurance/claims/{claim.id}/decide" not in client.get("/insurance/claims").get_data(as_text=True)
    refused = client.post(f"/insurance/claims/{claim.id}/decide", data={"action": "propose", "note": "核实"})
    assert refused.status_code == 403 and db.session.get(type(claim), claim.id).status == "pending"
