"""The public eco-product catalogue: built from the records, every parcel with a GEP account and a
lot listed, filters, CSV, no personal identifiers; the regulators' coverage."""
import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from greenfin.dates import today as business_today
from greenfin.extensions import db
from greenfin.market import services
from traceability import services as trace


@pytest.fixture
def client(app):
    return app.test_client()


def grant(lot, kind="green_food", days_left=200, **overrides):
    data = {"kind": kind, "number": f"LB-{lot.id}-{kind}-{days_left}", "issuer": "中国绿色食品发展中心",
            "scope": "product", "party_id": lot.producer_id, "product_id": lot.product_id, "parcel_id": None,
            "valid_from": business_today() - timedelta(days=400), "valid_until": business_today() + timedelta(days=days_left)}
    data.update(overrides)
    cert = trace.grant_certification(data)
    db.session.commit()
    return cert


def test_catalogue_lists_every_parcel_with_a_gep_account_and_a_lot(create_parcel, create_lot, create_party,
                                                                   account_parcel):
    producer = create_party()
    orchards = [create_parcel(holder_id=producer.id, township_code=t) for t in ("danan", "danan", "paishan", "paishan")]
    lone = create_parcel(holder_id=producer.id)  # accounted, no lot
    for parcel in orchards[:3] + [lone]:
        account_parcel(parcel)
    create_lot(producer=producer, parcels=orchards[:2])
    create_lot(producer=producer, parcels=[orchards[2], orchards[3]])  # orchards[3]: a lot, no account
    listed = {e["parcel_id"] for e in services.catalogue()}
    accounted_with_lot = {p.id for p in orchards[:3]}
    assert accounted_with_lot <= listed and orchards[3].id in listed and lone.id not in listed
    cover = services.coverage()
    assert {p["parcel_id"] for p in cover["missing"]} >= {lone.id}
    assert not accounted_with_lot & {p["parcel_id"] for p in cover["missing"]}
    accounted = _accounted()
    assert cover["accounted"] == len(accounted) and cover["covered"] == len(listed & accounted)


def _accounted():
    from greenfin.gep import services as gep

    return gep.accounted_parcel_ids()


def test_an_entry_carries_what_is_recorded(create_parcel, create_lot, create_party, account_parcel):
    producer = create_party(kind="organisation", name="广丰区马家柚合作社")
    parcel = create_parcel(holder_id=producer.id, name="古村柚园", township_code="danan")
    account = account_parcel(parcel)
    lot = create_lot(producer=producer, parcels=[parcel], quantity=Decimal("850.5"))
    trace.record_event(lot, "grading", {"grade": "特级"})
    grant(lot, "green_food")
    grant(lot, "organic", days_left=-5)
    db.session.commit()
    [entry] = [e for e in services.catalogue() if e["lot_id"] == lot.id]
    assert entry["quantity"] == Decimal("850.5") and entry["grade"] == "特级" and entry["township"] == "danan"
    assert entry["gep_value"] == account.total and entry["gep_year"] == 2025
    assert entry["rights_holder"] == "广丰区马家柚合作社" and entry["brand"]["status"] == "active"
    assert {c["kind"]: c["status"] for c in entry["certifications"]} == {"green_food": "valid", "organic": "expired"}


def test_filters_by_township_product_certificate_and_text(create_parcel, create_lot, create_party):
    producer = create_party()
    a = create_lot(producer=producer, parcels=[create_parcel(holder_id=producer.id, township_code="danan")])
    b = create_lot(producer=producer, parcels=[create_parcel(holder_id=producer.id, township_code="paishan")])
    grant(a, "organic")
    grant(b, "organic", days_left=-1)  # expired: not "certified organic" today
    lots = lambda **f: {e["lot_id"] for e in services.catalogue(**f)} & {a.id, b.id}  # noqa: E731
    assert lots() == {a.id, b.id}
    assert lots(township="danan") == {a.id} and lots(township="paishan") == {b.id}
    assert lots(product=b.product_id) == {b.id}
    assert lots(certification="organic") == {a.id}
    assert lots(q=b.code.lower()) == {b.id}


