"""Fixtures shared by every test package (flaskr's plain fixtures, Indico's factories).

The suite runs twice from ``make test``:
- SQLite (default): a migrated temporary database file, jobs inline.
- ``GREENFIN_TEST_DB=postgresql``: the database ``GREENFIN_TEST_PG_DB`` (default
  ``greenfin_test``) on 127.0.0.1:5432, rebuilt by the migrations at session start;
  with ``GREENFIN_TEST_REDIS=1`` jobs go to Redis and a real rq worker runs them.

Each test runs inside an outer transaction that is rolled back afterwards
(``join_transaction_mode="create_savepoint"``), so code under test may commit.
Factories commit too: a request that fails rolls back only its own work, as in
production, and never the data a test set up.
"""
from __future__ import annotations

import logging
import os
import random
import secrets
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from flask_sqlalchemy.session import Session as FlaskSession

from greenfin import create_app
from greenfin.config import TestConfig
from greenfin.core import services
from greenfin.core.identifiers import USCC_ALPHABET, id_check_char, uscc_check_char
from greenfin.extensions import db

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PG_BASE = os.environ.get("GREENFIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
PG_DB = os.environ.get("GREENFIN_TEST_PG_DB", "greenfin_test")
REDIS_URL = os.environ.get("GREENFIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def using_postgres() -> bool:
    return os.environ.get("GREENFIN_TEST_DB") == "postgresql"


def using_redis() -> bool:
    return os.environ.get("GREENFIN_TEST_REDIS") == "1"


def reset_postgres(name: str) -> str:
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_BASE}/{name}"


def migrated_app(database_url: str, instance=None, **overrides):
    """A fresh app whose database was built by the Alembic migrations.

    ``instance`` is where its keys live (generated there when missing); processes
    started with ``GREENFIN_INSTANCE`` set to the same folder share them.
    """
    from flask_migrate import upgrade

    config = TestConfig(database_url, instance=instance)
    for key, value in overrides.items():
        setattr(config, key, value)
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
    return app


def delete_audit_events(session, where) -> None:
    """Remove audit events a test committed to the shared database, as the tables' owner.

    ``audit_events`` is append-only (migration 0002_core_audit_append_only), so cleanup
    bypasses its triggers the way only the owner can: on PostgreSQL with
    ``session_replication_role = replica`` for this transaction (the test user is a
    superuser), on SQLite by dropping the triggers and creating them again.
    """
    from sqlalchemy import delete

    from greenfin.core.models import AuditEvent

    if using_postgres():
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(delete(AuditEvent).where(where))
        session.execute(text("SET LOCAL session_replication_role = origin"))
        return
    triggers = list(session.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")))
    for name, _sql in triggers:
        session.execute(text(f'DROP TRIGGER "{name}"'))
    session.execute(delete(AuditEvent).where(where))
    for _name, sql in triggers:
        session.execute(text(sql))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if using_postgres():
        return reset_postgres(PG_DB)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    overrides = {"instance": instance}
    if using_redis():
        from redis import Redis

        Redis.from_url(REDIS_URL).flushdb()
        overrides["REDIS_URL"] = REDIS_URL
    app = migrated_app(database_url, **overrides)
    yield app
    with app.app_context():
        db.engine.dispose()


class ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy picks engines by bind key; in tests use the test's connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return self.bind if self.bind is not None else super().get_bind(mapper, clause, bind, **kwargs)


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory):
    """An app on its own SQLite file holding the seeded demo district (real commits).

    Only for tests marked ``browser`` or ``no_db_isolation``: elsewhere the global
    session is bound to the test transaction of the other database.
    """
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    app = migrated_app(f"sqlite:///{path}", instance=tmp_path_factory.mktemp("demo-instance"),
                       WTF_CSRF_ENABLED=True, TESTING=False)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    app.config["SEED_OUTPUT"] = result.output
    return app


@pytest.fixture(autouse=True)
def db_session(request, app):
    """Roll back everything a test did, commits included."""
    if {"no_db_isolation", "browser", "multiprocess"} & set(request.keywords):
        # Live servers and other processes share the global session factory: leave it alone.
        with app.app_context():
            yield db.session
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": ConnectionBoundSession})
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def limits_on(app, monkeypatch):
    """Rate limits switched on, with fresh counters (in this process and in Redis)."""
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    from greenfin import ratelimit
    from greenfin.auth import throttle

    ratelimit.reset()
    monkeypatch.setattr(throttle, "_local", {})
    if app.config.get("REDIS_URL"):
        from greenfin.jobs import redis_connection

        conn = redis_connection()
        for key in conn.scan_iter("greenfin:rl:*"):
            conn.delete(key)


@pytest.fixture
def drain_jobs(app):
    """Run queued jobs: a real rq worker on Redis when configured; inline jobs already ran."""

    def drain() -> None:
        if not app.config.get("REDIS_URL"):
            return
        from rq import SimpleWorker

        from greenfin.jobs import redis_connection

        SimpleWorker(app.config["RQ_QUEUES"], connection=redis_connection()).work(burst=True)

    return drain


# ---------------------------------------------------------------- factories

_rng = random.Random()


def make_uscc(prefix: str = "91") -> str:
    body = prefix + "361103" + "".join(_rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


def make_resident_id() -> str:
    body = f"361103{_rng.randint(1960, 2000)}{_rng.randint(1, 12):02d}{_rng.randint(1, 28):02d}{_rng.randint(0, 999):03d}"
    return body + id_check_char(body)


@pytest.fixture
def create_party():
    def factory(**overrides):
        data = {"kind": "firm", "name": f"测试公司{secrets.token_hex(3)}", "township_code": "danan",
                "village": "古村村", "sector": "pomelo"}
        data.update(overrides)
        if data["kind"] == "individual":
            data.setdefault("resident_id", make_resident_id())
        else:
            data.setdefault("uscc", make_uscc("93" if data["kind"] == "organisation" else "91"))
        party = services.create_party(data)
        db.session.commit()  # releases this savepoint; the outer transaction still rolls back
        return party

    return factory


@pytest.fixture
def create_parcel(create_party):
    def factory(**overrides):
        if "holder_id" not in overrides:
            overrides["holder_id"] = create_party().id
        data = {"code": f"T-{secrets.token_hex(4)}", "township_code": "danan", "village": "古村村",
                "area_ha": Decimal("5.5"), "land_cover": "orchard", "lat": Decimal("28.49"),
                "lon": Decimal("118.29"), "cert_type": "land_contract", "cert_no": "赣(2020)广丰区不动产权第0001号"}
        data.update(overrides)
        parcel = services.create_parcel(data)
        db.session.commit()
        return parcel

    return factory


@pytest.fixture
def create_user(create_party):
    def factory(role: str = "admin", party=None, password: str = "correct-horse-battery", **overrides):
        if role in ("producer", "buyer") and party is None:
            party = create_party()
        data = {"username": f"{role}-{secrets.token_hex(4)}", "role": role, "password": password,
                "party_id": party.id if party is not None else None}
        data.update(overrides)
        user = services.create_user(data)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client):
    """Sign ``user`` in through the real login form."""

    def do_login(user, password: str = "correct-horse-battery"):
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.data
        return client

    return do_login


@pytest.fixture
def api(app, create_user):
    """An API client for a role: ``api("admin").get("/api/v1/parties")``."""

    class ApiClient:
        def __init__(self, user):
            self.user = user
            _token, self.token = services.issue_token(user, "test")
            db.session.commit()
            self.client = app.test_client()

        def _call(self, method, url, **kwargs):
            headers = kwargs.pop("headers", {}) | {"Authorization": f"Bearer {self.token}"}
            return getattr(self.client, method)(url, headers=headers, **kwargs)

        def get(self, url, **kw):
            return self._call("get", url, **kw)

        def post(self, url, **kw):
            return self._call("post", url, **kw)

        def patch(self, url, **kw):
            return self._call("patch", url, **kw)

        def put(self, url, **kw):
            return self._call("put", url, **kw)

        def delete(self, url, **kw):
            return self._call("delete", url, **kw)

    def factory(role: str = "admin", user=None, **user_overrides):
        return ApiClient(user or create_user(role, **user_overrides))

    return factory


# ---------------------------------------------------------------- PIPL: no resident ID in any log line


class _LogCollector(logging.Handler):
    """Keeps every formatted log line of the run, to be scanned for resident ID numbers at the end."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # a broken record must not break the run
            pass


LOG_COLLECTOR = _LogCollector()
logging.getLogger().addHandler(LOG_COLLECTOR)
logging.getLogger().setLevel(logging.INFO)


def pytest_sessionfinish(session, exitstatus):
    from tests.test_personal_information import resident_ids_in

    leaked = sorted({number[:3] + "…" for line in LOG_COLLECTOR.lines for number in resident_ids_in(line)})
    if leaked:
        print(f"\nPIPL: {len(leaked)} resident ID number(s) appeared in log lines: {leaked}")
        session.exitstatus = 1
    else:
        print(f"\nPIPL: {len(LOG_COLLECTOR.lines)} log lines scanned, no resident ID number in any")
