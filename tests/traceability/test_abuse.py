"""The public scan route under abuse: rate limits, and serial guessing that learns nothing but is flagged."""
import secrets

from sqlalchemy import select

from greenfin.core.models import AuditEvent
from greenfin.extensions import db


def _guess(client, gtin="06901234560015", lot="MJY2026-A01"):
    serial, signature = secrets.token_hex(8).upper(), secrets.token_urlsafe(9)
    response = client.get(f"/01/{gtin}/10/{lot}/21/{serial}?s={signature}", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    response.echo_free = response.get_data(as_text=True).replace(serial, "SERIAL").replace(signature, "SIG")
    return response


def test_guessed_serials_all_look_the_same_and_are_flagged(client, limits_on):
    answers = [_guess(client) for _ in range(12)]
    assert {r.status_code for r in answers} == {404}
    assert len({r.echo_free for r in answers}) == 1, "apart from echoing the code, no guess may be told apart"
    flagged = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "trace.scan.enumeration_suspected")).all()
    assert [e.entity_id for e in flagged] == ["203.0.113.0/24"]


def test_probe_12_the_enumeration_flag_keeps_only_the_clients_network(client, limits_on):
    import json

    for _ in range(10):
        _guess(client)
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "trace.scan.enumeration_suspected"))
    recorded = json.dumps([event.entity_id, event.entity_type, event.after, event.before], default=str)
    assert event.entity_id == "203.0.113.0/24" and "203.0.113.9" not in recorded


def test_scan_route_answers_429_past_its_limit(client, app, limits_on, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_SCAN", "5/60")
    codes = [_guess(client).status_code for _ in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]
    blocked = _guess(client)
    assert int(blocked.headers["Retry-After"]) > 0


def test_disclosure_search_is_rate_limited(client, app, limits_on, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_DISCLOSURE", "3/60")
    codes = [client.get("/credit/public?q=公司").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/credit/public/ratings").status_code == 429
