"""The consumer's scan page: a reload or a language switch from the same browser is not a new scan
(a signed, short-lived, per-label cookie with no personal data: traceability/scan_rules.py); what a
repeat means and what to do; the colour key and GEP in a line; a recalled lot reads "已召回" and
its certificates do not vouch for it."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from greenfin.extensions import db
from traceability import scan_rules, services
from traceability.models import Scan


def scans_count() -> int:
    return db.session.scalar(select(func.count(Scan.id)))


def labels(issue_labels, lot, n=1):
    return [(urlsplit(u).path + "?" + urlsplit(u).query, s) for u, s in services.iter_batch_labels(issue_labels(lot, n))]


def repeat_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(scan_rules.REPEAT_PREFIX)]
    assert len(cookies) == 1
    return cookies[0]


def test_reload_and_language_switch_do_not_add_a_scan(app, client, create_lot, issue_labels):
    [(path, serial)] = labels(issue_labels, create_lot())
    first = client.get(path)
    assert "这是此标签第一次被扫码" in first.get_data(as_text=True) and scans_count() == 1
    again = client.get(path).get_data(as_text=True)
    english = client.get(path + "&lang=en")
    html = english.get_data(as_text=True)
    assert scans_count() == 1
    assert "这是此标签第一次被扫码" in again and "再次打开或切换语言不计为新的扫码" in again
    assert "first time this label has been scanned" in html and "is not counted as another scan" in html
    assert english.status_code == 200 and len(english.data) < 100 * 1024 and "<script" not in html.lower()
    assert client.get(path, headers={"Accept": "application/json"}).json["repeat"] is True
    assert scans_count() == 1
    assert app.test_client().get(path, headers={"Accept": "application/json"}).json["repeat"] is False  # a new phone
    assert scans_count() == 2


def test_another_phone_is_a_new_scan_and_is_told_what_a_repeat_means(app, client, create_lot, issue_labels):
    [(path, _serial)] = labels(issue_labels, create_lot())
    client.get(path)
    other_phone = app.test_client()
    html = other_phone.get(path).get_data(as_text=True)
    assert scans_count() == 2
    assert "正品·曾被扫码" in html and "此标签此前已被扫码 1 次" in html
    assert "此码可能被复制" in html and "12315" in html
    assert "再次打开或切换语言不计为新的扫码" not in html  # not a repeat of this phone's


def test_the_cookie_is_signed_short_lived_scoped_and_holds_no_personal_data(app, client, create_lot, issue_labels,
                                                                             edge_proxy):
    [(path, serial)] = labels(issue_labels, create_lot())
    header = repeat_cookie(client.get(path, headers=edge_proxy("203.0.113.7", region="CN-JX", lat=28.4,
                                                               lon=118.2, **{"User-Agent": "phone/1.0"})))
    assert header.startswith(f"gfs_{serial}=")
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in header.split(";")[1:]}
    assert attributes["max-age"] == f"Max-Age={int(scan_rules.REPEAT_WINDOW.total_seconds())}"
    assert attributes["path"] == "Path=/01/" and "httponly" in attributes and attributes["samesite"] == "SameSite=Lax"
    token = header.split(";")[0].split("=", 1)[1]
    fields = scan_rules.repeat_fields(token)
    assert fields[:5] == [serial, "genuine", "", "0", ""] and len(fields) == 6  # and when it was scanned
    assert not any(part in token + "|".join(fields) for part in ("203.0.113", "江西", "28.4", "phone/1.0"))
    # Altered, forged, or another label's: ignored, the scan is a new one.
    client.set_cookie(f"gfs_{serial}", token[:-2] + ("AA" if not token.endswith("AA") else "BB"), path="/01/")
    client.get(path)
    assert scans_count() == 2
    forged = scan_rules.repeat_token("not the key", serial, "genuine", None, 0, None, services.utcnow())
    client.set_cookie(f"gfs_{serial}", forged, path="/01/")
    client.get(path)
    assert scans_count() == 3
    bumped = scan_rules.repeat_token(app.config["SECRET_KEY"], serial, "genuine", None, 7, None, services.utcnow())
    client.set_cookie(f"gfs_{serial}", bumped.split(".")[0] + "." + token.split(".")[1], path="/01/")
    client.get(path)  # a body with another body's signature
    assert scans_count() == 4


def test_another_labels_cookie_and_an_expired_one_do_not_count(client, create_lot, issue_labels):
    (path_a, serial_a), (path_b, serial_b) = labels(issue_labels, create_lot(), 2)
    token_a = repeat_cookie(client.get(path_a)).split(";")[0].split("=", 1)[1]
    client.set_cookie(f"gfs_{serial_b}", token_a, path="/01/")  # label A's cookie under label B's name
    client.get(path_b)
    assert scans_count() == 2
    secret = client.application.config["SECRET_KEY"]
    assert scan_rules.read_repeat(secret, token_a, serial_a)["verdict"] == "genuine"
    later = services.utcnow() + scan_rules.REPEAT_WINDOW + timedelta(seconds=5)
    assert scan_rules.read_repeat(secret, token_a, serial_a, now=later) is None
    assert scan_rules.read_repeat(secret, token_a, serial_b) is None
    stale = scan_rules.repeat_token(secret, serial_a, "genuine", None, 0, None,
                                    services.utcnow() - scan_rules.REPEAT_WINDOW - timedelta(seconds=5))
    client.set_cookie(f"gfs_{serial_a}", stale, path="/01/")  # signed, but from an hour ago
    client.get(path_a)
    assert scans_count() == 3


def test_recalled_lot_reads_recalled_with_the_notice_and_certificates_not_applicable(client, create_lot, issue_labels,
                                                                                      create_user):
    lot = create_lot()
    today = services.today()
    services.grant_certification({"kind": "green_food", "number": "LB-9", "issuer": "中国绿色食品发展中心",
                                  "scope": "product", "party_id": lot.producer_id, "product_id": lot.product_id,
                                  "valid_from": today - timedelta(days=10), "valid_until": today + timedelta(days=10)})
    (path, _serial), (other, _other_serial) = labels(issue_labels, lot, 2)
    client.get(path)  # opened before the recall: the cookie's answer was "genuine"
    services.recall_lot(lot, "农残超标", actor_id=create_user("regulator").id)
    db.session.commit()
    for html in (client.get(other).get_data(as_text=True), client.get(path).get_data(as_text=True)):
        assert "已召回" in html and "召回公告" in html and "农残超标" in html
        assert "可疑" not in html and "正品" not in html
        assert "不适用：该批次已召回" in html and ">有效<" not in html
    body = client.get(other, headers={"Accept": "application/json"}).json
    assert body["reason"] == "recalled" and body["lot"]["recalled"] is True
    assert [c["status"] for c in body["certifications"]] == ["not_applicable"]


def test_scan_page_explains_the_colours_and_gep_in_chinese_without_english_leftovers(client, create_lot,
                                                                                     issue_labels, monkeypatch):
    from traceability.services import scans

    monkeypatch.setattr(scans, "gep_brief", lambda parcel_id: {"year": 2025, "total_value": "1234567",
                                                               "value_per_ha": "456789", "top_services": []})
    [(path, _serial)] = labels(issue_labels, create_lot())
    html = client.get(path).get_data(as_text=True)
    assert "由好到差" in html
    for colour in ("绿", "蓝", "黄", "红"):
        assert colour in html
    assert "GEP（生态产品总值）是这片土地的自然生态每年提供的价值" in html
    assert "公顷" in html and " ha<" not in html and "Ministry" not in html
    english = client.get(path + "&lang=en").get_data(as_text=True)
    assert "best to worst" in english and "GEP (gross ecosystem product) is what this land" in english
    assert " ha</small>" in english


@pytest.mark.parametrize("serial", ["", "A" * 21, "ÄBC", "AB-C"])
def test_serials_that_cannot_name_a_cookie_get_none(serial):
    assert scan_rules.repeat_cookie_name(serial) is None
