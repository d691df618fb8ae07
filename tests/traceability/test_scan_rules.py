"""Probe item 8: geo only from the configured edge proxy, known regions only, and a repeat-scan
verdict that a stranger cannot poison (traceability/scan_rules.py)."""
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import insert, select

from greenfin import create_app
from greenfin.config import TestConfig as AppConfig
from greenfin.core.types import utcnow
from greenfin.extensions import db
from traceability import scan_rules, services
from traceability.models import Label, Scan

JSON = {"Accept": "application/json"}


@pytest.fixture
def client(app):
    """Each request a phone that keeps no cookies, so that each is a scan of its own (the same
    browser opening a label again is tests/traceability/test_scan_repeat.py's)."""
    return app.test_client(use_cookies=False)


@pytest.fixture
def label(create_lot, issue_labels):
    """A new label: its scan path and its row."""
    lot = create_lot()
    uri, serial = next(services.iter_batch_labels(issue_labels(lot, 1)))
    parts = urlsplit(uri)
    return parts.path + "?" + parts.query, db.session.scalar(select(Label).where(Label.serial == serial))


def last_scan():
    return db.session.scalars(select(Scan).order_by(Scan.id.desc()).limit(1)).one()


def test_probe_8_geo_headers_from_any_client_are_ignored_by_default(client, label):
    path, _label = label
    body = client.get(path, headers={"X-Geo-Region": "CN-SH", "X-Geo-Lat": "23.13", "X-Geo-Lon": "113.26", **JSON}).json
    assert body["verdict"] == "genuine"
    assert (last_scan().region, last_scan().lat, last_scan().lon) == (None, None, None)


def test_probe_8_geo_headers_not_sent_through_the_proxy_are_ignored(client, app, label, monkeypatch):
    path, _label = label
    monkeypatch.setitem(app.config, "TRACE_GEO_PROXIES", "192.0.2.10, 10.0.0.0/8")  # the proxy is elsewhere
    client.get(path, headers={"X-Geo-Region": "CN-SH", "X-Geo-Lat": "23.13", "X-Geo-Lon": "113.26"})
    assert (last_scan().region, last_scan().lat) == (None, None)
    monkeypatch.setitem(app.config, "TRACE_GEO_PROXIES", "127.0.0.0/8")  # the test client's address
    client.get(path, headers={"X-Geo-Region": "CN-SH", "X-Geo-Lat": "23.13", "X-Geo-Lon": "113.26"})
    assert (last_scan().region, str(last_scan().lat)) == ("上海", "23.130000")


@pytest.mark.parametrize("sent, kept", [
    ("CN-SH", "上海"), ("cn-sh", "上海"), ("上海市", "上海"), ("%E4%B8%8A%E6%B5%B7", "上海"), ("Shanghai", "上海"),
    ("广西壮族自治区", "广西"), ("Atlantis", None), ("<b>上饶</b>", None), ("上饶", None), ("x" * 500, None)])
def test_probe_8_only_known_regions_are_kept(client, label, edge_proxy, sent, kept):
    path, _label = label
    client.get(path, headers=edge_proxy("203.0.113.7", region=sent))
    assert last_scan().region == kept


def test_probe_8_many_plain_scans_from_one_network_never_make_a_label_suspicious(client, label):
    path, _label = label
    verdicts = {client.get(path, headers=JSON).json["verdict"] for _ in range(30)}
    assert verdicts == {"genuine", "genuine_repeat"}


