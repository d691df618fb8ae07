"""PostgreSQL: scans as production runs them, on the scan pool with real commits and the page caches on.

Runs in a database of its own (the pool's connections cannot see a test's uncommitted rows).
"""
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, func, select, text

from greenfin.dates import today as business_today
from greenfin.core import services as core
from greenfin.extensions import db
from greenfin.uow import commit
from tests.conftest import PG_BASE, PG_DB, make_uscc, migrated_app, reset_postgres, using_postgres
from tests.traceability.conftest import make_gtin
from traceability import services
from traceability.services import scan_store
from traceability.models import Scan

pytestmark = [pytest.mark.no_db_isolation,
              pytest.mark.skipif(not using_postgres(), reason="the scan pool is PostgreSQL's path")]

NAME = f"{PG_DB}_scanpool"
# Clients keep no cookies: each request is a phone of its own, so that each is a scan (the same
# browser opening a label again is tests/traceability/test_scan_repeat.py's).


@pytest.fixture
def pool_app(tmp_path):
    app = migrated_app(reset_postgres(NAME), instance=tmp_path, TRACE_SCAN_POOL=True, TESTING=False,
                       TRACE_GEO_PROXIES="127.0.0.1")
    yield app
    with app.app_context():
        db.session.remove()
        pool = app.extensions.get("trace_scan_pool")
        if pool:
            pool.engine.dispose()
        db.engine.dispose()
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
    admin.dispose()


def make_lot(app, code="MJY-POOL"):
    """A branded lot with one orchard and two labels, committed; returns (lot id, [scan path, ...])."""
    with app.app_context():
        core.ensure_townships()
        party = core.create_party({"kind": "organisation", "name": "大南镇马家柚合作社", "uscc": make_uscc("93"),
                                   "township_code": "danan"})
        parcel = core.create_parcel({"code": "T-POOL-1", "name": "古村柚园", "holder_id": party.id,
                                     "township_code": "danan", "village": "古村村", "area_ha": Decimal("5.5"),
                                     "land_cover": "orchard", "lat": Decimal("28.49"), "lon": Decimal("118.29"),
                                     "cert_type": "land_contract", "cert_no": "赣(2020)广丰区不动产权第0001号"})
        brand = services.create_brand({"name": "马家柚", "name_en": "Majia pomelo"})
        services.authorise_brand(brand.id, party.id, business_today() - timedelta(days=30))
        product = services.create_product({"gtin": make_gtin(), "name": "马家柚鲜果 5kg 礼盒",
                                           "name_en": "Majia pomelo gift box 5 kg", "brand_id": brand.id,
                                           "owner_id": party.id})
        lot = services.create_lot({"code": code, "product_id": product.id, "producer_id": party.id,
                                   "quantity": Decimal(100), "parcel_ids": [parcel.id]})
        batch = services.create_label_batch(lot, 2, "a4-3x8")
        services.issue_labels(batch)
        commit()
        paths = []
        for uri, _serial in services.iter_batch_labels(batch):
            parts = urlsplit(uri)
            paths.append(parts.path + "?" + parts.query)
        lot_id = lot.id
        db.session.remove()
    return lot_id, paths


def recorded(app):
    with app.app_context():
        rows = db.session.execute(select(Scan.verdict, Scan.label_id).order_by(Scan.id)).all()
        db.session.remove()
        return rows


