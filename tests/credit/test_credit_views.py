"""Eco-credit pages: the review queue, ledger history, rules, charts, disclosure and the certificate PDF."""
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from credit import services
from credit.models import CreditPendingPosting, CreditRule, Rating, RatingRun
from greenfin.dates import today as business_today
from greenfin.core.types import utcnow
from greenfin.extensions import db
from tests.conftest import make_resident_id


def rate_and_publish(regulator, *parties):
    run = RatingRun(period_id=services.get_or_create_period("2026-Q3").id, created_by="t")
    db.session.add(run)
    db.session.flush()
    services.rate_all(run)
    ratings = []
    for party in parties:
        rating = db.session.scalar(select(Rating).where(Rating.party_id == party.id))
        services.approve_rating(rating.id, actor=regulator, now=utcnow() - timedelta(days=16))
        services.publish_rating(rating.id)
        ratings.append(rating)
    db.session.commit()
    return ratings


def test_regulator_approves_pending_posting_from_review_queue(client, login, create_user, create_party):
    party = create_party(kind="individual", name="王志明")
    services.submit_posting(party.id, "VIOL_STRAW_BURNING", idempotency_key="page-1",
                            evidence={"document": "禁烧巡查记录"}, actor=create_user("admin"))
    db.session.commit()
    login(create_user("regulator"))
    page = client.get("/credit/review")
    assert page.status_code == 200 and "王志明" in page.get_data(as_text=True)
    pending = db.session.scalar(select(CreditPendingPosting).where(CreditPendingPosting.party_id == party.id))
    response = client.post(f"/credit/pending/{pending.id}/approve", data={"note": "属实"})
    assert response.status_code == 302
    assert services.balance(party.id) == -10


def test_posting_form_reshows_errors_and_double_submit_posts_once(client, login, create_user, create_party):
    firm = create_party()
    login(create_user("regulator"))
    bad = client.post("/credit/postings/new", data={"party_id": firm.id, "rule_code": "GREEN_WASTE_SORTING",
                                                    "idempotency_key": "form-1"})
    assert bad.status_code == 422 and "does not apply" in bad.get_data(as_text=True)
    form = {"party_id": firm.id, "rule_code": "FIRM_DISCLOSURE", "idempotency_key": "form-2", "document": "年报"}
    assert client.post("/credit/postings/new", data=form).status_code == 302
    assert client.post("/credit/postings/new", data=form).status_code == 302
    assert services.balance(firm.id) == 3


def test_ledger_page_shows_history_and_reversal(client, login, create_user, create_party, post):
    party = create_party(kind="individual")
    original = post(party, "GREEN_TREE_PLANTING", evidence={"document": "植树登记"})
    regulator = create_user("regulator")
    services.reverse_posting(original.id, reason="重复录入", idempotency_key="rv", actor=regulator)
    db.session.commit()
    login(regulator)
    html = client.get(f"/credit/parties/{party.id}/ledger").get_data(as_text=True)
    assert "植树登记" in html and "重复录入" in html and original.hash[:10] in html


def test_producer_sees_own_ledger_only(client, login, create_user, create_party):
    producer = create_user("producer")
    other = create_party()
    login(producer)
    assert client.get(f"/credit/parties/{producer.party_id}/ledger").status_code == 200
    assert client.get(f"/credit/parties/{other.id}/ledger").status_code == 404
    assert client.get("/credit/review").status_code == 403


def test_admin_revises_rule_through_page(client, login, create_user):
    login(create_user("admin"))
    tomorrow = business_today() + timedelta(days=1)
    response = client.post("/credit/rules/GREEN_RIVER_PATROL/revise", data={
        "code": "GREEN_RIVER_PATROL", "effective_from": tomorrow.isoformat(), "category": "green_behaviour",
        "description_zh": "参与河湖巡护", "description_en": "River patrols", "party_kinds": ["organisation", "individual"],
        "points": 4, "display_months": 12})
    assert response.status_code == 302, response.get_data(as_text=True)
    versions = services.rule_versions("GREEN_RIVER_PATROL")
    assert [v.points for v in versions] == [3, 4] and versions[0].effective_to == tomorrow
    bad = client.post("/credit/rules/new", data={"code": "X_NEW", "category": "violation", "description_zh": "x",
                                                 "description_en": "x", "party_kinds": ["firm"], "points": -5,
                                                 "display_months": 99})
    assert bad.status_code == 422
    assert db.session.scalar(select(CreditRule).where(CreditRule.code == "X_NEW")) is None


def test_charts_and_party_slot_render(client, login, create_user, create_party, post):
    firm = create_party(name="图表测试公司")
    regulator = create_user("regulator")
    rate_and_publish(regulator, firm)
    login(regulator)
    charts = client.get("/credit/charts?period=2026-Q3").get_data(as_text=True)
    assert "<svg" in charts and "大南镇" in charts
    party_page = client.get(f"/parties/{firm.id}").get_data(as_text=True)
    assert f"/credit/parties/{firm.id}/ledger" in party_page and "colour-blue" in party_page


def test_public_disclosure_masks_and_certificate_links_back(client, create_user, create_party, tmp_path):
    number = make_resident_id()
    person = create_party(kind="individual", name="叶春燕", resident_id=number)
    firm = create_party(name="公示测试有限公司")
    _, firm_rating = rate_and_publish(create_user("regulator"), person, firm)
    assert "叶*燕" not in client.get("/credit/public?q=叶春燕").get_data(as_text=True)  # no name oracle
    html = client.get(f"/credit/public?q={number}").get_data(as_text=True)
    assert "叶*燕" in html and "叶春燕" not in html.split("<main")[1]
    assert "公示测试有限公司" in client.get("/credit/public?q=公示测试").get_data(as_text=True)
    confirm = client.get(f"/credit/public/{firm_rating.certificate_code}")
    assert confirm.status_code == 200 and firm.uscc in confirm.get_data(as_text=True)
    pdf = client.get(f"/credit/public/{firm_rating.certificate_code}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("poppler-utils and zbar-tools decode the QR code")
    (tmp_path / "cert.pdf").write_bytes(pdf.data)
    subprocess.run(["pdftoppm", "-r", "110", "-png", str(tmp_path / "cert.pdf"), str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(page)], capture_output=True, text=True).stdout.strip()
    assert decoded == f"https://trace.example.test/credit/public/{firm_rating.certificate_code}"


def test_repaired_rating_leaves_public_page(client, create_user, create_party, post):
    firm = create_party()
    post(firm, "FIRM_VETO_DATA_FRAUD", effective_date=date(2026, 8, 1))
    regulator = create_user("regulator")
    (rating,) = rate_and_publish(regulator, firm)
    repair = services.apply_repair(rating.id, "已整改")
    services.decide_repair(repair.id, approve=True, note="整改到位", actor=regulator)
    db.session.commit()
    assert client.get(f"/credit/public/{rating.certificate_code}").status_code == 404
