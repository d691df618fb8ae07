"""Issue 14, probe item 3: a ledger its owner cannot rewrite silently.

The recipe of the probe: disable the insert-only triggers, change a posting's points,
recompute that account's chain with the project's own hash function, its balance and
the day's checkpoint, enable the triggers again. As the application's role it is
refused for lack of privilege (PostgreSQL); as the owner it succeeds, and is caught by
the checkpoint signatures (the owner has no key) and by the heads published before.
"""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import secrets
import threading
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from credit import integrity
from credit.ledger import canonical_posting, chain_hash
from credit.models import CreditAccount, CreditCheckpoint, CreditPosting
from greenfin.core.models import AuditEvent, Party
from greenfin.core.services import record_audit
from greenfin.extensions import db
from tests.conftest import PG_DB, using_postgres

pg_only = pytest.mark.skipif(not using_postgres(), reason="database roles and privileges exist on PostgreSQL only")
APPEND_ONLY = ("credit_postings", "credit_checkpoints")


@pytest.fixture
def closed_day(monkeypatch):
    """Today (UTC) counts as closed, so the postings a test makes now can be checkpointed."""
    day = integrity.utc_today()
    monkeypatch.setattr(integrity, "utc_today", lambda: day + timedelta(days=1))
    return day


@pytest.fixture
def ledger(create_party, post, closed_day):
    """Two accounts with postings today, checkpointed and signed; returns the victim posting."""
    alice, bob = create_party(kind="individual"), create_party(kind="individual")
    post(alice, "GREEN_TREE_PLANTING")
    victim = post(alice, "GREEN_RIVER_PATROL")
    post(alice, "GREEN_WASTE_SORTING")
    post(bob, "GREEN_TREE_PLANTING")
    assert integrity.checkpoint_ledger()
    db.session.commit()
    return victim


