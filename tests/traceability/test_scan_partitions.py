"""PostgreSQL: scan records in monthly partitions (migration trace_0009, greenfin.core.partitions).

Runs in a database of its own: the migration is run down and up again, months are detached for real
(``DETACH PARTITION ... CONCURRENTLY`` cannot run in a test's transaction), and the scans go through
the scan pool as in production.
"""
import subprocess
import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, event, text

from greenfin.core import partitions
from greenfin.extensions import db
from greenfin.uow import commit
from tests.conftest import PG_BASE, PG_DB, migrated_app, reset_postgres, using_postgres
from tests.traceability.test_scan_pool import make_lot, recorded
from traceability import scan_rules
from traceability.services import scan_statistics
from traceability.services.scan_store import _lookup_statements

pytestmark = [pytest.mark.no_db_isolation,
              pytest.mark.skipif(not using_postgres(), reason="partitions are PostgreSQL's")]

NAME = f"{PG_DB}_partitions"
APP_ROLE = f"{PG_DB}_partitions_app"


@pytest.fixture
def part_app(tmp_path):
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


def run(app, statement, **params):
    """One statement in a unit of work of its own, committed; its rows, if any."""
    with app.app_context():
        result = db.session.execute(text(statement), params)
        rows = result.all() if result.returns_rows else None
        commit()
        db.session.remove()
    return rows


