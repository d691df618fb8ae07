"""GEP pages: dashboard, township, account, parcel panel, price versions, PDF, compute form."""
import re
from decimal import Decimal

from greenfin.extensions import db
from greenfin.uow import commit
from greenfin.gep import services


def _accounts(versions, gep_parcel, **overrides):
    parcel = gep_parcel(**overrides)
    services.compute_parcel_account(parcel.id, 2024, versions["GF-2024"])
    services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    commit()
    return parcel


def test_dashboard_shows_townships_and_shares(client, login, create_user, versions, gep_parcel):
    _accounts(versions, gep_parcel)
    login(create_user("regulator"))
    html = client.get("/gep/?year=2025").get_data(as_text=True)
    assert "大南镇" in html and "<svg" in html and "调节服务" in html
    assert 'action="/gep/compute"' in html
    assert 'style="' not in html and re.search(r"<script(?![^>]*\bsrc=)", html) is None  # no inline script
    assert client.get("/gep/townships/danan?year=2025").status_code == 200
    pdf = client.get("/gep/report.pdf?year=2025")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_dashboard_in_english(client, login, create_user, versions, gep_parcel):
    _accounts(versions, gep_parcel)
    login(create_user("loan_officer"))
    html = client.get("/gep/?year=2025&lang=en").get_data(as_text=True)
    assert "Danan Town" in html and "Regulating" in html
    assert 'action="/gep/compute"' not in html  # loan officers read, they do not compute


def test_producer_may_not_see_dashboard(client, login, create_user):
    login(create_user("producer"))
    assert client.get("/gep/").status_code == 403


def test_parcel_page_shows_gep_panel(client, login, create_user, versions, gep_parcel):
    producer = create_user("producer")
    parcel = _accounts(versions, gep_parcel, holder_id=producer.party_id)
    login(producer)
    html = client.get(f"/parcels/{parcel.id}").get_data(as_text=True)
    current = services.current_parcel_gep(parcel.id)
    assert f"{current.value:,.2f}" in html and f"/gep/accounts/{current.account_id}" in html
    page = client.get(f"/gep/accounts/{current.account_id}")
    assert page.status_code == 200 and "badge status-finished" in page.get_data(as_text=True)  # reproduced


def test_producer_cannot_open_others_account(client, login, create_user, versions, gep_parcel):
    parcel = _accounts(versions, gep_parcel)
    login(create_user("producer"))
    assert client.get(f"/gep/accounts/{services.latest_account(parcel.id).id}").status_code == 404


def test_compute_form_starts_job(client, login, create_user, versions, gep_parcel, drain_jobs):
    parcel = gep_parcel()
    login(create_user("admin"))
    response = client.post("/gep/compute", data={"year": 2025, "prices": "GF-2025", "township": ""})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    drain_jobs()
    assert services.current_parcel_gep(parcel.id).year == 2025


def test_parcel_compute_form(client, login, create_user, versions, gep_parcel):
    parcel = gep_parcel()
    login(create_user("regulator"))
    response = client.post(f"/gep/parcels/{parcel.id}/compute", data={"year": 2024, "prices": "GF-2024"})
    assert response.status_code == 302 and "/gep/accounts/" in response.headers["Location"]
    assert services.current_parcel_gep(parcel.id).price_version == "GF-2024"


def test_admin_copies_and_edits_version(client, login, create_user, versions):
    login(create_user("admin"))
    assert "GF-2025" in client.get("/gep/prices").get_data(as_text=True)
    response = client.post("/gep/prices/copy", data={"source": "GF-2025", "code": "GF-2026", "title": "2026 draft",
                                                "year": 2026})
    assert response.status_code == 302
    bad = client.post("/gep/prices/GF-2026/price_carbon", data={"value": "-5", "unit": "CNY/tCO₂", "source": "x",
                                                                "year": 2026})
    assert bad.status_code == 422
    ok = client.post("/gep/prices/GF-2026/price_carbon", data={"value": "88", "unit": "CNY/tCO₂",
                                                               "source": "CEA 2026 forecast", "year": 2026})
    assert ok.status_code == 302
    db.session.expire_all()
    assert services.get_version("GF-2026").values()["price_carbon"] == 88.0
    duplicate = client.post("/gep/prices/copy", data={"source": "GF-2025", "code": "GF-2026", "title": "again", "year": 2026})
    assert duplicate.status_code == 422