def _published(client) -> dict:
    response = client.get("/api/v1/credit/ledger/heads")  # no token: public
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _set_triggers(enabled: bool, saved: dict) -> None:
    """The owner switches the insert-only triggers off and on (SQLite has no DISABLE: drop and re-create)."""
    connection = db.session.connection()
    for table in APPEND_ONLY:
        if using_postgres():
            connection.execute(text(f"ALTER TABLE {table} {'ENABLE' if enabled else 'DISABLE'} TRIGGER USER"))
        elif enabled:
            for sql in saved.pop(table):
                connection.execute(text(sql))
        else:
            saved[table] = list(connection.scalars(text(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"), {"t": table}))
            for name in connection.scalars(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"), {"t": table}):
                connection.execute(text(f'DROP TRIGGER "{name}"'))


def rewrite_as_owner(posting_id: int, points: int) -> None:
    """The probe's recipe, run with the owner's rights: afterwards every stored hash agrees."""
    saved: dict = {}
    _set_triggers(False, saved)
    victim = db.session.get(CreditPosting, posting_id)
    victim.points = points
    chain = db.session.scalars(select(CreditPosting).where(CreditPosting.account_id == victim.account_id)
                               .order_by(CreditPosting.seq)).all()
    prev = chain[0].prev_hash
    for posting in chain:
        posting.prev_hash = prev
        posting.hash = prev = chain_hash(prev, canonical_posting(posting))
    account = db.session.get(CreditAccount, victim.account_id)
    account.balance, account.last_hash = sum(p.points for p in chain), prev
    # The day's checkpoint and every later one (the account's later postings changed their hashes too).
    prev_head = None
    for checkpoint in db.session.scalars(select(CreditCheckpoint).where(
            CreditCheckpoint.day >= victim.recorded_at.date()).order_by(CreditCheckpoint.day)):
        checkpoint.prev_head = prev_head or checkpoint.prev_head
        checkpoint.head, checkpoint.posting_count = integrity.day_head(checkpoint.prev_head, checkpoint.day)
        prev_head = checkpoint.head
    db.session.flush()
    _set_triggers(True, saved)
    db.session.expire_all()


def test_probe_3_owner_rewrite_is_detected_by_published_heads_and_signatures(ledger, client, runner, tmp_path):
    published = _published(client)
    saved = tmp_path / "heads.json"
    saved.write_text(json.dumps(published))
    assert runner.invoke(args=["credit", "verify", "--against", str(saved)]).exit_code == 0

    rewrite_as_owner(ledger.id, 30)
    db.session.commit()  # the owner's rewrite is committed: each command below is a unit of work of its own

    assert db.session.get(CreditPosting, ledger.id).points == 30
    report = integrity.verify_ledger()
    # Chains, balances and the recomputed checkpoint all agree: without a key, the rewrite would pass.
    assert report.problems and all("signature does not match" in p for p in report.problems), report.problems
    plain = runner.invoke(args=["credit", "verify"])
    assert plain.exit_code == 1
    assert f"checkpoint {ledger.recorded_at.date().isoformat()}: signature does not match" in plain.output

    against = runner.invoke(args=["credit", "verify", "--against", str(saved)])
    assert against.exit_code == 1
    day = ledger.recorded_at.date().isoformat()
    assert f"first mismatching day: {day}" in against.output
    assert f"{ledger.account_id} (party {ledger.party_id})" in against.output

    with _serving(json.dumps(published).encode()) as url:  # the same heads, fetched from a URL
        by_url = runner.invoke(args=["credit", "verify", "--against", url])
    assert by_url.exit_code == 1 and f"first mismatching day: {day}" in by_url.output


class _Heads(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


class _serving:
    def __init__(self, body: bytes) -> None:
        handler = type("Handler", (_Heads,), {"body": body})
        self.server = http.server.HTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/api/v1/credit/ledger/heads"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_verify_against_catches_a_posting_added_to_a_published_day(ledger, client, runner, tmp_path, post):
    saved = tmp_path / "heads.json"
    saved.write_text(json.dumps(_published(client)["heads"]))  # the bare list is accepted too
    ok = runner.invoke(args=["credit", "verify", "--against", str(saved)])
    assert ok.exit_code == 0 and "compared 1 published heads" in ok.output and "ledger OK" in ok.output
    post(db.session.get(Party, ledger.party_id), "GREEN_WASTE_SORTING", key="late")  # recorded on the day already published
    result = runner.invoke(args=["credit", "verify", "--against", str(saved)])
    assert result.exit_code == 1
    assert f"first mismatching day: {ledger.recorded_at.date().isoformat()}" in result.output
    assert "over 4 postings, the ledger now gives" in result.output


@pytest.mark.parametrize("content, message", [
    ("not json", "--against"),
    ('{"heads": []}', "non-empty 'heads' list"),
    ('{"heads": [{"day": "2026-13-01", "prev_head": "0", "head": "0", "posting_count": 1}]}', "head 1"),
    ('[{"day": "2026-12-01", "prev_head": "xyz", "head": "0", "posting_count": 1}]', "64 hex digits"),
])
def test_verify_against_refuses_a_malformed_file(runner, tmp_path, content, message):
    bad = tmp_path / "heads.json"
    bad.write_text(content)
    result = runner.invoke(args=["credit", "verify", "--against", str(bad)])
    assert result.exit_code == 2 and message in result.output


def test_verify_against_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["credit", "verify", "--against", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "nope.json" in result.output


def test_checkpoint_signature_uses_the_key_outside_the_database(ledger, app, monkeypatch):
    checkpoint = db.session.scalar(select(CreditCheckpoint).order_by(CreditCheckpoint.day.desc()))
    message = (f"greenfin-ledger-checkpoint/v1|{checkpoint.day.isoformat()}|{checkpoint.prev_head}|"
               f"{checkpoint.head}|{checkpoint.posting_count}")
    key = app.config["LEDGER_SIGNING_KEY"].encode()
    assert checkpoint.signature == hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
    assert integrity.verify_ledger().ok
    monkeypatch.setitem(app.config, "LEDGER_SIGNING_KEY", "another key")  # a guess, or another deployment's key
    problems = integrity.verify_ledger().problems
    assert problems == [f"checkpoint {checkpoint.day.isoformat()}: signature does not match "
                        "(changed without the signing key)"]


def test_verify_flags_an_unsigned_checkpoint_after_signed_ones(ledger, closed_day, monkeypatch):
    later = closed_day + timedelta(days=1)
    monkeypatch.setattr(integrity, "checkpoint_signature", lambda *args: None)  # as a checkpoint before credit_0005
    monkeypatch.setattr(integrity, "utc_today", lambda: later + timedelta(days=1))
    assert [c.day for c in integrity.checkpoint_ledger()] == [later]
    monkeypatch.undo()
    problems = integrity.verify_checkpoints()
    assert problems == [f"checkpoint {later.isoformat()}: not signed, after signed ones (removed or replaced)"]


def test_ledger_heads_are_public_in_the_api_and_on_the_disclosure_page(ledger, client):
    published = _published(client)
    checkpoint = db.session.scalar(select(CreditCheckpoint).order_by(CreditCheckpoint.day.desc()))
    assert published["algorithm"] == "HMAC-SHA256"
    assert published["heads"][-1] == {"day": checkpoint.day.isoformat(), "prev_head": checkpoint.prev_head,
                                      "head": checkpoint.head, "posting_count": checkpoint.posting_count,
                                      "signature": checkpoint.signature}
    page = client.get("/credit/public").get_data(as_text=True)
    assert checkpoint.head in page and checkpoint.signature in page
    assert "/api/v1/credit/ledger/heads" in page


def test_disclosure_page_says_when_nothing_is_checkpointed(client):
    assert "No day has been checkpointed yet." in client.get("/credit/public?lang=en").get_data(as_text=True)
    assert "尚无已建立校验点的日期。" in client.get("/credit/public?lang=zh_CN").get_data(as_text=True)


def test_database_refuses_update_and_delete_of_audit_events():
    event = record_audit("test.append_only", "test", 1, after={"n": 1})
    db.session.flush()
    connection = db.session.connection()
    for statement in ("UPDATE audit_events SET action = 'forged' WHERE id = :id",
                      "DELETE FROM audit_events WHERE id = :id"):
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError) as err:
            connection.execute(text(statement), {"id": event.id})
        savepoint.rollback()
        assert "insert-only" in str(err.value)
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.id == event.id)) == "test.append_only"


@pg_only
def test_database_refuses_truncate_of_audit_events():
    connection = db.session.connection()
    savepoint = connection.begin_nested()
    with pytest.raises(DBAPIError) as err:
        connection.execute(text("TRUNCATE audit_events"))
    savepoint.rollback()
    assert "insert-only" in str(err.value)


# ---------------------------------------------------------------- the application's role (PostgreSQL)

APP_ROLE = f"{PG_DB}_app"  # one per test database: other suites run beside this one


@pytest.fixture
def app_role(runner):
    """A role that owns nothing, given the application's privileges by `flask db grant-app-role`."""
    db.session.execute(text(f'CREATE ROLE "{APP_ROLE}" NOLOGIN'))  # rolled back with the test
    result = runner.invoke(args=["db", "grant-app-role", APP_ROLE])
    assert result.exit_code == 0, result.output
    append_only = result.output.split("append-only (SELECT, INSERT): ", 1)[1].strip().split(", ")
    assert {"audit_events", "credit_checkpoints", "credit_postings"} <= set(append_only), result.output
    return APP_ROLE


def _refused(statement: str, params: dict | None = None) -> str:
    connection = db.session.connection()
    savepoint = connection.begin_nested()
    with pytest.raises(DBAPIError) as err:
        connection.execute(text(statement), params or {})
    savepoint.rollback()
    return str(err.value.orig)


@pg_only
def test_probe_3_rewrite_as_app_role_is_refused_for_lack_of_privilege(app_role, create_party, post):
    party = create_party(kind="individual")
    post(party, "GREEN_TREE_PLANTING")
    db.session.execute(text(f'SET LOCAL ROLE "{app_role}"'))
    # The application works as this role: the append function, the account update and the audit event.
    victim = post(party, "GREEN_RIVER_PATROL")
    assert db.session.scalar(text("SELECT current_user")) == app_role
    for table in ("credit_postings", "credit_checkpoints", "audit_events"):
        assert "must be owner of table" in _refused(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        assert "must be owner of" in _refused(f"DROP TRIGGER {table}_insert_only ON {table}")
        assert "permission denied" in _refused(f"TRUNCATE {table}")
        assert "permission denied" in _refused(f"DELETE FROM {table}")
    assert "permission denied" in _refused("UPDATE credit_postings SET points = 30 WHERE id = :id", {"id": victim.id})
    assert "permission denied" in _refused("UPDATE audit_events SET action = 'x'")
    assert "permission denied" in _refused("UPDATE credit_checkpoints SET head = 'x'")
    replaced = _refused(
        "CREATE OR REPLACE FUNCTION credit_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
    assert "permission denied for schema" in replaced or "must be owner of function" in replaced
    assert "must be owner of table" in _refused("ALTER TABLE alembic_version ADD COLUMN x int")
    assert "permission denied" in _refused("CREATE TABLE side_ledger (id int)")
    assert "permission denied" in _refused("UPDATE alembic_version SET version_num = version_num")
    db.session.execute(text("RESET ROLE"))
    assert integrity.verify_ledger().ok
    assert db.session.scalar(select(func.count(CreditPosting.id)).where(CreditPosting.party_id == party.id)) == 2


@pg_only
def test_grant_app_role_refuses_the_owner_and_unknown_roles(runner):
    owner = db.session.scalar(text("SELECT current_user"))
    result = runner.invoke(args=["db", "grant-app-role", owner])
    assert result.exit_code == 2 and "owns the tables" in result.output
    result = runner.invoke(args=["db", "grant-app-role", "no_such_role_anywhere"])
    assert result.exit_code == 2 and "no database role no_such_role_anywhere" in result.output


@pytest.mark.skipif(using_postgres(), reason="the message on SQLite")
def test_grant_app_role_needs_postgresql(runner):
    result = runner.invoke(args=["db", "grant-app-role", "greenfin_app"])
    assert result.exit_code == 2 and "PostgreSQL only" in result.output


RULES = ("GREEN_TREE_PLANTING", "GREEN_RIVER_PATROL", "GREEN_WASTE_SORTING")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_rewrite_of_any_posting_shows_on_its_day_and_no_other(monkeypatch, data):
    """Invariant: whichever posting the owner rewrites, `verify --against` names its day first, and no
    earlier day; every later mismatching day holds a later posting of the same account."""
    from credit import ledger as ledger_module
    from greenfin.core import services as core_services
    from tests.conftest import make_resident_id

    savepoint = db.session.begin_nested()  # each example leaves nothing behind (nothing in it commits)
    try:
        parties = [core_services.create_party({"kind": "individual", "name": f"李{n}", "township_code": "danan",
                                               "resident_id": make_resident_id()}) for n in range(2)]
        start = datetime.now(timezone.utc).replace(hour=3, minute=0, second=0, microsecond=0) - timedelta(days=4)
        postings = []
        for day in range(3):
            for n in range(data.draw(st.integers(1, 3), label=f"postings on day {day}")):
                when = start + timedelta(days=day, minutes=n)
                monkeypatch.setattr(ledger_module, "utcnow", lambda when=when: when)
                party = data.draw(st.sampled_from(parties))
                postings.append(services_submit(party.id, data.draw(st.sampled_from(RULES))))
        monkeypatch.undo()
        made = integrity.checkpoint_ledger()
        heads = integrity.parse_published_heads([
            {"day": c.day.isoformat(), "prev_head": c.prev_head, "head": c.head, "posting_count": c.posting_count}
            for c in made])
        victim = data.draw(st.sampled_from(postings), label="victim")
        points = data.draw(st.integers(-60, 60).filter(lambda p: p != victim.points), label="points")
        victim_id, day = victim.id, victim.recorded_at.date().isoformat()
        rewrite_as_owner(victim_id, points)
        later_days = {p.recorded_at.date().isoformat() for p in postings
                      if p.account_id == victim.account_id and p.id >= victim_id}
        problems = integrity.verify_against(heads)
        assert problems and problems[0].startswith(f"{day}: "), problems
        assert {p.split(":")[0] for p in problems} <= later_days
        report = integrity.verify_ledger()
        assert f"checkpoint {day}: signature does not match (changed without the signing key)" in report.problems
        assert all("signature does not match" in p for p in report.problems), report.problems
    finally:
        savepoint.rollback()
        db.session.expire_all()


def services_submit(party_id: int, rule_code: str) -> CreditPosting:
    from credit import services

    return services.submit_posting(party_id, rule_code, idempotency_key=secrets.token_hex(8), review=False).posting