def test_probe_8_fake_far_apart_coordinates_do_not_flag_a_label(client, label, edge_proxy):
    path, _label = label
    client.get(path, headers=edge_proxy("203.0.113.7", lat="28.44", lon="118.19"))  # the buyer, in Guangfeng
    stranger = {"X-Geo-Lat": "45.75", "X-Geo-Lon": "126.63", **JSON}  # "Harbin", sent straight to the app
    client.get(path, headers=stranger, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert last_scan().lat is None and last_scan().verdict == "genuine_repeat"
    body = client.get(path, headers=edge_proxy("203.0.113.7", lat="28.44", lon="118.19", Accept="application/json")).json
    assert (body["verdict"], body["reason"]) == ("genuine_repeat", None)


def test_probe_8_a_code_copied_onto_many_networks_is_suspicious_except_for_its_buyer(client, label, edge_proxy):
    path, _label = label
    assert client.get(path, headers=edge_proxy("203.0.113.7", Accept="application/json")).json["verdict"] == "genuine"
    verdicts = [client.get(path, headers=edge_proxy(f"198.51.{n}.9", Accept="application/json")).json["verdict"]
                for n in range(1, scan_rules.NETWORK_LIMIT + 2)]
    assert verdicts == ["genuine_repeat"] * (scan_rules.NETWORK_LIMIT - 1) + ["suspicious"] * 2
    assert client.get(path, headers=edge_proxy("198.51.3.200", Accept="application/json")).json["reason"] == "too_many"
    buyer = client.get(path, headers=edge_proxy("203.0.113.99", Accept="application/json")).json  # same /24
    assert (buyer["verdict"], buyer["reason"]) == ("genuine_repeat", None)


def test_probe_8_scans_older_than_the_window_no_longer_count(client, label, edge_proxy):
    path, row = label
    long_ago = utcnow() - scan_rules.RECENT_WINDOW - timedelta(minutes=1)
    db.session.execute(insert(Scan), [{"label_id": row.id, "lot_id": row.lot_id, "scanned_at": long_ago,
                                       "verdict": "genuine_repeat", "ip_prefix": f"198.51.{n}.0/24"}
                                      for n in range(scan_rules.NETWORK_LIMIT + 5)])
    db.session.commit()
    body = client.get(path, headers=edge_proxy("192.0.2.1", Accept="application/json")).json
    assert (body["verdict"], body["previous_scans"]) == ("genuine_repeat", scan_rules.NETWORK_LIMIT + 5)


def test_judge_scan_ignores_old_far_scans_and_scans_from_the_same_network():
    now = utcnow()

    def scan(hours_ago, region, network="198.51.100.0/24"):
        return SimpleNamespace(scanned_at=now - timedelta(hours=hours_ago), region=region, lat=None, lon=None,
                               ip_prefix=network)

    first = scan(48, "北京", "192.0.2.0/24")
    judge = scan_rules.judge_scan
    assert judge(first, [first], now, "203.0.113.0/24", "江西", None, None, False) == ("genuine_repeat", None)
    recent = scan(1, "北京")
    assert judge(first, [recent, first], now, "203.0.113.0/24", "江西", None, None, False) == ("suspicious", "far_apart")
    assert judge(first, [recent, first], now, "198.51.100.0/24", "江西", None, None, False) == ("genuine_repeat", None)
    assert judge(first, [recent, first], now, "192.0.2.0/24", "江西", None, None, False) == ("genuine_repeat", None)
    assert judge(first, [recent, first], now, "192.0.2.0/24", "江西", None, None, True) == ("suspicious", "recalled")
    assert judge(None, [], now, None, None, None, None, False) == ("genuine", None)


@pytest.mark.parametrize("address, network", [
    ("203.0.113.77", "203.0.113.0/24"), ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"), ("::1", "::/48"),
    ("203.0.113.0/24", "203.0.113.0/24"), ("unknown", None), ("", None)])
def test_network_of_keeps_the_24_or_48(address, network):
    assert scan_rules.network_of(address) == network


def test_create_app_refuses_a_malformed_geo_proxy_setting(tmp_path):
    config = AppConfig(instance=tmp_path)
    config.TRACE_GEO_PROXIES = "127.0.0.1, the proxy"
    with pytest.raises(ValueError, match="TRACE_GEO_PROXIES"):
        create_app(config)
