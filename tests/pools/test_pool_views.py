"""Pool pages: who may see them, forms that re-show errors, charts rendered server-side."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from greenfin.dates import today as business_today
from greenfin.extensions import db
from greenfin.pools import cuts, reporting, services
from greenfin.pools.models import Pool, PoolMembership


@pytest.fixture
def seeded(create_pool, create_loan, pay_through):
    pool = create_pool()
    loans = [create_loan(disbursed_on=date(2026, 1, 10), amount=str(50000 + 10000 * i)) for i in range(3)]
    for loan in loans:
        pay_through(loan, business_today())
    services.add_loans(pool, [l.id for l in loans], added_on=date(2026, 6, 30), as_of=date(2026, 6, 30))
    cut = cuts.publish_cut(cuts.create_cut(pool, date(2026, 6, 30)))
    reporting.generate_servicer_report(pool, "2026-08")
    db.session.commit()
    return pool, cut, loans


@pytest.mark.parametrize("role", ["regulator", "loan_officer", "admin"])
def test_pages_render_for_staff(client, create_user, login, seeded, role):
    pool, cut, _ = seeded
    login(create_user(role))
    for url in ("/pools", f"/pools/{pool.id}", f"/pools/{pool.id}/candidates", f"/pools/{pool.id}/cuts/{cut.id}",
                f"/pools/{pool.id}/projection", f"/pools/{pool.id}/reports/2026-08"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert b"<svg" in response.data or url.endswith("candidates") or url == "/pools", url
        assert b"style=\"" not in response.data and re.search(rb"<script(?![^>]*\bsrc=)", response.data) is None


def test_producer_is_refused(client, create_user, login, seeded):
    pool, *_ = seeded
    login(create_user("producer"))
    assert client.get(f"/pools/{pool.id}").status_code == 403


def test_downloads(client, create_user, login, seeded):
    pool, cut, loans = seeded
    login(create_user("regulator"))
    tape = client.get(f"/pools/{pool.id}/cuts/{cut.id}/tape.csv")
    assert tape.mimetype == "text/csv" and loans[0].number in tape.get_data(as_text=True)
    pdf = client.get(f"/pools/{pool.id}/reports/2026-08/pdf")
    assert pdf.data.startswith(b"%PDF")
    csv = client.get(f"/pools/{pool.id}/projection?cpr=0.1&format=csv")
    assert csv.mimetype == "text/csv"



def test_probe_10_pool_downloads_neutralise_a_formula_pool_code(client, create_user, login, seeded):
    pool, cut, _ = seeded
    services.update_pool(pool, {"code": "=1+2"})
    db.session.commit()
    login(create_user("regulator"))
    tape = client.get(f"/pools/{pool.id}/cuts/{cut.id}/tape.csv")
    assert "\r\n'=1+2,LN-" in tape.get_data(as_text=True) and "\n=1+2" not in tape.get_data(as_text=True)
    projection = client.get(f"/pools/{pool.id}/projection?cpr=0.1&format=csv")
    pdf = client.get(f"/pools/{pool.id}/reports/2026-08/pdf")
    for response, name in ((tape, f"1_2-cut{cut.seq}-tape.csv"), (projection, "1_2-projection.csv"),
                           (pdf, "1_2-2026-08.pdf")):
        header = response.headers["Content-Disposition"]
        assert f'filename="{name}"' in header and "filename*=UTF-8''1%2B2-" in header, header

def test_projection_page_shows_rate_errors(client, create_user, login, seeded):
    pool, *_ = seeded
    login(create_user("regulator"))
    response = client.get(f"/pools/{pool.id}/projection?cpr=1.4")
    assert response.status_code == 422
    assert "must lie between 0 and 100%" in response.get_data(as_text=True) or "100%" in response.get_data(as_text=True)


def test_create_pool_form_reshows_errors(client, create_user, login, create_party):
    bank = create_party(sector="banking")
    login(create_user("loan_officer"))
    form = {"code": "WEB-1", "name": "网页资产池", "originator_id": bank.id, "green_designation": "green",
            "performing": "y", "zero_dpd": "y", "green_tagged": "y", "min_remaining_term": 3, "max_remaining_term": 120,
            "max_obligor_share": "1.5", "max_township_share": "0.6", "min_colour": "", "senior_share": "0.8",
            "senior_coupon": "0.03", "mezzanine_share": "0.1", "mezzanine_coupon": "0.04", "subordinated_share": "0.05",
            "servicer_fee": "0.005", "principal_mode": "pro_rata", "oc_trigger": "1.05", "ic_trigger": "1.1",
            "reserve_target": "0.01", "cleanup_call": "0.1", "cumulative_default_trigger": "0.05",
            "delinquency_trigger": "0.08"}
    response = client.post("/pools/new", data=form)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Pool)) == 0
    form["max_obligor_share"] = "0.3"
    response = client.post("/pools/new", data=form)
    assert response.status_code == 302
    pool = db.session.scalar(select(Pool).where(Pool.code == "WEB-1"))
    assert pool.criteria["max_obligor_share"] == "0.3000" or float(pool.criteria["max_obligor_share"]) == 0.3


def test_add_ineligible_loan_from_page_stores_nothing(client, create_user, login, create_pool, create_loan):
    pool = create_pool()
    late = create_loan(disbursed_on=date(2025, 2, 1))
    login(create_user("loan_officer"))
    response = client.post(f"/pools/{pool.id}/loans", data={"loan_ids": [str(late.id)], "reason": "force"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(PoolMembership)) == 0
    ok = create_loan(disbursed_on=business_today() - timedelta(days=3))
    client.post(f"/pools/{pool.id}/loans", data={"loan_ids": [str(ok.id)]})
    assert [m.loan_id for m in services.live_memberships(pool)] == [ok.id]


def test_generate_report_from_page_runs_a_job(client, create_user, login, seeded, drain_jobs):
    pool, *_ = seeded
    login(create_user("loan_officer"))
    response = client.post(f"/pools/{pool.id}/reports", data={"month": "2026-09"})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    drain_jobs()
    job_page = client.get(response.headers["Location"])
    assert f"/pools/{pool.id}/reports/2026-09".encode() in job_page.data
    assert client.get(f"/pools/{pool.id}/reports/2026-09").status_code == 200
    bad = client.post(f"/pools/{pool.id}/reports", data={"month": "2099-01"}, follow_redirects=True)
    assert bad.status_code == 200 and "/jobs/" not in bad.request.path


def test_cut_publish_and_discard_from_pages(client, create_user, login, seeded):
    pool, cut, _ = seeded
    login(create_user("loan_officer"))
    assert client.post(f"/pools/{pool.id}/cuts/{cut.id}/discard").status_code == 302
    assert cuts.get_cut(cut.id).published  # a published cut is not discarded
    response = client.post(f"/pools/{pool.id}/cuts", data={"as_of": "2026-07-31", "corrects_id": "0", "note": ""})
    assert response.status_code == 302
    draft = max(db.session.scalars(cuts.cut_query(pool)), key=lambda c: c.seq)
    assert draft.status == "draft" and draft.as_of == date(2026, 7, 31)
    client.post(f"/pools/{pool.id}/cuts/{draft.id}/publish")
    assert not cuts.get_cut(draft.id).published, "not confirmed: not published"
    client.post(f"/pools/{pool.id}/cuts/{draft.id}/publish", data={"confirm": "y"})
    db.session.expire_all()
    assert cuts.get_cut(draft.id).published


def test_edit_pool_page(client, create_user, login, seeded):
    pool, *_ = seeded
    login(create_user("admin"))
    page = client.get(f"/pools/{pool.id}/edit")
    assert page.status_code == 200 and pool.code.encode() in page.data
    form = {"name": "改名后的资产池", "green_designation": "green", "performing": "y", "zero_dpd": "y",
            "green_tagged": "y", "min_remaining_term": 1, "max_remaining_term": 200, "max_obligor_share": "0.5",
            "max_township_share": "0.9", "min_colour": "blue", "senior_share": "0.7", "senior_coupon": "0.03",
            "mezzanine_share": "0.1", "mezzanine_coupon": "0.04", "subordinated_share": "0.1",
            "servicer_fee": "0.004", "principal_mode": "sequential", "oc_trigger": "", "ic_trigger": "",
            "reserve_target": "0", "cleanup_call": "0.1", "cumulative_default_trigger": "0.05",
            "delinquency_trigger": "0.08"}
    assert client.post(f"/pools/{pool.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    pool = services.get_pool(pool.id)
    assert pool.name == "改名后的资产池" and pool.criteria["min_colour"] == "blue"
    assert pool.structure["principal_mode"] == "sequential" and pool.structure["oc_trigger"] is None
    form["senior_coupon"] = "-0.02"
    assert client.post(f"/pools/{pool.id}/edit", data=form).status_code == 422


def test_party_page_shows_its_pooled_loans_to_staff(client, create_user, login, seeded):
    pool, cut, loans = seeded
    login(create_user("regulator"))
    page = client.get(f"/parties/{loans[0].party_id}")
    assert page.status_code == 200
    assert loans[0].number.encode() in page.data and pool.name.encode() in page.data


def test_projection_page_from_a_chosen_cut(client, create_user, login, seeded):
    pool, cut, _ = seeded
    login(create_user("regulator"))
    page = client.get(f"/pools/{pool.id}/projection?cut_id={cut.id}&cpr=0.05")
    assert page.status_code == 200 and f"#{cut.seq}".encode() in page.data
    assert client.get(f"/pools/{pool.id}/projection?cut_id=99999").status_code == 422


def test_a_refused_change_is_flashed_once_in_the_page_language(client, create_user, login, seeded):
    pool, _cut, loans = seeded
    login(create_user("loan_officer"))
    response = client.post(f"/pools/{pool.id}/loans/{loans[0].id}/remove", data={"reason": ""},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "输入无效 — reason:" in html and html.count("reason:") == 1


def test_report_charts_are_one_definition_for_page_and_pdf(client, create_user, login, seeded):
    """The page and the PDF draw the same chart definitions (greenfin/pools/report_charts.py)."""
    from greenfin.pools.report_charts import report_charts

    pool, _cut, _ = seeded
    report = reporting.get_report(pool, "2026-08")
    login(create_user("regulator"))
    html = client.get(f"/pools/{pool.id}/reports/2026-08").get_data(as_text=True)
    pdf = client.get(f"/pools/{pool.id}/reports/2026-08/pdf").data
    assert pdf.startswith(b"%PDF")
    images = len(re.findall(rb"/Subtype\s*/Image", pdf))
    drawn = [name for name, chart in report_charts(report.figures, [report], lambda s: s).items()
             if chart.pdf(100) is not None]
    assert images >= len(drawn) >= 2, (images, drawn)
    assert html.count('<figure class="chart') == 4  # collections, delinquency, pool factor, use of proceeds
    assert "…" not in html  # no truncated category

