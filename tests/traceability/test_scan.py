"""The public scan page: verdicts, recording, JSON, malformed paths, size."""
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenfin.extensions import db
from traceability import services
from traceability.services import links, scan_store
from traceability.models import Scan


@pytest.fixture
def client(app):
    """Each request a phone that keeps no cookies, so that each is a scan of its own (the same
    browser opening a label again is tests/traceability/test_scan_repeat.py's)."""
    return app.test_client(use_cookies=False)


def label_path(uri):
    parts = urlsplit(uri)
    return parts.path + "?" + parts.query


def first_label_path(batch):
    uri, serial = next(services.iter_batch_labels(batch))
    return label_path(uri), serial


def scans_count():
    return db.session.scalar(select(func.count(Scan.id)))


def test_first_scan_is_genuine_and_shows_the_lot(client, create_lot, issue_labels):
    lot = create_lot()
    path, serial = first_label_path(issue_labels(lot, 3))
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "马家柚鲜果 5kg 礼盒" in html and lot.code in html and serial in html and "古村柚园" in html
    assert "第一次" in html or "first time" in html
    assert len(response.data) < 100 * 1024
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None  # no inline script (CSP)
    assert scans_count() == 1


def test_repeat_scan_says_how_often_and_since_when(client, create_lot, issue_labels, edge_proxy):
    lot = create_lot()
    path, _serial = first_label_path(issue_labels(lot, 1))
    client.get(path, headers=edge_proxy("203.0.113.7", region="CN-JX"))
    client.get(path, headers=edge_proxy("203.0.113.7"))
    body = client.get(path, headers={"Accept": "application/json"}).json
    assert body["verdict"] == "genuine_repeat" and body["previous_scans"] == 2
    assert body["first_scan_region"] == "江西" and body["product"]["gtin"] == lot.product.gtin
    assert scans_count() == 3