def test_regulator_reads_but_cannot_edit_prices(client, login, create_user, versions):
    login(create_user("regulator"))
    html = client.get("/gep/prices/GF-2025").get_data(as_text=True)
    assert "price_carbon" in html and "/gep/prices/GF-2025/price_carbon" not in html
    assert client.get("/gep/prices/GF-2025/price_carbon").status_code == 403
    assert client.post("/gep/prices/copy", data={"source": "GF-2025", "code": "R", "title": "t", "year": 2025}).status_code == 403


def test_locked_version_shows_no_edit_links(client, login, create_user, versions, gep_parcel):
    _accounts(versions, gep_parcel)
    login(create_user("admin"))
    html = client.get("/gep/prices/GF-2025").get_data(as_text=True)
    assert "/gep/prices/GF-2025/price_carbon" not in html
    response = client.post("/gep/prices/GF-2025/price_carbon", data={"value": "1", "unit": "u", "source": "s",
                                                                      "year": 2025})
    assert response.status_code == 422 and Decimal(str(services.get_version("GF-2025").values()["price_carbon"])) == Decimal("72")


def test_producer_home_lists_parcel_gep(client, login, create_user, versions, gep_parcel):
    producer = create_user("producer")
    parcel = _accounts(versions, gep_parcel, holder_id=producer.party_id, name="我的柚园")
    login(producer)
    html = client.get("/").get_data(as_text=True)
    current = services.current_parcel_gep(parcel.id)
    assert "我的柚园" in html and f"{current.value:,.0f}" in html


def test_import_page_reports_bad_rows(client, login, create_user, create_party):
    import io

    party = create_party()
    login(create_user("regulator"))
    csv_text = ("code,holder_uscc,township_code,village,area_ha,land_cover,lat,lon,cert_type,cert_no,npp\n"
                f"WEB-1,{party.uscc},danan,古村村,4.5,orchard,28.49,118.29,land_contract,N1,700\n"
                f"WEB-2,{party.uscc},danan,古村村,4.5,volcano,28.49,118.29,land_contract,N2,\n")
    response = client.post("/gep/import", data={"file": (io.BytesIO(csv_text.encode()), "p.csv")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "line 3" in html and "land_cover" in html
    from greenfin.core.models import Parcel
    from sqlalchemy import select

    assert list(db.session.scalars(select(Parcel.code).where(Parcel.code.like("WEB-%")))) == ["WEB-1"]
    assert client.post("/gep/import", data={}, content_type="multipart/form-data").status_code == 422


def test_producer_cannot_import(client, login, create_user):
    login(create_user("producer"))
    assert client.get("/gep/import").status_code == 403


def test_dashboard_without_accounts(client, login, create_user):
    login(create_user("admin"))
    response = client.get("/gep/")
    assert response.status_code == 200
    assert "尚无GEP核算结果" in response.get_data(as_text=True)
    assert client.get("/gep/report.pdf?year=2025").status_code == 404


def test_compute_form_starts_the_same_job_as_the_api(client, login, create_user, api, versions, gep_parcel):
    """Page and API call one verb (start_gep_run): same version, same township, same job."""
    from greenfin.job_model import Job

    gep_parcel(township_code="hujiao")
    login(create_user("admin"))
    page = client.post("/gep/compute", data={"year": 2025, "prices": "GF-2025", "township": "hujiao"})
    assert page.status_code == 302
    page_job = db.session.get(Job, page.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    by_api = api("admin").post("/api/v1/gep/runs", json={"year": 2025, "prices": "GF-2025", "township": "hujiao"})
    assert by_api.status_code == 202, by_api.json
    api_job = db.session.get(Job, by_api.json["id"])
    assert page_job.kwargs == api_job.kwargs == {"year": 2025, "version_code": "GF-2025", "township": "hujiao"}
    assert page_job.title == api_job.title