def test_scans_on_the_pool_are_judged_recorded_and_cached_pages_stay_right(pool_app):
    lot_id, (path, other) = make_lot(pool_app)
    client = pool_app.test_client(use_cookies=False)
    first = client.get(path, headers={"X-Geo-Region": "CN-JX"})  # from the edge proxy at 127.0.0.1
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "这是此标签第一次被扫码" in html and "古村柚园" in html
    assert 'lang="zh-CN"' in html and "?s=" in html and "lang=en" in html
    again = client.get(path, headers={"Accept": "application/json"}).json
    assert again["verdict"] == "genuine_repeat" and again["previous_scans"] == 1
    assert again["first_scan_region"] == "江西" and again["first_scan_at"].endswith("+00:00")
    # The page around the verdict comes from the cache now: the verdict and the link are this scan's.
    english = pool_app.test_client(use_cookies=False).get(other + "&lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Majia pomelo gift box 5 kg" in english and "first time" in english
    assert other.split("?")[0] in english and "lang=zh_CN" in english
    chinese = client.get(path).get_data(as_text=True)
    assert 'lang="zh-CN"' in chinese and "此标签此前已被扫码 2 次" in chinese
    assert client.get(path[:-2] + "xx").status_code == 404
    with pool_app.app_context():
        services.recall_lot(services.get_lot(lot_id), "农残超标")  # this process forgets its cached page
        commit()
        db.session.remove()
    scan_store._PAGE_CACHE.clear(), scan_store._LOT_CACHE.clear()  # as if another process recalled it
    recalled = client.get(other)
    assert "召回" in recalled.get_data(as_text=True) and "农残超标" in recalled.get_data(as_text=True)
    verdicts = [v for v, _label in recorded(pool_app)]
    assert verdicts == ["genuine", "genuine_repeat", "genuine", "genuine_repeat", "not_genuine", "suspicious"]


def test_probe_7_lot_codes_with_slashes_scan_genuine_through_the_scan_function(pool_app):
    _lot_id, (path, _other) = make_lot(pool_app, code="/MJY/26//A/21/")
    assert "/10/%2FMJY%2F26%2F%2FA%2F21%2F/21/" in path
    client = pool_app.test_client(use_cookies=False)
    first = client.get(path, headers={"Accept": "application/json"})
    assert first.status_code == 200 and first.json["verdict"] == "genuine"
    assert first.json["lot"]["code"] == "/MJY/26//A/21/"
    assert client.get(path.replace("%2F26%2F", "%2F27%2F")).status_code == 404
    assert [v for v, _label in recorded(pool_app)] == ["genuine", "not_genuine"]


def test_recall_shows_on_the_next_scan_even_from_a_cached_page(pool_app):
    lot_id, (path, _other) = make_lot(pool_app)
    client = pool_app.test_client(use_cookies=False)
    assert client.get(path).status_code == 200  # the lot's page parts are cached now
    with pool_app.app_context():
        # Another process recalls: this one's cache is not told.
        db.session.execute(text("UPDATE trace_lots SET recalled_at = now(), recall_reason = '农残超标' WHERE id = :id"),
                           {"id": lot_id})
        commit()
        db.session.remove()
    html = client.get(path).get_data(as_text=True)
    assert "召回" in html and "农残超标" in html


def test_a_dead_pool_connection_is_replaced_and_the_scan_still_recorded(pool_app):
    _lot_id, (path, _other) = make_lot(pool_app)
    client = pool_app.test_client(use_cookies=False)
    assert client.get(path).status_code == 200
    with pool_app.app_context():
        # A database restart, as the pool sees it: every one of its connections is gone.
        db.session.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        db.session.remove()
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json["previous_scans"] == 1
    assert len(recorded(pool_app)) == 2
    with pool_app.app_context():
        assert db.session.scalar(select(func.count(Scan.id)).where(Scan.label_id.is_not(None))) == 2
        db.session.remove()


def test_simultaneous_scans_of_one_label_are_judged_one_after_another(pool_app):
    """Eight phones scan one new label at the same moment: one of them is told it is the first."""
    from concurrent.futures import ThreadPoolExecutor

    _lot_id, (path, _other) = make_lot(pool_app)

    def scan(_i):
        return pool_app.test_client(use_cookies=False).get(path, headers={"Accept": "application/json"}).json

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(scan, range(8)))
    assert sorted(a["verdict"] for a in answers) == ["genuine"] + ["genuine_repeat"] * 7
    assert sorted(a.get("previous_scans", 0) for a in answers) == list(range(8))
    assert len(recorded(pool_app)) == 8