def test_repeat_scan_page_names_count_first_time_and_region_in_both_languages(client, create_lot, issue_labels,
                                                                               edge_proxy):
    lot = create_lot()
    batch = issue_labels(lot, 2)
    (path, serial), (other_path, _other) = [(label_path(u), s) for u, s in services.iter_batch_labels(batch)]
    client.get(path, headers=edge_proxy("203.0.113.7", region="江西省"))
    first = db.session.scalar(select(Scan.scanned_at).where(Scan.label_id.is_not(None)))
    when = scan_store.as_utc(first).astimezone(services.CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    zh = client.get(path).get_data(as_text=True)
    assert f"此标签此前已被扫码 1 次，首次扫码于 {when}" in zh and "(江西)" in zh and serial in zh
    en = client.get(path + "&lang=en").get_data(as_text=True)
    assert f"scanned 2 times before, first on {when}" in en and "(江西)" in en
    client.get(other_path)  # first scanned without a region: none is shown
    plain = client.get(other_path + "&lang=en").get_data(as_text=True)
    assert "scanned 1 times before" in plain and f"{when[:10]}" in plain and "()" not in plain
    assert serial not in plain


def test_bad_signature_and_unknown_serial_answer_the_same(client, create_lot, issue_labels):
    lot = create_lot()
    path, serial = first_label_path(issue_labels(lot, 1))
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    unknown = path.replace(serial, "ZZZZZZZZZZZZZZZZ")
    a, b = client.get(forged), client.get(unknown)
    assert a.status_code == b.status_code == 404
    page_a = a.get_data(as_text=True).replace(forged, "").replace(urlsplit(forged).path, "")
    page_b = b.get_data(as_text=True).replace(unknown, "").replace(urlsplit(unknown).path, "")
    assert page_a == page_b
    ja = client.get(forged, headers={"Accept": "application/json"}).json
    jb = client.get(unknown, headers={"Accept": "application/json"}).json
    assert ja == jb == {"verdict": "not_genuine", "reason": None}
    assert scans_count() == 4
    assert db.session.scalar(select(func.count(Scan.id)).where(Scan.label_id.is_not(None))) == 0


def test_malformed_paths_get_a_friendly_page(client):
    for path in ("/01/123", "/01/06901234567892/10/x/21/", "/01/abc/10/L/21/S?s=x", "/01/06901234567893/10/L/21/S",
                 "/01/" + "9" * 300, "/01/06901234567892/10/" + "L" * 30 + "/21/S?s=1"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "无法识别" in response.get_data(as_text=True) or "not recognised" in response.get_data(as_text=True)


def test_recall_shows_at_once(client, create_lot, issue_labels, create_user):
    lot = create_lot()
    path, _ = first_label_path(issue_labels(lot, 1))
    assert client.get(path, headers={"Accept": "application/json"}).json["verdict"] == "genuine"
    services.recall_lot(lot, "农残超标 pesticide residue", actor_id=create_user("regulator").id)
    db.session.commit()
    body = client.get(path, headers={"Accept": "application/json"}).json
    assert body["verdict"] == "suspicious" and body["reason"] == "recalled"
    assert "pesticide" in body["recall_reason"]
    assert "pesticide" in client.get(path).get_data(as_text=True)


def test_scans_far_apart_in_a_short_time_are_suspicious(client, create_lot, issue_labels, edge_proxy):
    lot = create_lot()
    path, _ = first_label_path(issue_labels(lot, 1))
    client.get(path, headers=edge_proxy("203.0.113.7", lat="28.44", lon="118.19"))  # Guangfeng
    body = client.get(path, headers=edge_proxy("198.51.100.9", lat="23.13", lon="113.26",  # Guangzhou
                                               Accept="application/json")).json
    assert body["verdict"] == "suspicious" and body["reason"] == "far_apart"


def test_english_page_on_request(client, create_lot, issue_labels):
    lot = create_lot()
    path, _ = first_label_path(issue_labels(lot, 1))
    html = client.get(path + "&lang=en").get_data(as_text=True)
    assert "Genuine" in html and "Majia pomelo gift box 5 kg" in html


def test_scan_page_is_chinese_first(client, create_lot, issue_labels):
    lot = create_lot()
    path, _ = first_label_path(issue_labels(lot, 1))
    html = client.get(path).get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "正品" in html and "这是此标签第一次被扫码" in html and "采收日期" in html


def test_scan_page_survives_a_failing_credit_package(client, create_lot, issue_labels, monkeypatch):
    class Broken:
        @staticmethod
        def current_rating(party_id):
            from sqlalchemy import text

            db.session.execute(text("select * from no_such_table"))

    real = links.contract
    monkeypatch.setattr(links, "contract", lambda name: Broken if name == "credit" else real(name))
    lot = create_lot()
    path, _ = first_label_path(issue_labels(lot, 1))
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json["producer"]["credit_colour"] is None
    assert scans_count() == 1


def test_cached_page_carries_each_scans_own_verdict_serial_and_recall(client, app, create_lot, issue_labels,
                                                                       monkeypatch):
    """Outside tests the page around the verdict is cached per lot and language: nothing of one scan
    may show on another, and a recall made by another process shows on the next scan."""
    from sqlalchemy import update

    from traceability.models import Lot

    monkeypatch.setattr(app, "testing", False)  # the caches are on
    monkeypatch.setitem(app.config, "TRACE_SCAN_POOL", False)
    monkeypatch.setattr(scan_store, "_PAGE_CACHE", {})
    monkeypatch.setattr(scan_store, "_LOT_CACHE", {})
    lot = create_lot()
    batch = issue_labels(lot, 2)
    (uri_a, serial_a), (uri_b, serial_b) = list(services.iter_batch_labels(batch))
    path_a, path_b = (urlsplit(u).path + "?" + urlsplit(u).query for u in (uri_a, uri_b))
    first = client.get(path_a).get_data(as_text=True)
    assert "这是此标签第一次被扫码" in first and serial_a in first
    other = client.get(path_b).get_data(as_text=True)
    assert serial_b in other and serial_a not in other and "这是此标签第一次被扫码" in other
    assert urlsplit(uri_b).path + "?s=" in other and urlsplit(uri_a).path not in other
    assert "此标签此前已被扫码 1 次" in client.get(path_a).get_data(as_text=True)
    db.session.execute(update(Lot).where(Lot.id == lot.id).values(recalled_at=services.utcnow(),
                                                                 recall_reason="农残超标"))
    db.session.commit()  # no cache invalidation: as if another process recalled the lot
    recalled = client.get(path_b).get_data(as_text=True)
    assert "召回" in recalled and "农残超标" in recalled and serial_b in recalled


@pytest.fixture()
def commits(monkeypatch):
    """Every ``Session.commit()`` called while the test runs (the request's, the factories' too;
    savepoints released by ``begin_nested`` are not commits of the unit of work)."""
    made = []
    commit = Session.commit

    def counted(session):
        made.append(session)
        return commit(session)

    monkeypatch.setattr(Session, "commit", counted)
    return made


def test_scan_unrecognised_is_one_unit_of_work_with_its_flag(app, create_lot, limits_on, commits):
    """Each not-genuine scan commits once: its scan record and, at the threshold, the serial-guessing
    flag, although the answer is a 404 (greenfin/uow.py keep_work_on)."""
    from greenfin.core.models import AuditEvent

    lot = create_lot()
    client = app.test_client()
    for n in range(1, services.ENUMERATION_THRESHOLD + 1):
        before = len(commits)
        response = client.get(f"/01/{lot.product.gtin}/10/{lot.code}/21/{n:016d}?s=forged",
                              environ_base={"REMOTE_ADDR": "198.51.100.77"})
        assert response.status_code == 404 and len(commits) - before == 1
    assert scans_count() == services.ENUMERATION_THRESHOLD
    flags = db.session.scalars(select(AuditEvent).where(AuditEvent.action == services.ENUMERATION_ACTION)).all()
    assert [f.entity_id for f in flags] == ["198.51.100.0/24"]


def test_scan_genuine_commits_once(client, create_lot, issue_labels, commits):
    path, _serial = first_label_path(issue_labels(create_lot(), 1))
    before = len(commits)
    assert client.get(path).status_code == 200
    assert len(commits) - before == 1 and scans_count() == 1