def test_revoked_gi_authorisation_is_shown(create_parcel, create_lot, create_party, create_brand, create_product):
    producer = create_party()
    brand = create_brand()
    auth = trace.authorise_brand(brand.id, producer.id, business_today() - timedelta(days=400))
    product = create_product(owner=producer, brand=brand)
    lot = create_lot(product=product, producer=producer, parcels=[create_parcel(holder_id=producer.id)])
    entry = lambda: next(e for e in services.catalogue() if e["lot_id"] == lot.id)  # noqa: E731
    assert entry()["brand"]["status"] == "active"
    trace.revoke_brand_authorisation(auth, "假冒标签")
    db.session.commit()
    assert entry()["brand"]["status"] == "revoked"


@pytest.mark.parametrize("args, field", [({"township": "atlantis"}, "township"), ({"product": 99999999}, "product"),
                                         ({"certification": "halal"}, "certification")])
def test_an_unknown_filter_is_refused_by_name(client, args, field):
    response = client.get("/api/v1/market/catalogue", query_string=args)
    assert response.status_code == 422 and field in response.json["errors"]
    page = client.get("/market/catalogue", query_string=args | {"lang": "en"})
    assert page.status_code == 422 and str(list(args.values())[0]) in page.get_data(as_text=True)
    assert client.get("/market/catalogue.csv", query_string=args).status_code == 422


def test_public_pages_need_no_account_and_name_no_household(client, create_parcel, create_lot, create_party):
    person = create_party(kind="individual", name="张三丰")
    lot = create_lot(producer=person, parcels=[create_parcel(holder_id=person.id)])
    for lang in ("zh_CN", "en"):
        response = client.get("/market/catalogue", query_string={"q": lot.code, "lang": lang})
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and lot.code in html and "张三丰" not in html
        assert len(response.data) < 100 * 1024 and re.search(r"<script(?![^>]*\bsrc=)", html) is None
    api = client.get("/api/v1/market/catalogue", query_string={"q": lot.code}).json
    assert api[0]["lot"] == lot.code and api[0]["rights_holder"] is None and "张三丰" not in str(api)
    info = client.get(api[0]["information"].replace("https://trace.example.test", ""))
    assert info.status_code == 200 and lot.code in info.get_data(as_text=True)
    assert "张三丰" not in info.get_data(as_text=True)


def test_csv_export_has_exact_decimals_and_every_entry(client, create_parcel, create_lot, create_party,
                                                       account_parcel):
    producer = create_party()
    parcel = create_parcel(holder_id=producer.id)
    account = account_parcel(parcel)
    lot = create_lot(producer=producer, parcels=[parcel], quantity=Decimal("1200.250"))
    response = client.get("/market/catalogue.csv", query_string={"q": lot.code})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1 and tuple(rows[0]) == services.CSV_COLUMNS
    assert rows[0]["quantity"] == "1200.25" and rows[0]["gep_value"] == f"{account.total:.2f}"


def test_cli_writes_the_catalogue_and_refuses_a_bad_filter(runner, tmp_path, create_parcel, create_lot,
                                                           create_party):
    producer = create_party()
    lot = create_lot(producer=producer, parcels=[create_parcel(holder_id=producer.id, township_code="danan")])
    out = tmp_path / "catalogue.csv"
    result = runner.invoke(args=["market", "catalogue", "--township", "danan", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert lot.code in out.read_text(encoding="utf-8")
    bad = runner.invoke(args=["market", "catalogue", "--certification", "halal"])
    assert bad.exit_code == 2 and "certification" in bad.output


def test_coverage_is_for_regulators(client, api, create_parcel, account_parcel):
    parcel = create_parcel()
    account_parcel(parcel)
    assert api("producer").get("/api/v1/market/coverage").status_code == 403
    body = api("regulator").get("/api/v1/market/coverage").json
    assert parcel.code in {p["code"] for p in body["missing"]} and body["accounted"] >= 1


def test_coverage_page_shows_the_gaps_to_a_regulator(client, login, create_user, create_parcel, account_parcel):
    parcel = create_parcel()
    account_parcel(parcel)
    login(create_user("regulator"))
    for lang in ("zh_CN", "en"):
        response = client.get("/market/coverage", query_string={"lang": lang})
        assert response.status_code == 200 and parcel.code in response.get_data(as_text=True)
