"""Acting on serial-guessing flags: acknowledge with a note, block the network for a period (the scan
route honours it: "paused", nothing checked, the scan recorded as blocked), lift the block."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from greenfin.core.models import AuditEvent
from greenfin.core.types import utcnow
from greenfin.extensions import db
from greenfin.uow import commit
from traceability import scan_rules, services
from traceability.models import NetworkBlock, Scan
from tests.traceability.test_enumeration_flags import GUESSER, NETWORK, guess


def _flag(app, lot):
    guess(app, lot, times=services.ENUMERATION_THRESHOLD)
    return db.session.scalar(select(AuditEvent).where(AuditEvent.action == services.ENUMERATION_ACTION))


def _label_path(lot, issue_labels):
    uri, _serial = next(services.iter_batch_labels(issue_labels(lot, 1)))
    parts = urlsplit(uri)
    return parts.path + "?" + parts.query


def test_acknowledge_needs_a_note_and_shows_on_the_page(app, client, create_lot, create_user, login, limits_on):
    flag = _flag(app, create_lot())
    login(create_user("regulator"))
    refused = client.post(f"/trace/enumeration/{flag.id}/acknowledge?lang=zh_CN", data={"ack-note": ""},
                          follow_redirects=True)
    assert "请填写说明" in refused.get_data(as_text=True)
    done = client.post(f"/trace/enumeration/{flag.id}/acknowledge?lang=zh_CN",
                       data={"ack-note": "学校机房的扫码测试"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "已确认该警示" in html and "学校机房的扫码测试" in html
    acks = db.session.scalars(select(AuditEvent).where(AuditEvent.action == services.ACKNOWLEDGE_ACTION)).all()
    assert len(acks) == 1 and acks[0].entity_id == str(flag.id)
    again = client.post(f"/trace/enumeration/{flag.id}/acknowledge", data={"ack-note": "again"})
    assert again.status_code == 302 and len(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == services.ACKNOWLEDGE_ACTION)).all()) == 1


def test_blocked_network_is_answered_paused_and_lifted_block_checks_again(
        app, client, create_lot, create_user, login, issue_labels, limits_on):
    lot = create_lot()
    flag = _flag(app, lot)
    path = _label_path(lot, issue_labels)
    login(create_user("regulator"))
    response = client.post("/trace/enumeration/blocks?lang=zh_CN",
                           data={"blk-flag_id": flag.id, "blk-days": "7", "blk-note": "持续猜码"},
                           follow_redirects=True)
    assert "已禁止扫码" in response.get_data(as_text=True)
    block = db.session.scalar(select(NetworkBlock))
    assert block.network == NETWORK and block.ends_at - block.starts_at == timedelta(days=7)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "trace.scan.network_blocked"))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == services.ACKNOWLEDGE_ACTION))
    commit()

    stranger = app.test_client()
    paused = stranger.get(path, environ_base={"REMOTE_ADDR": GUESSER})
    assert paused.status_code == 429 and "暂停" in paused.get_data(as_text=True)
    as_json = stranger.get(path, environ_base={"REMOTE_ADDR": GUESSER}, headers={"Accept": "application/json"})
    assert as_json.status_code == 429 and as_json.json == {"verdict": "blocked", "reason": "network_blocked"}
    recorded = db.session.scalars(select(Scan).where(Scan.verdict == "blocked")).all()
    assert len(recorded) == 2 and all(s.label_id is None for s in recorded), "recorded, the code not checked"
    # Another network scans the same label as usual, and it is still its first real scan.
    other = app.test_client().get(path, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200 and ("第一次" in other.get_data(as_text=True) or "first" in other.get_data(as_text=True))

    lifted = client.post(f"/trace/enumeration/blocks/{block.id}/lift?lang=zh_CN", data={"lift-note": "误报"},
                         follow_redirects=True)
    assert "已解除" in lifted.get_data(as_text=True) and block.lifted_at is not None
    commit()
    assert app.test_client().get(path, environ_base={"REMOTE_ADDR": GUESSER}).status_code == 200


def test_block_refuses_bad_input_and_stores_nothing(create_user):
    with pytest.raises(Exception) as info:
        services.block_network("not-an-address", 3, "")
    assert set(info.value.errors) == {"network", "days", "note"}
    assert db.session.scalar(select(NetworkBlock)) is None


def test_network_blocked_rule():
    now = utcnow()
    blocks = {"198.51.100.0/24": [(now - timedelta(hours=1), now + timedelta(days=1))]}
    assert scan_rules.network_blocked("198.51.100.0/24", blocks, now)
    assert not scan_rules.network_blocked("198.51.101.0/24", blocks, now)
    assert not scan_rules.network_blocked("198.51.100.0/24", blocks, now + timedelta(days=2))
    assert not scan_rules.network_blocked(None, blocks, now)


def test_block_api_and_cli(api, runner, create_user):
    regulator = api("regulator")
    assert regulator.post("/api/v1/trace/network-blocks", json={"days": 7, "note": "x"}).status_code == 422
    assert api("producer").post("/api/v1/trace/network-blocks",
                                json={"network": "203.0.113.9", "days": 7, "note": "x"}).status_code == 403
    made = regulator.post("/api/v1/trace/network-blocks", json={"network": "203.0.113.9", "days": 1, "note": "猜码"})
    assert made.status_code == 201 and made.json["network"] == "203.0.113.0/24"
    assert regulator.post("/api/v1/trace/network-blocks",
                          json={"network": "203.0.113.0/24", "days": 1, "note": "again"}).status_code == 409
    listed = regulator.get("/api/v1/trace/network-blocks").json
    assert [b["network"] for b in listed] == ["203.0.113.0/24"]
    lifted = regulator.post(f"/api/v1/trace/network-blocks/{made.json['id']}/lift", json={"note": "误报"})
    assert lifted.status_code == 200 and lifted.json["lifted_at"]
    result = runner.invoke(args=["trace", "block-network", "--network", "2001:db8::1", "--days", "30",
                                 "--note", "IPv6 猜码"])
    assert result.exit_code == 0 and "2001:db8::/48" in result.output
    bad = runner.invoke(args=["trace", "block-network", "--network", "2001:db8::1", "--days", "5", "--note", "x"])
    assert bad.exit_code == 2 and "days" in bad.output


@pytest.mark.no_db_isolation  # reads the demo database, not the test transaction
def test_demo_district_lists_a_network_block(demo_app):
    with demo_app.app_context():
        blocks = db.session.scalars(services.block_query(current_only=True)).all()
        assert [b.network for b in blocks] == ["198.51.100.0/24"]


def test_refusals_are_translated_on_the_page(app, client, create_user, login):
    login(create_user("regulator"))
    page = client.post("/trace/enumeration/blocks?lang=zh_CN",
                       data={"blk-network": "not-a-network", "blk-days": "7", "blk-note": "猜码"},
                       follow_redirects=True).get_data(as_text=True)
    assert "未能封禁" in page and "请填写 IPv4 或 IPv6 地址或网段" in page
    assert db.session.scalar(select(NetworkBlock)) is None