def cli(app, *args):
    """A command run against ``app`` (the test session's app context is pushed too: say which)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def attached(app) -> list[str]:
    return [name for (name,) in run(app, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                         "WHERE i.inhparent = 'trace_scans'::regclass ORDER BY 1")]


def month_name(month) -> str:
    return f"trace_scans_p{month:%Y%m}"


def add_old_month(app, month) -> None:
    run(app, "SELECT greenfin_ensure_month_partition('trace_scans', :month)", month=month)


def test_migration_converts_existing_scans_into_monthly_partitions(part_app):
    with part_app.app_context():
        downgrade(revision="trace_0006")
        db.session.remove()
    assert run(part_app, "SELECT relkind FROM pg_class WHERE relname = 'trace_scans'") == [("r",)]
    old = datetime(2025, 3, 15, 8, 0, tzinfo=timezone.utc)
    run(part_app, "INSERT INTO trace_scans (scanned_at, verdict, region) VALUES (:a, 'not_genuine', 'old'), "
                  "(:b, 'not_genuine', 'old'), (now(), 'not_genuine', 'new')", a=old, b=old + timedelta(days=20))
    before = run(part_app, "SELECT id, scanned_at, region FROM trace_scans ORDER BY id")
    with part_app.app_context():
        upgrade(revision="heads")
        db.session.remove()
    assert run(part_app, "SELECT relkind FROM pg_class WHERE relname = 'trace_scans'") == [("p",)]
    assert run(part_app, "SELECT id, scanned_at, region FROM trace_scans ORDER BY id") == before
    where = run(part_app, "SELECT tableoid::regclass::text FROM trace_scans ORDER BY id")
    this_month = partitions.current_month()
    assert [w for (w,) in where] == ["trace_scans_p202503", "trace_scans_p202504", month_name(this_month)]
    names = attached(part_app)
    first = min(date(2025, 3, 1), partitions.add_months(this_month, -24))  # the migration's BEHIND
    assert names[0] == month_name(first) and names[-1] == month_name(partitions.add_months(this_month, 3))
    assert len(names) == len(set(names)) and "trace_scans_p202506" in names  # every month between, none twice
    # Ids go on from the plain table's sequence.
    (new_id,), = run(part_app, "INSERT INTO trace_scans (scanned_at, verdict) VALUES (now(), 'not_genuine') "
                               "RETURNING id")
    assert new_id > before[-1][0]


def test_ensure_creates_months_ahead_once_and_the_application_role_may_run_it(part_app):
    this_month = partitions.current_month()
    result = cli(part_app, "db", "partitions", "ensure", "--ahead", "5")
    assert result.exit_code == 0, result.output
    made = [f"{table}_p{partitions.add_months(this_month, n):%Y%m}"
            for table in ("trace_epcis_events", "trace_scans") for n in (4, 5)]
    assert f"created 4 partition(s): {', '.join(made)}" in result.output
    assert cli(part_app, "db", "partitions", "ensure", "--ahead", "5").output.startswith("created 0")
    audited = run(part_app, "SELECT entity_id, actor_label FROM audit_events "
                            "WHERE action = 'database.partition_created' ORDER BY id")
    assert [entity for entity, _actor in audited] == made
    bad = cli(part_app, "db", "partitions", "ensure", "--ahead", "99")
    assert bad.exit_code == 2 and "between 0 and 24" in bad.output
    # The application role owns nothing: it may create a month only through the definer function.
    run(part_app, f'DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \'{APP_ROLE}\') THEN '
                  f'CREATE ROLE "{APP_ROLE}" NOLOGIN; END IF; END $$')
    assert cli(part_app, "db", "grant-app-role", APP_ROLE).exit_code == 0
    far = partitions.add_months(this_month, 8)
    with part_app.app_context():
        db.session.execute(text(f'SET LOCAL ROLE "{APP_ROLE}"'))
        with pytest.raises(Exception, match="must be owner|permission denied"):
            with db.session.begin_nested():
                db.session.execute(text(f"CREATE TABLE {month_name(far)} PARTITION OF trace_scans "
                                        "FOR VALUES FROM ('2030-01-01') TO ('2030-02-01')"))
        assert db.session.scalar(text("SELECT greenfin_ensure_month_partition('trace_scans', :m)"),
                                 {"m": far}) == month_name(far)
        # Through the parent the role reads and writes the new month with the parent's privileges.
        db.session.execute(text("INSERT INTO trace_scans (scanned_at, verdict) VALUES (:at, 'not_genuine')"),
                           {"at": datetime(far.year, far.month, 2, tzinfo=timezone.utc)})
        commit()
        db.session.remove()
    assert month_name(far) in attached(part_app)
    run(part_app, f'DROP OWNED BY "{APP_ROLE}"; DROP ROLE "{APP_ROLE}"')


def _explain(app, statement, params) -> str:
    with app.app_context():
        plan = "\n".join(db.session.connection().exec_driver_sql("EXPLAIN " + statement, params).scalars())
        db.session.remove()
    return plan


def test_queries_bounded_in_time_read_only_their_months(part_app):
    lot_id, (path, _other) = make_lot(part_app)
    this_month = partitions.current_month()
    for back in range(1, 7):
        add_old_month(part_app, partitions.add_months(this_month, -back))
    old = partitions.add_months(this_month, -6)
    assert part_app.test_client(use_cookies=False).get(path).status_code == 200  # the scan function
    statements = []
    with part_app.app_context():
        def capture(conn, cursor, statement, parameters, context, executemany):
            if "trace_scans" in statement:
                statements.append((statement, parameters))
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            stats = scan_statistics(lot_id, days=30)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        db.session.remove()
    assert stats["total"] == 1
    bounded = [(s, p) for s, p in statements if "scanned_at >=" in s]
    assert bounded, statements
    last_month = partitions.add_months(this_month, -1)
    for statement, params in bounded:  # the last 30 days: this month and perhaps the last, nothing older
        plan = _explain(part_app, statement, params)
        assert month_name(this_month) in plan and month_name(old) not in plan, plan
        assert all(month_name(partitions.add_months(this_month, -b)) not in plan for b in range(2, 7)), plan
    # The recent-scans look-up of a label (the rule's window) on the session path.
    _label, _first, find_recent, _count = _lookup_statements()
    with part_app.app_context():
        compiled = find_recent.compile(db.engine)
        db.session.remove()
    since = datetime.now(timezone.utc) - scan_rules.RECENT_WINDOW
    plan = _explain(part_app, str(compiled), compiled.params | {"label_id": 1, "since": since})
    assert month_name(old) not in plan and month_name(partitions.add_months(this_month, 1)) in plan, plan
    # The same look-up inside trace_record_scan, seen through auto_explain on one connection.
    engine = create_engine(f"{PG_BASE}/{NAME}", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            notices = []
            raw.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
            conn.exec_driver_sql("LOAD 'auto_explain'")
            conn.exec_driver_sql("SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;"
                                 " SET client_min_messages = log")
            serial = path.split("/21/")[1].split("?")[0]
            gtin, lot = path.split("/01/")[1].split("/10/")[0], path.split("/10/")[1].split("/21/")[0]
            conn.exec_driver_sql(
                "SELECT * FROM trace_record_scan(%(serial)s, %(gtin)s, %(lot)s, now(), NULL, NULL, NULL, "
                "'10.0.0.0/24', 'test', NULL, 3, %(recent)s, 20, %(window)s, 100.0)",
                {"serial": serial, "gtin": gtin, "lot": lot, "recent": scan_rules.RECENT_WINDOW,
                 "window": scan_rules.SPREAD_WINDOW})
    finally:
        engine.dispose()
    recent_plans = [n for n in notices if "scanned_at >=" in n or "p_at - p_recent" in n]
    assert recent_plans, notices
    assert all(month_name(old) not in n for n in recent_plans), recent_plans


def _scan_in_thread(client, path, results):
    thread = threading.Thread(target=lambda: results.append(client.get(path).status_code))
    thread.start()
    return thread


def test_an_old_month_detaches_while_scans_go_on_and_comes_back_from_its_dump(part_app, tmp_path):
    lot_id, (path, other) = make_lot(part_app)
    old = datetime(2023, 1, 10, tzinfo=timezone.utc)
    add_old_month(part_app, old.date())
    run(part_app, "INSERT INTO trace_scans (lot_id, scanned_at, verdict, region) VALUES (:lot, :at, 'genuine', "
                  "'archived')", lot=lot_id, at=old)
    client = part_app.test_client(use_cookies=False)
    assert client.get(path).status_code == 200
    future = partitions.add_months(partitions.current_month(), 1)
    refused = cli(part_app, "db", "partitions", "detach", "--before", f"{future:%Y-%m}")
    assert refused.exit_code == 2 and "has not begun" in refused.output
    assert cli(part_app, "db", "partitions", "detach", "--before", "2025-13").exit_code == 2
    # A reader holds the table (a long report): DETACH ... CONCURRENTLY waits for it, scans do not.
    reader = create_engine(f"{PG_BASE}/{NAME}")
    holding = reader.connect()
    holding.begin()
    holding.execute(text("SELECT count(*) FROM trace_scans"))
    outcome = {}
    detach = threading.Thread(target=lambda: outcome.update(result=cli(
        part_app, "db", "partitions", "detach", "--before", "2023-02")))
    detach.start()
    for _ in range(100):  # the first phase is done: the partition is marked detach pending
        if run(part_app, "SELECT 1 FROM pg_inherits WHERE inhdetachpending"):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the detach never started")
    statuses = []
    scans = [_scan_in_thread(part_app.test_client(use_cookies=False), p, statuses) for p in (path, other, path)]
    for thread in scans:
        thread.join(timeout=15)
    assert statuses == [200, 200, 200]  # answered while the detach is still waiting
    assert detach.is_alive()
    holding.rollback()
    holding.close()
    reader.dispose()
    detach.join(timeout=30)
    assert not detach.is_alive()
    result = outcome["result"]
    assert result.exit_code == 0 and "detached 1 partition(s): trace_scans_p202301" in result.output
    assert "trace_scans_p202301" not in attached(part_app)
    verdicts = [v for v, _label in recorded(part_app)]
    assert len(verdicts) == 4 and "archived" not in [r for (r,) in run(part_app, "SELECT region FROM trace_scans "
                                                                               "WHERE region IS NOT NULL")]
    assert run(part_app, "SELECT count(*) FROM trace_scans_p202301") == [(1,)]
    audited = run(part_app, "SELECT entity_id FROM audit_events WHERE action = 'database.partition_detached'")
    assert audited == [("trace_scans_p202301",)]
    # Archive as docs/deploy.md says: dump the month, drop it; later restore it and attach it again.
    dump = tmp_path / "trace_scans_p202301.dump"
    url = f"{PG_BASE}/{NAME}".replace("postgresql+psycopg://", "postgresql://")
    subprocess.run(["pg_dump", "--format=custom", "--table=trace_scans_p202301", f"--file={dump}", url], check=True)
    run(part_app, "DROP TABLE trace_scans_p202301")
    subprocess.run(["pg_restore", f"--dbname={url}", str(dump)], check=True)
    run(part_app, "ALTER TABLE trace_scans ATTACH PARTITION trace_scans_p202301 "
                  "FOR VALUES FROM ('2023-01-01 00:00+00') TO ('2023-02-01 00:00+00')")
    assert run(part_app, "SELECT region FROM trace_scans WHERE scanned_at < '2023-02-01'") == [("archived",)]


def test_epcis_events_move_into_months_and_an_old_event_time_gets_its_month(part_app):
    lot_id, _paths = make_lot(part_app)
    with part_app.app_context():
        downgrade(revision="trace_0009")
        db.session.remove()
    assert run(part_app, "SELECT relkind FROM pg_class WHERE relname = 'trace_epcis_events'") == [("r",)]
    (old_id,), = run(part_app, "INSERT INTO trace_epcis_events (event_hash, event_type, kind, event_time, document, "
                               "source, created_at) VALUES ('ni:///sha-256;old?ver=CBV2.0', 'ObjectEvent', 'harvest', "
                               "'2024-06-03 01:00+00', '{}', 'local', now()) RETURNING id")
    run(part_app, "INSERT INTO trace_event_lots (event_id, lot_id, role) VALUES (:e, :l, 'subject')",
        e=old_id, l=lot_id)
    with part_app.app_context():
        upgrade(revision="heads")
        db.session.remove()
    assert run(part_app, "SELECT relkind FROM pg_class WHERE relname = 'trace_epcis_events'") == [("p",)]
    assert run(part_app, "SELECT id, tableoid::regclass::text FROM trace_epcis_events") == [
        (old_id, "trace_epcis_events_p202406")]
    with part_app.app_context():
        from tests.traceability.conftest import observe
        from traceability.models import EventLot
        from traceability.services import events
        from traceability.services.lots import get_lot

        lot = get_lot(lot_id)
        assert [e.id for e in events.lot_events(lot_id)] == [old_id]  # the join holds without a foreign key
        assert db.session.get(EventLot, (old_id, lot_id)).event.event_hash.endswith("old?ver=CBV2.0")
        epc_class = f"urn:epc:class:lgtin:{lot.product.gtin[1:8]}.0{lot.product.gtin[8:13]}.{lot.code}"
        past = observe(epc_class, eventTime="2019-05-04T08:00:00+08:00")  # last season's records, imported
        row, created = events.store_event(past, "imported", [(lot, "subject")], None, source="import")
        assert created and row.event_time == datetime(2019, 5, 4, 0, 0, tzinfo=timezone.utc)
        again, created_again = events.store_event(dict(past), "imported", [(lot, "subject")], None)
        assert not created_again and again.id == row.id
        row_id = row.id
        commit()
        db.session.remove()
    assert run(part_app, "SELECT tableoid::regclass::text FROM trace_epcis_events WHERE id = :id", id=row_id) == [
        ("trace_epcis_events_p201905",)]
    assert run(part_app, "SELECT entity_id FROM audit_events WHERE action = 'database.partition_created'") == [
        ("trace_epcis_events_p201905",)]
    # The key is (hash, time): the same hash cannot be stored twice in its month.
    with pytest.raises(Exception, match=r"(?s)UniqueViolation.*\(event_hash, event_time\)"):
        run(part_app, "INSERT INTO trace_epcis_events (event_hash, event_type, kind, event_time, document, source, "
                      "created_at) SELECT event_hash, event_type, kind, event_time, document, source, created_at "
                      "FROM trace_epcis_events WHERE id = :id", id=row_id)


def test_a_scan_in_a_month_without_its_partition_makes_the_month_and_is_recorded(part_app, monkeypatch):
    """The scheduler's partitions-ensure stopped for months: the scan still answers and is recorded,
    on the scan pool (the function's insert failed whole, then again after the month is made) and
    through the session (the month made before the insert)."""
    lot_id, (path, other) = make_lot(part_app)
    name = month_name(partitions.current_month())
    client = part_app.test_client(use_cookies=False)
    for store, scan_path in (("pool", path), ("session", other)):
        if store == "session":
            monkeypatch.setitem(part_app.extensions, "trace_scan_pool", None)
        run(part_app, f"DROP TABLE {name}")
        assert name not in attached(part_app)
        response = client.get(scan_path, headers={"Accept": "application/json"})
        assert response.status_code == 200, (store, response.get_data(as_text=True)[:300])
        assert response.json["verdict"] == "genuine", store
        assert name in attached(part_app), store
        assert [v for v, _label in recorded(part_app)] == ["genuine"], store  # the month's one scan
        made = run(part_app, "SELECT after FROM audit_events WHERE action = 'database.partition_created' "
                             "AND entity_id = :name ORDER BY id DESC LIMIT 1", name=name)
        assert made and made[0][0]["month"] == f"{partitions.current_month():%Y-%m}", store
