"""Producer and regulator pages: lots, events, labels with progress, recall, trace CSV."""
import csv
import io
import re

from traceability import services
from greenfin.dates import today as business_today


def test_producer_registers_a_lot_through_the_form(client, create_user, login, create_product, create_parcel):
    user = create_user("producer")
    login(user)
    product = create_product(owner=user.party)
    parcel = create_parcel(holder_id=user.party_id)
    bad = client.post("/trace/lots/new", data={"product_id": product.id, "producer_id": user.party_id, "code": "坏",
                                              "quantity": "10", "unit": "KGM", "parcel_ids": [parcel.id]})
    assert bad.status_code == 422
    ok = client.post("/trace/lots/new", data={"product_id": product.id, "producer_id": user.party_id,
                                             "code": "MJY-FORM", "quantity": "10", "unit": "KGM",
                                             "harvest_date": "2026-10-01", "parcel_ids": [parcel.id]})
    assert ok.status_code == 302
    page = client.get(ok.headers["Location"])
    assert page.status_code == 200 and "MJY-FORM" in page.get_data(as_text=True)


def test_event_form_and_labels_job(client, create_user, login, create_lot, drain_jobs):
    user = create_user("producer")
    login(user)
    lot = create_lot(producer=user.party)
    response = client.post(f"/trace/lots/{lot.id}/events", data={"ev-kind": "harvest", "ev-ship_to_id": 0,
                                                                "ev-result": "conformant"})
    assert response.status_code == 302
    assert [e.kind for e in services.lot_events(lot.id)] == ["harvest"]
    response = client.post(f"/trace/lots/{lot.id}/labels", data={"lb-count": 12, "lb-layout": "a4-3x8"})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    drain_jobs()
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<progress" in job_page
    link = re.search(r'href="(/trace/batches/\d+/sheet.pdf)"', job_page).group(1)
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    rows = list(csv.reader(io.StringIO(client.get(link.replace("sheet.pdf", "labels.csv")).get_data(as_text=True))))
    assert rows[0] == ["uri", "gtin", "lot", "serial"] and len(rows) == 13


def test_producer_sees_only_own_lots(client, create_user, login, create_lot):
    other = create_lot()
    user = create_user("producer")
    login(user)
    assert client.get(f"/trace/lots/{other.id}").status_code == 404
    assert other.code not in client.get("/trace/").get_data(as_text=True)


def test_regulator_recalls_and_exports_trace_csv(client, create_user, login, create_lot):
    lot = create_lot()
    services.record_event(lot, "harvest", {})
    login(create_user("regulator"))
    # Not confirmed: refused with a message, nothing recalled.
    refused = client.post(f"/trace/lots/{lot.id}/recall?lang=zh_CN", data={"rc-reason": "农残超标"},
                          follow_redirects=True)
    assert "请勾选确认" in refused.get_data(as_text=True) and lot.recalled_at is None
    response = client.post(f"/trace/lots/{lot.id}/recall?lang=zh_CN", data={"rc-reason": "农残超标", "rc-confirm": "y"})
    assert response.status_code == 302
    page = client.get(f"/trace/lots/{lot.id}").get_data(as_text=True)
    assert "农残超标" in page and "批次已召回" in page
    text = client.get(f"/trace/lots/{lot.id}/trace.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["event"] for r in rows] == ["harvest", "recall"]
    assert rows[0]["traceability_lot_code"] == lot.code and rows[0]["lot_code_source"].startswith(lot.producer.name)
    assert client.get(f"/trace/lots/{lot.id}/trace").status_code == 200


def test_loan_officer_has_no_trace_pages(client, create_user, login):
    login(create_user("loan_officer"))
    assert client.get("/trace/").status_code == 403


def test_certificate_pages(client, create_user, login, create_lot):
    lot = create_lot()
    login(create_user("regulator"))
    response = client.post("/trace/certificates", data={
        "kind": "gi", "number": "AGI-T", "issuer": "农业农村部", "scope": "product", "party_id": lot.producer_id,
        "product_id": lot.product_id, "parcel_id": 0, "valid_from": "2020-01-01", "valid_until": "2030-01-01"})
    assert response.status_code == 302
    page = client.get("/trace/certificates").get_data(as_text=True)
    assert "AGI-T" in page
    assert client.get("/trace/products").status_code == 200
    assert client.get(f"/trace/lots/{lot.id}/epcis.jsonld").status_code == 200


def test_parcel_page_lists_its_lots(client, create_user, login, create_lot):
    lot = create_lot()
    login(create_user("admin"))
    html = client.get(f"/parcels/{lot.parcels[0].id}").get_data(as_text=True)
    assert lot.code in html


def test_regulator_authorises_a_producer_for_a_brand(client, create_user, login, create_brand, create_party):
    from traceability.models import BrandAuthorisation
    from greenfin.extensions import db
    from sqlalchemy import select

    brand, party = create_brand(), create_party(name="新果农合作社")
    login(create_user("regulator"))
    response = client.post("/trace/brands/authorise", data={"au-brand_id": brand.id, "au-party_id": party.id,
                                                            "au-valid_from": "2026-01-01"})
    assert response.status_code == 302
    assert db.session.scalar(select(BrandAuthorisation).where(BrandAuthorisation.party_id == party.id))
    assert "新果农合作社" in client.get("/trace/products").get_data(as_text=True)


def test_regulator_revokes_an_authorisation_on_the_products_page(client, create_user, login, create_brand,
                                                                 create_party):
    from datetime import timedelta

    brand, party = create_brand(), create_party(name="假冒果业公司")
    auth = services.authorise_brand(brand.id, party.id, business_today() - timedelta(days=10))
    login(create_user("regulator"))
    page = client.get("/trace/products").get_data(as_text=True)
    action = f"/trace/brands/{brand.id}/authorisations/{auth.id}/revoke"
    assert action in page
    assert client.post(action, data={"rv-reason": ""}).status_code == 302
    assert auth.revoked_at is None
    client.post(action, data={"rv-reason": "抽检发现假冒标签"})
    assert auth.revoked_at is None, "not confirmed: nothing revoked"
    response = client.post(action, data={"rv-reason": "抽检发现假冒标签", "rv-confirm": "y"}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "品牌使用授权已撤销" in text and "抽检发现假冒标签" in text and action not in text
    assert not services.brand_authorised(brand.id, party.id)


def test_lapse_certificates_cli(runner, create_party):
    from datetime import date

    party = create_party()
    services.grant_certification({"kind": "test_report", "number": "T-OLD", "issuer": "x", "scope": "producer",
                                  "party_id": party.id, "valid_from": date(2020, 1, 1), "valid_until": date(2021, 1, 1)})
    result = runner.invoke(args=["trace", "lapse-certificates"])
    assert result.exit_code == 0 and "1 certificates lapsed" in result.output
    assert "0 certificates lapsed" in runner.invoke(args=["trace", "lapse-certificates"]).output


def test_quantities_show_without_exponent(client, create_user, login, create_lot):
    from decimal import Decimal

    lot = create_lot(quantity=Decimal("4200"))
    login(create_user("admin"))
    html = client.get(f"/trace/lots/{lot.id}").get_data(as_text=True)
    assert "4200 千克" in html and "E+3" not in html and "KGM" not in html  # the unit in words (issue #16)
